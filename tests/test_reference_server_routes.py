"""Every route of the reference server over a real socket: documents, blobs, keyrings, list, service routes."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from refserver_support import ServerThread, default_server, fresh

from conformance.client import StarfishClient
from conformance.identities import paired_device, root_device, scope
from protocol.hashing import document_hash
from reference_server.storage.memory import MemoryStore


@pytest.fixture
def client() -> StarfishClient:
    with default_server().client() as c:
        yield c


def expect(response: httpx.Response, status: int, body: Any = None) -> None:
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body


# -------------------------------------------------------------------------------------------- service routes


def test_health(client: StarfishClient) -> None:
    body = client.request("GET", "health").json()
    assert body["ok"] is True and isinstance(body["ts"], int)
    response = client.request("POST", "health", json={})
    expect(response, 405, {"error": "Method Not Allowed"})
    assert response.headers["allow"] == "GET"


def test_config_lists_collections_in_camel_case(client: StarfishClient) -> None:
    body = client.request("GET", "config").json()
    by_name = {c["name"]: c for c in body["collections"]}
    assert by_name["notes"] == {"name": "notes", "maxBodyBytes": 65536, "encryption": "none",
                                "allowedMimeTypes": ["application/json"]}
    assert by_name["announcements"]["pullOnly"] is True and by_name["inbox"]["pushOnly"] is True
    assert by_name["capped"]["appendOnly"]["maxItems"] == 5
    assert by_name["strictlog"]["appendOnly"] == {"type": "by_timestamp", "field": "entries", "persist": True,
                                                  "requireAuthorSignature": True, "allowFull": False,
                                                  "maxPullLimit": 50, "maxCheckpointAgeMs": 86400000}
    assert "namespaces" not in body


def test_openapi_is_valid_and_complete(client: StarfishClient) -> None:
    spec = client.request("GET", "openapi.json").json()
    validate(spec)  # openapi-spec-validator: OpenAPI 3.1, every $ref and security scheme resolves
    assert spec["openapi"] == "3.1.0"
    assert set(spec["components"]["securitySchemes"]) >= {"capCert", "starfishSig", "starfishTs", "starfishNonce"}
    paths = spec["paths"]
    for expected in ("/health", "/config", "/openapi.json", "/revocations", "/batch/pull",
                     "/pull/users/{identity}/notes", "/push/users/{identity}/notes", "/list/chats/{groupId}",
                     "/pull/vault/{identity}/_keyring", "/push/files/{identity}/{fileId}"):
        assert expected in paths, expected
    assert "/push/announcements/{docId}" not in paths and "/pull/inbox/{docId}" not in paths
    assert "409" in paths["/push/shared/{docId}"]["post"]["responses"]
    assert paths["/pull/guestbook/{docId}"]["get"]["security"][0] == {}  # public: anonymous allowed
    assert {} not in paths["/pull/shared/{docId}"]["get"]["security"]


def test_unknown_paths_and_methods(client: StarfishClient) -> None:
    expect(client.request("GET", "nope"), 404, {"error": "Not Found"})
    expect(client.request("GET", "pull/nocollection/x"), 404)
    expect(client.request("GET", "pull/guestbook/a/b"), 404)
    expect(client.http.get(client.base_url.rsplit("/v1", 1)[0] + "/pull/guestbook/x"), 404)  # outside the prefix
    response = client.request("GET", f"push/guestbook/{fresh()}")
    expect(response, 405, {"error": "Method Not Allowed"})
    assert response.headers["allow"] == "POST"
    expect(client.request("PUT", f"pull/guestbook/{fresh()}"), 405)
    expect(client.request("DELETE", f"push/guestbook/{fresh()}"), 405)


# ------------------------------------------------------------------------------------------ regular documents


def test_missing_document_is_empty_with_no_etag(client: StarfishClient) -> None:
    response = client.pull(f"guestbook/{fresh()}")
    assert response.status_code == 200 and "etag" not in response.headers
    body = response.json()
    assert body["data"] == {} and body["hash"] == "" and isinstance(body["timestamp"], int)


def test_base_hash_rules(client: StarfishClient) -> None:
    path = f"guestbook/{fresh()}"
    expect(client.push(path, {"a": 1}, base_hash="wrong"), 409, {"error": "hash_mismatch", "currentHash": ""})
    first = client.push(path, {"a": 1}, base_hash="")  # "" is accepted for a missing document
    expect(first, 200)
    h1 = first.json()["hash"]
    assert h1 == document_hash({"a": 1}) and isinstance(first.json()["timestamp"], int)
    expect(client.push(path, {"a": 2}), 409, {"error": "hash_mismatch", "currentHash": h1})
    expect(client.push(path, {"a": 2}, base_hash=""), 409, {"error": "hash_mismatch", "currentHash": h1})
    second = client.push(path, {"a": 2}, base_hash=h1)
    expect(second, 200)
    pulled = client.pull(path).json()
    assert pulled["data"] == {"a": 2} and pulled["hash"] == second.json()["hash"]
    expect(client.request("POST", f"push/{path}", json={"data": {}, "baseHash": 5}), 400,
           {"error": "baseHash must be a string or null"})
    expect(client.request("POST", f"push/{path}", json={"data": [1]}), 400, {"error": "Missing or invalid data"})


def test_etag_and_304_exact_match(client: StarfishClient) -> None:
    path = f"guestbook/{fresh()}"
    digest = client.push(path, {"a": 1}).json()["hash"]
    response = client.pull(path, query="checkpoint=garbage")  # ignored on regular collections
    assert response.status_code == 200 and response.headers["etag"] == f'"{digest}"'
    not_modified = client.pull(path, headers={"If-None-Match": f'"{digest}"'})
    assert not_modified.status_code == 304 and not_modified.content == b"" and "etag" not in not_modified.headers
    for other in (f'W/"{digest}"', digest, "*", f'"{digest}", "x"'):
        assert client.pull(path, headers={"If-None-Match": other}).status_code == 200


def test_sanitised_keys_are_dropped_and_hashed_as_stored(client: StarfishClient) -> None:
    path = f"guestbook/{fresh()}"
    data = {"a": {"__proto__": {"x": 1}, "b": 2}, "constructor": 1, "list": [{"__proto__": 1}]}
    stored = {"a": {"b": 2}, "list": [{"__proto__": 1}]}
    assert client.push(path, data).json()["hash"] == document_hash(stored)
    assert client.pull(path).json()["data"] == stored


@pytest.mark.parametrize("raw", [b'{"data":{"x":NaN}}', b'{"data":{"x":Infinity}}', b'{"data":{"x":-Infinity}}',
                                 b'{"data":{"x":1e400}}', b'{"data":{"x":' + b"9" * 400 + b"}}"])
def test_values_json_cannot_round_trip_are_refused(client: StarfishClient, raw: bytes) -> None:
    response = client.request("POST", f"push/guestbook/{fresh()}", body=raw, content_type="application/json")
    assert response.status_code == 400
    assert "NaN, Infinity" in response.json()["error"]


@pytest.mark.parametrize(("raw", "error"), [
    (b"{", "Invalid JSON body"),
    (b"\xff\xfe", "Invalid JSON body"),
    (b'"text"', "Body must be a JSON object"),
    (b'{"data":' + b"[" * 70 + b"]" * 70 + b"}", "Body nesting too deep"),
    (b"[" * 100_000, "Body nesting too deep"),
])
def test_body_parse_errors(raw: bytes, error: str) -> None:
    server = ServerThread({"version": 1, "collections": [
        {"name": "big", "storagePath": "big/{id}", "readRoles": ["public"], "writeRoles": ["public"],
         "encryption": "none", "maxBodyBytes": 1_000_000}]})
    try:
        response = server.client().request("POST", "push/big/x", body=raw, content_type="application/json")
        expect(response, 400, {"error": error})
    finally:
        server.stop()


def test_lone_surrogates_round_trip(client: StarfishClient) -> None:
    path = f"guestbook/{fresh()}"
    raw = b'{"data":{"s":"\\ud800x"},"baseHash":null}'
    expect(client.request("POST", f"push/{path}", body=raw, content_type="application/json"), 200)
    assert client.pull(path).json()["data"] == {"s": "\ud800x"}


@pytest.mark.parametrize(("content_type", "status"), [
    ("application/json", 200), ("application/json; charset=utf-8", 200), ("Application/JSON", 200),
    ("text/plain; x=application/json", 415), ("text/plain", 415), (None, 415),
])
def test_json_content_type(client: StarfishClient, content_type: str | None, status: int) -> None:
    response = client.request("POST", f"push/guestbook/{fresh()}", body=b'{"data":{}}', content_type=content_type)
    expect(response, status)
    if status == 415:
        assert response.json() == {"error": "Content-Type must be application/json"}


def test_body_limit_holds_for_chunked_transfer(client: StarfishClient) -> None:
    def chunks(payload: bytes) -> Any:
        for i in range(0, len(payload), 50):
            yield payload[i : i + 50]

    url = f"{client.base_url}/push/tiny/{fresh()}"
    big = json.dumps({"data": {"pad": "x" * 400}}).encode()
    response = client.http.post(url, content=chunks(big), headers={"Content-Type": "application/json"})
    expect(response, 413, {"error": "Payload too large"})
    small = json.dumps({"data": {"pad": "x"}}).encode()
    expect(client.http.post(url, content=chunks(small), headers={"Content-Type": "application/json"}), 200)


def test_document_author_proof(client: StarfishClient) -> None:
    owner = root_device(scope(["profiles"], ["read", "write"]))
    path = f"profiles/{owner.identity}"
    expect(client.push(path, {"n": 1}, device=owner, author=owner), 200)
    pulled = client.pull(path).json()
    assert pulled["authorPubkey"] == owner.key.pub and pulled["authorSignature"]
    current = pulled["hash"]
    expect(client.push(path, {"n": 2}, base_hash=current, device=owner, author=root_device()), 403,
           {"error": "document author must be the request presenter"})
    expect(client.push(path, {"n": 2}, base_hash=current, device=owner, author=owner, document_key="other/key"), 403,
           {"error": "invalid document author signature"})
    body = {"data": {"n": 2}, "baseHash": current, "authorPubkey": owner.key.pub}
    expect(client.request("POST", f"push/{path}", json=body, device=owner), 400,
           {"error": "author proof requires authorPubkey and authorSignature"})
    expect(client.push(path, {"n": 3}, base_hash=current, device=owner), 200)  # no proof: fields are dropped
    assert "authorPubkey" not in client.pull(path).json()


def test_invalid_path_parameters(client: StarfishClient) -> None:
    for bad in ("a..b", "%2E%2E", "%2E", "a%2E%2E"):
        expect(client.request("GET", f"pull/guestbook/{bad}"), 400, {"error": "Invalid path parameter"})
    expect(client.request("GET", "pull/guestbook/r%20!"), 400, {"error": "Invalid path parameter"})
    expect(client.request("GET", "pull/guestbook/%E2%82%AC"), 400, {"error": "Invalid path parameter"})


def test_pull_only_and_push_only(client: StarfishClient) -> None:
    expect(client.push(f"announcements/{fresh()}", {"a": 1}, device=root_device()), 405,
           {"error": "This collection is read-only on this server"})
    expect(client.pull(f"inbox/{fresh()}", device=root_device()), 405,
           {"error": "This collection is write-only on this server"})
    expect(client.push(f"inbox/{fresh()}", {"a": 1}, device=root_device(scope(["inbox"], ["write"]))), 200)


# ---------------------------------------------------------------------------------------------------- blobs


def test_binary_collection(client: StarfishClient) -> None:
    owner = root_device(scope(["files"], ["read", "write"]))
    path = f"files/{owner.identity}/{fresh()}"
    payload = bytes(range(256))
    response = client.request("POST", f"push/{path}", body=payload, content_type="image/png; x=y", device=owner)
    expect(response, 200, {"hash": hashlib.sha256(payload).hexdigest()})
    pulled = client.pull(path)
    assert pulled.status_code == 200 and pulled.content == payload
    assert pulled.headers["content-type"] == "image/png"
    assert pulled.headers["etag"] == f'"{hashlib.sha256(payload).hexdigest()}"'
    assert client.pull(path, headers={"If-None-Match": pulled.headers["etag"]}).status_code == 304
    missing = client.pull(f"files/{owner.identity}/{fresh()}")
    assert missing.status_code == 404 and missing.content == b""
    rejected = client.request("POST", f"push/{path}", body=b"x", content_type="text/plain", device=owner)
    expect(rejected, 415, {"error": "Content-Type 'text/plain' is not allowed. "
                                    "Allowed: ['image/*', 'application/octet-stream']"})
    expect(client.request("POST", f"push/{path}", body=b"x", device=owner), 415)  # no Content-Type at all


# ------------------------------------------------------------------------------------- delegated + keyring


def test_delegated_collection_and_keyring(client: StarfishClient) -> None:
    owner = root_device()
    item, keyring = f"vault/{owner.identity}/{fresh('item')}", f"vault/{owner.identity}/_keyring"
    ciphertext = {"_encrypted": "AAAAAAAAAAAAAAAA", "_epoch": 1}
    expect(client.push(item, ciphertext, device=owner), 200)
    assert client.pull(item, device=owner, query="withKeyring=1").json()["keyring"] is None
    assert client.pull(f"guestbook/{fresh()}", query="withKeyring=1").json()["keyring"] is None  # no keyring here
    ring = {"v": 1, "currentEpoch": 1, "epochs": {"1": {"wrappedKeys": [], "createdAt": 1}}}
    ring_hash = client.push(keyring, ring, device=owner).json()["hash"]
    assert client.pull(keyring, device=owner).json()["data"] == ring
    body = client.pull(item, device=owner, query="withKeyring=true").json()
    assert body["data"] == ciphertext
    assert body["keyring"] == {"data": ring, "hash": ring_hash, "timestamp": body["timestamp"]}
    assert "keyring" not in client.pull(item, device=owner).json()
    # A device whose scope denies the keyring gets the item and silently no keyring (digest §5.11).
    no_ring = paired_device(owner.key, scope(["vault"], ["read"], [f"vault/{owner.identity}/*",
                                                                   f"!vault/{owner.identity}/_keyring"]))
    expect(client.pull(keyring, device=no_ring), 403)
    body = client.pull(item, device=no_ring, query="withKeyring=1").json()
    assert body["data"] == ciphertext and "keyring" not in body


# ------------------------------------------------------------------------------------------------------ list


def test_list_pagination_and_limits(client: StarfishClient) -> None:
    group = fresh("g")
    writer = root_device(scope(["chats"], ["read", "write"]))
    days = sorted(f"day{i:02d}" for i in range(7))
    for day in days:
        expect(client.push(f"chats/{group}/{day}", {"d": day}, device=writer), 200)
    page = client.list(f"chats/{group}", device=writer, query={"limit": 3}).json()
    assert page == {"items": days[:3], "hasMore": True}
    page = client.list(f"chats/{group}", device=writer, query={"limit": 3, "after": days[2]}).json()
    assert page == {"items": days[3:6], "hasMore": True}
    assert client.list(f"chats/{group}", device=writer, query={"after": days[5]}).json() == {
        "items": days[6:], "hasMore": False}
    assert client.list(f"chats/{group}", device=writer, query={"limit": 5000}).json()["items"] == days
    for bad in ("0", "-1", "01", "x", ""):
        expect(client.list(f"chats/{group}", device=writer, query={"limit": bad}), 400,
               {"error": "Invalid limit parameter"})
    expect(client.list(f"chats/{group}"), 403, {"error": "Forbidden"})
    hidden = root_device(scope(["chats"], ["read"], [f"chats/{group}", f"chats/{group}/*", f"!chats/{group}/day03"]))
    assert "day03" not in client.list(f"chats/{group}", device=hidden).json()["items"]


def test_list_never_shows_keyrings(client: StarfishClient) -> None:
    owner = root_device()
    expect(client.push(f"vault/{owner.identity}/a", {"x": 1}, device=owner), 200)
    expect(client.push(f"vault/{owner.identity}/_keyring", {"v": 1}, device=owner), 200)
    assert client.list(f"vault/{owner.identity}", device=owner).json() == {"items": ["a"], "hasMore": False}


# -------------------------------------------------------------------------------------- never a 500 or trace


class _BrokenStore(MemoryStore):
    def get_doc(self, key: str) -> Any:
        raise RuntimeError("disk on fire")


def test_unexpected_errors_are_a_json_500_without_details() -> None:
    server = ServerThread(store=_BrokenStore())
    try:
        response = server.client().pull(f"guestbook/{fresh()}")
        expect(response, 500, {"error": "Internal error"})
        assert "disk on fire" not in response.text and "Traceback" not in response.text
    finally:
        server.stop()


_ROUTES = ["push/guestbook/x", "push/wall/x", "push/tiny/x", "pull/walls/x", "batch/pull", "list/chats/g",
           "revocations", "pull/rooms/r/strictlog", "push/files/u/f"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(_ROUTES), body=st.binary(max_size=300), query=st.text(max_size=40),
       content_type=st.sampled_from(["application/json", "image/png", "text/plain", ""]),
       method=st.sampled_from(["GET", "POST"]))
def test_fuzzed_requests_never_500(route: str, body: bytes, query: str, content_type: str, method: str) -> None:
    client = default_server().client()
    url = f"{client.base_url}/{route}"
    params = httpx.QueryParams(query) if query else None
    response = client.http.request(method, url, content=body if method == "POST" else None, params=params,
                                   headers={"Content-Type": content_type} if content_type else {})
    assert response.status_code < 500, response.text
    if response.content and response.headers.get("content-type") == "application/json":
        response.json()


def test_a_body_cut_off_by_a_disconnect_is_never_stored(client: StarfishClient) -> None:
    server, doc = default_server(), fresh()
    head = (f"POST /v1/push/guestbook/{doc} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head.encode() + b'b\r\n{"data":{}}\r\n')  # a complete JSON object, but no final chunk
        time.sleep(0.2)
    time.sleep(0.2)
    assert client.pull(f"guestbook/{doc}").json()["hash"] == ""
