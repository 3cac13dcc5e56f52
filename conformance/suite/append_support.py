"""Helpers shared by the append-only checks (test_append*.py): fresh logs, the server clock, reading a pull.

A log is a fresh room under one append-only collection of the profile, written by a fresh device whose
cap names exactly that collection (it earns `cap:read:<name>` and `cap:write:<name>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from conformance.client import StarfishClient
from conformance.identities import Device
from conformance.suite.support import body_json, cap_device, expect_ok, expect_status, fresh
from protocol.hashing import append_hash

# The append-only collections that hold the same rules, unchunked and chunked (profile: `events`, `chunked`).
LOGS = ("events", "chunked")
# The error strings of digest §1.7 and §4.2, exactly.
TS_NOT_INTEGER = "ts must be a non-negative integer"
TS_IN_FUTURE = "ts is too far in the future"
FUTURE_LIMIT_MS = 300_000


@dataclass
class Log:
    """One fresh append-only document: its collection, path (= document key) and a device that may write it."""

    collection: str
    path: str
    device: Device
    field: str = "items"


def new_log(collection: str, *, field: str = "items") -> Log:
    return Log(collection, f"rooms/{fresh('r')}/{collection}", cap_device(collection), field)


def server_now(client: StarfishClient) -> int:
    """The server's clock (GET /health `ts`), so timing checks never depend on the harness's clock."""
    body = expect_ok(client.request("GET", "health"))
    ts = body.get("ts")
    assert isinstance(ts, int) and not isinstance(ts, bool), f"GET /health: expected an integer ts, got {body!r}"
    return ts


def append_ok(client: StarfishClient, log: Log, data: dict[str, Any], *, count: int, ts: int | None = None,
              **kwargs: Any) -> int:
    """Append `data`, expect exactly `{hash: append_hash(count, data), timestamp}` and return the timestamp."""
    body = expect_ok(client.append(log.path, data, device=log.device, ts=ts, **kwargs))
    assert set(body) == {"hash", "timestamp"}, f"expected exactly {{hash, timestamp}}, got {body!r}"
    assert body["hash"] == append_hash(count, data), \
        f"expected hash of {{n: {count}, last: data}} = {append_hash(count, data)}, got {body!r}"
    stamp = body["timestamp"]
    assert isinstance(stamp, int) and not isinstance(stamp, bool), f"expected an integer timestamp: {body!r}"
    if ts is not None:
        assert stamp == ts, f"expected the element ts {ts} as timestamp: {body!r}"
    return stamp


def fill(client: StarfishClient, log: Log, stamps: list[int]) -> list[int]:
    """Append `{"i": k}` at each client ts in `stamps` (k counts from 1); returns the stamps."""
    for k, stamp in enumerate(stamps, start=1):
        append_ok(client, log, {"i": k}, count=k, ts=stamp)
    return stamps


def pull(client: StarfishClient, log: Log, query: Any = None, **kwargs: Any) -> httpx.Response:
    return client.pull(log.path, device=log.device, query=query, **kwargs)


def pulled(response: httpx.Response, field: str = "items") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A 200 append pull: `(body, elements)`, checking the `{data: {<field>: [...]}, hash, timestamp}` shape."""
    expect_status(response, 200)
    body = body_json(response)
    assert isinstance(body, dict), f"expected a JSON object: {body!r}"
    data = body.get("data")
    assert isinstance(data, dict) and isinstance(data.get(field), list), \
        f"expected data.{field} to be an array: {str(body)[:300]}"
    assert isinstance(body.get("hash"), str), f"expected a string hash: {str(body)[:300]}"
    assert isinstance(body.get("timestamp"), int), f"expected an integer timestamp: {str(body)[:300]}"
    elements = data[field]
    for element in elements:
        assert isinstance(element, dict) and isinstance(element.get("ts"), int), \
            f"expected envelopes {{ts, data, ...}}, got {element!r}"
    return body, elements


def stamps_of(response: httpx.Response, field: str = "items") -> list[int]:
    """The element timestamps of a 200 append pull, in the order returned."""
    return [element["ts"] for element in pulled(response, field)[1]]
