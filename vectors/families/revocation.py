"""Family `revocation-list`: signed, generation-numbered revocation lists (digest §5.8, §5.3(e)).

Upstream has no vector file for revocation lists; this is our format:
`{domain, issuer{label, edPriv, edPub, userId}, cases[{label, revocationList,
canonicalSigningInput, expectVerify, expectReason?, lookups[{sub, capNonce, expectRevoked}]}]}`.
`lookups` exercise `is_revoked` on the (verified) list, including the audience sentinel sub "".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.constants import REVLIST_DOMAIN
from protocol.errors import RevocationListError
from protocol.revocation import build_revocation_list, is_revoked, revocation_list_signing_input, verify_revocation_list
from vectors import sigmutations
from vectors.families._common import Check, each_case, list_of_objects, require
from vectors.fixtures import EXP, nonce_b64, signing_key
from vectors.results import CaseResult
from vectors.wycheproof import INVALID, VALID, case, header, number

NAME = "revocation-list"
FILENAME = "revocation-list.json"


def detect(doc: Any) -> bool:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cases"), list):
        return False
    return any(isinstance(item, Mapping) and "revocationList" in item for item in doc["cases"])


def verify_reason(revocation_list: Any) -> str:
    try:
        verify_revocation_list(revocation_list)
    except RevocationListError as exc:
        return exc.code
    return "ok"


def _replay_case(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    revocation_list = require(item, "revocationList", Mapping)
    check.equal(
        "canonical signing input",
        revocation_list_signing_input(revocation_list),
        require(item, "canonicalSigningInput", str),
    )
    reason = verify_reason(revocation_list)
    check.equal("list verifies", reason == "ok", require(item, "expectVerify", bool))
    if "expectReason" in item:
        check.equal("verification reason", reason, require(item, "expectReason", str))
    for index, lookup in enumerate(list_of_objects(item.get("lookups", []), "lookups")):
        revoked = is_revoked(
            revocation_list, sub=require(lookup, "sub", str), cap_nonce=require(lookup, "capNonce", str)
        )
        check.equal(f"lookups[{index}] revoked", revoked, require(lookup, "expectRevoked", bool))
    return check.result(NAME, cid)


def replay(doc: Any) -> list[CaseResult]:
    return each_case(NAME, "cases", doc["cases"], _replay_case)


# ---------------------------------------------------------------------------------------------------------------
# Generation


class GeneratorError(AssertionError):
    """A generated list does not verify the way the generator meant it to."""


ISSUER = signing_key("alice-root")
MALLORY = signing_key("mallory")
DEVICE = signing_key("alice-device-1")
BOB = signing_key("bob-root")
CAROL = signing_key("carol-author")

CAP_A = nonce_b64("cap:revoked-a")
CAP_B = nonce_b64("cap:revoked-b")
CAP_LIVE = nonce_b64("cap:live")


def _lookup(sub: str, cap_nonce: str, revoked: bool) -> dict[str, Any]:
    return {"sub": sub, "capNonce": cap_nonce, "expectRevoked": revoked}


def _case(
    label: str,
    flags: list[str],
    revocation_list: dict[str, Any],
    expect: str,
    lookups: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    reason = verify_reason(revocation_list)
    if reason != expect:
        raise GeneratorError(f"revocation-list/{label}: meant {expect!r}, kit says {reason!r}")
    fields: dict[str, Any] = {
        "revocationList": revocation_list,
        "canonicalSigningInput": revocation_list_signing_input(revocation_list),
        "expectVerify": reason == "ok",
        "expectReason": reason,
    }
    if lookups:
        for lookup in lookups:
            if is_revoked(revocation_list, sub=lookup["sub"], cap_nonce=lookup["capNonce"]) != lookup["expectRevoked"]:
                raise GeneratorError(f"revocation-list/{label}: lookup {lookup} disagrees with the kit")
        fields["lookups"] = lookups
    return case(label, flags, VALID if reason == "ok" else INVALID, **fields)


def _cases() -> list[dict[str, Any]]:
    revoked = [
        {"sub": DEVICE.pub, "nonce": CAP_A, "exp": EXP},
        {"sub": "", "nonce": CAP_B, "exp": EXP},
    ]
    basic = build_revocation_list(ISSUER, 7, revoked)
    subjects = build_revocation_list(
        ISSUER, 8, revoked, revoked_subjects=[{"sub": BOB.pub, "exp": EXP}, {"sub": "", "exp": EXP}]
    )
    empty = build_revocation_list(ISSUER, 0, [])
    return [
        _case(
            "per-cap-entries",
            ["Baseline"],
            basic,
            "ok",
            [
                _lookup(DEVICE.pub, CAP_A, True),
                _lookup(DEVICE.pub, CAP_LIVE, False),
                _lookup(BOB.pub, CAP_A, False),
                _lookup("", CAP_B, True),
            ],
        ),
        _case(
            "subject-wide",
            ["SubjectWideRevocation", "AudienceSentinel"],
            subjects,
            "ok",
            [
                _lookup(BOB.pub, CAP_LIVE, True),
                _lookup(DEVICE.pub, CAP_A, True),
                _lookup(CAROL.pub, CAP_LIVE, False),
                _lookup("", CAP_LIVE, False),
            ],
        ),
        _case("empty-generation-zero", ["Baseline"], empty, "ok", [_lookup(DEVICE.pub, CAP_A, False)]),
        _case(
            "generation-raised-after-signing", ["TamperedAfterSigning"], {**basic, "generation": 99}, "bad-signature"
        ),
        _case(
            "entry-removed-after-signing", ["TamperedAfterSigning"], {**basic, "revoked": revoked[1:]}, "bad-signature"
        ),
        _case(
            "wrong-signer",
            ["WrongKey"],
            {**basic, "sig": build_revocation_list(MALLORY, 7, revoked)["sig"]},
            "bad-signature",
        ),
        _case(
            "signature-flipped-bit",
            ["FlippedBit"],
            {**basic, "sig": sigmutations.flip_bit(basic["sig"])},
            "bad-signature",
        ),
        _case(
            "signature-non-canonical-s",
            ["NonCanonicalS"],
            {**basic, "sig": sigmutations.non_canonical_s(basic["sig"])},
            "bad-signature",
        ),
        _case(
            "signature-truncated",
            ["TruncatedSignature"],
            {**basic, "sig": sigmutations.truncated(basic["sig"])},
            "bad-signature",
        ),
        _case("signature-empty", ["EmptySignature"], {**basic, "sig": ""}, "bad-signature"),
    ]


def generate() -> dict[str, Any]:
    cases = _cases()
    number([cases])
    return {
        **header(
            "Revocation lists for Starfish v3 (digest §5.8, §5.3(e)): signed over 'starfish-revlist-v1\\n' + "
            "stableStringify(list without sig). Our own format (upstream has none); lookups exercise is_revoked.",
            cases,
        ),
        "domain": REVLIST_DOMAIN,
        "issuer": {
            "label": "alice_root",
            "edPriv": ISSUER.private_hex(),
            "edPub": ISSUER.pub,
            "userId": ISSUER.user_id,
        },
        "cases": cases,
    }
