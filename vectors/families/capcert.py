"""Family `cap-cert`: capability certificates, their canonical signing input, well-formedness and
validity window (digest §5.2, §5.3(a)).

Upstream shape: `issuer`, `subjects` and named entries `{cert, canonicalSigningInput,
signatureBase64?, audience?, expectVerify}` where `expectVerify` is the signature check alone. Our
generated entries add `nowSec` + `expectReason` (the full `verify_cap_cert` outcome at that time:
"ok" or a reason code) and `wellFormedReason` ("ok" or the well-formedness code).

Older generations are told apart from mismatches: Gen A signed the cert without the
`starfish-capcert-v1\\n` domain tag; Gen B put `issAlg`/`subAlg` suite tags inside the cert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from protocol.capcert import capcert_signing_input, check_well_formed, sign_cap_cert, signature_valid, verify_cap_cert
from protocol.constants import CAPCERT_DOMAIN
from protocol.encoding import EncodingError, b64decode
from protocol.errors import CapCertError
from protocol.keys import SigningKey, user_id_from_pub, verify_ed25519
from vectors import sigmutations
from vectors.families._common import Check, guard, named_case_id, require
from vectors.fixtures import EXP, NBF, NOW, kem_key, nonce_b64, signing_key
from vectors.results import STALE, CaseResult, case_result
from vectors.wycheproof import INVALID, VALID, case, header, number_named

NAME = "cap-cert"
FILENAME = "cap-cert.json"

SUITE_TAGS = ("issAlg", "subAlg", "subKemAlg")


def _entries(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(key, value) for key, value in doc.items() if isinstance(value, Mapping) and "cert" in value]


def detect(doc: Any) -> bool:
    return isinstance(doc, Mapping) and any(
        isinstance(value.get("cert"), Mapping) and "canonicalSigningInput" in value for _, value in _entries(doc)
    )


def well_formed_reason(cert: Any) -> str:
    """ "ok" or the well-formedness reason code of our kit."""
    try:
        check_well_formed(cert)
    except CapCertError as exc:
        return exc.code
    return "ok"


def verify_reason(cert: Any, now_sec: int) -> str:
    """ "ok" or the reason code `verify_cap_cert` gives at `now_sec`."""
    try:
        verify_cap_cert(cert, now_sec=now_sec)
    except CapCertError as exc:
        return exc.code
    return "ok"


def _stale_reason(cert: Mapping[str, Any], canonical: str) -> str | None:
    tags = [tag for tag in SUITE_TAGS if tag in cert]
    if tags:
        return f"cert carries suite tag(s) {', '.join(tags)} inside the signed cert (Gen B, before 3.0.0a72)"
    if not canonical.startswith(CAPCERT_DOMAIN):
        return "canonical signing input has no 'starfish-capcert-v1\\n' domain tag (Gen A, before 3.0.0a72)"
    return None


def _signs_as_written(cert: Mapping[str, Any], canonical: str) -> str:
    """Whether the file's signature verifies over the file's own canonical text (evidence it is a genuine
    older generation rather than a corrupted file)."""
    try:
        ok = verify_ed25519(cert["iss"], b64decode(cert["sig"]), canonical.encode("utf-8"))
    except (KeyError, TypeError, EncodingError):
        ok = False
    return (
        "its signature verifies over the file's canonical input"
        if ok
        else "its signature does not verify even over the file's canonical input"
    )


def _replay_entry(name: str, entry: Mapping[str, Any]) -> CaseResult:
    cid = named_case_id(name, entry)
    cert = require(entry, "cert", Mapping)
    canonical = require(entry, "canonicalSigningInput", str)
    stale = _stale_reason(cert, canonical)
    if stale:
        return case_result(NAME, cid, STALE, f"{stale}; {_signs_as_written(cert, canonical)}")
    check = Check()
    check.equal("canonical signing input", capcert_signing_input(cert), canonical)
    if "signatureBase64" in entry and entry["signatureBase64"] != cert.get("sig"):
        check.fail("signatureBase64 and cert.sig differ")
    check.equal("signature verifies", signature_valid(cert), require(entry, "expectVerify", bool))
    if "audience" in entry:
        check.equal("audience (must equal cert.aud)", entry["audience"], cert.get("aud"))
    if "wellFormedReason" in entry:
        check.equal("well-formedness", well_formed_reason(cert), require(entry, "wellFormedReason", str))
    if "nowSec" in entry:
        now = require(entry, "nowSec", int)
        check.equal(f"verify_cap_cert at nowSec={now}", verify_reason(cert, now), require(entry, "expectReason", str))
    return check.result(NAME, cid)


def _replay_keys(doc: Mapping[str, Any]) -> CaseResult:
    check = Check()
    issuer = require(doc, "issuer", Mapping)
    check.equal("issuer.userId", user_id_from_pub(require(issuer, "edPub", str)), require(issuer, "userId", str))
    if "edPriv" in issuer:
        check.equal("issuer.edPub from edPriv", SigningKey.from_hex(issuer["edPriv"]).pub, issuer["edPub"])
    for label, subject in (doc.get("subjects") or {}).items():
        if isinstance(subject, Mapping) and "userId" in subject:
            check.equal(f"subjects.{label}.userId", user_id_from_pub(subject["edPub"]), subject["userId"])
    return check.result(NAME, "issuer+subjects")


def replay(doc: Any) -> list[CaseResult]:
    results = [guard(NAME, "issuer+subjects", lambda: _replay_keys(doc))] if "issuer" in doc else []
    for name, entry in _entries(doc):
        results.append(guard(NAME, named_case_id(name, entry), lambda n=name, e=entry: _replay_entry(n, e)))
    return results


# ---------------------------------------------------------------------------------------------------------------
# Generation


class GeneratorError(AssertionError):
    """A generated entry does not have the outcome the generator meant it to have."""


ISSUER = signing_key("alice-root")
DEVICE = signing_key("alice-device-1")
DEVICE_KEM = kem_key("alice-device-1")
BOB = signing_key("bob-root")
BOB_KEM = kem_key("bob-root")
MALLORY = signing_key("mallory")
CAROL = signing_key("carol-link-reader")
DAVE = signing_key("dave-link-reader")
ISSUER_KEM = kem_key("alice-root")

DEVICE_SCOPE = {"ops": ["read", "write", "list"], "collections": ["*"], "paths": ["*"]}
MEMBER_SCOPE = {"ops": ["read", "write"], "collections": ["shared-notes"], "paths": ["shared-notes/*"]}
AUDIENCE_SCOPE = {
    "ops": ["read", "list"],
    "collections": ["broadcast"],
    "paths": ["broadcast/**", "!broadcast/_members"],
}


def _unsigned(kind: str, nonce_label: str, /, **fields: Any) -> dict[str, Any]:
    """A cert in the upstream field order; `fields` override or add (a value of None removes the field)."""
    cert: dict[str, Any] = {"v": 1, "kind": kind, "iss": ISSUER.pub, "issUserId": ISSUER.user_id}
    if kind == "device":
        cert.update(sub=DEVICE.pub, subKem=DEVICE_KEM.pub, scope=DEVICE_SCOPE)
    elif kind == "member":
        cert.update(sub=BOB.pub, subKem=BOB_KEM.pub, scope=MEMBER_SCOPE)
    else:
        cert.update(scope=AUDIENCE_SCOPE)
    cert.update(nbf=NBF, exp=EXP, nonce=nonce_b64("cap:" + nonce_label))
    if kind == "member":
        cert["subUserId"] = BOB.user_id
    for key, value in fields.items():
        if value is None:
            cert.pop(key, None)
        else:
            cert[key] = value
    return cert


def _signed(kind: str, nonce_label: str, /, signer: SigningKey = ISSUER, **fields: Any) -> dict[str, Any]:
    return sign_cap_cert(_unsigned(kind, nonce_label, **fields), signer)


def _entry(
    cert: dict[str, Any],
    flags: list[str],
    expect: str,
    *,
    now: int = NOW,
    audience: bool = False,
    official: dict[str, Any] | None = None,
    comment: str = "",
) -> dict[str, Any]:
    reason = verify_reason(cert, now)
    if reason != expect:
        raise GeneratorError(f"cap-cert entry meant to give {expect!r} gives {reason!r}")
    fields: dict[str, Any] = {}
    if comment:
        fields["comment"] = comment
    fields["cert"] = cert
    fields["canonicalSigningInput"] = capcert_signing_input(cert)
    if isinstance(cert.get("sig"), str):
        fields["signatureBase64"] = cert["sig"]
    if audience:
        fields["audience"] = cert["aud"]
    fields["expectVerify"] = signature_valid(cert)
    fields["nowSec"] = now
    fields["expectReason"] = reason
    fields["wellFormedReason"] = well_formed_reason(cert)
    if official is not None:
        fields["officialPython"] = official
        flags = [*flags, "OfficialPythonDiverges"]
    return case(None, flags, VALID if reason == "ok" else INVALID, **fields)


# The official well-formedness check decodes iss with bytes.fromhex and lets its ValueError message out as the reason.
_FROMHEX_ERROR = "non-hexadecimal number found in fromhex() arg at position 0"


def _resigned(cert: dict[str, Any], sig: str) -> dict[str, Any]:
    return {**cert, "sig": sig}


def _entries_to_generate() -> dict[str, dict[str, Any]]:
    device = _signed("device", "device")
    wf = ["WellFormedness"]
    aud_keys = [CAROL.pub, DAVE.pub]
    too_many = [hashlib.sha256(f"aud-{i}".encode()).hexdigest() for i in range(65)]
    entries: dict[str, dict[str, Any]] = {
        "deviceCap": _entry(device, ["Baseline"], "ok"),
        "memberCap": _entry(_signed("member", "member"), ["Baseline"], "ok"),
        "audienceCapOpen": _entry(_signed("audience", "audience-open"), ["Audience"], "ok"),
        "audienceCapRestricted": _entry(
            _signed("audience", "audience-restricted", aud=aud_keys), ["Audience"], "ok", audience=True
        ),
        "forgedDeviceCap": _entry(
            _resigned(device, "A" * 86 + "=="), ["ForgedSignature"], "bad-signature", comment="all-zero signature"
        ),
        "rootDeviceCap": _entry(
            _signed("device", "root", sub=ISSUER.pub, subKem=ISSUER_KEM.pub, subUserId=ISSUER.user_id),
            ["RootDevice"],
            "ok",
        ),
        "windowNbfEdgeValid": _entry(device, ["CapWindowEdge"], "ok", now=NBF - 300),
        "windowNbfEdgeInvalid": _entry(device, ["CapWindowEdge"], "not-yet-valid", now=NBF - 301),
        "windowExpEdgeValid": _entry(device, ["CapWindowEdge"], "ok", now=EXP + 300),
        "windowExpEdgeInvalid": _entry(device, ["CapWindowEdge"], "expired", now=EXP + 301),
        "windowInvertedEqual": _entry(
            _signed("device", "inverted-equal", exp=NBF), ["InvertedWindow"], "inverted-window"
        ),
        "windowInvertedBefore": _entry(
            _signed("device", "inverted-before", exp=NBF - 1), ["InvertedWindow"], "inverted-window"
        ),
        "integralFloatWindow": _entry(
            _signed("device", "float-window", nbf=float(NBF), exp=float(EXP)), ["IntegralFloat"], "ok"
        ),
        "wrongKeySignature": _entry(_signed("device", "device", signer=MALLORY), ["WrongKey"], "bad-signature"),
        "flippedBitSignature": _entry(
            _resigned(device, sigmutations.flip_bit(device["sig"], 40)), ["FlippedBit"], "bad-signature"
        ),
        "nonCanonicalSSignature": _entry(
            _resigned(device, sigmutations.non_canonical_s(device["sig"])), ["NonCanonicalS"], "bad-signature"
        ),
        "truncatedSignature": _entry(
            _resigned(device, sigmutations.truncated(device["sig"])), ["TruncatedSignature"], "bad-signature"
        ),
        "emptySignature": _entry(_resigned(device, ""), ["EmptySignature"], "bad-signature"),
        "signatureWithSpace": _entry(
            _resigned(device, sigmutations.with_space(device["sig"])),
            ["LenientBase64"],
            "bad-signature",
            official={"expectVerify": True, "expectReason": "ok"},
        ),
        "extraFieldSigned": _entry(_signed("device", "extra", deviceName="laptop"), ["ExtraField"], "ok"),
        "extraFieldAddedAfterSigning": _entry(
            {**device, "deviceName": "laptop"}, ["TamperedAfterSigning"], "bad-signature"
        ),
        "scopeWidenedAfterSigning": _entry(
            {**_signed("member", "member"), "scope": {**MEMBER_SCOPE, "paths": ["**"]}},
            ["TamperedAfterSigning"],
            "bad-signature",
        ),
        "kindUnknown": _entry(_signed("device", "kind", kind="robot"), wf, "malformed-shape"),
        "deviceMissingSubKem": _entry(_signed("device", "no-subkem", subKem=None), wf, "malformed-shape"),
        "nonce15Bytes": _entry(_signed("device", "nonce-15", nonce="AAECAwQFBgcICQoLDA0O"), wf, "malformed-shape"),
        "nonceUnpadded": _entry(
            _signed("device", "nonce-unpadded", nonce="AAECAwQFBgcICQoLDA0ODw"), wf, "malformed-shape"
        ),
        "nonceNotBase64": _entry(_signed("device", "nonce-text", nonce="not base64 at all!"), wf, "malformed-shape"),
        "nbfString": _entry(_signed("device", "nbf-string", nbf=str(NBF)), wf, "malformed-shape"),
        "expBoolean": _entry(_signed("device", "exp-bool", exp=True), wf, "malformed-shape"),
        "nbfFractional": _entry(_signed("device", "nbf-frac", nbf=NBF + 0.5), wf, "malformed-shape"),
        "scopeOpUnknown": _entry(
            _signed("device", "op", scope={**DEVICE_SCOPE, "ops": ["read", "admin"]}), wf, "malformed-shape"
        ),
        "scopePathsNotList": _entry(
            _signed("member", "paths", scope={**MEMBER_SCOPE, "paths": "shared-notes/*"}), wf, "malformed-shape"
        ),
        "scopeMissing": _entry(_signed("device", "no-scope", scope=None), wf, "malformed-shape"),
        "issUserIdMismatch": _entry(_signed("device", "iss-uid", issUserId=BOB.user_id), wf, "iss-userid-mismatch"),
        "subUserIdMismatch": _entry(_signed("member", "sub-uid", subUserId=MALLORY.user_id), wf, "sub-userid-mismatch"),
        "subUserIdNull": _entry(
            sign_cap_cert({**_unsigned("member", "sub-uid-null"), "subUserId": None}, ISSUER), wf, "malformed-shape"
        ),
        "audienceHasSub": _entry(_signed("audience", "aud-sub", sub=CAROL.pub), wf, "audience-has-sub"),
        "deviceHasAud": _entry(_signed("device", "device-aud", aud=aud_keys), wf, "non-audience-has-aud"),
        "audienceEmptyAud": _entry(_signed("audience", "aud-empty", aud=[]), wf, "audience-empty-aud"),
        "audienceAudTooLarge": _entry(_signed("audience", "aud-65", aud=too_many), wf, "audience-aud-too-large"),
        "audienceAudUppercase": _entry(
            _signed("audience", "aud-upper", aud=[CAROL.pub.upper()]), wf, "audience-aud-bad-entry"
        ),
        "audienceAudDuplicate": _entry(
            _signed("audience", "aud-dup", aud=[CAROL.pub, CAROL.pub]), wf, "audience-aud-dup"
        ),
        "issNotHex": _entry(
            _signed("device", "iss-hex", iss="zz" + ISSUER.pub[2:]),
            wf,
            "iss-userid-mismatch",
            official={"wellFormedReason": _FROMHEX_ERROR, "expectReason": _FROMHEX_ERROR},
        ),
    }
    return entries


def generate() -> dict[str, Any]:
    entries = _entries_to_generate()
    number_named(entries)
    return {
        **header(
            "Capability certificates for Starfish v3 (digest §5.2, §5.3(a)). Upstream cap-cert.json shape: "
            "named entries {cert, canonicalSigningInput, signatureBase64?, audience?, expectVerify}, where "
            "expectVerify is the signature check alone. Added per entry: nowSec and expectReason (the full "
            "verify_cap_cert outcome at nowSec, 'ok' or a reason code) and wellFormedReason.",
            entries.values(),
        ),
        "issuer": {
            "label": "alice_root",
            "edPub": ISSUER.pub,
            "edPriv": ISSUER.private_hex(),
            "userId": ISSUER.user_id,
        },
        "subjects": {
            "alice_dev_1": {"edPub": DEVICE.pub, "kemPub": DEVICE_KEM.pub},
            "bob_root": {"edPub": BOB.pub, "kemPub": BOB_KEM.pub, "userId": BOB.user_id},
        },
        "wrongSigner": {"label": "mallory", "edPub": MALLORY.pub},
        **entries,
    }
