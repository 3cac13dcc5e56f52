"""Unit tests for protocol.keyring: wrap entries, addedSig, encrypted documents (digest §8, §5.3(f))."""

from __future__ import annotations

import json
from typing import Any

import pytest

from protocol.canonical_json import stable_stringify
from protocol.constants import ENCRYPTED_FIELD, EPOCH_FIELD
from protocol.encoding import b64decode, b64encode
from protocol.errors import KeyFormatError, KeyringError
from protocol.keyring import (
    added_sig_input,
    decrypt_document,
    derive_key,
    encrypt_document,
    encrypt_json,
    entry_signature_valid,
    unwrap,
    wrap_for_recipient,
)
from protocol.keys import KemKey, SigningKey

SEED = b"test_protocol_keyring"
ADDER = SigningKey.derive(SEED, "adder")
RECIPIENT = KemKey.derive(SEED, "recipient")
STRANGER = KemKey.derive(SEED, "stranger")
CEK = bytes(range(32))
EPOCH = 7
LOW_ORDER = ["00" * 32, "01" + "00" * 31, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"]


def _entry(**kwargs: Any) -> dict[str, Any]:
    return wrap_for_recipient(CEK, RECIPIENT.pub, adder=ADDER, added_at=1_700_000_000_000, epoch=EPOCH, **kwargs)


def test_wrap_unwrap_roundtrip() -> None:
    entry = _entry()
    assert set(entry) == {"subKem", "ephKem", "ct", "addedBy", "addedAt", "addedSig"}
    assert entry["subKem"] == RECIPIENT.pub and entry["addedBy"] == ADDER.pub
    assert unwrap(entry, RECIPIENT) == CEK


def test_wrap_is_deterministic_with_fixed_ephemeral_and_iv() -> None:
    eph = KemKey.derive(SEED, "eph")
    first = _entry(ephemeral=eph, iv=bytes(12))
    assert first == _entry(ephemeral=eph, iv=bytes(12))
    assert first["ephKem"] == eph.pub
    assert b64decode(first["ct"])[:12] == bytes(12)
    assert len(b64decode(first["ct"])) == 12 + 32 + 16


def test_fresh_wraps_differ() -> None:
    assert _entry()["ct"] != _entry()["ct"]


def test_wrong_recipient() -> None:
    with pytest.raises(KeyringError):
        unwrap(_entry(), STRANGER)


def _flip(b64: str, index: int) -> str:
    raw = bytearray(b64decode(b64))
    raw[index] ^= 0x01
    return b64encode(bytes(raw))


@pytest.mark.parametrize("index", [0, 11, 12, 30, -1])
def test_tampered_ct(index: int) -> None:
    entry = _entry()
    with pytest.raises(KeyringError):
        unwrap({**entry, "ct": _flip(entry["ct"], index)}, RECIPIENT)


@pytest.mark.parametrize(
    "change",
    [
        {"ct": b64encode(bytes(20))},
        {"ct": "not base64"},
        {"ct": None},
        {"ephKem": "zz"},
        {"ephKem": RECIPIENT.pub},
        {"ephKem": LOW_ORDER[0]},
    ],
)
def test_broken_entries(change: dict[str, Any]) -> None:
    with pytest.raises(KeyringError):
        unwrap({**_entry(), **change}, RECIPIENT)


@pytest.mark.parametrize("bad", [None, [], "entry", {}, {"ct": b64encode(bytes(40))}])
def test_garbage_entries(bad: Any) -> None:
    with pytest.raises(KeyringError):
        unwrap(bad, RECIPIENT)
    assert entry_signature_valid(bad, EPOCH) is False


def test_added_sig_verifies() -> None:
    entry = _entry()
    assert entry_signature_valid(entry, EPOCH)
    expected = stable_stringify(
        {k: entry[k] for k in ("addedAt", "addedBy", "ct", "ephKem", "subKem")} | {"epoch": EPOCH}
    )
    assert added_sig_input(entry, EPOCH) == expected
    assert not expected.startswith("starfish-")  # no domain tag (digest §5.3(f))


@pytest.mark.parametrize(
    "change",
    [
        {"addedAt": 1_700_000_000_001},
        {"addedBy": SigningKey.derive(SEED, "other").pub},
        {"ct": b64encode(bytes(60))},
        {"ephKem": STRANGER.pub},
        {"subKem": STRANGER.pub},
        {"addedSig": b64encode(bytes(64))},
        {"addedSig": "!!"},
    ],
)
def test_added_sig_fails_after_a_field_change(change: dict[str, Any]) -> None:
    assert not entry_signature_valid({**_entry(), **change}, EPOCH)


def test_added_sig_is_bound_to_the_epoch() -> None:
    assert not entry_signature_valid(_entry(), EPOCH + 1)


@pytest.mark.parametrize("point", LOW_ORDER)
def test_wrap_to_low_order_point_is_rejected(point: str) -> None:
    with pytest.raises(KeyFormatError):
        wrap_for_recipient(CEK, point, adder=ADDER, added_at=1, epoch=1)


def test_encrypt_decrypt_document_roundtrip() -> None:
    wrapper = encrypt_document(b"secret bytes", CEK, EPOCH)
    assert set(wrapper) == {ENCRYPTED_FIELD, EPOCH_FIELD}
    assert wrapper[EPOCH_FIELD] == EPOCH
    assert decrypt_document(wrapper, CEK) == b"secret bytes"


def test_encrypt_json_roundtrip() -> None:
    data = {"title": "é😀", "n": [1, 2.5]}
    assert json.loads(decrypt_document(encrypt_json(data, CEK, EPOCH), CEK)) == data


def test_epoch_is_associated_data() -> None:
    wrapper = encrypt_document(b"x", CEK, EPOCH, iv=bytes(12))
    with pytest.raises(KeyringError):
        decrypt_document({**wrapper, EPOCH_FIELD: EPOCH + 1}, CEK)
    # The same plaintext, key and IV under another epoch gives another tag.
    assert encrypt_document(b"x", CEK, EPOCH + 1, iv=bytes(12)) != wrapper


@pytest.mark.parametrize(
    "change",
    [
        {EPOCH_FIELD: True},
        {EPOCH_FIELD: "7"},
        {EPOCH_FIELD: 7.0},
        {ENCRYPTED_FIELD: "not base64"},
        {ENCRYPTED_FIELD: b64encode(bytes(5))},
    ],
)
def test_broken_wrappers(change: dict[str, Any]) -> None:
    with pytest.raises(KeyringError):
        decrypt_document({**encrypt_document(b"x", CEK, EPOCH), **change}, CEK)


def test_wrong_key_and_tampering() -> None:
    wrapper = encrypt_document(b"payload", CEK, EPOCH)
    with pytest.raises(KeyringError):
        decrypt_document(wrapper, bytes(32))
    with pytest.raises(KeyringError):
        decrypt_document({**wrapper, ENCRYPTED_FIELD: _flip(wrapper[ENCRYPTED_FIELD], 14)}, CEK)


@pytest.mark.parametrize("bad", [None, [], {}, {ENCRYPTED_FIELD: 5, EPOCH_FIELD: 1}])
def test_garbage_wrappers(bad: Any) -> None:
    with pytest.raises(KeyringError):
        decrypt_document(bad, CEK)


@pytest.mark.parametrize("bad_cek", [b"", bytes(31), None, "key"])
def test_bad_content_key(bad_cek: Any) -> None:
    with pytest.raises(KeyringError):
        encrypt_document(b"x", bad_cek, EPOCH)
    with pytest.raises(KeyringError):
        decrypt_document(encrypt_document(b"x", CEK, EPOCH), bad_cek)


def test_derive_key_is_hkdf_over_utf8() -> None:
    key = derive_key("secret", "salt", b"info")
    assert len(key) == 32
    assert key == derive_key("secret", "salt", b"info")
    assert key != derive_key("secret", "salt2", b"info")
