"""Replays of the official 3.0.0a72 vectors (read from ../shared at test time) against a running reference server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from refserver_support import VECTORS, ServerThread, default_server, fresh

from conformance.identities import root_device, scope
from protocol.hashing import append_hash, document_hash
from reference_server.app import ServerOptions
from reference_server.responses import dumps
from reference_server.storage import Doc, LogHead

pytestmark = pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/vectors/starfish-3.0.0a72 is not present")


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- http-errors.json


def _http_error_request(scenario: str) -> Any:
    """Drive the scenario against the conformance profile; returns the httpx response."""
    client = default_server().client()
    doc = fresh()
    if scenario == "payload_too_large":
        return client.push(f"tiny/{doc}", {"pad": "x" * 400})
    if scenario == "hash_mismatch":
        assert client.push(f"guestbook/{doc}", {"a": 1}).status_code == 200
        return client.push(f"guestbook/{doc}", {"a": 2})
    if scenario == "wrong_content_type":
        return client.request("POST", f"push/guestbook/{doc}", body=b'{"data":{}}', content_type="text/plain")
    if scenario == "rate_limited":
        assert client.push(f"limited/{doc}", {"a": 1}).status_code == 200
        return client.push(f"limited/{doc}", {"a": 1})
    if scenario == "forbidden":
        return client.pull(f"shared/{doc}")
    if scenario == "unauthorized":
        device = root_device(scope(["shared"]))
        request = client.build("GET", f"pull/shared/{doc}", device=device)
        request.headers["X-Starfish-Sig"] = "A" * 86 + "=="  # a well-formed but wrong signature
        return client.send(request)
    if scenario == "invalid_checkpoint":
        return client.pull(f"rooms/{doc}/strictlog", query="checkpoint=abc")
    if scenario == "invalid_path_param":
        return client.request("GET", "pull/guestbook/r%20!")
    if scenario == "invalid_body":
        return client.request("POST", f"push/guestbook/{doc}", json=[1, 2, 3])
    if scenario == "missing_data":
        return client.request("POST", f"push/guestbook/{doc}", json={"baseHash": None})
    if scenario == "read_only_push":
        return client.push(f"announcements/{doc}", {"a": 1})
    if scenario == "write_only_pull":
        return client.pull(f"inbox/{doc}")
    raise AssertionError(f"no driver for scenario {scenario}")


@pytest.mark.parametrize("case", _load("http-errors.json")["errors"] if VECTORS.is_dir() else [],
                         ids=lambda c: c["scenario"])
def test_http_errors_vector(case: dict[str, Any]) -> None:
    response = _http_error_request(case["scenario"])
    assert response.status_code == case["status"], response.text
    body = response.json()
    assert body["error"] == case["error"]
    if case["scenario"] == "hash_mismatch":
        assert set(body) == {"error", "currentHash"} and len(body["currentHash"]) == 64
    else:
        assert body == {"error": case["error"]}


# -------------------------------------------------------------------------------------------- protocol-push.json


def _protocol_push_cases() -> list[tuple[str, dict[str, Any]]]:
    if not VECTORS.is_dir():
        return []
    data = _load("protocol-push.json")
    return [(f"{group}: {case['description']}", case) for group, cases in data.items() for case in cases]


@pytest.fixture(scope="module")
def push_server() -> Any:
    config = {"version": 1, "collections": [
        {"name": "test", "storagePath": "test/{doc}", "readRoles": ["public"], "writeRoles": ["public"],
         "encryption": "none", "maxBodyBytes": 65536}]}
    server = ServerThread(config)
    yield server
    server.stop()


@pytest.mark.parametrize(("label", "case"), _protocol_push_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_protocol_push_vector(push_server: ServerThread, label: str, case: dict[str, Any]) -> None:
    # documentKey is "test/doc" in every case; each case gets its own document so cases stay independent.
    assert case["documentKey"].startswith("test/")
    key = f"test/{fresh('doc')}"
    client = push_server.client()
    previous_hash = None
    for step in case["steps"]:
        expect = step["expect"]
        if step["action"] == "push":
            base = previous_hash if step["baseHash"] == "$previous.hash" else step["baseHash"]
            response = client.push(key, step["data"], base_hash=base)
            if expect["type"] == "success":
                assert response.status_code == 200, response.text
                previous_hash = response.json()["hash"]
                assert previous_hash == document_hash(step["data"])
                if "hashLength" in expect:
                    assert len(previous_hash) == expect["hashLength"]
            else:
                assert response.status_code == 409
                assert response.json()["error"] == expect["error"]
        else:
            response = client.pull(key, query={"checkpoint": step.get("checkpoint", 0)})
            assert response.status_code == 200
            assert response.json()["data"] == expect["data"]
            assert len(response.json()["hash"]) == expect["hashLength"]


# ---------------------------------------------------------------------------------------- batch-pull-append.json


def _batch_server(max_append: int) -> ServerThread:
    vector = _load("batch-pull-append.json")
    # a72 requires maxBodyBytes on every collection; the vector leaves it out (its README says to add it).
    collections = [{**c, "maxBodyBytes": 65536} for c in vector["collections"]]
    server = ServerThread({"version": 1, "collections": collections},
                          options=ServerOptions(max_batch_append_elements=max_append))
    store = server.app.store
    for key, data in vector["fixtures"].items():
        route, _ = server.app.router.match_doc(None, key.split("/"))
        col = route.collection
        if col.is_log:
            elements = data[col.append_only.field]
            for count, element in enumerate(elements, start=1):
                store.log_append(key, element["ts"], dumps(element),
                                 LogHead(count, element["ts"], append_hash(count, element["data"])), None)
        else:
            store.put_doc(key, Doc(dumps(data), document_hash(data), 0))
    return server


@pytest.fixture(scope="module")
def batch_servers() -> Any:
    servers = {5000: _batch_server(5000), 5: _batch_server(5)}
    yield servers
    for server in servers.values():
        server.stop()


def _batch_cases() -> list[dict[str, Any]]:
    return _load("batch-pull-append.json")["cases"] if VECTORS.is_dir() else []


@pytest.mark.parametrize("case", _batch_cases(), ids=lambda c: c["id"])
def test_batch_pull_append_vector(batch_servers: dict[int, ServerThread], case: dict[str, Any]) -> None:
    # The vector's harness authenticates "alice" with a fake resolver; every collection here is public-read,
    # so an anonymous caller sees exactly what alice does.
    budget = 5 if "maxBatchAppendElements=5" in case.get("note", "") else 5000
    client = batch_servers[budget].client()
    append_params = case.get("rawAppendParams", case.get("appendParams"))
    response = client.batch(case["collections"], params=case.get("params"), append_params=append_params)
    if "expectedStatus" in case:
        assert response.status_code == case["expectedStatus"], response.text
        return
    assert response.status_code == 200, response.text
    got = response.json()["collections"]
    for name, expected_entries in case["expected"].items():
        entries = got[name]
        assert len(entries) == len(expected_entries)
        for entry, expected in zip(entries, expected_entries, strict=True):
            if expected["outcome"] == "error":
                assert entry == {"error": expected["error"]}
                continue
            assert "error" not in entry, entry
            if "appendField" in expected:
                items = entry["data"][expected["appendField"]]
                assert len(items) == expected["count"]
                if "firstTs" in expected:
                    assert items[0]["ts"] == expected["firstTs"]
                if "lastTs" in expected:
                    assert items[-1]["ts"] == expected["lastTs"]
            for field, value in expected.get("dataFields", {}).items():
                assert entry["data"][field] == value
