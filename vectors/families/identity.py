"""Family `identity-derivation`: root identity from a passphrase (identity-derivation.json).

Pipeline: Argon2id(passphrase) -> master; HKDF-SHA256(master) -> Ed25519 and X25519 seeds;
userId = sha256(rootEdPub)[0:32 hex]. Upstream shape: `constants` + `vectors[{passphrase,
argon2Master, rootEdPriv, rootEdPub, rootKemPriv, rootKemPub, userId}]`. Our generated vectors may
instead carry `expectError: true` for a passphrase that must be refused.

Argon2id costs about 0.1-0.2 s per vector, so generated files keep few vectors.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from protocol import constants as c
from protocol.errors import IdentityError
from protocol.identity import argon2_master, derive_root_identity
from vectors.families._common import Check, each_case, guard, require
from vectors.results import CaseResult
from vectors.wycheproof import INVALID, VALID, case, header, number

NAME = "identity-derivation"
FILENAME = "identity-derivation.json"

CONSTANTS: dict[str, Any] = {
    "argon2": {
        "memoryKiB": c.ARGON2_MEMORY_KIB,
        "iterations": c.ARGON2_ITERATIONS,
        "parallelism": c.ARGON2_PARALLELISM,
        "hashLength": c.ARGON2_HASH_LEN,
        "saltUtf8": c.ARGON2_SALT.decode(),
        "type": "argon2id",
    },
    "edHkdfSaltUtf8": c.ROOT_ED_HKDF_SALT.decode(),
    "edHkdfInfoUtf8": c.ROOT_ED_HKDF_INFO.decode(),
    "kemHkdfSaltUtf8": c.ROOT_KEM_HKDF_SALT.decode(),
    "kemHkdfInfoUtf8": c.ROOT_KEM_HKDF_INFO.decode(),
    "userIdHexLen": c.USER_ID_HEX_LEN // 2,
    "userIdSource": "sha256(rootEdPub) truncated to first 16 bytes (32 hex characters)",
}

_COMPARED_CONSTANTS = (
    "argon2",
    "edHkdfSaltUtf8",
    "edHkdfInfoUtf8",
    "kemHkdfSaltUtf8",
    "kemHkdfInfoUtf8",
    "userIdHexLen",
)


def detect(doc: Any) -> bool:
    return (
        isinstance(doc, Mapping)
        and isinstance(doc.get("constants"), Mapping)
        and "argon2" in doc["constants"]
        and isinstance(doc.get("vectors"), list)
    )


def _replay_constants(doc: Mapping[str, Any]) -> CaseResult:
    check = Check()
    theirs = require(doc, "constants", Mapping)
    for key in _COMPARED_CONSTANTS:
        check.equal(f"constants.{key}", CONSTANTS[key], theirs.get(key))
    return check.result(NAME, "constants")


def _replay_vector(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    passphrase = require(item, "passphrase", str)
    if item.get("expectError") is True:
        try:
            derive_root_identity(passphrase)
        except IdentityError:
            return check.result(NAME, cid)
        check.fail("derivation succeeded; the vector expects the passphrase to be refused")
        return check.result(NAME, cid)
    identity = derive_root_identity(passphrase)
    check.equal("argon2Master", argon2_master(passphrase).hex(), require(item, "argon2Master", str))
    check.equal("rootEdPriv", identity.signing.private_hex(), require(item, "rootEdPriv", str))
    check.equal("rootEdPub", identity.signing.pub, require(item, "rootEdPub", str))
    check.equal("rootKemPriv", identity.kem.private_hex(), require(item, "rootKemPriv", str))
    check.equal("rootKemPub", identity.kem.pub, require(item, "rootKemPub", str))
    check.equal("userId", identity.user_id, require(item, "userId", str))
    return check.result(NAME, cid)


def replay(doc: Any) -> list[CaseResult]:
    results = [guard(NAME, "constants", lambda: _replay_constants(doc))]
    return results + each_case(NAME, "vectors", doc["vectors"], _replay_vector)


# ---------------------------------------------------------------------------------------------------------------
# Generation


def _vector(label: str, passphrase: str, flags: list[str]) -> dict[str, Any]:
    identity = derive_root_identity(passphrase)
    return case(
        label,
        flags,
        VALID,
        passphrase=passphrase,
        argon2Master=argon2_master(passphrase).hex(),
        rootEdPriv=identity.signing.private_hex(),
        rootEdPub=identity.signing.pub,
        rootKemPriv=identity.kem.private_hex(),
        rootKemPub=identity.kem.pub,
        userId=identity.user_id,
    )


def generate() -> dict[str, Any]:
    cafe = "café conformance passphrase"
    vectors = [
        _vector("ascii-passphrase", "starfish conformance passphrase", ["Baseline"]),
        _vector("nfc-passphrase", unicodedata.normalize("NFC", cafe), ["NonAsciiSecret", "NoUnicodeNormalization"]),
        _vector("nfd-passphrase", unicodedata.normalize("NFD", cafe), ["NonAsciiSecret", "NoUnicodeNormalization"]),
        case("blank-passphrase", ["BlankPassphrase"], INVALID, passphrase=" \t ", expectError=True),
    ]
    number([vectors])
    return {
        **header(
            "Root identity derivation for Starfish v3: Argon2id(passphrase) -> master; HKDF-SHA256(master) -> Ed25519 "
            "and X25519 seeds; userId = sha256(rootEdPub)[0:16 bytes] hex. Upstream identity-derivation.json shape; "
            "a vector with expectError: true must be refused.",
            vectors,
        ),
        "constants": CONSTANTS,
        "vectors": vectors,
    }
