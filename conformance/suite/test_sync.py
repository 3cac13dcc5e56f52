"""Sync: pull and push of regular JSON documents, hash-based optimistic concurrency (digest §1.6, §1.9, §3)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.suite.support import (
    body_json,
    cap_device,
    expect_error,
    expect_hash,
    expect_ok,
    expect_status,
    fresh,
    root,
)
from protocol.canonical_json import stable_stringify
from protocol.hashing import document_hash

# Every check below works on `shared/{docId}` (cap:read:shared / cap:write:shared) with a fresh device
# and a fresh document, so checks are independent of each other and of their order.
SHARED = "shared"
MISSING_PULL_KEYS = {"data", "hash", "timestamp"}


def _doc() -> str:
    return f"{SHARED}/{fresh()}"


def _is_ms(value: Any) -> bool:
    """An integer Unix-milliseconds timestamp within a day of this machine's clock."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value - time.time() * 1000) < 86_400_000


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


@check("sync.push.response-shape", level=MUST,
       rule="A regular push answers exactly {hash, timestamp}: the data's hash and the write time in integer ms",
       source="digest §1.9, §2, §3.4")
def test_push_response_shape(client):
    device = cap_device(SHARED)
    response = client.push(_doc(), {"k": "v"}, device=device)
    body = expect_ok(response)
    assert set(body) == {"hash", "timestamp"}, f"push body has keys {sorted(body)}, expected hash and timestamp"
    assert body["hash"] == document_hash({"k": "v"}), body
    assert _is_ms(body["timestamp"]), f"timestamp is not integer ms near now: {body}"
    assert "etag" not in response.headers, f"a push response carries no ETag (digest §1.16): {response.headers}"


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
    assert set(conflict) == {"error", "currentHash"}, f"409 body has extra keys: {conflict}"


@check("sync.push.chained", level=MUST,
       rule="Pushes chained on the previous hash all succeed and the last one is what a pull returns",
       source="digest §3.6 rule 4; protocol-push.json pushSuccess")
def test_chained_pushes(client):
    device = cap_device(SHARED)
    path = _doc()
    base = None
    for version in range(1, 5):
        data = {"version": version, "tags": ["x"] * version}
        body = expect_ok(client.push(path, data, base_hash=base, device=device))
        assert body.get("hash") == document_hash(data), f"push {version}: {body}"
        base = body["hash"]
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("data") == {"version": 4, "tags": ["x"] * 4}, pulled
    assert pulled.get("hash") == base, pulled


@check("sync.push.null-on-existing-409", level=MUST,
       rule="baseHash null on an existing document gets 409 hash_mismatch with the current hash",
       source="digest §3.6 rule 3; protocol-push.json 'second push with null baseHash fails'")
def test_null_basehash_on_existing(client):
    device = cap_device(SHARED)
    path = _doc()
    first = expect_ok(client.push(path, {"a": 1}, device=device))
    conflict = expect_error(client.push(path, {"a": 2}, base_hash=None, device=device), 409, "hash_mismatch")
    assert conflict.get("currentHash") == first["hash"], conflict
    assert expect_ok(client.pull(path, device=device)).get("data") == {"a": 1}, "a refused push changed the document"


@check("sync.push.absent-basehash-as-null", level=MUST,
       rule="A push without a baseHash key behaves like baseHash null: accepted on a new document, 409 on an "
            "existing one",
       source="digest §3.6 rule 1 ('Absent is treated like null')")
def test_absent_basehash(client):
    device = cap_device(SHARED)
    path = _doc()
    created = expect_ok(client.request("POST", f"push/{path}", json={"data": {"a": 1}}, device=device))
    assert created.get("hash") == document_hash({"a": 1}), created
    conflict = expect_error(client.request("POST", f"push/{path}", json={"data": {"a": 2}}, device=device), 409,
                            "hash_mismatch")
    assert conflict.get("currentHash") == created["hash"], conflict


@check("sync.push.empty-basehash-on-missing", level=MUST,
       rule='baseHash "" on a document that does not exist is accepted (it equals the missing hash "")',
       source="digest §3.6 rule 4 [V]")
def test_empty_basehash_on_missing(client):
    device = cap_device(SHARED)
    path = _doc()
    body = expect_ok(client.push(path, {"a": "new"}, base_hash="", device=device))
    assert body.get("hash") == document_hash({"a": "new"}), body


@check("sync.push.wrong-basehash-on-missing-409", level=MUST,
       rule='A non-empty baseHash on a missing document gets 409 hash_mismatch with currentHash ""',
       source="digest §3.6 rule 4 [V]; protocol-push.json 'first push with non-null baseHash fails'")
def test_wrong_basehash_on_missing(client):
    device = cap_device(SHARED)
    path = _doc()
    conflict = expect_error(client.push(path, {"a": 1}, base_hash=document_hash({"a": 0}), device=device), 409,
                            "hash_mismatch")
    assert conflict.get("currentHash") == "", conflict
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("hash") == "" and pulled.get("data") == {}, f"a refused push created the document: {pulled}"


@check("sync.push.empty-basehash-on-existing-409", level=MUST,
       rule='baseHash "" on an existing document gets 409 hash_mismatch with the current hash',
       source="digest §3.6 rule 4")
def test_empty_basehash_on_existing(client):
    device = cap_device(SHARED)
    path = _doc()
    first = expect_ok(client.push(path, {"a": 1}, device=device))
    conflict = expect_error(client.push(path, {"a": 2}, base_hash="", device=device), 409, "hash_mismatch")
    assert conflict.get("currentHash") == first["hash"], conflict


@check("sync.push.basehash-type-400", level=MUST,
       rule='A baseHash that is neither a string nor null gets 400 "baseHash must be a string or null"',
       source="digest §3.6 rule 1")
@pytest.mark.parametrize("base_hash", [0, 1, True, [], {}, ["abc"]], ids=["zero", "one", "true", "list", "object",
                                                                         "list-of-str"])
def test_basehash_wrong_type(client, base_hash):
    device = cap_device(SHARED)
    path = _doc()
    body = expect_error(client.request("POST", f"push/{path}", json={"data": {"a": 1}, "baseHash": base_hash},
                                       device=device), 400, "baseHash must be a string or null")
    assert body == {"error": "baseHash must be a string or null"}, body


@check("sync.push.replaces-whole-document", level=MUST,
       rule="A push replaces the whole document: the server never merges old and new data",
       source="digest §3.10 ('The server never merges')")
def test_push_replaces(client):
    device = cap_device(SHARED)
    path = _doc()
    first = expect_ok(client.push(path, {"a": 1, "nested": {"x": 1, "y": 2}}, device=device))
    expect_ok(client.push(path, {"nested": {"z": 3}}, base_hash=first["hash"], device=device))
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("data") == {"nested": {"z": 3}}, f"the server merged documents: {pulled}"
    assert pulled.get("hash") == document_hash({"nested": {"z": 3}}), pulled


@check("sync.pull.missing-200-empty", level=MUST,
       rule='A pull of a missing document is 200 {data: {}, hash: "", timestamp}, with no ETag',
       source="digest §1.6 [V], §1.16")
def test_pull_missing(client):
    device = cap_device(SHARED)
    response = client.pull(_doc(), device=device)
    body = expect_ok(response)
    assert set(body) == MISSING_PULL_KEYS, f"keys {sorted(body)}, expected {sorted(MISSING_PULL_KEYS)}"
    assert body["data"] == {} and body["hash"] == "", body
    assert _is_ms(body["timestamp"]), body
    assert "etag" not in response.headers, f"no ETag for an empty hash: {response.headers}"


@check("sync.pull.roundtrip", level=MUST,
       rule="Push then pull returns the same data and the push's hash, with the pull time as timestamp",
       source="digest §1.6, §3.4; protocol-push.json pushThenPull")
def test_push_then_pull(client):
    device = cap_device(SHARED)
    path = _doc()
    data = {"settings": {"theme": "dark", "lang": "en"}, "items": [1, 2, 3], "flag": True, "none": None}
    pushed = expect_ok(client.push(path, data, device=device))
    response = client.pull(path, device=device)
    pulled = expect_ok(response)
    assert pulled.get("data") == data, pulled
    assert pulled.get("hash") == pushed["hash"] == document_hash(data), (pushed, pulled)
    assert _is_ms(pulled.get("timestamp")) and pulled["timestamp"] >= pushed["timestamp"], (pushed, pulled)
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers


HASH_CASES = {
    "unicode": {"text": "héllo wörld — ✓ 😀 \u2028\u2029 e\u0301 日本語", "é": "accent key", "z": "ascii"},
    "escapes": {"q": "\"quoted\" \\ back / slash \n\t\r\b\f \u0001\u001f \u007f"},
    "nested": {"a": {"b": {"c": [1, {"d": [[], [{}]]}, {"e": None}]}}, "empty": {}, "list": []},
    "literals": {"t": True, "f": False, "n": None, "s": "", "zero": 0},
    "js-number-thresholds": {"n": [1e-6, 1.5e-5, 1e-7, 1.2345e-7, 0.000001234, 1e20, 1e21, 1.5e21,
                                   123456789012345680000.0, 1e300, 5e-324, 1.7976931348623157e308]},
    "integral-floats": {"one": 1.0, "hundred": 100.0, "neg-zero": -0.0, "neg": -2.5, "tenth": 0.1, "third": 1 / 3},
    "safe-integers": {"max": 2**53 - 1, "min": -(2**53 - 1), "big": 1234567890123, "neg": -17},
    "key-order": {"b": 1, "a": 2, "B": 3, "aa": 4, "a0": 5, "_": 6, "~": 7, "10": 8, "9": 9},
}


@check("sync.hash.varied-data", level=MUST,
       rule="For varied data (unicode, escapes, nesting, JS number formatting thresholds) the push hash, pull hash "
            "and ETag all equal our canonical hash, and the pull returns the same data",
       source="digest §3.2, §3.3, §12.5; hash.json")
@pytest.mark.parametrize("name", sorted(HASH_CASES))
def test_hash_varied(client, name):
    data = HASH_CASES[name]
    device = cap_device(SHARED)
    path = _doc()
    expected = document_hash(data)
    pushed = expect_ok(client.push(path, data, device=device))
    assert pushed.get("hash") == expected, f"push hash {pushed.get('hash')} != canonical {expected}"
    response = client.pull(path, device=device)
    pulled = expect_ok(response)
    assert pulled.get("hash") == expected, pulled
    # Numbers are JSON numbers (IEEE doubles): a server may write 2^60 as 1152921504606847000, which Python reads
    # back as a different int; the same data means the same canonical text.
    assert stable_stringify(pulled.get("data")) == stable_stringify(data), pulled
    assert response.headers.get("etag") == f'"{expected}"', response.headers


@check("sync.hash.key-order-code-point", level=MUST,
       rule="Canonical JSON sorts object keys by Unicode code point, so U+FB00 sorts before U+1F600",
       source="hash.json (keys sort by code point: 'ﬀ' before '😀'); digest §3.2 rule 1 and rule 7")
def test_hash_key_order_code_point(client):
    data = {"😀": 1, "ﬀ": 2, "a": 3, "é": 4}
    device = cap_device(SHARED)
    pushed = expect_ok(client.push(_doc(), data, device=device))
    assert pushed.get("hash") == document_hash(data), pushed


UNSAFE_DATA = {
    "keep": 1,
    "__proto__": {"polluted": True},
    "constructor": "x",
    "prototype": 1,
    "__class__": 2,
    "__dict__": 3,
    "nested": {"__proto__": 1, "ok": {"constructor": {}, "fine": True}},
}
SANITIZED_DATA = {"keep": 1, "nested": {"ok": {"fine": True}}}


@check("sync.push.unsafe-keys-sanitized", level=MUST,
       rule="__proto__, constructor, prototype, __class__ and __dict__ are dropped at every object depth; the "
            "stored data and the hash are those of the sanitized object",
       source="digest §3.7, §12.5")
def test_unsafe_keys(client):
    device = cap_device(SHARED)
    path = _doc()
    pushed = expect_ok(client.push(path, UNSAFE_DATA, device=device))
    assert pushed.get("hash") == document_hash(SANITIZED_DATA), \
        f"hash {pushed.get('hash')} is not the sanitized data's {document_hash(SANITIZED_DATA)}"
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("data") == SANITIZED_DATA, pulled
    # the next push must chain on the sanitized hash
    expect_ok(client.push(path, {"keep": 2}, base_hash=document_hash(SANITIZED_DATA), device=device))


@check("sync.etag.quoted-hash", level=MUST, rule='A pull of an existing document carries ETag: "<hash>" (quoted)',
       source="digest §1.6, §1.16")
def test_etag_quoted(client):
    device = cap_device(SHARED)
    path = _doc()
    pushed = expect_ok(client.push(path, {"e": 1}, device=device))
    response = client.pull(path, device=device)
    expect_ok(response)
    assert response.headers.get("etag") == f'"{pushed["hash"]}"', response.headers


@check("sync.etag.if-none-match-304", level=MUST,
       rule="If-None-Match equal to the ETag gives 304 with an empty body",
       source="digest §1.16, §12.9")
def test_if_none_match_304(client):
    device = cap_device(SHARED)
    path = _doc()
    pushed = expect_ok(client.push(path, {"e": 1}, device=device))
    response = client.pull(path, device=device, headers={"If-None-Match": f'"{pushed["hash"]}"'})
    expect_status(response, 304)
    assert response.content == b"", f"304 must have an empty body, got {response.content[:200]!r}"


@check("sync.etag.mismatch-200", level=MUST,
       rule="If-None-Match that is not exactly the current ETag (another hash, unquoted, stale) gives a full 200",
       source="digest §1.16 (exact string comparison)")
@pytest.mark.parametrize("variant", ["other-hash", "unquoted", "stale"])
def test_if_none_match_mismatch(client, variant):
    device = cap_device(SHARED)
    path = _doc()
    first = expect_ok(client.push(path, {"e": 1}, device=device))
    current = expect_ok(client.push(path, {"e": 2}, base_hash=first["hash"], device=device))["hash"]
    header = {"other-hash": f'"{document_hash({"other": True})}"', "unquoted": current,
              "stale": f'"{first["hash"]}"'}[variant]
    response = client.pull(path, device=device, headers={"If-None-Match": header})
    body = expect_ok(response)
    assert body.get("data") == {"e": 2} and body.get("hash") == current, body
    assert response.headers.get("etag") == f'"{current}"', response.headers


@check("sync.pull.checkpoint-ignored", level=SHOULD,
       rule="On a regular collection ?checkpoint= is ignored: the full document comes back, even for garbage",
       source="digest §1.6, §3.5 [V]; protocol-push.json pushThenPull (checkpoint 0 returns the document)")
@pytest.mark.parametrize("checkpoint", ["0", "abc", "99999999999999"])
def test_checkpoint_ignored(client, checkpoint):
    device = cap_device(SHARED)
    path = _doc()
    pushed = expect_ok(client.push(path, {"c": 1}, device=device))
    body = expect_ok(client.pull(path, device=device, query={"checkpoint": checkpoint}))
    assert body.get("data") == {"c": 1} and body.get("hash") == pushed["hash"], body


@check("sync.push.concurrent-one-winner", level=MUST,
       rule="N concurrent pushes with one baseHash: exactly one 200, the rest 409 with currentHash of the winner",
       source="digest §3.6 rule 5, §12.4")
def test_concurrent_pushes(client):
    device = cap_device(SHARED)
    path = _doc()
    base = expect_ok(client.push(path, {"round": 0}, device=device))["hash"]
    workers = 8
    barrier = threading.Barrier(workers)
    # Build (and sign) every request first, then release them together.
    requests = [client.build("POST", f"push/{path}", json={"data": {"writer": i}, "baseHash": base}, device=device)
                for i in range(workers)]

    def send(index: int):
        barrier.wait(timeout=10)
        return client.send(requests[index])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        responses = list(pool.map(send, range(workers)))
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, f"expected exactly one 200, got statuses {[r.status_code for r in responses]}"
    winner_hash = body_json(winners[0]).get("hash")
    winner_index = responses.index(winners[0])
    assert winner_hash == document_hash({"writer": winner_index}), winner_hash
    for response in responses:
        if response is winners[0]:
            continue
        body = expect_error(response, 409, "hash_mismatch")
        assert body.get("currentHash") == winner_hash, f"409 currentHash {body.get('currentHash')} != winner"
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("data") == {"writer": winner_index} and pulled.get("hash") == winner_hash, pulled


@check("sync.author.proof-roundtrip", level=MUST,
       rule="A push with a valid document author proof stores it: the pull returns authorPubkey and "
            "authorSignature; a later push without a proof drops them",
       source="digest §3.1, §3.8")
def test_author_proof_roundtrip(client):
    device = cap_device(SHARED)
    path = _doc()
    pushed = expect_ok(client.push(path, {"signed": True}, device=device, author=device))
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("authorPubkey") == device.key.pub, pulled
    assert isinstance(pulled.get("authorSignature"), str) and pulled["authorSignature"], pulled
    expect_ok(client.push(path, {"signed": False}, base_hash=pushed["hash"], device=device))
    pulled = expect_ok(client.pull(path, device=device))
    assert "authorPubkey" not in pulled and "authorSignature" not in pulled, \
        f"a push without a proof must drop the stored proof: {pulled}"


@check("sync.author.bad-signature-403", level=MUST,
       rule='A document author proof that does not verify over this document key gets 403 "invalid document '
            'author signature" and stores nothing',
       source="digest §3.8")
def test_author_bad_signature(client):
    device = cap_device(SHARED)
    path = _doc()
    # signed for another document key: the proof binds the key, so it must not verify here
    response = client.push(path, {"signed": True}, device=device, author=device, document_key=_doc())
    expect_error(response, 403, "invalid document author signature")
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("hash") == "", f"a refused push stored data: {pulled}"
