"""Family `keyring-wrap`: delegated-encryption key wraps and encrypted documents (digest §8).

Upstream has no vector file for these; this is our format. `cases` are keyring `wrappedKeys`
entries: X25519(ephemeral, recipient) -> HKDF-SHA256(salt = info = "starfish-wrap") -> AES-256-GCM
over the content key, `ct = base64(iv || ciphertext+tag)`, and `addedSig` over
stableStringify({addedAt, addedBy, ct, ephKem, epoch, subKem}) with no domain tag. `documents` are
`{_encrypted, _epoch}` wrappers (AAD = UTF-8 of the epoch).

A case that gives `ephKemPriv` and `ivHex` can be rebuilt byte for byte, which checks our wrap;
the others only check opening and the signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.encoding import b64decode, b64encode
from protocol.errors import KeyFormatError, KeyringError
from protocol.keyring import (
    added_sig_input,
    decrypt_document,
    encrypt_document,
    entry_signature_valid,
    unwrap,
    wrap_for_recipient,
)
from protocol.keys import KemKey, SigningKey
from vectors.families._common import Check, each_case, require
from vectors.fixtures import kem_key, label_bytes, signing_key
from vectors.results import CaseResult
from vectors.wycheproof import INVALID, VALID, case, header, number

NAME = "keyring-wrap"
FILENAME = "keyring-wrap.json"


def detect(doc: Any) -> bool:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cases"), list):
        return False
    return any(isinstance(item, Mapping) and isinstance(item.get("entry"), Mapping) for item in doc["cases"])


def _opens(entry: Mapping[str, Any], recipient: KemKey) -> bytes | None:
    try:
        return unwrap(entry, recipient)
    except (KeyringError, KeyFormatError):
        return None


def _replay_wrap(doc: Mapping[str, Any], item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    entry = require(item, "entry", Mapping)
    epoch = require(item, "epoch", int)
    cek = bytes.fromhex(require(item, "cekHex", str))
    recipient = KemKey.from_hex(item.get("recipientKemPriv", require(doc, "recipient", Mapping).get("kemPriv")))
    check.equal(
        "addedSig input", added_sig_input(entry, item.get("verifyEpoch", epoch)), require(item, "addedSigInput", str)
    )
    check.equal(
        "addedSig verifies",
        entry_signature_valid(entry, item.get("verifyEpoch", epoch)),
        require(item, "expectSigValid", bool),
    )
    opened = _opens(entry, recipient)
    if require(item, "expectUnwrap", bool):
        check.equal("unwrapped content key", opened.hex() if opened is not None else None, cek.hex())
    elif opened is not None:
        check.fail("the entry opened; the vector expects unwrapping to fail")
    if "ephKemPriv" in item and "ivHex" in item:
        adder = SigningKey.from_hex(require(doc, "adder", Mapping)["edPriv"])
        rebuilt = wrap_for_recipient(
            cek,
            entry["subKem"],
            adder=adder,
            added_at=entry["addedAt"],
            epoch=epoch,
            ephemeral=KemKey.from_hex(item["ephKemPriv"]),
            iv=bytes.fromhex(item["ivHex"]),
        )
        check.equal("rebuilt entry", dict(rebuilt), dict(entry))
    return check.result(NAME, cid)


def _replay_document(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    cek = bytes.fromhex(require(item, "cekHex", str))
    wrapper = require(item, "wrapper", Mapping)
    try:
        plaintext: str | None = decrypt_document(wrapper, cek).decode("utf-8")
    except KeyringError:
        plaintext = None
    if require(item, "expectDecrypt", bool):
        check.equal("plaintext", plaintext, require(item, "plaintextUtf8", str))
    elif plaintext is not None:
        check.fail("the wrapper decrypted; the vector expects authentication to fail")
    if "ivHex" in item and item.get("rebuild", True):
        rebuilt = encrypt_document(
            item["plaintextUtf8"].encode("utf-8"), cek, wrapper["_epoch"], iv=bytes.fromhex(item["ivHex"])
        )
        check.equal("rebuilt wrapper", rebuilt, dict(wrapper))
    return check.result(NAME, cid)


def replay(doc: Any) -> list[CaseResult]:
    results = each_case(NAME, "cases", doc["cases"], lambda item, cid: _replay_wrap(doc, item, cid))
    return results + (each_case(NAME, "documents", doc["documents"], _replay_document) if "documents" in doc else [])


# ---------------------------------------------------------------------------------------------------------------
# Generation


class GeneratorError(AssertionError):
    """A generated case does not behave the way the generator meant it to."""


RECIPIENT = kem_key("dave-device-kem")
OTHER_RECIPIENT = kem_key("erin-device-kem")
ADDER = signing_key("alice-root")
MALLORY = signing_key("mallory")
ADDED_AT = 1_747_000_000
# A low-order X25519 point (u = 0): the shared secret with any key is all zero.
LOW_ORDER_POINT = "00" * 32


def _flip_ct(ct: str) -> str:
    raw = bytearray(b64decode(ct))
    raw[-1] ^= 0x01
    return b64encode(bytes(raw))


def _wrap_case(
    label: str,
    flags: list[str],
    *,
    epoch: int = 1,
    tamper: Any = None,
    rebuildable: bool = True,
    recipient: KemKey | None = None,
    verify_epoch: int | None = None,
    expect_unwrap: bool,
    expect_sig: bool,
) -> dict[str, Any]:
    cek = label_bytes("cek:" + label, 32)
    ephemeral = kem_key("eph:" + label)
    iv = label_bytes("iv:" + label, 12)
    entry = wrap_for_recipient(
        cek, RECIPIENT.pub, adder=ADDER, added_at=ADDED_AT, epoch=epoch, ephemeral=ephemeral, iv=iv
    )
    if tamper is not None:
        entry = tamper(entry)
    fields: dict[str, Any] = {"epoch": epoch, "cekHex": cek.hex()}
    if rebuildable:
        fields.update(ephKemPriv=ephemeral.private_hex(), ivHex=iv.hex())
    if recipient is not None:
        fields["recipientKemPriv"] = recipient.private_hex()
    if verify_epoch is not None:
        fields["verifyEpoch"] = verify_epoch
    sig_epoch = verify_epoch if verify_epoch is not None else epoch
    fields.update(entry=entry, addedSigInput=added_sig_input(entry, sig_epoch))
    opened = _opens(entry, recipient or RECIPIENT)
    sig_ok = entry_signature_valid(entry, sig_epoch)
    if (opened == cek) != expect_unwrap or sig_ok != expect_sig:
        raise GeneratorError(f"keyring-wrap/{label}: unwrap {opened is not None}, sig {sig_ok}; not as intended")
    fields.update(expectUnwrap=expect_unwrap, expectSigValid=expect_sig)
    return case(label, flags, VALID if expect_unwrap and expect_sig else INVALID, **fields)


def _document_case(label: str, flags: list[str], *, epoch: int = 1, tamper: Any = None, expect: bool) -> dict[str, Any]:
    cek = label_bytes("doc-cek:" + label, 32)
    iv = label_bytes("doc-iv:" + label, 12)
    plaintext = '{"title":"groceries","items":["milk","café"]}'
    wrapper = encrypt_document(plaintext.encode("utf-8"), cek, epoch, iv=iv)
    fields: dict[str, Any] = {"cekHex": cek.hex(), "ivHex": iv.hex(), "plaintextUtf8": plaintext}
    if tamper is not None:
        wrapper = tamper(wrapper)
        fields["rebuild"] = False
    fields["wrapper"] = wrapper
    try:
        ok = decrypt_document(wrapper, cek).decode("utf-8") == plaintext
    except KeyringError:
        ok = False
    if ok != expect:
        raise GeneratorError(f"keyring-wrap/documents/{label}: decrypts {ok}; not as intended")
    fields["expectDecrypt"] = expect
    return case(label, flags, VALID if expect else INVALID, **fields)


def generate() -> dict[str, Any]:
    cases = [
        _wrap_case("wrap-epoch-1", ["Baseline"], expect_unwrap=True, expect_sig=True),
        _wrap_case("wrap-epoch-7", ["Baseline"], epoch=7, expect_unwrap=True, expect_sig=True),
        _wrap_case(
            "wrong-recipient", ["WrongRecipient"], recipient=OTHER_RECIPIENT, expect_unwrap=False, expect_sig=True
        ),
        _wrap_case(
            "ciphertext-tampered",
            ["CiphertextTampered"],
            rebuildable=False,
            tamper=lambda e: {**e, "ct": _flip_ct(e["ct"])},
            expect_unwrap=False,
            expect_sig=False,
        ),
        _wrap_case(
            "signed-for-other-epoch",
            ["EpochBinding"],
            verify_epoch=2,
            rebuildable=False,
            expect_unwrap=True,
            expect_sig=False,
        ),
        _wrap_case(
            "adder-swapped",
            ["AdderSwapped"],
            rebuildable=False,
            tamper=lambda e: {**e, "addedBy": MALLORY.pub},
            expect_unwrap=True,
            expect_sig=False,
        ),
        _wrap_case(
            "low-order-ephemeral",
            ["LowOrderPoint"],
            rebuildable=False,
            tamper=lambda e: {**e, "ephKem": LOW_ORDER_POINT},
            expect_unwrap=False,
            expect_sig=False,
        ),
    ]
    documents = [
        _document_case("document-epoch-1", ["Baseline"], expect=True),
        _document_case("document-epoch-changed", ["EpochBinding"], tamper=lambda w: {**w, "_epoch": 2}, expect=False),
        _document_case(
            "document-ciphertext-tampered",
            ["CiphertextTampered"],
            tamper=lambda w: {**w, "_encrypted": _flip_ct(w["_encrypted"])},
            expect=False,
        ),
    ]
    number([cases, documents])
    return {
        **header(
            "Delegated encryption for Starfish v3 (digest §8): keyring wrap entries (X25519 + HKDF-SHA256 "
            "'starfish-wrap' + AES-256-GCM, addedSig over stableStringify({addedAt, addedBy, ct, ephKem, epoch, "
            "subKem}) with no domain tag) and {_encrypted, _epoch} document wrappers (AAD = the epoch as text). "
            "Our own format; upstream has none.",
            [*cases, *documents],
        ),
        "recipient": {"label": "dave_device", "kemPriv": RECIPIENT.private_hex(), "kemPub": RECIPIENT.pub},
        "adder": {"label": "alice_root", "edPriv": ADDER.private_hex(), "edPub": ADDER.pub},
        "wrap": {"hkdfSaltUtf8": "starfish-wrap", "hkdfInfoUtf8": "starfish-wrap", "ivBytes": 12},
        "cases": cases,
        "documents": documents,
    }
