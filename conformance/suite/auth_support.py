"""Helpers for the `auth.*` checks: the server's clock, exact error bodies, seeded documents, requests whose
signature covers something other than what is sent, and the revocation route.

Every helper reads the server's answers as untrusted input and fails with what it saw.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance.client import StarfishClient
from conformance.identities import Device
from conformance.suite.support import body_json, cap_device, expect_ok, expect_status, fresh, root
from protocol.keys import SigningKey
from protocol.revocation import build_revocation_list
from protocol.signing import auth_headers, sign_request

UNAUTHORIZED = {"error": "Unauthorized"}
FORBIDDEN = {"error": "Forbidden"}


def _show(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.raw_path.decode('ascii', 'replace')} -> " \
           f"{response.status_code} {response.content[:400].decode('utf-8', errors='replace')!r}"


def expect_exact(response: httpx.Response, status: int, body: dict[str, Any]) -> None:
    """Exactly `status` with exactly the JSON body `body` (no extra keys)."""
    expect_status(response, status)
    assert body_json(response) == body, f"expected body {body!r}: {_show(response)}"


def expect_unauthorized(response: httpx.Response) -> None:
    expect_exact(response, 401, UNAUTHORIZED)


def expect_forbidden(response: httpx.Response) -> None:
    expect_exact(response, 403, FORBIDDEN)


def expect_data(response: httpx.Response, data: Any) -> dict[str, Any]:
    """A 200 pull whose `data` is `data`: the request was not only accepted, it was served."""
    body = expect_ok(response)
    assert body.get("data") == data, f"expected data {data!r}: {_show(response)}"
    return body


# ------------------------------------------------------------------------------------------- server clock


@dataclass(frozen=True)
class ServerClock:
    """The server's clock as `GET /health` reports it, tracked locally with a monotonic offset."""

    server_ms: int
    local_ns: int

    @classmethod
    def read(cls, client: StarfishClient) -> ServerClock:
        before = time.monotonic_ns()
        body = expect_ok(client.request("GET", "health"))
        after = time.monotonic_ns()
        ts = body.get("ts")
        assert isinstance(ts, int) and not isinstance(ts, bool), f"GET /health must carry an integer ts: {body!r}"
        return cls(ts, (before + after) // 2)

    def now_ms(self) -> int:
        return self.server_ms + (time.monotonic_ns() - self.local_ns) // 1_000_000

    def early_second(self, latest_ms: int = 400) -> int:
        """Wait (under a second) until the server's clock is early in a second; return that second.

        Cap windows are checked in whole seconds, so a boundary check sends its request well before the
        server's second ticks over.
        """
        fraction = self.now_ms() % 1000
        if not 20 <= fraction <= latest_ms:
            time.sleep(((1020 - fraction) % 1000) / 1000)
        return self.now_ms() // 1000


# ----------------------------------------------------------------------------------------------- seeding


@dataclass(frozen=True)
class Seeded:
    path: str
    data: dict[str, Any]
    hash: str


def seed_shared(client: StarfishClient) -> Seeded:
    """A fresh document in the cap-role collection `shared`, written by a fresh writer."""
    path = f"shared/{fresh()}"
    data = {"seed": fresh("v")}
    body = expect_ok(client.push(path, data, device=cap_device("shared", ("write",))))
    return Seeded(path, data, body.get("hash", ""))


def shared_reader(paths: list[str] | None = None) -> Device:
    """A fresh root device holding only `cap:read:shared` (optionally limited to `paths`)."""
    return root(("shared",), ("read",), paths)


def expect_absent(client: StarfishClient, path: str, reader: Device | None = None) -> None:
    """Nothing is stored at `path` (a JSON document): a pull answers 200 with `hash: ""`."""
    body = expect_ok(client.pull(path, device=reader or cap_device(path.split("/", 1)[0], ("read",))))
    assert body.get("hash") == "", f"expected no document at {path}, found {body!r}"


def expect_unchanged(client: StarfishClient, seeded: Seeded, reader: Device | None = None) -> None:
    body = expect_data(client.pull(seeded.path, device=reader or shared_reader()), seeded.data)
    assert body.get("hash") == seeded.hash, f"the document at {seeded.path} changed: {body!r}"


# ------------------------------------------------------------------------------- signed over other things


def signed_over(
    client: StarfishClient,
    device: Device,
    method: str,
    path: str,
    *,
    query: str | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    sign_method: str | None = None,
    sign_path: str | None = None,
    sign_body: bytes | None = None,
    sign_host: str | None = None,
    ts_ms: int | None = None,
    nonce: str | None = None,
) -> httpx.Request:
    """A request for `path` whose signature covers the `sign_*` values instead of what is really sent.

    `sign_path` is the full path and query as signed (mount prefix included); `sign_host` is used verbatim
    as the `h` field (no lowercasing, no default-port removal).
    """
    request = client.build(method, path, query=query, body=body, content_type=content_type, headers=headers)
    raw = request.url.raw_path.decode("ascii")
    real = client.sign(request, device, ts_ms=ts_ms, nonce=nonce)
    if sign_host is None:
        signed = auth_headers(device.cert, device.key, sign_method or method, sign_path or raw,
                              request.content if sign_body is None else sign_body, host=request.headers["host"],
                              ts_ms=int(real["X-Starfish-Ts"]), nonce=real["X-Starfish-Nonce"],
                              presenter_pub=device.sends_pub)
    else:
        signature, _, _ = sign_request(device.key, sign_method or method, sign_path or raw,
                                       request.content if sign_body is None else sign_body, host=sign_host,
                                       ts_ms=int(real["X-Starfish-Ts"]), nonce=real["X-Starfish-Nonce"])
        signed = dict(real, **{"X-Starfish-Sig": signature})
    request.headers.update(signed)
    return request


def streamed(request: httpx.Request) -> httpx.Request:
    """The same request with its body sent chunked (no Content-Length header)."""
    content = request.content

    def chunks() -> Any:
        yield content

    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
    out = httpx.Request(request.method, request.url, headers=headers, content=chunks())
    out.read()  # the bytes stay readable for the report; the headers still frame the body as chunked
    assert "content-length" not in out.headers and out.headers.get("transfer-encoding") == "chunked"
    return out


# ------------------------------------------------------------------------------------------ revocations


def revoke(
    client: StarfishClient,
    issuer: SigningKey,
    generation: int,
    revoked: Sequence[Device] = (),
    *,
    subjects: Sequence[str] = (),
    expect_accepted: bool = True,
) -> httpx.Response:
    """Submit the issuer's signed revocation list to `POST {prefix}/revocations` (the reference server's route).

    A target without such a route (404 or 405) makes the calling check skip: revocation cannot be exercised
    over HTTP there, which is not a pass. `revoked` lists devices whose caps are revoked by (sub, cap nonce).
    """
    entries = [{"sub": d.cert.get("sub", ""), "nonce": d.cert["nonce"], "exp": d.cert["exp"]} for d in revoked]
    far = int(time.time()) + 86_400
    revocation_list = build_revocation_list(issuer, generation, entries,
                                            [{"sub": s, "exp": far} for s in subjects] if subjects else None)
    response = client.request("POST", "revocations", json=revocation_list)
    if response.status_code in (404, 405):
        pytest.skip(f"the target has no revocation route (POST /revocations answered {response.status_code}); "
                    "revocation lists are fed out of band on the official servers (digest §5.8)")
    if expect_accepted:
        expect_status(response, 200)
    return response
