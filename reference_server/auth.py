"""Who is calling: the digest §5.5 resolver pipeline, role synthesis (§5.10) and scope paths (§5.11).

Differences from the official servers, each on purpose (README "Divergences"):
- Any request that carries `Authorization: Cap ...` is authenticated in full, on every route. The
  official servers skip the resolver on public routes, so a forged, replayed or revoked cap still
  gets a 200 there and an append's author is not bound to its presenter.
- The signature always covers the real body bytes of a write, whatever the Content-Type. The
  official servers hash an empty body for non-JSON media types, so a signed blob upload's bytes are
  not covered and anyone who sees the request can swap them.
- `self` is granted only when the cap's own scope covers the operation and the collection: a cap
  scoped to `read` on `shared` cannot write its holder's private documents (officially it can).
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from protocol.capcert import check_well_formed, is_root_device_cap, path_glob_match, scope_allows_path, signature_valid
from protocol.constants import CAP_CLOCK_SKEW_SEC, CAP_OPS, CAP_SCHEME_PREFIX, MAX_CAP_HEADER_BYTES, MAX_REQUEST_SKEW_MS
from protocol.encoding import EncodingError, b64decode
from protocol.errors import CapCertError
from protocol.keys import user_id_from_pub
from protocol.signing import signed_body, signing_host, verify_request_signature
from reference_server import errors
from reference_server.faults import NO_FAULTS, Faults
from reference_server.nonce_cache import MAX_NONCE_LENGTH, NonceCache, NonceVerdict
from reference_server.revocations import Revocations

log = logging.getLogger("reference_server.auth")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DECIMAL = re.compile(r"-?[0-9]+")
_PUB_HEX = re.compile(r"[0-9a-f]{64}")
PUBLIC_ROLES = frozenset({"public"})
ROOT_ROLE = "device:root"

Receive = Callable[[], Awaitable[dict[str, Any]]]


class AuthError(Exception):
    """A rejected request. `message` goes on the wire; `reason` only to the log."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.message = message
        self.reason = reason


def _unauthorized(reason: str) -> AuthError:
    return AuthError(401, errors.UNAUTHORIZED, reason)


def _forbidden(reason: str) -> AuthError:
    return AuthError(403, errors.FORBIDDEN, reason)


@dataclass(slots=True)
class Caller:
    identity: str  # "" when anonymous
    roles: frozenset[str]
    scope_paths: list[str] | None  # `{identity}` already expanded; None means unrestricted
    presenter: str | None  # the key that signed this request
    ops: frozenset[str]
    collections: frozenset[str]
    body: bytes | None = None  # the body, when authentication had to read it to check the signature

    @property
    def authenticated(self) -> bool:
        return self.presenter is not None

    def covers(self, op: str, collection: str) -> bool:
        """Does the cap's own scope reach this operation on this collection? (gates `self`)"""
        return op in self.ops and (collection in self.collections or "*" in self.collections)

    def path_allowed(self, target: str) -> bool:
        return self.scope_paths is None or scope_allows_path(self.scope_paths, target)


def anonymous() -> Caller:
    return Caller("", PUBLIC_ROLES, None, None, frozenset(), frozenset())


@dataclass(slots=True)
class _CachedCap:
    cert: dict[str, Any]
    signature_ok: bool
    roles: frozenset[str]
    ops: frozenset[str]
    collections: frozenset[str]


def synthesize_roles(cert: dict[str, Any]) -> frozenset[str]:
    """Digest §5.10: `cap:<op>:<col>`, `delegated:<issUserId>:<col>` for shared caps, `device:root`."""
    scope = cert["scope"]
    roles = {f"cap:{op}:{col}" for op in scope["ops"] for col in scope["collections"]}
    if cert["kind"] in ("member", "audience"):
        roles.update(f"delegated:{cert['issUserId']}:{col}" for col in scope["collections"])
    if is_root_device_cap(cert):
        roles.add(ROOT_ROLE)
    return frozenset(roles)


def _scope_barriers(cert: dict[str, Any], prefix: str) -> None:
    """The sharing rules for caps given to others (digest §5.14): the issuer's private namespace is out of
    reach, `<col>/_members` must be denied, and with `write` so must `<col>/_keyring`.

    A cap with no paths is left to resolver step 15 (403), which refuses it outright.
    """
    paths = cert["scope"].get("paths") or []
    if not paths:
        return
    owner = cert["issUserId"]
    allows = [p.replace("{identity}", owner) for p in paths if not p.startswith("!")]
    denies = [p[1:].replace("{identity}", owner) for p in paths if p.startswith("!")]
    for path in allows + denies:
        if path == f"users/{owner}" or path.startswith(f"users/{owner}/"):
            raise ValueError(f"{prefix}-private-path")
    guarded = [("_members", "members")] + ([("_keyring", "keyring")] if "write" in cert["scope"]["ops"] else [])
    for col in cert["scope"]["collections"]:
        for leaf, label in guarded:
            target = f"{col}/{leaf}"
            if any(path_glob_match(a, target) for a in allows) and not any(path_glob_match(d, target) for d in denies):
                raise ValueError(f"{prefix}-{label}-not-denied")


def validate_kind(cert: dict[str, Any]) -> None:
    """Per-kind validators (resolver step 7): device caps need nothing more; shared caps follow §5.13/§5.14."""
    kind = cert["kind"]
    if kind == "device":
        return
    collections = cert["scope"]["collections"]
    if kind == "member":
        if not isinstance(cert.get("subUserId"), str):
            raise ValueError("member-missing-sub-userid")
        if cert["subUserId"] == cert["issUserId"]:
            raise ValueError("member-self")
    if "*" in collections:
        raise ValueError(f"{kind}-wildcard-collections")
    if len(collections) != 1:
        raise ValueError(f"{kind}-multi-collection")
    _scope_barriers(cert, kind)


class ClientGone(Exception):
    """The client disconnected before sending its whole body: nothing may be acted on, nothing can be sent."""


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None as soon as it exceeds `limit` (holds for chunked bodies too)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone  # a truncated body must never be stored
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class Authenticator:
    """Runs the resolver pipeline for one request. Holds the caches that make it fast and safe."""

    def __init__(
        self,
        nonces: NonceCache,
        revocations: Revocations,
        *,
        max_signed_body_bytes: int = 65_536,
        cap_cache_size: int = 4096,
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.faults = faults
        self.nonces = nonces
        self.revocations = revocations
        self.max_signed_body_bytes = max_signed_body_bytes
        self._cap_cache: OrderedDict[str, _CachedCap] = OrderedDict()
        self._cap_cache_size = cap_cache_size

    def _parse_cap(self, header: str) -> _CachedCap:
        """Steps 2-3, plus the signature half of step 6, cached by the exact header text.

        Only the Ed25519 verification and parsing are cached: the window, shape, kind and revocation
        checks run on every request.
        """
        cached = self._cap_cache.get(header)
        if cached is not None:
            self._cap_cache.move_to_end(header)
            return cached
        if len(header) > MAX_CAP_HEADER_BYTES:
            raise _unauthorized("cap-too-large")
        try:
            cert = json.loads(b64decode(header[len(CAP_SCHEME_PREFIX) :].strip(), what="cap").decode("utf-8"))
        except (EncodingError, UnicodeDecodeError, ValueError, RecursionError):
            raise _unauthorized("malformed cap-cert in Authorization header") from None
        if not isinstance(cert, dict):
            raise _unauthorized("malformed cap-cert in Authorization header")
        try:
            check_well_formed(cert)
        except CapCertError as exc:
            raise _unauthorized(f"cap-cert {exc.code}") from None
        scope = cert["scope"]
        roles = synthesize_roles(cert)
        if self.faults.on("scope-ops-ignored"):
            roles |= {f"cap:{op}:{col}" for op in CAP_OPS for col in scope["collections"]}
        entry = _CachedCap(cert, signature_valid(cert), roles, frozenset(scope["ops"]), frozenset(scope["collections"]))
        self._cap_cache[header] = entry
        if len(self._cap_cache) > self._cap_cache_size:
            self._cap_cache.popitem(last=False)
        return entry

    async def authenticate(
        self,
        *,
        method: str,
        path_and_query: str,
        headers: dict[str, str],
        scheme: str,
        server: tuple[str, int] | None,
        receive: Receive,
        now_ms: int,
        scope_target: str | None,
        identity_param: str | None,
    ) -> Caller:
        """The resolver (digest §5.5). `scope_target` None skips step 16 (batch pull, non-document routes)."""
        header = headers.get("authorization")
        if header is None or not header.startswith(CAP_SCHEME_PREFIX):  # step 1
            return anonymous()
        if len(header) > MAX_CAP_HEADER_BYTES:  # step 2 (before the cache, so it cannot hold huge keys)
            raise _unauthorized("cap-too-large")
        cap = self._parse_cap(header)  # step 3
        cert = cap.cert
        sig = headers.get("x-starfish-sig")  # step 4
        ts_text = headers.get("x-starfish-ts")
        nonce = headers.get("x-starfish-nonce")
        if sig is None or ts_text is None or nonce is None:
            raise _unauthorized("missing X-Starfish-Sig, X-Starfish-Ts or X-Starfish-Nonce")
        if not _DECIMAL.fullmatch(ts_text):
            raise _unauthorized("X-Starfish-Ts is not an integer")
        if len(nonce) > MAX_NONCE_LENGTH:
            raise _unauthorized("X-Starfish-Nonce is too long")
        ts = int(ts_text)
        skew_ms = MAX_REQUEST_SKEW_MS + 2000 * (self.faults.on("skew-widened") - self.faults.on("skew-narrowed"))
        clock_ts = ts * 1000 if self.faults.on("ts-seconds-accepted") and 0 < ts < 10**11 else ts
        if abs(clock_ts - now_ms) > skew_ms:  # step 5
            raise _unauthorized("request timestamp outside clock skew")
        try:  # step 6: shape, window (±300 s, inclusive), signature (cached)
            check_well_formed(cert)
        except CapCertError as exc:
            raise _unauthorized(f"cap-cert {exc.code}") from None
        now_sec = now_ms // 1000
        if cert["exp"] <= cert["nbf"]:
            raise _unauthorized("cap-cert inverted-window")
        slack = CAP_CLOCK_SKEW_SEC + self.faults.on("cap-window-widened") - self.faults.on("cap-window-narrowed")
        edge = 1 if self.faults.on("cap-window-exclusive") else 0
        if now_sec < cert["nbf"] - slack + edge:
            raise _unauthorized("cap-cert not-yet-valid")
        if now_sec > cert["exp"] + slack - edge:
            raise _unauthorized("cap-cert expired")
        if not cap.signature_ok:
            raise _unauthorized("cap-cert bad-signature")
        try:  # step 7
            validate_kind(cert)
        except ValueError as exc:
            raise _unauthorized(f"cap-cert plugin reject: {exc}") from None
        body = b""
        if method in WRITE_METHODS:  # step 8
            declared = headers.get("content-length")
            if declared is None:
                raise AuthError(413, errors.MISSING_CONTENT_LENGTH, "missing Content-Length on write")
            if not _DECIMAL.fullmatch(declared) or int(declared) < 0:
                raise AuthError(413, errors.INVALID_CONTENT_LENGTH_AUTH, "invalid Content-Length")
            if int(declared) > self.max_signed_body_bytes:
                raise AuthError(413, errors.REQUEST_BODY_TOO_LARGE, "request body too large")
            read = await read_body(receive, int(declared))
            if read is None:
                raise AuthError(413, errors.REQUEST_BODY_TOO_LARGE, "body longer than its Content-Length")
            body = read
        if cert["kind"] == "audience":  # step 9
            presenter = headers.get("x-starfish-pub")
            if presenter is None or not _PUB_HEX.fullmatch(presenter):
                raise _unauthorized("audience cap needs X-Starfish-Pub (64 lowercase hex)")
        else:
            presenter = cert["sub"]
        host = headers.get("host")
        if host is None:
            host = f"{server[0]}:{server[1]}" if server else ""
        if self.faults.on("nonce-before-signature"):
            self._check_nonce(presenter, nonce, ts, now_ms, path_and_query)
        # Step 10. The body hash always covers the real bytes (never the official empty-body blob rule).
        signed_host = host if self.faults.on("sig-host-verbatim") else signing_host(host, scheme)
        if not verify_request_signature(presenter, sig, method, path_and_query, body,
                                        host=signed_host, ts_ms=ts, nonce=nonce) and not (
                self.faults and self._faulty_signature_accepts(cert, presenter, sig, method, path_and_query, body,
                                                               headers, signed_host, ts, nonce)):
            raise _unauthorized("bad request signature")
        if cert["kind"] == "audience" and "aud" in cert and presenter not in cert["aud"]:  # step 11
            raise _forbidden("presenter is not in the cap audience")
        if not self.faults.on("nonce-before-signature") and not self.faults.on("nonce-kept-on-403"):
            self._check_nonce(presenter, nonce, ts, now_ms, path_and_query)  # step 12
        revocation_sub = "" if cert["kind"] == "audience" else cert["sub"]
        if self.revocations.is_revoked(cert["iss"], revocation_sub, cert["nonce"]):  # step 13
            raise _unauthorized("cap-cert revoked")
        if cert["kind"] == "device":  # step 14 (§5.9)
            identity = user_id_from_pub(cert["sub"]) if self.faults.on("device-identity-is-sub") else cert["issUserId"]
        elif cert["kind"] == "member":
            identity = cert["issUserId"] if self.faults.on("member-identity-is-issuer") else cert["subUserId"]
        else:
            identity = user_id_from_pub(presenter)
            if self.faults.on("audience-identity-is-issuer"):
                identity = cert["issUserId"]
        raw_paths = cert["scope"].get("paths")
        paths = [p.replace("{identity}", identity) for p in raw_paths] if raw_paths is not None else None
        if self.faults:
            paths = self._faulty_scope_paths(raw_paths, paths)
        if cert["kind"] != "device" and not paths:  # step 15
            raise _forbidden("member/audience cap must carry an explicit scope.paths")
        # A device cap with no paths, or `paths: []`, is unrestricted (§5.11).
        ops, collections = cap.ops, cap.collections
        if self.faults.on("self-ignores-cap-scope"):
            ops, collections = frozenset(CAP_OPS), frozenset({"*"})
        caller = Caller(identity, cap.roles, paths or None, presenter, ops, collections, body)
        if scope_target is not None and not self.faults.on("scope-paths-ignored") and not caller.path_allowed(
                scope_target):  # step 16
            raise _forbidden("request path is outside cap scope")
        if identity_param is not None and identity_param != identity and not self.faults.on(
                "identity-param-unbound"):  # step 17
            raise _forbidden("request identity does not match cap-bound identity")
        if self.faults.on("nonce-kept-on-403"):
            self._check_nonce(presenter, nonce, ts, now_ms, path_and_query)
        return caller

    def _check_nonce(self, presenter: str, nonce: str, ts: int, now_ms: int, path_and_query: str) -> None:
        """Step 12: a nonce is single-use per signer while its request could still pass the skew check."""
        if self.faults.on("nonce-replay-allowed"):
            return
        signer = "" if self.faults.on("nonce-global") else presenter
        if self.faults.on("nonce-per-request"):
            nonce = f"{nonce} {path_and_query}"
        verdict = self.nonces.check_and_remember(signer, nonce, ts, now_ms)
        if verdict is NonceVerdict.REPLAY:
            raise _unauthorized("nonce replay (or this signer's nonce quota is used up)")
        if verdict is NonceVerdict.FULL:
            raise AuthError(503, errors.REPLAY_CACHE_FULL, "nonce cache full")

    # ------------------------------------------------------------ self-check faults (reference_server/faults.py)

    def _faulty_signature_accepts(self, cert: dict[str, Any], presenter: str, sig: str, method: str, path: str,
                                  body: bytes, headers: dict[str, str], host: str, ts: int, nonce: str) -> bool:
        """Signatures a faulty server would accept although they do not cover exactly this request."""
        def verify(pub: str = presenter, p: str = path, b: bytes = body) -> bool:
            return verify_request_signature(pub, sig, method, p, b, host=host, ts_ms=ts, nonce=nonce)

        if self.faults.on("sig-query-decoded-accepted") and "?" in path:
            base, _, query = path.partition("?")
            return verify(p=f"{base}?{unquote(query)}")
        if self.faults.on("sig-blob-body-unsigned"):
            return verify(b=signed_body(method, headers.get("content-type"), body))
        if self.faults.on("sig-issuer-key-accepted"):
            return verify(pub=cert["iss"])
        return self.faults.unbound_signature_accepts(presenter, sig, m=method, p=path, body=body, h=host, ts=ts,
                                                     nonce=nonce)

    def _faulty_scope_paths(self, raw_paths: list[str] | None, paths: list[str] | None) -> list[str] | None:
        if self.faults.on("scope-identity-literal"):
            paths = list(raw_paths) if raw_paths is not None else None
        if paths and self.faults.on("scope-deny-ignored"):
            paths = [p for p in paths if not p.startswith("!")]
        if paths and self.faults.on("scope-star-crosses-slash"):
            paths = [p.replace("*", "**") for p in paths]
        if paths and self.faults.on("scope-prefix-match"):
            paths = [p if p.startswith("!") else p + "**" for p in paths]
        return paths
