"""Document hashes (digest §3.3) and the input sanitisation that precedes them (digest §3.7)."""

from __future__ import annotations

import hashlib
from typing import Any

from protocol.canonical_json import canonical_bytes
from protocol.constants import UNSAFE_KEYS
from protocol.errors import CanonicalJsonError, rejects_garbage


@rejects_garbage()
def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@rejects_garbage(CanonicalJsonError)
def document_hash(data: Any) -> str:
    """The hash of a regular document: SHA-256 hex of its canonical JSON."""
    return sha256_hex(canonical_bytes(data))


@rejects_garbage(CanonicalJsonError)
def append_hash(count: int, last: Any) -> str:
    """The hash an append-only log reports after an append: `hash({"n": count, "last": data})`.

    It covers only the element count and the newest element, so appending stays O(1).
    """
    return document_hash({"n": count, "last": last})


@rejects_garbage()
def sanitize(value: Any) -> Any:
    """Drop prototype-pollution keys (`__proto__`, `constructor`, ...) from nested objects.

    The servers store and hash the sanitised value, so a client must hash it too. Objects inside
    arrays are left as they are: the official server does not descend into arrays (digest §3.7),
    and a different rule here would change document hashes.
    """
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items() if k not in UNSAFE_KEYS}
    return value
