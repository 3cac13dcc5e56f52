"""Append-only logs (digest §1.7, §4): bounds, client timestamps, maxItems, author proofs, chunked storage."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from refserver_support import ServerThread, default_server, fresh

from conformance.client import StarfishClient
from conformance.identities import root_device, scope
from protocol.hashing import append_hash
from protocol.signing import now_ms
from reference_server.responses import dumps
from reference_server.storage import LogHead
from reference_server.storage.memory import MemoryStore
from reference_server.storage.sqlite import SqliteStore


@pytest.fixture
def client() -> StarfishClient:
    with default_server().client() as c:
        yield c


def writer(*collections: str) -> Any:
    return root_device(scope(list(collections), ["read", "write"]))


def expect(response: httpx.Response, status: int, body: Any = None) -> None:
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body


def fill(client: StarfishClient, path: str, device: Any, count: int) -> list[int]:
    stamps = []
    for i in range(count):
        response = client.append(path, {"i": i}, device=device)
        assert response.status_code == 200, response.text
        stamps.append(response.json()["timestamp"])
    return stamps


def items(response: httpx.Response, field: str = "items") -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["data"][field]


def test_append_and_pull_windows(client: StarfishClient) -> None:
    dev = writer("events")
    path = f"rooms/{fresh()}/events"
    stamps = fill(client, path, dev, 6)
    assert stamps == sorted(set(stamps))
    assert [e["data"]["i"] for e in items(client.pull(path, device=dev, query={"full": "true"}))] == list(range(6))
    assert [e["data"]["i"] for e in items(client.pull(path, device=dev, query={"last": 2}))] == [4, 5]
    assert [e["data"]["i"] for e in items(client.pull(path, device=dev, query={"limit": 1, "last": 3}))] == [5]
    assert items(client.pull(path, device=dev, query={"last": 0})) == []
    after = items(client.pull(path, device=dev, query={"checkpoint": stamps[2]}))  # strictly after
    assert [e["ts"] for e in after] == stamps[3:]
    both = items(client.pull(path, device=dev, query={"checkpoint": stamps[0], "last": 2}))
    assert [e["ts"] for e in both] == stamps[4:]
    assert len(items(client.pull(path, device=dev, query={"checkpoint": 0}))) == 6
    element = items(client.pull(path, device=dev, query={"last": 1}))[0]
    assert set(element) == {"ts", "data", "authorPubkey", "authorSignature"}


@pytest.mark.parametrize(("query", "error"), [
    ({}, "pull_bound_required"), ({"full": "yes"}, "pull_bound_required"),
    ({"full": "1", "last": "1"}, "full_with_bounds"), ({"full": "true", "checkpoint": "0"}, "full_with_bounds"),
    ({"checkpoint": "01"}, "Invalid checkpoint"), ({"checkpoint": "-1"}, "Invalid checkpoint"),
    ({"checkpoint": "+1"}, "Invalid checkpoint"), ({"limit": "x"}, "Invalid limit"), ({"last": "1.5"}, "Invalid last"),
])
def test_pull_bound_errors(client: StarfishClient, query: dict[str, str], error: str) -> None:
    expect(client.pull(f"rooms/{fresh()}/events", device=writer("events"), query=query), 400, {"error": error})


def test_strict_log_rules(client: StarfishClient) -> None:
    dev = writer("strictlog")
    path = f"rooms/{fresh()}/strictlog"
    fill(client, path, dev, 55)
    expect(client.pull(path, query={"full": "true"}), 400, {"error": "full_not_allowed"})
    expect(client.pull(path, query={"checkpoint": "1"}), 400, {"error": "checkpoint_too_old"})
    assert len(items(client.pull(path, query={"last": 1000}), "entries")) == 50  # clamped to maxPullLimit
    assert len(items(client.pull(path, query={"checkpoint": now_ms() - 60_000}), "entries")) == 55


def test_missing_log_and_etag(client: StarfishClient) -> None:
    dev = writer("events")
    path = f"rooms/{fresh()}/events"
    response = client.pull(path, device=dev, query={"last": 5})
    assert response.json()["data"] == {"items": []} and response.json()["hash"] == "" and "etag" not in response.headers
    fill(client, path, dev, 3)
    response = client.pull(path, device=dev, query={"last": 1})
    log_hash = response.json()["hash"]
    assert response.headers["etag"] == f'"{log_hash}"'
    assert log_hash == append_hash(3, {"i": 2})
    full = client.pull(path, device=dev, query={"full": "1"})
    assert full.headers["etag"] == f'"{log_hash}"'  # the whole log's hash, whatever the window
    cached = client.pull(path, device=dev, query={"last": 2}, headers={"If-None-Match": f'"{log_hash}"'})
    assert cached.status_code == 304


def test_client_timestamps(client: StarfishClient) -> None:
    dev = writer("events")
    path = f"rooms/{fresh()}/events"
    for bad in (1.5, True, "5", -1):
        expect(client.append(path, {"x": 1}, device=dev, ts=bad), 400, {"error": "ts must be a non-negative integer"})
    expect(client.append(path, {"x": 1}, device=dev, ts=now_ms() + 400_000), 400,
           {"error": "ts is too far in the future"})
    expect(client.append(path, {"x": 1}, device=dev, ts=1000), 200, None)
    expect(client.append(path, {"x": 2}, device=dev, ts=1000), 409, {"error": "non_monotonic_timestamp"})
    future = now_ms() + 200_000
    assert client.append(path, {"x": 3}, device=dev, ts=future).json()["timestamp"] == future
    assert client.append(path, {"x": 4}, device=dev).json()["timestamp"] == future + 1  # max(now, last + 1)


def test_max_items(client: StarfishClient) -> None:
    dev = writer("capped")
    path = f"rooms/{fresh()}/capped"
    fill(client, path, dev, 5)
    expect(client.append(path, {"x": 6}, device=dev), 409, {"error": "append_limit_exceeded", "limit": 5})
    # ts 400s come before the limit; the limit comes before the monotonic check (digest §4.2 step 5).
    expect(client.append(path, {"x": 6}, device=dev, ts=-5), 400)
    expect(client.append(path, {"x": 6}, device=dev, ts=1), 409, {"error": "append_limit_exceeded", "limit": 5})


def test_append_author_proofs(client: StarfishClient) -> None:
    dev = writer("events")
    room, other_room = fresh(), fresh()
    path = f"rooms/{room}/events"
    expect(client.append(path, {"x": 1}, device=dev, author=None), 400,
           {"error": "append requires authorPubkey and authorSignature"})
    expect(client.append(path, {"x": 1}, device=dev, author=root_device()), 403,
           {"error": "append author must be the request presenter"})
    expect(client.append(path, {"x": 1}, device=dev, document_key=f"rooms/{other_room}/events"), 403,
           {"error": "invalid append author signature"})  # a proof is bound to its document key
    expect(client.append(path, {"x": 1, "__proto__": 2}, device=dev), 403)  # proofs sign the sanitised data
    expect(client.append(path, {"x": 1}, device=dev), 200)


def test_parallel_appends_and_pushes(client: StarfishClient) -> None:
    dev = writer("events", "shared")
    path = f"rooms/{fresh()}/events"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: client.append(path, {"i": i}, device=dev), range(24)))
    assert all(r.status_code == 200 for r in results)
    stamps = [e["ts"] for e in items(client.pull(path, device=dev, query={"full": "1"}))]
    assert len(stamps) == 24 and stamps == sorted(set(stamps))
    doc = f"shared/{fresh()}"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: client.push(doc, {"i": i}, device=dev), range(12)))
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) == 1
    assert all(r.json() == {"error": "hash_mismatch", "currentHash": winners[0].json()["hash"]}
               for r in results if r is not winners[0])


# ------------------------------------------------------------------------------------------- chunked storage


LOG_CONFIG = {"version": 1, "collections": [
    {"name": "seg", "storagePath": "seg/{room}/{day}", "readRoles": ["public"], "writeRoles": ["public"],
     "encryption": "none", "maxBodyBytes": 65536, "listable": True,
     "appendOnly": {"type": "by_timestamp", "chunkSize": 4, "requireAuthorSignature": False}},
    {"name": "fire", "storagePath": "fire/{room}", "readRoles": ["public"], "writeRoles": ["public"],
     "encryption": "none", "maxBodyBytes": 65536,
     "appendOnly": {"type": "by_timestamp", "persist": False, "requireAuthorSignature": False}},
]}


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_chunked_log_over_http_never_leaks_segments(tmp_path: Any, store_kind: str) -> None:
    store = SqliteStore(str(tmp_path / "s.db")) if store_kind == "sqlite" else MemoryStore()
    server = ServerThread(LOG_CONFIG, store=store)
    try:
        client = server.client()
        room = fresh()
        for day in ("d1", "d2"):
            for i in range(11):
                expect(client.append(f"seg/{room}/{day}", {"i": i}, author=None), 200)
        assert client.list(f"seg/{room}").json() == {"items": ["d1", "d2"], "hasMore": False}
        got = items(client.pull(f"seg/{room}/d1", query={"last": 6}))
        assert [e["data"]["i"] for e in got] == list(range(5, 11))
        stamps = [e["ts"] for e in items(client.pull(f"seg/{room}/d1", query={"full": "1"}))]
        assert [e["ts"] for e in items(client.pull(f"seg/{room}/d1", query={"checkpoint": stamps[5]}))] == stamps[6:]
        fired = client.append(f"fire/{room}", {"k": 1}, author=None, ts=123)
        expect(fired, 200)
        assert fired.json()["timestamp"] == 123
        assert client.pull(f"fire/{room}").json()["hash"] == ""  # persist:false stores nothing
    finally:
        server.stop()


@pytest.mark.parametrize("chunk_size", [None, 1, 3, 7])
def test_sqlite_log_reads_match_memory(tmp_path: Any, chunk_size: int | None) -> None:
    rng = random.Random(chunk_size or 0)
    memory, sqlite = MemoryStore(), SqliteStore(str(tmp_path / "log.db"))
    ts = 0
    for count in range(1, 41):
        ts += rng.randint(1, 5)
        element = dumps({"ts": ts, "data": {"n": count}})
        for store in (memory, sqlite):
            store.log_append("k", ts, element, LogHead(count, ts, "h"), chunk_size)
    for _ in range(200):
        after = rng.choice([None, 0, rng.randint(0, ts + 2)])
        last = rng.choice([None, 0, 1, rng.randint(1, 45)])
        assert sqlite.log_read("k", after, last) == memory.log_read("k", after, last), (after, last)
    assert sqlite.log_head("k") == memory.log_head("k")
    sqlite.close()
