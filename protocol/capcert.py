"""Capability certificates: build, sign, check well-formedness, verify (digest §5.2, §5.3(a), §5.11).

A cap-cert is the bearer of authority: an issuer (a root key) grants a subject key a scope of ops,
collections and paths for a window of time. The checks run in the same order as the official
servers so the reason code for a cert with several faults is the same everywhere.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from protocol.canonical_json import stable_stringify
from protocol.constants import (
    AUDIENCE_MAX_ENTRIES,
    CAP_CLOCK_SKEW_SEC,
    CAP_KINDS,
    CAP_NONCE_BYTES,
    CAP_OPS,
    CAP_SCHEME_PREFIX,
    CAPCERT_DOMAIN,
)
from protocol.encoding import EncodingError, b64decode, b64encode
from protocol.errors import CapCertError, KeyFormatError, rejects_garbage
from protocol.keys import SigningKey, user_id_from_pub, verify_ed25519

_AUD_ENTRY = re.compile(r"[0-9a-f]{64}")


@rejects_garbage(CapCertError)
def capcert_signing_input(cert: Mapping[str, Any]) -> str:
    """The exact text the issuer signs: the domain tag plus the canonical cert without `sig`."""
    return CAPCERT_DOMAIN + stable_stringify({k: v for k, v in cert.items() if k != "sig"})


@rejects_garbage(CapCertError)
def sign_cap_cert(unsigned: Mapping[str, Any], issuer: SigningKey) -> dict[str, Any]:
    """Return a copy of `unsigned` with the issuer's `sig` added (any existing `sig` is replaced)."""
    body = {k: v for k, v in unsigned.items() if k != "sig"}
    signature = issuer.sign(capcert_signing_input(body).encode("utf-8"))
    return {**body, "sig": b64encode(signature)}


def new_cap_nonce() -> str:
    return b64encode(secrets.token_bytes(CAP_NONCE_BYTES))


@rejects_garbage(CapCertError)
def build_cap_cert(
    *,
    issuer: SigningKey,
    kind: str = "device",
    sub: str | None = None,
    sub_kem: str | None = None,
    scope: Mapping[str, Any],
    nbf: int,
    exp: int,
    nonce: str | None = None,
    sub_user_id: str | None = None,
    aud: list[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build and sign a cap-cert. `extra` adds fields verbatim (they are covered by the signature)."""
    cert: dict[str, Any] = {
        "v": 1,
        "kind": kind,
        "iss": issuer.pub,
        "issUserId": issuer.user_id,
        "scope": dict(scope),
        "nbf": nbf,
        "exp": exp,
        "nonce": nonce if nonce is not None else new_cap_nonce(),
    }
    if sub is not None:
        cert["sub"] = sub
    if sub_kem is not None:
        cert["subKem"] = sub_kem
    if sub_user_id is not None:
        cert["subUserId"] = sub_user_id
    if aud is not None:
        cert["aud"] = list(aud)
    if extra:
        cert.update(extra)
    return sign_cap_cert(cert, issuer)


def _is_js_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _user_id_or_none(pub: Any) -> str | None:
    try:
        return user_id_from_pub(pub)
    except KeyFormatError:
        return None


@rejects_garbage(CapCertError)
def check_well_formed(cert: Any) -> None:
    """Raise `CapCertError` with the digest §5.2 code when `cert` is not a well-formed cap-cert."""

    def fail(code: str, why: str) -> CapCertError:
        return CapCertError(f"cap-cert {code}: {why}", code=code)

    if not isinstance(cert, Mapping):
        raise fail("malformed-shape", "a cap-cert must be a JSON object")
    kind = cert.get("kind")
    if kind not in CAP_KINDS:
        raise fail("malformed-shape", f"kind must be one of {', '.join(CAP_KINDS)}")
    audience = kind == "audience"
    for key in ("iss", "issUserId", "nonce"):
        if not isinstance(cert.get(key), str):
            raise fail("malformed-shape", f"{key} must be a string")
    if audience:
        if any(key in cert for key in ("sub", "subKem", "subUserId")):
            raise fail("audience-has-sub", "an audience cap binds no subject (no sub, subKem, subUserId)")
    else:
        for key in ("sub", "subKem"):
            if not isinstance(cert.get(key), str):
                raise fail("malformed-shape", f"a {kind} cap needs {key} as a string")
    if not (_is_js_integer(cert.get("nbf")) and _is_js_integer(cert.get("exp"))):
        raise fail("malformed-shape", "nbf and exp must be integers (Unix seconds)")
    try:
        nonce = b64decode(cert["nonce"], what="cap nonce")
    except EncodingError:
        raise fail("malformed-shape", "nonce must be standard base64") from None
    if len(nonce) != CAP_NONCE_BYTES:
        raise fail("malformed-shape", f"nonce must decode to {CAP_NONCE_BYTES} bytes")
    if "subUserId" in cert and not isinstance(cert["subUserId"], str):
        raise fail("malformed-shape", "subUserId must be a string when present")
    scope = cert.get("scope")
    if not isinstance(scope, Mapping):
        raise fail("malformed-shape", "scope must be an object")
    ops = scope.get("ops")
    if not isinstance(ops, list) or any(op not in CAP_OPS for op in ops):
        raise fail("malformed-shape", f"scope.ops must be a list drawn from {', '.join(CAP_OPS)}")
    collections = scope.get("collections")
    if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
        raise fail("malformed-shape", "scope.collections must be a list of strings")
    paths = scope.get("paths")
    if paths is not None and (not isinstance(paths, list) or not all(isinstance(p, str) for p in paths)):
        raise fail("malformed-shape", "scope.paths must be a list of strings when present")
    if audience:
        if "aud" in cert:
            _check_aud(cert["aud"], fail)
    elif "aud" in cert:
        raise fail("non-audience-has-aud", "only audience caps carry aud")
    if _user_id_or_none(cert["iss"]) != cert["issUserId"]:
        raise fail("iss-userid-mismatch", "issUserId must be sha256(iss)[0:32 hex]")
    if "subUserId" in cert and _user_id_or_none(cert["sub"]) != cert["subUserId"]:
        raise fail("sub-userid-mismatch", "subUserId must be sha256(sub)[0:32 hex]")


def _check_aud(aud: Any, fail: Any) -> None:
    if not isinstance(aud, list):
        raise fail("audience-aud-bad-entry", "aud must be a list of hex public keys")
    if not aud:
        raise fail("audience-empty-aud", "aud, when present, must not be empty")
    if len(aud) > AUDIENCE_MAX_ENTRIES:
        raise fail("audience-aud-too-large", f"aud holds at most {AUDIENCE_MAX_ENTRIES} entries")
    for entry in aud:
        if not isinstance(entry, str) or _AUD_ENTRY.fullmatch(entry) is None:
            raise fail("audience-aud-bad-entry", "each aud entry must be 64 lowercase hex characters")
    if len(set(aud)) != len(aud):
        raise fail("audience-aud-dup", "aud entries must be distinct")


@rejects_garbage(returns=False)
def signature_valid(cert: Mapping[str, Any]) -> bool:
    """True when `sig` is the issuer's signature over the cert; never raises."""
    sig = cert.get("sig")
    iss = cert.get("iss")
    if not isinstance(sig, str) or not isinstance(iss, str):
        return False
    try:
        raw = b64decode(sig, what="cap sig")
        message = capcert_signing_input(cert).encode("utf-8")
    except (EncodingError, ValueError):
        return False
    return verify_ed25519(iss, raw, message)


@rejects_garbage(CapCertError)
def verify_cap_cert(cert: Any, *, now_sec: int, skew_sec: int = CAP_CLOCK_SKEW_SEC) -> None:
    """Raise `CapCertError` unless `cert` is well formed, inside its window (± skew, inclusive) and signed.

    Both window edges are valid at exactly `skew_sec` past them: `nbf - 300` and `exp + 300` pass.
    """
    check_well_formed(cert)
    nbf, exp = cert["nbf"], cert["exp"]
    if exp <= nbf:
        raise CapCertError("cap-cert inverted-window: exp must be after nbf", code="inverted-window")
    if now_sec < nbf - skew_sec:
        raise CapCertError(f"cap-cert not-yet-valid: nbf {nbf} is beyond now+{skew_sec}s", code="not-yet-valid")
    if now_sec > exp + skew_sec:
        raise CapCertError(f"cap-cert expired: exp {exp} is before now-{skew_sec}s", code="expired")
    if not signature_valid(cert):
        raise CapCertError("cap-cert bad-signature: sig does not verify under iss", code="bad-signature")


@rejects_garbage(returns=False)
def is_root_device_cap(cert: Mapping[str, Any]) -> bool:
    """A self-signed device cap (issuer is its own subject) earns the `device:root` role."""
    return cert.get("kind") == "device" and cert.get("iss") == cert.get("sub")


@rejects_garbage(CapCertError)
def cap_header(cert: Mapping[str, Any]) -> str:
    """The Authorization header value: `Cap ` + standard base64 of the canonical cert JSON."""
    return CAP_SCHEME_PREFIX + b64encode(stable_stringify(cert).encode("utf-8"))


@rejects_garbage(returns=False)
def path_glob_match(glob: str, target: str) -> bool:
    """Scope-path glob: `*` matches a run of non-`/` characters, `**` any run; the rest is literal.

    Simulated as a small NFA over the tokens, so a hostile glob costs O(len(glob) * len(target))
    rather than the exponential backtracking of a naive regex translation.
    """
    tokens: list[str] = []  # "*", "**" or a single literal character
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            tokens.append("**")
            i += 2
        else:
            tokens.append(glob[i])
            i += 1

    def closure(states: set[int]) -> set[int]:
        stack, seen = list(states), set(states)
        while stack:
            state = stack.pop()
            if state < len(tokens) and tokens[state] in ("*", "**") and state + 1 not in seen:
                seen.add(state + 1)
                stack.append(state + 1)
        return seen

    states = closure({0})
    for ch in target:
        advanced: set[int] = set()
        for state in states:
            if state == len(tokens):
                continue
            token = tokens[state]
            if token == "**" or (token == "*" and ch != "/"):
                advanced.add(state)
            elif token == ch:
                advanced.add(state + 1)
        if not advanced:
            return False
        states = closure(advanced)
    return len(tokens) in states


@rejects_garbage(returns=False)
def scope_allows_path(paths: Iterable[str], target: str, *, identity: str = "") -> bool:
    """Apply `scope.paths` to a document path (digest §5.11).

    `{identity}` in a rule is replaced by the caller's bound identity. Allowed when at least one
    allow rule matches and no deny rule `!d` matches `d` or anything below it. An empty list is
    handled by the caller (unrestricted for device caps, refused for member and audience caps).
    """
    allows: list[str] = []
    denies: list[str] = []
    for rule in paths:
        rule = rule.replace("{identity}", identity)
        if rule.startswith("!"):
            denies.append(rule[1:])
        else:
            allows.append(rule)
    if any(path_glob_match(deny, target) or path_glob_match(deny + "/**", target) for deny in denies):
        return False
    return any(path_glob_match(allow, target) for allow in allows)
