"""Minimal cap-certs exhibiting each well-formedness code of digest §5.2.

Shared by tests/test_protocol_capcert.py (our codes) and tests/test_signatures_official.py (parity with the
official package). Every cert is signed, so the only fault is the one the case names.
"""

from __future__ import annotations

from typing import Any

from protocol.capcert import sign_cap_cert
from protocol.encoding import b64encode
from protocol.keys import KemKey, SigningKey

SEED = b"capcert-cases"
ISSUER = SigningKey.derive(SEED, "issuer")
SUBJECT = SigningKey.derive(SEED, "subject")
OTHER = SigningKey.derive(SEED, "other")
SUB_KEM = KemKey.derive(SEED, "subject-kem")
NONCE = b64encode(bytes(range(16)))
NBF = 1_700_000_000
EXP = NBF + 3600
DROP = object()  # an override value meaning "remove this field"


def unsigned_cert(kind: str = "device", **overrides: Any) -> dict[str, Any]:
    cert: dict[str, Any] = {
        "v": 1,
        "kind": kind,
        "iss": ISSUER.pub,
        "issUserId": ISSUER.user_id,
        "scope": {"ops": ["read", "write"], "collections": ["notes"]},
        "nbf": NBF,
        "exp": EXP,
        "nonce": NONCE,
    }
    if kind != "audience":
        cert["sub"] = SUBJECT.pub
        cert["subKem"] = SUB_KEM.pub
    for key, value in overrides.items():
        if value is DROP:
            cert.pop(key, None)
        else:
            cert[key] = value
    return cert


def cert(kind: str = "device", **overrides: Any) -> dict[str, Any]:
    """A signed cert of `kind` with `overrides` applied before signing."""
    return sign_cap_cert(unsigned_cert(kind, **overrides), ISSUER)


def _aud(n: int) -> list[str]:
    return [f"{i:064x}" for i in range(n)]


# (case id, expected code, cert). The cert is well formed except for the named fault.
MALFORMED_CASES: list[tuple[str, str, Any]] = [
    ("kind-unknown", "malformed-shape", cert(kind="robot")),
    ("kind-missing", "malformed-shape", cert(kind=DROP)),
    ("iss-missing", "malformed-shape", cert(iss=DROP)),
    ("iss-not-string", "malformed-shape", cert(iss=5)),
    ("issUserId-not-string", "malformed-shape", cert(issUserId=None)),
    ("nonce-missing", "malformed-shape", cert(nonce=DROP)),
    ("device-sub-missing", "malformed-shape", cert(sub=DROP)),
    ("member-subKem-missing", "malformed-shape", cert("member", subKem=DROP)),
    ("sub-not-string", "malformed-shape", cert(sub=1)),
    ("nbf-string", "malformed-shape", cert(nbf=str(NBF))),
    ("nbf-bool", "malformed-shape", cert(nbf=True)),
    ("exp-fraction", "malformed-shape", cert(exp=EXP + 0.5)),
    ("exp-missing", "malformed-shape", cert(exp=DROP)),
    ("nonce-not-base64", "malformed-shape", cert(nonce="not base64!")),
    ("nonce-unpadded", "malformed-shape", cert(nonce=NONCE.rstrip("="))),
    ("nonce-15-bytes", "malformed-shape", cert(nonce=b64encode(bytes(15)))),
    ("nonce-17-bytes", "malformed-shape", cert(nonce=b64encode(bytes(17)))),
    ("subUserId-null", "malformed-shape", cert(subUserId=None)),
    ("scope-missing", "malformed-shape", cert(scope=DROP)),
    ("scope-list", "malformed-shape", cert(scope=["read"])),
    ("ops-string", "malformed-shape", cert(scope={"ops": "read", "collections": ["notes"]})),
    ("ops-unknown", "malformed-shape", cert(scope={"ops": ["delete"], "collections": ["notes"]})),
    ("collections-missing", "malformed-shape", cert(scope={"ops": ["read"]})),
    ("collections-non-string", "malformed-shape", cert(scope={"ops": ["read"], "collections": [1]})),
    ("paths-string", "malformed-shape", cert(scope={"ops": ["read"], "collections": ["c"], "paths": "a/**"})),
    ("paths-non-string", "malformed-shape", cert(scope={"ops": ["read"], "collections": ["c"], "paths": [None]})),
    ("not-an-object", "malformed-shape", ["kind", "device"]),
    ("iss-userid-mismatch", "iss-userid-mismatch", cert(issUserId=OTHER.user_id)),
    ("sub-userid-mismatch", "sub-userid-mismatch", cert(subUserId=OTHER.user_id)),
    ("audience-has-sub", "audience-has-sub", cert("audience", sub=SUBJECT.pub)),
    ("audience-has-subKem", "audience-has-sub", cert("audience", subKem=SUB_KEM.pub)),
    ("audience-has-subUserId", "audience-has-sub", cert("audience", subUserId=SUBJECT.user_id)),
    ("device-has-aud", "non-audience-has-aud", cert(aud=_aud(1))),
    ("member-has-aud", "non-audience-has-aud", cert("member", aud=_aud(1))),
    ("audience-empty-aud", "audience-empty-aud", cert("audience", aud=[])),
    ("audience-aud-too-large", "audience-aud-too-large", cert("audience", aud=_aud(65))),
    ("audience-aud-uppercase", "audience-aud-bad-entry", cert("audience", aud=["AB" * 32])),
    ("audience-aud-short", "audience-aud-bad-entry", cert("audience", aud=["ab" * 31])),
    ("audience-aud-not-list", "audience-aud-bad-entry", cert("audience", aud="ab" * 32)),
    ("audience-aud-non-string", "audience-aud-bad-entry", cert("audience", aud=[5])),
    ("audience-aud-dup", "audience-aud-dup", cert("audience", aud=[_aud(1)[0], _aud(1)[0]])),
]

# Certs that are well formed, valid at NBF and correctly signed.
VALID_CASES: list[tuple[str, Any]] = [
    ("device", cert()),
    ("device-root", sign_cap_cert({**unsigned_cert(), "iss": SUBJECT.pub, "issUserId": SUBJECT.user_id}, SUBJECT)),
    ("device-subUserId", cert(subUserId=SUBJECT.user_id)),
    (
        "member",
        cert("member", subUserId=SUBJECT.user_id, scope={"ops": ["read"], "collections": ["c"], "paths": ["a"]}),
    ),
    ("audience-no-aud", cert("audience")),
    ("audience-64-aud", cert("audience", aud=_aud(64))),
    ("empty-ops", cert(scope={"ops": [], "collections": []})),
    ("integral-float-window", cert(nbf=float(NBF), exp=float(EXP))),
    ("extra-fields", cert(issAlg="ed25519", subAlg="ed25519", note={"x": [1, 2]})),
    ("v-unchecked", cert(v=2)),
]
