"""auth.attack: what an attacker who sees, captures or edits requests can do, and must not get away with
(digest §5.4, §5.5, §5.12, §1.15; reference_server/auth.py "Differences from the official servers").

Every check verifies the attack had no effect on stored state, not only the status code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.client import compact_json
from conformance.identities import paired_device, root_device, scope
from conformance.suite.auth_support import (
    ServerClock,
    expect_absent,
    expect_data,
    expect_exact,
    expect_forbidden,
    expect_unauthorized,
    signed_over,
)
from conformance.suite.support import body_json, cap_device, expect_ok, expect_status, fresh, root
from protocol.author import sign_append_author
from protocol.encoding import b64encode
from protocol.keys import SigningKey


def _append_items(client, path: str, device) -> list:
    body = expect_ok(client.pull(path, device=device, query="checkpoint=0"))
    items = (body.get("data") or {}).get("items")
    assert isinstance(items, list), f"an append-only pull carries data.items: {body!r}"
    return items


@check("auth.attack.unsigned-body-json-collection", level=MUST,
       rule="A push to a JSON collection signed over an empty body but carrying bytes under a non-JSON "
            "Content-Type is never acted on: 401 or 415, and nothing is stored",
       source="digest §5.4 rule 5, §1.15 ([V] signed over empty with text/plain reaches 415)")
@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
def test_unsigned_body_json_collection(client, content_type):
    device = cap_device("shared", ("read", "write"))
    path = f"shared/{fresh()}"
    body = compact_json({"data": {"smuggled": True}, "baseHash": None})
    request = signed_over(client, device, "POST", "push/" + path, body=body, content_type=content_type,
                          sign_body=b"")
    response = client.send(request)
    expect_status(response, 401, 415)
    if response.status_code == 401:
        expect_unauthorized(response)
    else:
        expect_exact(response, 415, {"error": "Content-Type must be application/json"})
    expect_absent(client, path)


@check("auth.attack.unsigned-body-binary-collection", level=SHOULD,
       rule="A blob upload whose signature does not cover its bytes is refused 401 and nothing is stored (the "
            "official servers hash an empty body for non-JSON types, so anyone who sees a signed upload can swap "
            "its bytes); an upload signed over its real bytes is stored",
       source="issue 3 (never act on unsigned body bytes); digest §5.4 rule 5, §1.15")
@pytest.mark.parametrize("content_type", ["application/octet-stream", "image/png"])
def test_unsigned_body_binary_collection(client, content_type):
    device = root_device(scope(["files"], ["read", "write"]))
    smuggled = f"files/{device.identity}/{fresh()}"
    request = signed_over(client, device, "POST", "push/" + smuggled, body=b"\x89PNG swapped bytes",
                          content_type=content_type, sign_body=b"")
    expect_unauthorized(client.send(request))
    expect_status(client.pull(smuggled), 404)
    honest = f"files/{device.identity}/{fresh()}"
    # Signed over the real bytes explicitly, whatever the client's blob-signing mode for this target.
    expect_status(client.send(signed_over(client, device, "POST", "push/" + honest, body=b"\x89PNG real bytes",
                                          content_type=content_type, sign_body=b"\x89PNG real bytes")), 200)
    assert expect_status(client.pull(honest), 200).content == b"\x89PNG real bytes"


@check("auth.attack.read-only-cap-own-document", level=SHOULD,
       rule="A read-only cap cannot write even its holder's own document (403, unchanged): the cap's scope limits "
            "`self` too (the official servers grant `self` whatever the cap's ops)",
       source="issue 3 (a cap's scope limits its holder even on its own documents); digest §5.10 rule 4")
def test_read_only_cap_own_document(client):
    owner = root(("notes",), ("read", "write"))
    path = f"users/{owner.identity}/notes"
    first = expect_ok(client.push(path, {"v": 1}, device=owner))
    read_only = paired_device(owner.key, scope(["notes"], ["read"]))
    expect_data(client.pull(path, device=read_only), {"v": 1})
    expect_forbidden(client.push(path, {"v": 2}, base_hash=first.get("hash"), device=read_only))
    expect_forbidden(client.push(path, {"v": 2}, base_hash=first.get("hash"), device=root_device(
        scope(["notes"], ["read"]), root=owner.key)))
    expect_data(client.pull(path, device=owner), {"v": 1})


def _with_host(request: httpx.Request, host: str) -> httpx.Request:
    headers = [(k, host if k.lower() == "host" else v) for k, v in request.headers.multi_items()]
    return httpx.Request(request.method, request.url, headers=headers, content=request.content)


@check("auth.attack.replay-to-other-host", level=MUST,
       rule="A captured signed write replayed with another Host (another name, or the same name on another port) "
            "is 401 and not stored; the original, sent to its own host, is still accepted",
       source="digest §5.4 rule 4 (the host is mandatory in effect)")
@pytest.mark.parametrize("other", ["other-name", "other-port"])
def test_replay_to_other_host(client, starfish_target, other):
    device = cap_device("shared", ("read", "write"))
    path = f"shared/{fresh()}"
    captured = client.build("POST", "push/" + path, json={"data": {"v": 1}, "baseHash": None}, device=device)
    url = urlsplit(starfish_target.base_url)
    port = url.port or {"http": 80, "https": 443}[url.scheme]
    host = {"other-name": f"replica.example:{port}", "other-port": f"{url.hostname}:{port + 1}"}[other]
    expect_unauthorized(client.send(_with_host(captured, host)))
    expect_absent(client, path)
    expect_ok(client.send(captured))
    expect_data(client.pull(path, device=device), {"v": 1})


@check("auth.attack.replay-verbatim", level=MUST,
       rule="A captured signed append replayed verbatim is 401 and appends nothing (the log keeps one element)",
       source="digest §5.5 step 12, §5.7")
def test_replay_verbatim(client):
    device = cap_device("events", ("read", "write"))
    path = f"rooms/{fresh('r')}/events"
    body = {"data": {"m": 1}}
    body.update(sign_append_author(device.key, path, body["data"]))
    captured = client.build("POST", "push/" + path, json=body, device=device)
    expect_ok(client.send(captured))
    expect_unauthorized(client.send(captured))
    assert len(_append_items(client, path, device)) == 1


@check("auth.attack.cap-for-a-on-b-path", level=MUST,
       rule="User A's valid cap cannot write user B's documents (profiles/<B>, users/<B>/notes): 403, B's data "
            "unchanged",
       source="digest §5.5 step 17, §5.10 rule 4")
def test_cap_for_a_on_b(client):
    alice = root(("profiles", "notes"), ("read", "write"))
    bob = root(("profiles", "notes"), ("read", "write"))
    profile, notes = f"profiles/{bob.identity}", f"users/{bob.identity}/notes"
    profile_hash = expect_ok(client.push(profile, {"name": "bob"}, device=bob)).get("hash")
    notes_hash = expect_ok(client.push(notes, {"secret": "bob"}, device=bob)).get("hash")
    expect_forbidden(client.push(profile, {"name": "alice"}, base_hash=profile_hash, device=alice))
    expect_forbidden(client.push(notes, {"secret": "alice"}, base_hash=notes_hash, device=alice))
    expect_data(client.pull(profile), {"name": "bob"})
    expect_data(client.pull(notes, device=bob), {"secret": "bob"})


@check("auth.attack.stolen-cap-without-key", level=MUST,
       rule="Presenting someone else's cap without their key (signing with one's own) is 401; nothing is written",
       source="digest §5.3(b), §5.5 steps 9-10")
def test_stolen_cap(client):
    victim = root(("notes",), ("read", "write"))
    thief = victim.with_cert(victim.cert)
    thief.key = SigningKey.generate()
    path = f"users/{victim.identity}/notes"
    expect_unauthorized(client.push(path, {"stolen": True}, device=thief))
    expect_unauthorized(client.pull(path, device=thief))
    expect_absent(client, path, reader=victim)


def _invalid_cap_request(client, case: str, method: str, path: str, body: bytes | None) -> httpx.Request:
    content_type = "application/json" if body is not None else None
    if case == "garbage-cap":
        headers = {"Authorization": "Cap garbage!", "X-Starfish-Sig": "AAAA", "X-Starfish-Ts": "1",
                   "X-Starfish-Nonce": "n"}
        return client.build(method, path, body=body, content_type=content_type, headers=headers)
    if case == "expired-cap":
        now = ServerClock.read(client).now_ms() // 1000
        device = root_device(scope(["shared"], ["read"]), nbf=now - 7200, exp=now - 3600)
        return client.build(method, path, body=body, content_type=content_type, device=device)
    request = client.build(method, path, body=body, content_type=content_type, device=root(("shared",), ("read",)))
    request.headers["X-Starfish-Sig"] = b64encode(b"\0" * 64)
    return request


@check("auth.attack.invalid-cap-on-public-route", level=SHOULD,
       rule="A presented cap is authenticated even on a public route: garbage, expired or badly signed auth gets "
            "401 and the write is not stored (the official servers skip auth on public routes and answer 200)",
       source="issue 3 (public routes with a Cap header are authenticated fully); digest §5.12, §12.7")
@pytest.mark.parametrize("case", ["garbage-cap", "expired-cap", "bad-request-signature"])
def test_invalid_cap_on_public_route(client, case):
    path = f"guestbook/{fresh()}"
    push_body = compact_json({"data": {"forged": True}, "baseHash": None})
    expect_unauthorized(client.send(_invalid_cap_request(client, case, "POST", "push/" + path, push_body)))
    expect_unauthorized(client.send(_invalid_cap_request(client, case, "GET", "pull/" + path, None)))
    body = body_json(expect_status(client.pull(path), 200))
    assert body.get("hash") == "", f"a write with invalid auth must not be stored: {body!r}"


@check("auth.attack.replay-on-public-route", level=SHOULD,
       rule="A captured signed append to a public-write log replayed verbatim is 401 and appends nothing (the "
            "official servers skip the nonce check on public routes, so the replay appends again)",
       source="issue 3 (public routes with a Cap header are authenticated fully); digest §5.5 (consequences), §12.7")
def test_replay_on_public_route(client):
    device = root(("wall",), ("write",))
    path = f"walls/{fresh('w')}"
    body = {"data": {"m": 1}}
    body.update(sign_append_author(device.key, path, body["data"]))
    captured = client.build("POST", "push/" + path, json=body, device=device)
    expect_ok(client.send(captured))
    expect_unauthorized(client.send(captured))
    assert len(_append_items(client, path, None)) == 1
