"""Signing for the fuzzer: a `requests` auth hook that signs the final, serialised request.

Schemathesis auth providers (`@schemathesis.auth`) set headers on the `Case` before the body is
serialised, so they cannot hash the bytes that go on the wire (schemathesis#2329). A
`requests.auth.AuthBase` passed as `case.call(auth=...)` runs inside `PreparedRequest.prepare`
after `prepare_body`: it sees the final URL (mount prefix, raw query) and the exact body bytes. It
drops any credential headers the generator made up, then adds a fresh timestamp, nonce and
signature (digest §5.4), like `conformance.client.StarfishClient.sign`.

Schemathesis's `ignored_auth` check re-sends probes without `auth=` (it strips it), so those go
out unsigned, as a negative test needs.

`IdentityPool` rotates over several self-signed root devices, so no single signer comes near the
server's per-signer nonce limit (digest §5.7), and each `Device.identity` can fill `{identity}`.
"""

from __future__ import annotations

import itertools
from urllib.parse import unquote, urlsplit

import requests

from conformance.identities import Device, root_device, scope
from protocol.constants import HEADER_AUTHORIZATION, HEADER_NONCE, HEADER_PUB, HEADER_SIG, HEADER_TS
from protocol.signing import auth_headers

AUTH_HEADERS = (HEADER_AUTHORIZATION, HEADER_SIG, HEADER_TS, HEADER_NONCE, HEADER_PUB)
IDENTITY_KIND = "root-device"  # what a reproducer records instead of a key: replay makes a fresh one


def body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    raise TypeError(f"cannot sign a streamed request body ({type(body).__name__})")


def path_and_query(url: str) -> str:
    """`p` of the signature: the path as the server decodes it, plus the raw query (digest §5.4 item 2)."""
    parts = urlsplit(url)
    return unquote(parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class SigningAuth(requests.auth.AuthBase):
    """Sign one prepared request as `device`. `empty_blob_hash`: hash an empty body for non-JSON media
    types, as the official servers do (digest §5.4 rule 5); the reference server hashes the real bytes."""

    def __init__(self, device: Device, *, empty_blob_hash: bool = False) -> None:
        self.device = device
        self.empty_blob_hash = empty_blob_hash
        self.signed: dict[str, str] = {}

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        for name in AUTH_HEADERS:
            request.headers.pop(name, None)
        host = request.headers.get("Host") or urlsplit(request.url or "").netloc
        content_type = request.headers.get("Content-Type") if self.empty_blob_hash else None
        self.signed = auth_headers(
            self.device.cert, self.device.key, request.method or "GET", path_and_query(request.url or ""),
            body_bytes(request.body), host=host, content_type=content_type, presenter_pub=self.device.sends_pub)
        request.headers.update(self.signed)
        return request


class IdentityPool:
    """`size` fresh root devices used round-robin; never shared between runs, never written to disk.

    Their caps name every collection explicitly besides `*`: role synthesis is literal, so only
    `cap:write:events` (not `cap:write:*`) opens a collection whose writeRoles list it (digest §5.10).
    """

    def __init__(self, size: int = 8, *, collections: list[str] | None = None) -> None:
        cap_scope = scope(["*", *(collections or [])])
        self.devices = [root_device(cap_scope) for _ in range(size)]
        self._cycle = itertools.cycle(self.devices)

    def next(self) -> Device:
        return next(self._cycle)
