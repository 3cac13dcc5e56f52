"""Delegated encryption, client side (digest §8, seed 001): keyring wrap entries and encrypted documents.

The server stores all of this opaquely; the harness needs it to push realistic ciphertext and to
check that a keyring entry made by one implementation opens with another.

Wrap: X25519(ephemeral, recipient subKem) -> HKDF-SHA256(salt = info = "starfish-wrap") -> AES-256-GCM
over the content key, `ct = base64(iv || ciphertext+tag)`, no associated data. The adder signs
`stable_stringify({addedAt, addedBy, ct, ephKem, epoch, subKem})` with no domain tag (digest §5.3(f)).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from protocol.canonical_json import stable_stringify
from protocol.constants import AES_GCM_IV_BYTES, ENCRYPTED_FIELD, EPOCH_FIELD, KEYRING_WRAP_INFO, KEYRING_WRAP_SALT
from protocol.encoding import EncodingError, b64decode, b64encode
from protocol.errors import KeyFormatError, KeyringError, rejects_garbage
from protocol.keys import KemKey, SigningKey, hkdf_sha256, verify_ed25519


@rejects_garbage(KeyringError)
def derive_key(secret: str, salt: str, info: bytes) -> bytes:
    """The legacy E2E key derivation of crypto.json: HKDF-SHA256 over UTF-8 secret and salt."""
    return hkdf_sha256(secret.encode("utf-8"), salt=salt.encode("utf-8"), info=info)


@rejects_garbage(KeyringError)
def added_sig_input(entry: Mapping[str, Any], epoch: int) -> str:
    return stable_stringify(
        {
            "addedAt": entry["addedAt"],
            "addedBy": entry["addedBy"],
            "ct": entry["ct"],
            "ephKem": entry["ephKem"],
            "epoch": epoch,
            "subKem": entry["subKem"],
        }
    )


@rejects_garbage(KeyringError)
def wrap_for_recipient(
    cek: bytes,
    recipient_kem_pub: str,
    *,
    adder: SigningKey,
    added_at: int,
    epoch: int,
    ephemeral: KemKey | None = None,
    iv: bytes | None = None,
) -> dict[str, Any]:
    """A keyring `wrappedKeys` entry giving `recipient_kem_pub` the content key `cek`.

    `ephemeral` and `iv` are parameters only so vectors can be deterministic; leave them out otherwise.
    """
    ephemeral = ephemeral or KemKey.generate()
    iv = iv if iv is not None else secrets.token_bytes(AES_GCM_IV_BYTES)
    wrap_key = hkdf_sha256(ephemeral.shared_secret(recipient_kem_pub), salt=KEYRING_WRAP_SALT, info=KEYRING_WRAP_INFO)
    ct = b64encode(iv + AESGCM(wrap_key).encrypt(iv, cek, None))
    entry: dict[str, Any] = {
        "subKem": recipient_kem_pub,
        "ephKem": ephemeral.pub,
        "ct": ct,
        "addedBy": adder.pub,
        "addedAt": added_at,
    }
    entry["addedSig"] = b64encode(adder.sign(added_sig_input(entry, epoch).encode("utf-8")))
    return entry


@rejects_garbage(KeyringError)
def unwrap(entry: Mapping[str, Any], recipient: KemKey) -> bytes:
    """Recover the content key from a wrap entry addressed to `recipient`."""
    try:
        blob = b64decode(entry["ct"], what="wrap ct")
        shared = recipient.shared_secret(entry["ephKem"])
    except (KeyError, TypeError, EncodingError, KeyFormatError) as exc:
        raise KeyringError(f"wrap entry cannot be opened: {exc}") from None
    if len(blob) < AES_GCM_IV_BYTES + 16:
        raise KeyringError("wrap entry ct is shorter than an IV and a GCM tag")
    wrap_key = hkdf_sha256(shared, salt=KEYRING_WRAP_SALT, info=KEYRING_WRAP_INFO)
    try:
        return AESGCM(wrap_key).decrypt(blob[:AES_GCM_IV_BYTES], blob[AES_GCM_IV_BYTES:], None)
    except InvalidTag:
        raise KeyringError("wrap entry failed AES-GCM authentication (wrong recipient or tampered ct)") from None


@rejects_garbage(returns=False)
def entry_signature_valid(entry: Mapping[str, Any], epoch: int) -> bool:
    """True when `addedSig` verifies under `addedBy`; never raises."""
    try:
        raw = b64decode(entry["addedSig"], what="addedSig")
        message = added_sig_input(entry, epoch).encode("utf-8")
    except (KeyError, TypeError, EncodingError):
        return False
    return verify_ed25519(entry.get("addedBy", ""), raw, message)


@rejects_garbage(KeyringError)
def encrypt_document(plaintext: bytes, cek: bytes, epoch: int, *, iv: bytes | None = None) -> dict[str, Any]:
    """The `{_encrypted, _epoch}` wrapper pushed to a delegated collection; AAD is `str(epoch)`."""
    iv = iv if iv is not None else secrets.token_bytes(AES_GCM_IV_BYTES)
    sealed = AESGCM(cek).encrypt(iv, plaintext, str(epoch).encode("utf-8"))
    return {ENCRYPTED_FIELD: b64encode(iv + sealed), EPOCH_FIELD: epoch}


@rejects_garbage(KeyringError)
def encrypt_json(data: Any, cek: bytes, epoch: int, *, iv: bytes | None = None) -> dict[str, Any]:
    return encrypt_document(json.dumps(data, ensure_ascii=False).encode("utf-8"), cek, epoch, iv=iv)


@rejects_garbage(KeyringError)
def decrypt_document(wrapper: Mapping[str, Any], cek: bytes) -> bytes:
    """The plaintext bytes of an encrypted document wrapper."""
    try:
        blob = b64decode(wrapper[ENCRYPTED_FIELD], what="_encrypted")
        epoch = wrapper[EPOCH_FIELD]
    except (KeyError, TypeError, EncodingError) as exc:
        raise KeyringError(f"not an encrypted document wrapper: {exc}") from None
    if isinstance(epoch, bool) or not isinstance(epoch, int):
        raise KeyringError("_epoch must be an integer")
    try:
        return AESGCM(cek).decrypt(blob[:AES_GCM_IV_BYTES], blob[AES_GCM_IV_BYTES:], str(epoch).encode("utf-8"))
    except (InvalidTag, ValueError):
        raise KeyringError("encrypted document failed AES-GCM authentication (wrong key or epoch)") from None
