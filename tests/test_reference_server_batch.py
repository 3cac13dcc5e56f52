"""`GET /batch/pull` beyond the official vector: per-entry auth, identity fill-in, scope per key, request errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from refserver_support import default_server, fresh

from conformance.client import StarfishClient
from conformance.identities import root_device, scope


@pytest.fixture
def client() -> StarfishClient:
    with default_server().client() as c:
        yield c


def entries(response: httpx.Response, name: str) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["collections"][name]


def test_identity_is_filled_in_and_bound(client: StarfishClient) -> None:
    alice, bob = root_device(), root_device()
    assert client.push(f"users/{alice.identity}/notes", {"mine": 1}, device=alice).status_code == 200
    got = entries(client.batch(["notes"], device=alice), "notes")
    assert got[0]["data"] == {"mine": 1} and len(got[0]["hash"]) == 64
    forged = entries(client.batch(["notes"], params={"notes": [{"identity": alice.identity}]}, device=bob), "notes")
    assert forged == [{"error": "Forbidden"}]  # an explicit identity that is not the caller's loses `self`
    assert entries(client.batch(["notes"]), "notes") == [{"error": "Missing required path parameter"}]


def test_per_entry_errors_keep_the_request_200(client: StarfishClient) -> None:
    paths = ["shared/ok-*", "rooms/**", "files/**", "inbox/**"]
    device = root_device(scope(["shared", "events"], ["read", "write"], paths))
    ok = f"ok-{fresh()}"
    assert client.push(f"shared/{ok}", {"v": 1}, device=device).status_code == 200
    params = {"shared": [{"docId": ok}, {"docId": fresh()}, {"docId": "bad value"}, {}],
              "nope": [{"x": 1}, {"x": 2}], "files": [{"identity": "u", "fileId": "f"}], "inbox": [{"docId": "x"}],
              "events": [{"roomId": fresh()}]}
    response = client.batch(["shared", "nope", "files", "inbox", "events"], params=params, device=device)
    got = response.json()["collections"]
    assert got["shared"][0]["data"] == {"v": 1}
    assert got["shared"][1:] == [{"error": "Forbidden"}, {"error": "Invalid path parameter"},
                                 {"error": "Missing required path parameter"}]
    assert got["nope"] == [{"error": "Collection not found"}] * 2
    assert got["files"] == [{"error": "binary collections cannot be batch-pulled"}]
    assert got["inbox"] == [{"error": "This collection is write-only on this server"}]
    assert got["events"] == [{"error": "pull_bound_required"}]  # a log needs appendParams bounds


def test_keyrings_are_never_batched(client: StarfishClient) -> None:
    owner = root_device()
    assert client.push(f"vault/{owner.identity}/_keyring", {"v": 1}, device=owner).status_code == 200
    got = entries(client.batch(["vault"], params={"vault": [{"itemId": "_keyring"}]}, device=owner), "vault")
    assert got == [{"error": "Forbidden"}]


def test_a_bad_cap_fails_the_whole_batch(client: StarfishClient) -> None:
    request = client.build("GET", "batch/pull", query={"collections": "guestbook"}, device=root_device())
    request.headers["X-Starfish-Nonce"] = "tampered"
    assert client.send(request).status_code == 401  # officially: silently treated as anonymous


@pytest.mark.parametrize(("query", "error"), [
    ({}, "Missing required query parameter: collections"),
    ({"collections": ""}, "Missing required query parameter: collections"),
    ({"collections": "a", "params": "{"}, "Invalid params parameter"),
    ({"collections": "a", "params": '{"a": {"x": 1}}'}, "Invalid params parameter"),
    ({"collections": "a", "appendParams": '{"a": [{"last": -1}]}'}, "Invalid appendParams parameter"),
    ({"collections": "a", "appendParams": '{"a": [{"full": "1"}]}'},
     "appendParams['a']: full is not allowed in batch pull"),
    ({"collections": ",".join(f"c{i}" for i in range(101))}, "Too many collections"),
    ({"collections": "a", "params": json.dumps({"a": [{}] * 101})}, "Too many collections"),
    ({"collections": "events", "appendParams": json.dumps({"events": [{}] * 6})},
     "Batch append element budget exceeded"),
])
def test_request_level_errors(client: StarfishClient, query: dict[str, str], error: str) -> None:
    response = client.request("GET", "batch/pull", query=query)
    assert response.status_code == 400 and response.json() == {"error": error}


def test_duplicates_and_blanks_are_dropped(client: StarfishClient) -> None:
    doc = fresh()
    assert client.push(f"guestbook/{doc}", {"g": 1}).status_code == 200
    response = client.request("GET", "batch/pull", query={"collections": ",guestbook,,guestbook,",
                                                          "params": json.dumps({"guestbook": [{"docId": doc}]})})
    assert list(response.json()["collections"]) == ["guestbook"]
    assert response.json()["collections"]["guestbook"][0]["data"] == {"g": 1}
