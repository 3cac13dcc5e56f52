"""In-memory store (the default): dicts, plus a sorted key list per kind for `GET /list`.

An append-only log is two parallel lists (timestamps, envelope JSON), so an append is a list append
and a checkpoint pull is a bisect: O(1) and O(log n) whatever the log length. `chunkSize` does not
change this layout; it already gives what chunking is for (bounded append and pull cost).
"""

from __future__ import annotations

import bisect
from typing import Any

from reference_server.storage.base import Blob, Doc, LogHead, Store


class _Log:
    __slots__ = ("head", "jsons", "stamps")

    def __init__(self, head: LogHead) -> None:
        self.head = head
        self.stamps: list[int] = []
        self.jsons: list[str] = []


class MemoryStore(Store):
    def __init__(self) -> None:
        self._docs: dict[str, Doc] = {}
        self._blobs: dict[str, Blob] = {}
        self._logs: dict[str, _Log] = {}
        self._sorted: dict[str, list[str]] = {"doc": [], "blob": [], "log": []}
        self._revocations: dict[str, dict[str, Any]] = {}

    def _index(self, kind: str, key: str) -> None:
        bisect.insort(self._sorted[kind], key)

    def get_doc(self, key: str) -> Doc | None:
        return self._docs.get(key)

    def put_doc(self, key: str, doc: Doc) -> None:
        if key not in self._docs:
            self._index("doc", key)
        self._docs[key] = doc

    def get_blob(self, key: str) -> Blob | None:
        return self._blobs.get(key)

    def put_blob(self, key: str, blob: Blob) -> None:
        if key not in self._blobs:
            self._index("blob", key)
        self._blobs[key] = blob

    def log_head(self, key: str) -> LogHead | None:
        log = self._logs.get(key)
        return log.head if log is not None else None

    def log_append(self, key: str, ts: int, element_json: str, head: LogHead, chunk_size: int | None) -> None:
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = _Log(head)
            self._index("log", key)
        log.stamps.append(ts)
        log.jsons.append(element_json)
        log.head = head

    def log_read(self, key: str, after_ts: int | None, last: int | None) -> list[str]:
        log = self._logs.get(key)
        if log is None:
            return []
        lo = 0 if after_ts is None else bisect.bisect_right(log.stamps, after_ts)
        hi = len(log.stamps)
        if last is not None:
            lo = max(lo, hi - last)
        return log.jsons[lo:hi]

    def list_keys(self, kind: str, prefix: str, after: str, limit: int) -> list[str]:
        keys = self._sorted[kind]
        start = max(bisect.bisect_left(keys, prefix), bisect.bisect_right(keys, after))
        out: list[str] = []
        for key in keys[start : start + limit]:
            if not key.startswith(prefix):
                break
            out.append(key)
        return out

    def revocation_lists(self) -> list[dict[str, Any]]:
        return list(self._revocations.values())

    def put_revocation_list(self, revocation_list: dict[str, Any]) -> None:
        self._revocations[revocation_list["iss"]] = revocation_list
