"""The two stateful sequences of issue 6, driven directly (not through OpenAPI links).

Schemathesis 4 runs stateful sequences from OpenAPI `links` (or links it infers from `Location`
headers and matching parameter names), but neither the reference server's document nor the official
generator declares links, and a pull-after-push link needs the *same* path parameters and a signer
that owns them, which inference cannot know. So the sequences are run here, on the operations the
target's document names (`push_<c>`/`pull_<c>` operation ids, or the profile's routes):

- `fuzz.stateful.push-pull`: push random documents, then pull: the pull returns the pushed hash
  (equal to our own canonical hash of the data) and the data;
- `fuzz.stateful.append-checkpoint`: append elements, then pull with `checkpoint` = the first
  element's ts: exactly the later elements come back, in order; `checkpoint=0` returns them all.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.client import StarfishClient
from conformance.fuzz_auth import IdentityPool
from protocol.hashing import document_hash


@dataclass
class SequenceResult:
    id: str
    rule: str
    ok: bool | None
    detail: str
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0


def _template(document: dict[str, Any], operation_id: str, fallback: str) -> str | None:
    for path, item in (document.get("paths") or {}).items():
        for op in (item or {}).values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return path
    paths = document.get("paths") or {}
    return fallback if fallback in paths else None


def _fill(template: str, identity: str) -> str:
    return re.sub(r"\{([^}/]+)\}", lambda m: identity if m.group(1) == "identity" else "fz" + secrets.token_hex(6),
                  template).lstrip("/").split("/", 1)[1]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(6 if depth < 2 else 4)
    if kind == 0:
        return rng.randrange(-(2**31), 2**31)
    if kind == 1:
        return "".join(rng.choice("abcxyz É中😀 \"\\") for _ in range(rng.randrange(8)))
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.randrange(10**6) / 8
    if kind == 4:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.randrange(4))}


def _record(exchanges: list[dict[str, Any]], response: httpx.Response) -> None:
    request = response.request
    exchanges.append({"request": {"method": request.method, "url": str(request.url), "headers": dict(request.headers),
                                  "body": request.content.decode("utf-8", "replace")[:2000]},
                      "response": {"status": response.status_code, "headers": dict(response.headers),
                                   "body": response.text[:2000]}})
    del exchanges[:-6]


def push_pull(document: dict[str, Any], base_url: str, pool: IdentityPool, seed: int, rounds: int = 5,
              collection: str = "notes") -> SequenceResult:
    rule = "push then pull: the pull returns the pushed hash (our canonical hash of the data) and the data"
    result = SequenceResult("fuzz.stateful.push-pull", rule, True, "")
    push_t = _template(document, f"push_{collection}", "/push/users/{identity}/notes")
    pull_t = _template(document, f"pull_{collection}", "/pull/users/{identity}/notes")
    if not push_t or not pull_t:
        result.ok, result.detail = None, f"the document has no push_{collection}/pull_{collection} operations"
        return result
    rng = random.Random(seed)
    started = time.monotonic()
    with httpx.Client(timeout=10.0) as http, StarfishClient(base_url, client=http) as client:
        last_hash: dict[str, str] = {}
        for _ in range(rounds):
            device = pool.next()
            path = _fill(push_t, device.identity)
            data = {f"f{i}": _random_value(rng) for i in range(rng.randrange(1, 5))}
            # Each round updates the signer's document from the hash it last saw (optimistic concurrency).
            pushed = client.push(path, data, device=device, base_hash=last_hash.get(path))
            _record(result.exchanges, pushed)
            if pushed.status_code != 200:
                result.ok, result.detail = False, f"push answered {pushed.status_code}: {pushed.text[:300]}"
                break
            pulled = client.pull(path, device=device)
            _record(result.exchanges, pulled)
            body = pulled.json() if pulled.status_code == 200 else {}
            want = document_hash(data)
            problems = []
            if pulled.status_code != 200:
                problems.append(f"pull answered {pulled.status_code}")
            if pushed.json().get("hash") != want:
                problems.append(f"push hash {pushed.json().get('hash')!r} != canonical hash {want!r}")
            if body.get("hash") != pushed.json().get("hash"):
                problems.append(f"pull hash {body.get('hash')!r} != pushed hash {pushed.json().get('hash')!r}")
            if body.get("data") != data:
                problems.append("pull data differs from the pushed data")
            if problems:
                result.ok, result.detail = False, "; ".join(problems)
                break
            last_hash[path] = body["hash"]
    result.duration_s = round(time.monotonic() - started, 3)
    if result.ok:
        result.exchanges = []
    return result


def append_checkpoint(document: dict[str, Any], base_url: str, pool: IdentityPool, seed: int, count: int = 4,
                      collection: str = "events") -> SequenceResult:
    rule = ("append then pull with checkpoint = the first element's ts: exactly the later elements, in order; "
            "checkpoint=0 returns them all")
    result = SequenceResult("fuzz.stateful.append-checkpoint", rule, True, "")
    push_t = _template(document, f"push_{collection}", "/push/rooms/{roomId}/events")
    pull_t = _template(document, f"pull_{collection}", "/pull/rooms/{roomId}/events")
    if not push_t or not pull_t:
        result.ok, result.detail = None, f"the document has no push_{collection}/pull_{collection} operations"
        return result
    rng = random.Random(seed)
    device = pool.next()
    path = _fill(push_t, device.identity)
    started = time.monotonic()
    with httpx.Client(timeout=10.0) as http, StarfishClient(base_url, client=http) as client:
        stamps, items = [], []
        for _ in range(count):
            data = {"n": len(items), "v": _random_value(rng)}
            appended = client.append(path, data, device=device)
            _record(result.exchanges, appended)
            if appended.status_code != 200:
                result.ok, result.detail = False, f"append answered {appended.status_code}: {appended.text[:300]}"
                break
            stamps.append(appended.json().get("timestamp"))
            items.append(data)
        if result.ok:
            for checkpoint, expected in ((stamps[0], items[1:]), (0, items)):
                pulled = client.pull(path, device=device, query={"checkpoint": str(checkpoint)})
                _record(result.exchanges, pulled)
                elements = ((pulled.json().get("data") or {}).get("items") if pulled.status_code == 200 else None)
                got = [e.get("data") for e in elements] if isinstance(elements, list) else None
                if got != expected:
                    result.ok = False
                    result.detail = (f"pull ?checkpoint={checkpoint} answered {pulled.status_code} with "
                                     f"{got!r}, expected {expected!r}")[:1500]
                    break
    result.duration_s = round(time.monotonic() - started, 3)
    if result.ok:
        result.exchanges = []
    return result
