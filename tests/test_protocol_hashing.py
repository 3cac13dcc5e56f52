"""Unit tests for protocol.hashing: document hashes, append hashes, sanitisation (digest §3.3, §3.7)."""

from __future__ import annotations

import hashlib

import pytest

from protocol.canonical_json import canonical_bytes
from protocol.constants import EMPTY_BODY_SHA256, UNSAFE_KEYS
from protocol.hashing import append_hash, document_hash, sanitize, sha256_hex


def test_reference_hashes_from_the_digest() -> None:
    assert document_hash({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    assert document_hash({"a": 1}) == "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"


def test_document_hash_is_sha256_of_canonical_bytes() -> None:
    value = {"b": [1.0, -0.0, 1e21], "a": "é"}
    assert document_hash(value) == hashlib.sha256(canonical_bytes(value)).hexdigest()
    assert document_hash(value) == document_hash({"a": "é", "b": [1, 0, 1e21]})


def test_hash_is_lowercase_hex_64() -> None:
    digest = document_hash({"x": [1, 2, 3]})
    assert len(digest) == 64
    assert digest == digest.lower()
    int(digest, 16)


def test_sha256_hex_of_empty_body() -> None:
    assert sha256_hex(b"") == EMPTY_BODY_SHA256


def test_append_hash_covers_count_and_last_only() -> None:
    last = {"msg": "hi", "n": 2}
    assert append_hash(3, last) == document_hash({"n": 3, "last": last})
    assert append_hash(3, last) != append_hash(4, last)
    assert append_hash(3, last) != append_hash(3, {"msg": "hi"})


def test_append_hash_key_order_is_canonical() -> None:
    expected = hashlib.sha256(b'{"last":{"a":1},"n":1}').hexdigest()
    assert append_hash(1, {"a": 1}) == expected


@pytest.mark.parametrize("unsafe", sorted(UNSAFE_KEYS))
def test_sanitize_drops_each_unsafe_key_at_every_depth(unsafe: str) -> None:
    value = {unsafe: 1, "keep": {unsafe: 2, "deeper": {unsafe: 3, "ok": True}}}
    assert sanitize(value) == {"keep": {"deeper": {"ok": True}}}


def test_sanitize_does_not_descend_into_arrays() -> None:
    value = {"list": [{"__proto__": 1, "x": {"constructor": 2}}], "__proto__": 0}
    assert sanitize(value) == {"list": [{"__proto__": 1, "x": {"constructor": 2}}]}


def test_sanitize_keeps_similar_keys_and_scalars() -> None:
    value = {"proto": 1, "__proto": 2, "Constructor": 3, "prototype_": 4}
    assert sanitize(value) == value
    assert sanitize(5) == 5
    assert sanitize("__proto__") == "__proto__"
    assert sanitize([{"__proto__": 1}]) == [{"__proto__": 1}]


def test_sanitize_does_not_mutate_its_input() -> None:
    value = {"a": {"__proto__": 1}}
    sanitize(value)
    assert value == {"a": {"__proto__": 1}}


def test_hash_of_sanitized_value_differs_from_raw() -> None:
    raw = {"a": 1, "__proto__": {"polluted": True}}
    assert document_hash(sanitize(raw)) == document_hash({"a": 1})
    assert document_hash(raw) != document_hash({"a": 1})
