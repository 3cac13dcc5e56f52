"""Per-request signatures (digest §5.3(b), §5.4): sign exactly the bytes that go on the wire.

The canonical input binds the method, the path and raw query exactly as the server sees them (mount
prefix included), the SHA-256 of the body bytes, the Host, the timestamp and the nonce.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from protocol.canonical_json import json_string, stable_stringify
from protocol.capcert import cap_header
from protocol.constants import (
    EMPTY_BODY_SHA256,
    HEADER_AUTHORIZATION,
    HEADER_NONCE,
    HEADER_PUB,
    HEADER_SIG,
    HEADER_TS,
    MAX_REQUEST_SKEW_MS,
    REQUEST_DOMAIN,
)
from protocol.encoding import b64decode, b64encode
from protocol.errors import ProtocolError, rejects_garbage
from protocol.hashing import sha256_hex
from protocol.keys import SigningKey, verify_ed25519

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_nonce() -> str:
    """Standard base64 of 16 random bytes: what clients send, never reused."""
    return b64encode(secrets.token_bytes(16))


@rejects_garbage()
def signed_body(method: str, content_type: str | None, body: bytes) -> bytes:
    """The bytes the signature's body hash covers.

    GET and other body-less methods hash nothing; a non-JSON media type (a blob upload) also
    hashes nothing, per the official servers (digest §5.4 rule 5).
    """
    if method.upper() not in _BODY_METHODS:
        return b""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media and media != "application/json":
        return b""
    return body


@rejects_garbage()
def signing_host(host_header: str, scheme: str = "http") -> str:
    """The `h` field: the Host header lowercased, with the scheme's default port dropped."""
    host = host_header.strip().lower()
    if host.startswith("["):  # IPv6 literal: [::1]:8080
        end = host.find("]")
        name, rest = host[: end + 1], host[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = host.partition(":")
    if port and port == _DEFAULT_PORTS.get(scheme.lower()):
        port = ""
    return f"{name}:{port}" if port else name


def _ts_text(ts_ms: int) -> str:
    # Beyond ±2^53 an integer is written as JavaScript's nearest double, as stable_stringify does.
    return str(ts_ms) if -(2**53) < ts_ms < 2**53 else stable_stringify(ts_ms)


@rejects_garbage()
def request_signing_input(
    method: str, path_and_query: str, body: bytes, *, host: str, ts_ms: int, nonce: str
) -> str:
    """The exact text the presenter signs. `body` is already the signed body (see `signed_body`)."""
    body_hash = EMPTY_BODY_SHA256 if not body else sha256_hex(body)
    if isinstance(ts_ms, bool) or not isinstance(ts_ms, int):
        raise ProtocolError("ts_ms must be an integer number of milliseconds", code="bad-timestamp")
    # stable_stringify({b, h, m, nonce, p, ts}) written out in its (fixed) sorted key order: this runs
    # once per request on both sides, so it avoids the generic sort. Equality with stable_stringify
    # is pinned by the tests and the request-signature vectors.
    return (
        f'{REQUEST_DOMAIN}{{"b":"{body_hash}","h":{json_string(host)},"m":{json_string(method.upper())},'
        f'"nonce":{json_string(nonce)},"p":{json_string(path_and_query)},"ts":{_ts_text(ts_ms)}}}'
    )


@rejects_garbage()
def sign_request(
    key: SigningKey,
    method: str,
    path_and_query: str,
    body: bytes,
    *,
    host: str,
    ts_ms: int | None = None,
    nonce: str | None = None,
) -> tuple[str, int, str]:
    """Sign one request; returns `(signature_b64, ts_ms, nonce)`. A fresh nonce unless one is given."""
    ts_ms = now_ms() if ts_ms is None else ts_ms
    nonce = new_nonce() if nonce is None else nonce
    message = request_signing_input(method, path_and_query, body, host=host, ts_ms=ts_ms, nonce=nonce)
    return b64encode(key.sign(message.encode("utf-8"))), ts_ms, nonce


@rejects_garbage(returns=False)
def verify_request_signature(
    pub_hex: str,
    signature_b64: str,
    method: str,
    path_and_query: str,
    body: bytes,
    *,
    host: str,
    ts_ms: int,
    nonce: str,
) -> bool:
    """True when the signature covers exactly this request; never raises."""
    try:
        raw = b64decode(signature_b64, what="request signature")
        message = request_signing_input(method, path_and_query, body, host=host, ts_ms=ts_ms, nonce=nonce)
    except (ProtocolError, AttributeError, TypeError):
        return False
    return verify_ed25519(pub_hex, raw, message.encode("utf-8"))


@rejects_garbage(returns=False)
def within_skew(ts_ms: int, now: int, max_skew_ms: int = MAX_REQUEST_SKEW_MS) -> bool:
    """The request-time rule: `|ts - now| <= 300000`, both edges inclusive (digest §5.6)."""
    return abs(ts_ms - now) <= max_skew_ms


@rejects_garbage()
class Credential:
    """A cap-cert with the key that presents it: the one object a client needs to sign requests.

    The Authorization header is computed once (it is the same on every request); everything that
    must be fresh, the timestamp, the nonce and the signature, is made per call.
    """

    __slots__ = ("cert", "header", "key", "presenter_pub")

    def __init__(self, cert: Mapping[str, Any], key: SigningKey, *, presenter_pub: bool = False) -> None:
        self.cert = dict(cert)
        self.key = key
        self.header = cap_header(cert)
        self.presenter_pub = presenter_pub

    def headers(
        self,
        method: str,
        path_and_query: str,
        body: bytes = b"",
        *,
        host: str,
        content_type: str | None = None,
        ts_ms: int | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """Auth headers for one request; see `auth_headers`."""
        to_sign = signed_body(method, content_type, body)
        signature, ts_ms, nonce = sign_request(
            self.key, method, path_and_query, to_sign, host=signing_host(host), ts_ms=ts_ms, nonce=nonce
        )
        headers = {HEADER_AUTHORIZATION: self.header, HEADER_SIG: signature, HEADER_TS: str(ts_ms), HEADER_NONCE: nonce}
        if self.presenter_pub:
            headers[HEADER_PUB] = self.key.pub
        return headers

    def __repr__(self) -> str:
        return f"Credential(kind={self.cert.get('kind')!r}, presenter={self.key.pub[:16]}…)"


def auth_headers(
    cert: Mapping[str, Any],
    key: SigningKey,
    method: str,
    path_and_query: str,
    body: bytes = b"",
    *,
    host: str,
    content_type: str | None = None,
    ts_ms: int | None = None,
    nonce: str | None = None,
    presenter_pub: bool = False,
) -> dict[str, str]:
    """Every auth header for one request: Cap, signature, timestamp, nonce (and X-Starfish-Pub).

    `host` must be the Host header value that will be sent; `body` the exact body bytes.
    `presenter_pub=True` adds `X-Starfish-Pub`, which audience caps require.
    """
    credential = Credential(cert, key, presenter_pub=presenter_pub)
    return credential.headers(
        method, path_and_query, body, host=host, content_type=content_type, ts_ms=ts_ms, nonce=nonce
    )
