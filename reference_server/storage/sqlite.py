"""SQLite store (`--store sqlite:PATH`): WAL journal, `synchronous=FULL`, one transaction per write.

Durability: a write is committed (and the WAL fsynced) before the handler returns its 200, so every
acknowledged write survives `kill -9` (and a power cut) and a restart on the same file.

Append-only logs are rows of `log_segments`, indexed by (key, first_ts), so an append inserts one
row and never rewrites the log. With `chunkSize` C, every C single-element rows are sealed into one
segment row (O(C) once per C appends: amortised O(1)); pulls read only the segments they need.
Segments are not documents: they live in their own table and never appear in `GET /list` or pulls.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reference_server.storage.base import Blob, Doc, LogHead, Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY, data TEXT NOT NULL, hash TEXT NOT NULL, ts INTEGER NOT NULL,
                                 author_pubkey TEXT, author_signature TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, media_type TEXT NOT NULL, body BLOB NOT NULL,
                                  hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (key TEXT PRIMARY KEY, n INTEGER NOT NULL, last_ts INTEGER NOT NULL,
                                 hash TEXT NOT NULL, unsealed INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_segments (key TEXT NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
                                         n INTEGER NOT NULL, stamps TEXT NOT NULL, body TEXT NOT NULL,
                                         PRIMARY KEY (key, first_ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revocations (iss TEXT PRIMARY KEY, list TEXT NOT NULL) WITHOUT ROWID;
"""
# Envelope JSON is compact, so it never contains a raw newline: "\n" safely separates a segment's elements.
_SEP = "\n"
_TABLES = {"doc": "docs", "blob": "blobs", "log": "logs"}


class SqliteStore(Store):
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get_doc(self, key: str) -> Doc | None:
        row = self._db.execute(
            "SELECT data, hash, ts, author_pubkey, author_signature FROM docs WHERE key = ?", (key,)
        ).fetchone()
        return Doc(*row) if row else None

    def put_doc(self, key: str, doc: Doc) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?)",
            (key, doc.data_json, doc.hash, doc.ts, doc.author_pubkey, doc.author_signature),
        )

    def get_blob(self, key: str) -> Blob | None:
        row = self._db.execute("SELECT media_type, body, hash FROM blobs WHERE key = ?", (key,)).fetchone()
        return Blob(row[0], bytes(row[1]), row[2]) if row else None

    def put_blob(self, key: str, blob: Blob) -> None:
        self._db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
                         (key, blob.media_type, blob.body, blob.hash))

    def log_head(self, key: str) -> LogHead | None:
        row = self._db.execute("SELECT n, last_ts, hash FROM logs WHERE key = ?", (key,)).fetchone()
        return LogHead(*row) if row else None

    def log_append(self, key: str, ts: int, element_json: str, head: LogHead, chunk_size: int | None) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT unsealed FROM logs WHERE key = ?", (key,)).fetchone()
            unsealed = (row[0] if row else 0) + 1
            db.execute("INSERT INTO log_segments VALUES (?, ?, ?, 1, ?, ?)", (key, ts, ts, str(ts), element_json))
            if chunk_size and chunk_size > 1 and unsealed >= chunk_size:
                self._seal(key, unsealed)
                unsealed = 0
            db.execute("INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?)",
                       (key, head.count, head.last_ts, head.hash, unsealed))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _seal(self, key: str, count: int) -> None:
        """Merge the newest `count` single-element rows into one sealed segment row."""
        rows = self._db.execute(
            "SELECT first_ts, body FROM log_segments WHERE key = ? ORDER BY first_ts DESC LIMIT ?", (key, count)
        ).fetchall()
        rows.reverse()
        first, last = rows[0][0], rows[-1][0]
        self._db.execute("DELETE FROM log_segments WHERE key = ? AND first_ts >= ?", (key, first))
        self._db.execute(
            "INSERT INTO log_segments VALUES (?, ?, ?, ?, ?, ?)",
            (key, first, last, len(rows), ",".join(str(r[0]) for r in rows), _SEP.join(r[1] for r in rows)),
        )

    def log_read(self, key: str, after_ts: int | None, last: int | None) -> list[str]:
        floor = -1 if after_ts is None else after_ts
        if last == 0:
            return []
        if last is None:
            cursor = self._db.execute(
                "SELECT stamps, body FROM log_segments WHERE key = ? AND last_ts > ? ORDER BY first_ts", (key, floor)
            )
            out: list[str] = []
            for stamps, body in cursor:
                out.extend(_elements_after(stamps, body, floor))
            return out
        cursor = self._db.execute(
            "SELECT stamps, body FROM log_segments WHERE key = ? AND last_ts > ? ORDER BY first_ts DESC", (key, floor)
        )
        chunks: list[list[str]] = []
        collected = 0
        for stamps, body in cursor:
            elements = _elements_after(stamps, body, floor)
            chunks.append(elements)
            collected += len(elements)
            if collected >= last:
                break
        chunks.reverse()
        flat = [element for chunk in chunks for element in chunk]
        return flat[-last:]

    def list_keys(self, kind: str, prefix: str, after: str, limit: int) -> list[str]:
        table = _TABLES[kind]
        low = max(prefix, after)
        # Strictly after `after`, at or after `prefix`; the upper bound is the largest string with the prefix.
        op = ">" if after >= prefix else ">="
        rows = self._db.execute(
            f"SELECT key FROM {table} WHERE key {op} ? AND key < ? ORDER BY key LIMIT ?",
            (low, prefix + "\U0010ffff", limit),
        ).fetchall()
        return [row[0] for row in rows if row[0].startswith(prefix)]

    def revocation_lists(self) -> list[dict[str, Any]]:
        return [json.loads(row[0]) for row in self._db.execute("SELECT list FROM revocations")]

    def put_revocation_list(self, revocation_list: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO revocations VALUES (?, ?)",
                         (revocation_list["iss"], json.dumps(revocation_list)))


def _elements_after(stamps: str, body: str, floor: int) -> list[str]:
    if "," not in stamps:  # a single-element row, the common case
        return [body] if int(stamps) > floor else []
    elements = body.split(_SEP)
    for index, stamp in enumerate(stamps.split(",")):
        if int(stamp) > floor:
            return elements[index:]
    return []
