"""Sync: pull and push of regular JSON documents, hash-based optimistic concurrency (digest §1.6, §1.9, §3)."""

from __future__ import annotations

from conformance.checks import MUST, check
from conformance.suite.support import cap_device, expect_error, expect_hash, expect_ok, fresh, root
from protocol.hashing import document_hash


@check("sync.health.ok", level=MUST, rule="GET /health answers 200 {ok: true, ts: <ms>} without auth",
       source="digest §1.4")
def test_health(client):
    body = expect_ok(client.request("GET", "health"))
    assert body.get("ok") is True, body
    assert isinstance(body.get("ts"), int) and not isinstance(body.get("ts"), bool), body


@check("sync.push.first-null-basehash", level=MUST,
       rule="The first push of a document with baseHash null succeeds with {hash, timestamp}",
       source="digest §3.6; protocol-push.json pushSuccess")
def test_first_push(client):
    device = root()
    path = f"users/{device.identity}/notes"
    body = expect_ok(client.push(path, {"a": 1}, device=device))
    expect_hash(body.get("hash"))
    assert isinstance(body.get("timestamp"), int), body


@check("sync.push.hash-parity", level=MUST,
       rule="The hash a push returns is SHA-256 of the canonical JSON of the data",
       source="digest §3.2, §3.3; hash.json")
def test_hash_parity(client):
    device = root()
    data = {"b": [1, 2.5, "x"], "a": {"z": None, "y": True}, "n": 1e21}
    body = expect_ok(client.push(f"users/{device.identity}/notes", data, device=device))
    assert body["hash"] == document_hash(data), body


@check("sync.push.stale-basehash-409", level=MUST,
       rule="A push whose baseHash is not the current hash gets 409 hash_mismatch with currentHash",
       source="digest §3.6; protocol-push.json pushConflict; http-errors.json hash_mismatch")
def test_stale_basehash(client):
    device = cap_device("shared")
    path = f"shared/{fresh()}"
    first = expect_ok(client.push(path, {"v": 1}, device=device))
    expect_ok(client.push(path, {"v": 2}, base_hash=first["hash"], device=device))
    conflict = expect_error(client.push(path, {"v": 3}, base_hash=first["hash"], device=device), 409,
                            "hash_mismatch")
    assert conflict.get("currentHash") == document_hash({"v": 2}), conflict
