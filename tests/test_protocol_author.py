"""Unit tests for protocol.author: append and document author proofs (digest §3.8, §4.2, §5.3(c)(d))."""

from __future__ import annotations

import pytest

from protocol.author import (
    author_signing_input,
    proof_of,
    sign_append_author,
    sign_author,
    sign_doc_author,
    verify_author,
)
from protocol.canonical_json import stable_stringify
from protocol.constants import APPEND_AUTHOR_DOMAIN, DOC_AUTHOR_DOMAIN, FIELD_AUTHOR_PUBKEY, FIELD_AUTHOR_SIGNATURE
from protocol.encoding import b64encode
from protocol.errors import ProtocolError
from protocol.keys import SigningKey

KEY = SigningKey.derive(b"test_protocol_author", "author")
OTHER = SigningKey.derive(b"test_protocol_author", "other")
DOC_KEY = "events/room1"
DATA = {"msg": "hello", "n": 1.0, "nested": {"z": 1, "a": [1, 2]}}


def test_signing_input_shape() -> None:
    expected = APPEND_AUTHOR_DOMAIN + stable_stringify({"k": DOC_KEY, "d": DATA})
    assert author_signing_input(APPEND_AUTHOR_DOMAIN, DOC_KEY, DATA) == expected
    assert expected.startswith('starfish-append-author-v1\n{"d":{')


def test_append_proof_roundtrip() -> None:
    proof = sign_append_author(KEY, DOC_KEY, DATA)
    assert set(proof) == {FIELD_AUTHOR_PUBKEY, FIELD_AUTHOR_SIGNATURE}
    assert proof[FIELD_AUTHOR_PUBKEY] == KEY.pub
    assert verify_author(KEY.pub, proof[FIELD_AUTHOR_SIGNATURE], DOC_KEY, DATA)
    assert verify_author(KEY.pub, proof[FIELD_AUTHOR_SIGNATURE], DOC_KEY, DATA, domain=APPEND_AUTHOR_DOMAIN)
    assert proof == sign_author(KEY, DOC_KEY, DATA)


def test_doc_proof_roundtrip() -> None:
    proof = sign_doc_author(KEY, DOC_KEY, DATA)
    assert verify_author(KEY.pub, proof[FIELD_AUTHOR_SIGNATURE], DOC_KEY, DATA, domain=DOC_AUTHOR_DOMAIN)
    assert proof == sign_author(KEY, DOC_KEY, DATA, domain=DOC_AUTHOR_DOMAIN)


def test_append_and_doc_domains_are_not_interchangeable() -> None:
    append_sig = sign_append_author(KEY, DOC_KEY, DATA)[FIELD_AUTHOR_SIGNATURE]
    doc_sig = sign_doc_author(KEY, DOC_KEY, DATA)[FIELD_AUTHOR_SIGNATURE]
    assert append_sig != doc_sig
    assert not verify_author(KEY.pub, append_sig, DOC_KEY, DATA, domain=DOC_AUTHOR_DOMAIN)
    assert not verify_author(KEY.pub, doc_sig, DOC_KEY, DATA, domain=APPEND_AUTHOR_DOMAIN)


@pytest.mark.parametrize("other_key", ["events/room2", "events/room1/", "/events/room1", "", "v1/events/room1"])
def test_proof_is_bound_to_the_document_key(other_key: str) -> None:
    for sign, domain in ((sign_append_author, APPEND_AUTHOR_DOMAIN), (sign_doc_author, DOC_AUTHOR_DOMAIN)):
        sig = sign(KEY, DOC_KEY, DATA)[FIELD_AUTHOR_SIGNATURE]
        assert not verify_author(KEY.pub, sig, other_key, DATA, domain=domain)


def test_proof_is_bound_to_data_and_author() -> None:
    sig = sign_append_author(KEY, DOC_KEY, DATA)[FIELD_AUTHOR_SIGNATURE]
    assert not verify_author(KEY.pub, sig, DOC_KEY, {**DATA, "msg": "hellO"})
    assert not verify_author(OTHER.pub, sig, DOC_KEY, DATA)
    # Canonical form: key order and 1.0 vs 1 do not matter.
    assert verify_author(KEY.pub, sig, DOC_KEY, {"nested": {"a": [1, 2], "z": 1}, "n": 1, "msg": "hello"})


@pytest.mark.parametrize(
    ("pub", "sig"),
    [
        (None, "x"),
        ("ok", None),
        (5, "x"),
        ("ok", 5),
        ("ok", ""),
        ("ok", "!!"),
        ("zz", "ok"),
        ("ok", b64encode(bytes(64))),
    ],
)
def test_verify_author_never_raises(pub: object, sig: object) -> None:
    good = sign_append_author(KEY, DOC_KEY, DATA)[FIELD_AUTHOR_SIGNATURE]
    pub = KEY.pub if pub == "ok" else pub
    sig = good if sig == "ok" else sig
    assert verify_author(pub, sig, DOC_KEY, DATA) is False  # type: ignore[arg-type]


def test_proof_of() -> None:
    assert proof_of({"data": {}, "authorPubkey": "p", "authorSignature": "s"}) == ("p", "s")
    assert proof_of({"data": {}}) == (None, None)
    assert proof_of({"authorPubkey": 5}) == (5, None)
    with pytest.raises(ProtocolError):
        proof_of(["authorPubkey"])  # type: ignore[arg-type]
