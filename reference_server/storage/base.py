"""The storage interface: three kinds of value under one key space, plus revocation lists.

Why synchronous: the server runs one event loop, and every read-check-write sequence (baseHash
check then write, log head then append) runs without an `await` in between, so it is atomic
without locks. Both stores are local (a dict, or SQLite on a local file), so a call never waits
on the network.

Values are kept as JSON text, so a pull never re-serialises a document: it splices stored text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

KINDS = ("doc", "blob", "log")


@dataclass(slots=True)
class Doc:
    """A regular JSON document (digest §3.1). `data_json` is the compact JSON of the sanitised data."""

    data_json: str
    hash: str
    ts: int
    author_pubkey: str | None = None
    author_signature: str | None = None


@dataclass(slots=True)
class Blob:
    """A binary object: its media type (parameters stripped), its bytes and their SHA-256 hex."""

    media_type: str
    body: bytes
    hash: str


@dataclass(slots=True)
class LogHead:
    """What an append needs to know about a log without reading it: count, newest ts, reported hash."""

    count: int
    last_ts: int
    hash: str


class Store(ABC):
    @abstractmethod
    def get_doc(self, key: str) -> Doc | None: ...

    @abstractmethod
    def put_doc(self, key: str, doc: Doc) -> None: ...

    @abstractmethod
    def get_blob(self, key: str) -> Blob | None: ...

    @abstractmethod
    def put_blob(self, key: str, blob: Blob) -> None: ...

    @abstractmethod
    def log_head(self, key: str) -> LogHead | None: ...

    @abstractmethod
    def log_append(self, key: str, ts: int, element_json: str, head: LogHead, chunk_size: int | None) -> None:
        """Append one element (its envelope JSON) and store `head` (already counting it), atomically.

        Must cost O(1) (amortised O(1) with `chunk_size`) whatever the log length.
        """

    @abstractmethod
    def log_read(self, key: str, after_ts: int | None, last: int | None) -> list[str]:
        """Envelope JSONs in ascending ts: those with ts > after_ts (all when None), then the newest `last`."""

    @abstractmethod
    def list_keys(self, kind: str, prefix: str, after: str, limit: int) -> list[str]:
        """Up to `limit` keys of `kind` that start with `prefix` and sort strictly after `after`, ascending."""

    @abstractmethod
    def revocation_lists(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    def put_revocation_list(self, revocation_list: dict[str, Any]) -> None:
        """Store the issuer's list, replacing the previous one (the caller checked the generation)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (the SQLite connection)."""
