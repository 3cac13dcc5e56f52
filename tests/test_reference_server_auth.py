"""Every step of the digest §5.5 resolver pipeline, role synthesis and scope paths, over a real socket."""

from __future__ import annotations

import base64
import json
import socket
import time
from typing import Any

import httpx
import pytest
from refserver_support import ServerThread, default_server, fresh

from conformance.client import StarfishClient
from conformance.identities import audience, member, paired_device, root_device, scope
from protocol.capcert import build_cap_cert, cap_header, sign_cap_cert
from protocol.keys import KemKey, SigningKey
from protocol.revocation import build_revocation_list
from protocol.signing import auth_headers, now_ms
from reference_server.app import ServerOptions
from reference_server.nonce_cache import NonceCache, NonceVerdict

UNAUTHORIZED = {"error": "Unauthorized"}
FORBIDDEN = {"error": "Forbidden"}


@pytest.fixture
def client() -> StarfishClient:
    with default_server().client() as c:
        yield c


def shared_device(**kwargs: Any) -> Any:
    return root_device(scope(["shared"], ["read", "write"], **kwargs))


def seeded_shared(client: StarfishClient) -> str:
    doc = fresh()
    assert client.push(f"shared/{doc}", {"v": 1}, device=shared_device()).status_code == 200
    return doc


def expect(response: httpx.Response, status: int, body: Any = None) -> None:
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body


# ------------------------------------------------------------------------------------ step 1: the Cap header


def test_no_cap_header_is_anonymous(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    expect(client.pull(f"shared/{doc}"), 403, FORBIDDEN)
    expect(client.pull(f"shared/{doc}", headers={"Authorization": "Bearer abc"}), 403, FORBIDDEN)
    expect(client.pull(f"guestbook/{doc}"), 200)


# --------------------------------------------------------------------------------- steps 2-3: size and parse


@pytest.mark.parametrize("header", [
    "Cap " + "A" * 8200,  # over 8192 characters
    "Cap !!!notbase64",
    "Cap " + base64.b64encode(b"not json").decode(),
    "Cap " + base64.b64encode(b"[1,2]").decode(),
    "Cap " + base64.b64encode(b'{"kind":"bogus"}').decode(),
])
def test_oversized_or_malformed_cap(client: StarfishClient, header: str) -> None:
    device = shared_device()
    request = client.build("GET", f"pull/shared/{fresh()}", device=device)
    request.headers["Authorization"] = header
    expect(client.send(request), 401, UNAUTHORIZED)


# ---------------------------------------------------------------------- step 4: signature headers and the ts


@pytest.mark.parametrize("drop", ["X-Starfish-Sig", "X-Starfish-Ts", "X-Starfish-Nonce"])
def test_missing_signature_header(client: StarfishClient, drop: str) -> None:
    request = client.build("GET", f"pull/shared/{fresh()}", device=shared_device())
    del request.headers[drop]
    expect(client.send(request), 401, UNAUTHORIZED)


@pytest.mark.parametrize("ts", ["12a", "+1", "0x10", "1.0", "1e3", ""])
def test_malformed_ts(client: StarfishClient, ts: str) -> None:
    request = client.build("GET", f"pull/shared/{fresh()}", device=shared_device())
    request.headers["X-Starfish-Ts"] = ts
    expect(client.send(request), 401, UNAUTHORIZED)


# ------------------------------------------------------------------------------------------ step 5: skew


@pytest.mark.parametrize(("offset_s", "status"), [(-299, 200), (299, 200), (-301, 401), (301, 401)])
def test_request_timestamp_skew(client: StarfishClient, offset_s: int, status: int) -> None:
    doc = seeded_shared(client)
    response = client.pull(f"shared/{doc}", device=shared_device(), ts_ms=now_ms() + offset_s * 1000)
    expect(response, status)


# ----------------------------------------------------------------------------------- step 6: the cap itself


def _early_in_second() -> int:
    """Now (s), taken early in a second so the server sees the same second when it checks the window."""
    while time.time() % 1 > 0.5:
        time.sleep(0.05)
    return int(time.time())


@pytest.mark.parametrize(("field", "offset", "status"), [
    ("nbf", 300, 200), ("nbf", 301, 401),  # valid from nbf - 300 s
    ("exp", -300, 200), ("exp", -301, 401),  # valid until exp + 300 s
])
def test_cap_window_slack(client: StarfishClient, field: str, offset: int, status: int) -> None:
    doc = seeded_shared(client)
    now = _early_in_second()
    nbf, exp = (now + offset, now + 3600) if field == "nbf" else (now - 3600, now + offset)
    device = root_device(scope(["shared"], ["read"]), nbf=nbf, exp=exp)
    expect(client.pull(f"shared/{doc}", device=device), status)


def test_inverted_window_and_bad_cap_signature(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    now = int(time.time())
    inverted = root_device(scope(["shared"], ["read"]), nbf=now, exp=now)
    expect(client.pull(f"shared/{doc}", device=inverted), 401, UNAUTHORIZED)
    good = shared_device()
    forged = dict(good.cert, scope={"ops": ["read", "write"], "collections": ["*", "shared"]})  # sig not redone
    expect(client.pull(f"shared/{doc}", device=good.with_cert(forged)), 401, UNAUTHORIZED)
    other_issuer = sign_cap_cert({k: v for k, v in good.cert.items() if k != "sig"}, SigningKey.generate())
    expect(client.pull(f"shared/{doc}", device=good.with_cert(other_issuer)), 401, UNAUTHORIZED)


# -------------------------------------------------------------------------------- step 7: kind validators


def _owner() -> SigningKey:
    return SigningKey.generate()


@pytest.mark.parametrize("make", [
    # member caps (digest §5.14)
    lambda o: member(o, "shared", ["shared/**", "!shared/_members"], collections=["*"]),
    lambda o: member(o, "shared", ["shared/**", "!shared/_members"], collections=["shared", "chats"]),
    lambda o: member(o, "shared", [f"users/{o.user_id}/**", "!shared/_members"]),
    lambda o: member(o, "shared", ["shared/**"]),  # _members not denied
    lambda o: member(o, "shared", ["shared/**", "!shared/_members"], ops=["read", "write"]),  # _keyring not denied
    lambda o: member(o, "shared", ["shared/**", "!shared/_members"], key=o),  # member-self
    # audience caps (digest §5.13)
    lambda o: audience(o, "shared", [f"users/{o.user_id}/x"]),
    lambda o: audience(o, "shared", ["shared/**"]),
])
def test_kind_validators_reject(client: StarfishClient, make: Any) -> None:
    device = make(_owner())
    expect(client.pull(f"shared/{fresh()}", device=device), 401, UNAUTHORIZED)


def test_member_without_sub_user_id_is_rejected(client: StarfishClient) -> None:
    owner, key = _owner(), SigningKey.generate()
    now = int(time.time())
    cert = build_cap_cert(issuer=owner, kind="member", sub=key.pub, sub_kem=KemKey.generate().pub,
                          scope=scope(["shared"], ["read"], ["shared/**", "!shared/_members"]), nbf=now - 60,
                          exp=now + 600)
    device = member(owner, "shared", ["shared/**"]).with_cert(cert)
    device.key = key
    expect(client.pull(f"shared/{fresh()}", device=device), 401, UNAUTHORIZED)


def test_valid_member_and_audience_caps(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    owner = _owner()
    reader = member(owner, "shared", ["shared/**", "!shared/_members"])
    expect(client.pull(f"shared/{doc}", device=reader), 200)
    link = audience(owner, "shared", [f"shared/{doc}"])
    expect(client.pull(f"shared/{doc}", device=link), 200)
    expect(client.pull(f"shared/{fresh()}", device=link), 403, FORBIDDEN)  # outside its one path


# -------------------------------------------------------------------------------- step 8: Content-Length


def test_signed_write_needs_content_length(client: StarfishClient) -> None:
    device = shared_device()
    request = client.build("POST", f"push/shared/{fresh()}", json={"data": {"a": 1}, "baseHash": None}, device=device)
    body = request.content

    def chunks() -> Any:
        yield body

    chunked = httpx.Request("POST", request.url, headers={k: v for k, v in request.headers.items()
                                                          if k.lower() != "content-length"}, content=chunks())
    assert "content-length" not in chunked.headers
    expect(client.send(chunked), 413, {"error": "missing Content-Length on write"})


def test_signed_write_over_signed_body_limit(client: StarfishClient) -> None:
    device = root_device(scope(["files"], ["read", "write"]))
    big = b"\0" * 70_000  # under files' maxBodyBytes (1 MiB), over the 64 KiB signed-write guard
    response = client.request("POST", f"push/files/{device.identity}/{fresh()}", body=big,
                              content_type="application/octet-stream", device=device)
    expect(response, 413, {"error": "request body too large"})


# ---------------------------------------------------------------------- steps 9-11: presenter and signature


def test_audience_needs_presenter_header(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    link = audience(_owner(), "shared", [f"shared/{doc}"])
    request = client.build("GET", f"pull/shared/{doc}", device=link)
    request.headers["X-Starfish-Pub"] = request.headers["X-Starfish-Pub"].upper()
    expect(client.send(request), 401, UNAUTHORIZED)
    request = client.build("GET", f"pull/shared/{doc}", device=link)
    del request.headers["X-Starfish-Pub"]
    expect(client.send(request), 401, UNAUTHORIZED)


def _signed_for(client: StarfishClient, device: Any, http_method: str, path: str, **overrides: Any) -> httpx.Request:
    """A request to `path` whose signature was computed over `overrides` instead of the real values."""
    request = client.build(http_method, path)
    raw = request.url.raw_path.decode()
    signed = dict(method=http_method, path_and_query=raw, body=request.content, host=request.headers["host"])
    signed.update(overrides)
    headers = auth_headers(device.cert, device.key, signed["method"], signed["path_and_query"], signed["body"],
                           host=signed["host"], presenter_pub=device.sends_pub)
    request.headers.update(headers)
    return request


@pytest.mark.parametrize(("override", "status"), [
    ({}, 200),  # the control: signed over exactly what is sent
    ({"path_and_query": "/v1/pull/shared/DOC"}, 200),
    ({"path_and_query": "/pull/shared/DOC"}, 401),  # without the mount prefix
    ({"path_and_query": "/v1/pull/shared/DOC?x=1"}, 401),  # another query
    ({"host": "example.com"}, 401),
    ({"host": ""}, 401),
    ({"method": "POST"}, 401),
])
def test_signature_covers_path_query_host_method(client: StarfishClient, override: dict[str, str], status: int) -> None:
    doc = seeded_shared(client)
    override = {k: v.replace("DOC", doc) for k, v in override.items()}
    request = _signed_for(client, shared_device(), "GET", f"pull/shared/{doc}", **override)
    expect(client.send(request), status)


def test_signature_covers_body(client: StarfishClient) -> None:
    device = shared_device()
    request = client.build("POST", f"push/shared/{fresh()}", json={"data": {"a": 1}, "baseHash": None}, device=device)
    tampered = httpx.Request("POST", request.url, headers=request.headers,
                             content=request.content.replace(b'"a":1', b'"a":2'))
    expect(client.send(tampered), 401, UNAUTHORIZED)


def test_blob_upload_must_be_signed_over_its_bytes(client: StarfishClient) -> None:
    """The official servers sign blob uploads over an empty body; the reference server refuses that."""
    device = root_device(scope(["files"], ["read", "write"]))
    path = f"files/{device.identity}/{fresh()}"
    official = default_server().client(official_blob_signing=True)
    response = official.request("POST", "push/" + path, body=b"\x89PNG...", content_type="image/png", device=device)
    expect(response, 401, UNAUTHORIZED)
    response = client.request("POST", "push/" + path, body=b"\x89PNG...", content_type="image/png", device=device)
    expect(response, 200)


def test_audience_presenter_not_in_aud(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    allowed, stranger = SigningKey.generate(), SigningKey.generate()
    owner = _owner()
    ok = audience(owner, "shared", [f"shared/{doc}"], presenter=allowed, aud=[allowed.pub])
    expect(client.pull(f"shared/{doc}", device=ok), 200)
    denied = audience(owner, "shared", [f"shared/{doc}"], presenter=stranger, aud=[allowed.pub])
    expect(client.pull(f"shared/{doc}", device=denied), 403, FORBIDDEN)


# ------------------------------------------------------------------------------------ step 12: nonce replay


def test_nonce_replay(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    request = client.build("GET", f"pull/shared/{doc}", device=shared_device())
    expect(client.send(request), 200)
    expect(client.send(request), 401, UNAUTHORIZED)


def test_nonce_is_consumed_by_a_request_rejected_later(client: StarfishClient) -> None:
    device = root_device(scope(["shared"], ["read"], ["shared/only-this"]))
    request = client.build("GET", f"pull/shared/{fresh()}", device=device)
    expect(client.send(request), 403, FORBIDDEN)  # scope path, after the nonce step
    expect(client.send(request), 401, UNAUTHORIZED)


def test_nonces_are_per_signer(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    a, b = shared_device(), shared_device()
    expect(client.pull(f"shared/{doc}", device=a, nonce="same-nonce"), 200)
    expect(client.pull(f"shared/{doc}", device=b, nonce="same-nonce"), 200)
    expect(client.pull(f"shared/{doc}", device=a, nonce="same-nonce"), 401)


def test_nonce_cache_quota_expiry_and_bound() -> None:
    cache = NonceCache(per_signer_limit=3, max_entries=5)
    now = 1_000_000_000
    assert [cache.check_and_remember("a", f"n{i}", now, now) for i in range(3)] == [NonceVerdict.FRESH] * 3
    assert cache.check_and_remember("a", "n3", now, now) is NonceVerdict.REPLAY  # a's own quota
    assert cache.check_and_remember("b", "n0", now, now) is NonceVerdict.FRESH  # b is not locked out by a
    assert cache.check_and_remember("b", "n0", now, now) is NonceVerdict.REPLAY
    assert cache.check_and_remember("c", "n0", now, now) is NonceVerdict.FRESH
    assert cache.check_and_remember("d", "n0", now, now) is NonceVerdict.FULL  # global bound, never an eviction
    # A nonce is remembered until its ts leaves the skew window: ts + 300 000 ms, inclusive.
    assert cache.check_and_remember("a", "n0", now, now + 300_000) is NonceVerdict.REPLAY
    assert cache.check_and_remember("a", "n0", now + 300_001, now + 300_001) is NonceVerdict.FRESH
    assert len(cache) == 1


# ------------------------------------------------------------------------------------ step 13: revocation


def _revoke(client: StarfishClient, issuer: SigningKey, generation: int, **lists: Any) -> httpx.Response:
    revocation_list = build_revocation_list(issuer, generation, lists.get("revoked", []), lists.get("subjects"))
    return client.request("POST", "revocations", json=revocation_list)


def test_revocation_by_cap_nonce_and_by_subject(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    root = SigningKey.generate()
    laptop = paired_device(root, scope(["shared"], ["read"]))
    phone = paired_device(root, scope(["shared"], ["read"]))
    expect(client.pull(f"shared/{doc}", device=laptop), 200)
    entry = {"sub": laptop.key.pub, "nonce": laptop.cert["nonce"], "exp": laptop.cert["exp"]}
    expect(_revoke(client, root, 1, revoked=[entry]), 200, {"ok": True, "iss": root.pub, "generation": 1})
    expect(client.pull(f"shared/{doc}", device=laptop), 401, UNAUTHORIZED)
    expect(client.pull(f"shared/{doc}", device=phone), 200)
    expect(_revoke(client, root, 1, subjects=[{"sub": phone.key.pub, "exp": 0}]), 409)  # not newer: refused
    expect(_revoke(client, root, 2, revoked=[entry], subjects=[{"sub": phone.key.pub, "exp": 0}]), 200)
    expect(client.pull(f"shared/{doc}", device=phone), 401, UNAUTHORIZED)


def test_revocation_list_must_verify(client: StarfishClient) -> None:
    issuer = SigningKey.generate()
    forged = dict(build_revocation_list(issuer, 5, []), generation=6)
    response = client.request("POST", "revocations", json=forged)
    assert response.status_code == 400 and response.json()["error"].startswith("Invalid revocation list")
    expect(client.request("POST", "revocations", json=[1]), 400, {"error": "Body must be a JSON object"})
    expect(client.request("GET", "revocations"), 405)


def test_audience_cap_revoked_by_nonce(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    owner = _owner()
    link = audience(owner, "shared", [f"shared/{doc}"])
    expect(client.pull(f"shared/{doc}", device=link), 200)
    expect(_revoke(client, owner, 1, revoked=[{"sub": "", "nonce": link.cert["nonce"], "exp": 0}]), 200)
    expect(client.pull(f"shared/{doc}", device=link), 401, UNAUTHORIZED)


# -------------------------------------------------------------------- steps 15-17: paths and identity binding


def test_member_and_audience_without_paths(client: StarfishClient) -> None:
    owner = _owner()
    expect(client.pull(f"shared/{fresh()}", device=member(owner, "shared", None)), 403, FORBIDDEN)
    expect(client.pull(f"shared/{fresh()}", device=member(owner, "shared", [])), 403, FORBIDDEN)
    expect(client.pull(f"shared/{fresh()}", device=audience(owner, "shared", None)), 403, FORBIDDEN)


def test_scope_paths_allow_and_deny(client: StarfishClient) -> None:
    group = fresh("g")
    writer = root_device(scope(["chats"], ["read", "write"]))
    for day in ("mon", "tue", "secret"):
        expect(client.push(f"chats/{group}/{day}", {"d": day}, device=writer), 200)
    reader = root_device(scope(["chats"], ["read"], [f"chats/{group}/*", f"!chats/{group}/secret"]))
    expect(client.pull(f"chats/{group}/mon", device=reader), 200)
    expect(client.pull(f"chats/{group}/secret", device=reader), 403, FORBIDDEN)
    expect(client.pull(f"chats/{fresh('g')}/mon", device=reader), 403, FORBIDDEN)
    only_denies = root_device(scope(["chats"], ["read"], [f"!chats/{group}/secret"]))
    expect(client.pull(f"chats/{group}/mon", device=only_denies), 403, FORBIDDEN)
    identity_scoped = root_device(scope(["notes"], ["read", "write"], ["users/{identity}/**"]))
    expect(client.push(f"users/{identity_scoped.identity}/notes", {"a": 1}, device=identity_scoped), 200)


def test_identity_param_must_match_the_bound_identity(client: StarfishClient) -> None:
    alice, bob = root_device(), root_device()
    expect(client.push(f"users/{bob.identity}/notes", {"a": 1}, device=bob), 200)
    expect(client.pull(f"users/{bob.identity}/notes", device=alice), 403, FORBIDDEN)
    expect(client.push(f"users/{bob.identity}/notes", {"a": 2}, device=alice), 403, FORBIDDEN)


# ---------------------------------------------------------------------------------------- role synthesis


def test_cap_roles_are_literal(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    wildcard = root_device(scope(["*"], ["read"]))  # yields cap:read:*, which the profile does not list
    expect(client.pull(f"shared/{doc}", device=wildcard), 403, FORBIDDEN)
    reader = root_device(scope(["shared"], ["read"]))
    expect(client.pull(f"shared/{doc}", device=reader), 200)
    expect(client.push(f"shared/{doc}", {"v": 2}, device=reader), 403, FORBIDDEN)


def test_paired_device_acts_as_its_root_user(client: StarfishClient) -> None:
    root = SigningKey.generate()
    phone = paired_device(root, scope(["notes"], ["read", "write"]))
    path = f"users/{root.user_id}/notes"
    expect(client.push(path, {"from": "phone"}, device=phone), 200)
    laptop = paired_device(root, scope(["notes"], ["read"]))
    assert client.pull(path, device=laptop).json()["data"] == {"from": "phone"}


def test_scope_limits_its_holder_on_its_own_documents(client: StarfishClient) -> None:
    """Officially `self` ignores the cap's ops and collections; here a read-only cap cannot write."""
    root = SigningKey.generate()
    path = f"users/{root.user_id}/notes"
    expect(client.push(path, {"a": 1}, device=paired_device(root, scope(["notes"], ["write"]))), 200)
    read_only = paired_device(root, scope(["notes"], ["read"]))
    expect(client.pull(path, device=read_only), 200)
    expect(client.push(path, {"a": 2}, device=read_only), 403, FORBIDDEN)
    other_collection = paired_device(root, scope(["shared"], ["read", "write"]))
    expect(client.pull(path, device=other_collection), 403, FORBIDDEN)


def test_root_only_needs_the_root_device(client: StarfishClient) -> None:
    root = root_device()
    path = f"root/{root.identity}/settings"
    expect(client.push(path, {"theme": "dark"}, device=root), 200)
    paired = paired_device(root.key, scope())
    expect(client.pull(path, device=paired), 403, FORBIDDEN)
    expect(client.pull(path, device=root), 200)


# ----------------------------------------------------------------------- public routes are not a bypass


def test_cap_on_public_route_is_fully_authenticated(client: StarfishClient) -> None:
    doc = fresh()
    expect(client.push(f"guestbook/{doc}", {"hi": 1}), 200)
    request = client.build("GET", f"pull/guestbook/{doc}", device=shared_device())
    bad = client.build("GET", f"pull/guestbook/{doc}", device=shared_device())
    bad.headers["X-Starfish-Sig"] = request.headers["X-Starfish-Sig"]
    expect(client.send(bad), 401, UNAUTHORIZED)  # invalid cap on a public route
    expect(client.send(request), 200)
    expect(client.send(request), 401, UNAUTHORIZED)  # replay on a public route
    garbage = {"Authorization": "Cap garbage", "X-Starfish-Sig": "x", "X-Starfish-Ts": "1", "X-Starfish-Nonce": "n"}
    expect(client.request("GET", "health", headers=garbage), 401, UNAUTHORIZED)
    expect(client.request("GET", "health", device=shared_device()), 200)


def test_public_write_append_binds_author_to_presenter(client: StarfishClient) -> None:
    wall = fresh("wall")
    writer, someone_else = root_device(scope(["wall"], ["write"])), root_device()
    expect(client.append(f"walls/{wall}", {"m": 1}, device=writer, author=someone_else), 403,
           {"error": "append author must be the request presenter"})
    expect(client.append(f"walls/{wall}", {"m": 1}, device=writer), 200)
    expect(client.append(f"walls/{wall}", {"m": 2}, device=None, author=someone_else), 200)  # anonymous: proof only


def test_auth_headers_are_case_insensitive(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    request = client.build("GET", f"pull/shared/{doc}", device=shared_device())
    headers = {k.upper() if k.lower().startswith("x-starfish") else k: v for k, v in request.headers.items()}
    expect(client.send(httpx.Request("GET", request.url, headers=headers)), 200)


def test_cap_header_accepts_any_key_order(client: StarfishClient) -> None:
    doc = seeded_shared(client)
    device = shared_device()
    reordered = json.dumps(dict(reversed(list(device.cert.items())))).encode()
    request = client.build("GET", f"pull/shared/{doc}", device=device)
    request.headers["Authorization"] = "Cap " + base64.b64encode(reordered).decode()
    assert request.headers["Authorization"] != cap_header(device.cert)
    expect(client.send(request), 200)


def test_full_replay_cache_is_a_503_not_a_401() -> None:
    server = ServerThread(options=ServerOptions(nonce_max_entries=2))
    try:
        with server.client() as c:
            doc = fresh()
            statuses = [c.pull(f"guestbook/{doc}", device=root_device()).status_code for _ in range(3)]
            assert statuses == [200, 200, 503]
            expect(c.pull(f"guestbook/{doc}", device=root_device()), 503, {"error": "Replay cache full; retry later"})
            expect(c.pull(f"guestbook/{doc}"), 200)  # anonymous reads are unaffected
    finally:
        server.stop()


@pytest.mark.parametrize("length", ["abc", "-1", "1, 2"])
def test_unparseable_content_length_never_reaches_a_handler(length: str) -> None:
    """The HTTP layer (httptools) refuses these framings itself: a 4xx, never a 500 or a hang."""
    server = default_server()
    body = b'{"data":{}}'
    request = (f"POST /v1/push/guestbook/{fresh()} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request + body)
        reply = sock.recv(4096)
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500, reply


def test_a_valid_cap_never_reaches_less_than_anonymous_access(client: StarfishClient) -> None:
    """On public routes the narrowing steps (scope paths, identity binding) are skipped; the 401 steps are not."""
    alice, bob = root_device(), root_device(scope(["profiles"], ["read"], ["shared/**"]))
    expect(client.push(f"profiles/{alice.identity}", {"name": "alice"}, device=alice), 200)
    expect(client.pull(f"profiles/{alice.identity}"), 200)
    expect(client.pull(f"profiles/{alice.identity}", device=bob), 200)  # not bob's identity, outside his paths
    expect(client.push(f"profiles/{alice.identity}", {"name": "bob"}, device=bob), 403, FORBIDDEN)  # write is `self`
    doc = fresh()
    expect(client.push(f"guestbook/{doc}", {"g": 1}), 200)
    got = client.batch(["guestbook"], params={"guestbook": [{"docId": doc}]}, device=bob).json()
    assert got["collections"]["guestbook"][0]["data"] == {"g": 1}
