"""Unit tests for protocol.keys: Ed25519/X25519 key handling, userIds, verification that never raises."""

from __future__ import annotations

import hashlib

import pytest

from protocol.errors import KeyFormatError
from protocol.keys import KemKey, SigningKey, hkdf_sha256, user_id_from_pub, verify_ed25519

SEED = b"test_protocol_keys"

# X25519 public keys of small order (RFC 7748 §6.1; the list libsodium rejects): the shared secret is all zero.
LOW_ORDER_POINTS = [
    "00" * 32,
    "01" + "00" * 31,
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]


def test_user_id_is_first_32_hex_of_sha256_of_pub_bytes() -> None:
    key = SigningKey.derive(SEED, "a")
    assert key.user_id == hashlib.sha256(bytes.fromhex(key.pub)).hexdigest()[:32]
    assert user_id_from_pub(key.pub.upper()) == key.user_id


@pytest.mark.parametrize("bad", ["", "00" * 31, "00" * 33, "zz" * 32, " " + "00" * 32, None, 5])
def test_user_id_rejects_bad_pub(bad: object) -> None:
    with pytest.raises(KeyFormatError):
        user_id_from_pub(bad)  # type: ignore[arg-type]


def test_signing_key_hex_roundtrip_and_derive_determinism() -> None:
    key = SigningKey.derive(SEED, "a")
    assert SigningKey.derive(SEED, "a").pub == key.pub
    assert SigningKey.derive(SEED, "b").pub != key.pub
    assert SigningKey.from_hex(key.private_hex()).pub == key.pub
    assert len(key.pub) == 64 and key.pub == key.pub.lower()


@pytest.mark.parametrize("bad", ["00" * 31, "xx" * 32, "", None, 3])
def test_signing_key_from_bad_hex(bad: object) -> None:
    with pytest.raises(KeyFormatError):
        SigningKey.from_hex(bad)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError):
        KemKey.from_hex(bad)  # type: ignore[arg-type]


def test_sign_and_verify() -> None:
    key = SigningKey.derive(SEED, "a")
    sig = key.sign(b"message")
    assert verify_ed25519(key.pub, sig, b"message")
    assert verify_ed25519(key.pub, bytearray(sig), b"message")
    assert not verify_ed25519(key.pub, sig, b"messagf")
    assert not verify_ed25519(SigningKey.derive(SEED, "b").pub, sig, b"message")


@pytest.mark.parametrize(
    ("pub", "sig", "message"),
    [
        ("00" * 32, bytes(64), b"m"),
        ("zz" * 32, bytes(64), b"m"),
        (None, bytes(64), b"m"),
        ("ab", bytes(64), b"m"),
        ("ok", bytes(63), b"m"),
        ("ok", bytes(65), b"m"),
        ("ok", "not bytes", b"m"),
        ("ok", None, b"m"),
        ("ok", b"x" * 64, None),
        ("ok", b"x" * 64, "text"),
    ],
)
def test_verify_ed25519_never_raises(pub: object, sig: object, message: object) -> None:
    if pub == "ok":
        pub = SigningKey.derive(SEED, "a").pub
    assert verify_ed25519(pub, sig, message) is False  # type: ignore[arg-type]


def test_x25519_agreement_is_symmetric() -> None:
    alice, bob = KemKey.derive(SEED, "alice"), KemKey.derive(SEED, "bob")
    assert alice.shared_secret(bob.pub) == bob.shared_secret(alice.pub)
    assert KemKey.from_hex(alice.private_hex()).pub == alice.pub


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_low_order_peer_point_is_rejected(point: str) -> None:
    with pytest.raises(KeyFormatError):
        KemKey.derive(SEED, "x").shared_secret(point)


@pytest.mark.parametrize("bad", ["00" * 31, "not hex", None, 12])
def test_bad_peer_key_is_rejected(bad: object) -> None:
    with pytest.raises(KeyFormatError):
        KemKey.derive(SEED, "x").shared_secret(bad)  # type: ignore[arg-type]


def test_reprs_never_show_private_keys() -> None:
    signing = SigningKey.derive(SEED, "a")
    kem = KemKey.derive(SEED, "k")
    for key in (signing, kem):
        text = repr(key) + str(key) + repr([key]) + f"{key!r}"
        assert key.private_hex() not in text
        assert key.private_hex()[:16] not in text
    assert signing.pub[:16] in repr(signing)


def test_keys_have_no_instance_dict() -> None:
    # __slots__ keeps the private key out of vars()/__dict__-based dumpers.
    with pytest.raises(TypeError):
        vars(SigningKey.derive(SEED, "a"))


def test_hkdf_sha256_rfc5869_case_1() -> None:
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = hkdf_sha256(ikm, salt=salt, info=info, length=42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
