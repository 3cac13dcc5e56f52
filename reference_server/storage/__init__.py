"""Storage behind one small interface (`base.Store`): in-memory (default) and SQLite (durable)."""

from __future__ import annotations

from reference_server.storage.base import Blob, Doc, LogHead, Store


def open_store(spec: str) -> Store:
    """`memory` or `sqlite:PATH` (the `--store` option)."""
    if spec == "memory":
        from reference_server.storage.memory import MemoryStore

        return MemoryStore()
    if spec.startswith("sqlite:") and len(spec) > len("sqlite:"):
        from reference_server.storage.sqlite import SqliteStore

        return SqliteStore(spec[len("sqlite:") :])
    raise ValueError(f"unknown store {spec!r}: use memory or sqlite:PATH")


__all__ = ["Blob", "Doc", "LogHead", "Store", "open_store"]
