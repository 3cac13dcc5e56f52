"""Unit tests for protocol.revocation: signed revocation lists and lookups (digest §5.8, §5.3(e))."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.canonical_json import stable_stringify
from protocol.constants import REVLIST_DOMAIN
from protocol.encoding import b64encode
from protocol.errors import RevocationListError
from protocol.keys import SigningKey
from protocol.revocation import (
    build_revocation_list,
    is_revoked,
    revocation_list_signing_input,
    verify_revocation_list,
)

ISSUER = SigningKey.derive(b"test_protocol_revocation", "issuer")
OTHER = SigningKey.derive(b"test_protocol_revocation", "other")
SUB_A = SigningKey.derive(b"test_protocol_revocation", "a").pub
SUB_B = SigningKey.derive(b"test_protocol_revocation", "b").pub
NONCE_1 = b64encode(bytes(16))
NONCE_2 = b64encode(bytes([1]) * 16)


def _list(**kwargs: Any) -> dict[str, Any]:
    return build_revocation_list(
        ISSUER,
        kwargs.get("generation", 3),
        kwargs.get("revoked", [{"sub": SUB_A, "nonce": NONCE_1, "exp": 1_700_000_000}]),
        kwargs.get("revoked_subjects", [{"sub": SUB_B, "exp": 1_700_000_000}]),
    )


def test_build_shape_and_signing_input() -> None:
    rl = _list()
    assert rl["v"] == 1 and rl["iss"] == ISSUER.pub and rl["issUserId"] == ISSUER.user_id
    assert rl["generation"] == 3
    body = {k: v for k, v in rl.items() if k != "sig"}
    assert revocation_list_signing_input(rl) == REVLIST_DOMAIN + stable_stringify(body)
    verify_revocation_list(rl)


def test_revoked_subjects_is_optional() -> None:
    rl = build_revocation_list(ISSUER, 0, [])
    assert "revokedSubjects" not in rl
    verify_revocation_list(rl)


def test_key_order_does_not_matter() -> None:
    verify_revocation_list(dict(reversed(list(_list().items()))))


@pytest.mark.parametrize(
    "change",
    [
        {"generation": 4},
        {"revoked": []},
        {"revoked": [{"sub": SUB_A, "nonce": NONCE_2, "exp": 1_700_000_000}]},
        {"revoked": [{"sub": SUB_A, "nonce": NONCE_1, "exp": 1_700_000_001}]},
        {"revokedSubjects": []},
        {"v": 2},
        {"extra": True},
        {"iss": OTHER.pub, "issUserId": OTHER.user_id},
        {"sig": b64encode(bytes(64))},
        {"sig": "not base64!"},
        {"sig": None},
    ],
)
def test_tampering_breaks_the_signature(change: dict[str, Any]) -> None:
    with pytest.raises(RevocationListError) as info:
        verify_revocation_list({**_list(), **change})
    assert info.value.code == "bad-signature"


def test_missing_sig_is_a_bad_signature() -> None:
    unsigned = {k: v for k, v in _list().items() if k != "sig"}
    with pytest.raises(RevocationListError) as info:
        verify_revocation_list(unsigned)
    assert info.value.code == "bad-signature"


@pytest.mark.parametrize(
    "change",
    [
        {"generation": -1},
        {"generation": True},
        {"generation": "3"},
        {"generation": 3.0},
        {"iss": None},
        {"iss": "zz" * 32},
        {"issUserId": OTHER.user_id},
        {"revoked": None},
        {"revoked": {"sub": SUB_A}},
        {"revoked": [{"sub": SUB_A}]},
        {"revoked": [{"nonce": NONCE_1}]},
        {"revoked": ["x"]},
        {"revokedSubjects": [{"exp": 1}]},
        {"revokedSubjects": "all"},
    ],
)
def test_malformed_lists(change: dict[str, Any]) -> None:
    with pytest.raises(RevocationListError) as info:
        verify_revocation_list({**_list(), **change})
    assert info.value.code == "malformed"


@pytest.mark.parametrize("bad", [None, [], "list", 5])
def test_non_object_is_malformed(bad: Any) -> None:
    with pytest.raises(RevocationListError):
        verify_revocation_list(bad)


def test_is_revoked_by_sub_and_nonce() -> None:
    rl = _list()
    assert is_revoked(rl, sub=SUB_A, cap_nonce=NONCE_1)
    assert not is_revoked(rl, sub=SUB_A, cap_nonce=NONCE_2)
    assert not is_revoked(rl, sub=OTHER.pub, cap_nonce=NONCE_1)


def test_is_revoked_by_subject() -> None:
    rl = _list()
    assert is_revoked(rl, sub=SUB_B, cap_nonce=NONCE_1)
    assert is_revoked(rl, sub=SUB_B, cap_nonce="anything")


def test_audience_sentinel_is_never_revoked_subject_wide() -> None:
    rl = _list(revoked=[], revoked_subjects=[{"sub": "", "exp": 1}])
    assert not is_revoked(rl, sub="", cap_nonce=NONCE_1)


def test_audience_cap_is_revoked_by_nonce() -> None:
    rl = _list(revoked=[{"sub": "", "nonce": NONCE_1, "exp": 1}], revoked_subjects=[])
    assert is_revoked(rl, sub="", cap_nonce=NONCE_1)
    assert not is_revoked(rl, sub="", cap_nonce=NONCE_2)


def test_is_revoked_with_no_entries() -> None:
    rl = build_revocation_list(ISSUER, 1, [])
    assert not is_revoked(rl, sub=SUB_A, cap_nonce=NONCE_1)


@pytest.mark.parametrize("bad", [None, [], "x", {"revoked": "x"}, {"revoked": [None]}])
def test_is_revoked_garbage_fails_closed_with_an_error(bad: Any) -> None:
    # Garbage must not read as "not revoked": it raises instead.
    with pytest.raises(RevocationListError):
        is_revoked(bad, sub=SUB_A, cap_nonce=NONCE_1)
