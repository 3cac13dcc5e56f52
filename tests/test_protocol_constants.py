"""Unit tests for protocol.constants: the wire literals of digest §5.1-§5.3 and §3."""

from __future__ import annotations

import hashlib

from protocol import constants


def test_domain_tags_are_distinct_and_end_in_one_lf() -> None:
    assert len(set(constants.DOMAINS)) == len(constants.DOMAINS) == 5
    for domain in constants.DOMAINS:
        assert domain.startswith("starfish-") and domain.endswith("-v1\n") and domain.count("\n") == 1
    assert constants.REQUEST_DOMAIN == "starfish-req-v1\n"
    assert constants.CAPCERT_DOMAIN == "starfish-capcert-v1\n"


def test_empty_body_hash() -> None:
    assert hashlib.sha256(b"").hexdigest() == constants.EMPTY_BODY_SHA256


def test_windows() -> None:
    assert constants.MAX_REQUEST_SKEW_MS == 300_000
    assert constants.CAP_CLOCK_SKEW_SEC == 300
    assert constants.NONCE_WINDOW_MS == 2 * constants.MAX_REQUEST_SKEW_MS


def test_unsafe_keys() -> None:
    assert {"__proto__", "constructor", "prototype", "__class__", "__dict__"} == constants.UNSAFE_KEYS
