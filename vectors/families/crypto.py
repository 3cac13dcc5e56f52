"""Family `crypto`: the E2E key derivation, HKDF-SHA256 over UTF-8 secret and salt (crypto.json).

Upstream shape (a72): one object `{secret, salt, info, derived_key_hex}`. Our generated file keeps
that object as its primary case (with `tcId`, `flags`, `result` beside it) and adds more in a
`cases` list of the same shape. The older v1 shape (`vectors` list, no `info`) is a stale
generation: it had AES-GCM `{plaintext, encrypted}` vectors and no info string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.keyring import derive_key
from vectors.families._common import Check, each_case, guard, require
from vectors.results import STALE, CaseResult, case_result
from vectors.wycheproof import VALID, case, header, number

NAME = "crypto"
FILENAME = "crypto.json"


def detect(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "derived_key_hex" in doc and "secret" in doc


def _replay_one(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    derived = derive_key(require(item, "secret", str), require(item, "salt", str), require(item, "info", str).encode())
    check.equal("derived_key_hex", derived.hex(), require(item, "derived_key_hex", str))
    return check.result(NAME, cid)


def replay(doc: Any) -> list[CaseResult]:
    primary = "primary" + (f" #{doc['tcId']}" if "tcId" in doc else "")
    if "info" not in doc and isinstance(doc.get("vectors"), list):
        why = "v1 crypto.json shape: a 'vectors' list of AES-GCM cases and no 'info' (before 3.0.0a72)"
        rows = [case_result(NAME, primary, STALE, why)]
        rows += [case_result(NAME, f"vectors[{i}]", STALE, why) for i in range(len(doc["vectors"]))]
        return rows
    results = [guard(NAME, primary, lambda: _replay_one(doc, primary))]
    return results + (each_case(NAME, "cases", doc["cases"], _replay_one) if "cases" in doc else [])


# ---------------------------------------------------------------------------------------------------------------
# Generation


def _derive(label: str, secret: str, salt: str, info: str, flags: list[str]) -> dict[str, Any]:
    return case(
        label,
        flags,
        VALID,
        secret=secret,
        salt=salt,
        info=info,
        derived_key_hex=derive_key(secret, salt, info.encode()).hex(),
    )


def generate() -> dict[str, Any]:
    primary = _derive("primary", "conformance-secret", "conformance-pubkey", "starfish-e2e", ["Baseline"])
    cases = [
        _derive("empty-salt", "conformance-secret", "", "starfish-e2e", ["HkdfEmptySalt"]),
        _derive("other-info", "conformance-secret", "conformance-pubkey", "starfish-wrap", ["HkdfInfo"]),
        _derive("non-ascii-secret", "sécret-🔑", "sél", "starfish-e2e", ["NonAsciiSecret"]),
        _derive("empty-info", "conformance-secret", "conformance-pubkey", "", ["HkdfInfo"]),
    ]
    holder = [primary]
    number([holder, cases])
    primary = holder[0]
    primary.pop("label")
    return {
        **header(
            "E2E key derivation for Starfish v3: derived_key_hex = HKDF-SHA256(ikm = UTF-8 secret, salt = UTF-8 salt, "
            "info = UTF-8 info, 32 bytes). Upstream crypto.json shape at the top level (the primary case); more "
            "cases of the same shape in `cases`.",
            [primary, *cases],
        ),
        **primary,
        "cases": cases,
    }
