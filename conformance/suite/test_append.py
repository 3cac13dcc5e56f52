"""Append-only logs, push side: POST /push on `appendOnly` collections (digest §1.10, §3.3, §4.2, §4.4, §12.4, §12.6).

Rules that hold for every log run against both `events` (single-document layout) and `chunked`
(`chunkSize: 100`, segmented storage): the wire format must not depend on the storage layout.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conformance.checks import MUST, check
from conformance.suite.append_support import (
    FUTURE_LIMIT_MS,
    LOGS,
    TS_IN_FUTURE,
    TS_NOT_INTEGER,
    Log,
    append_ok,
    fill,
    new_log,
    pull,
    pulled,
    server_now,
    stamps_of,
)
from conformance.suite.support import cap_device, expect_error, expect_ok, fresh, root
from protocol.author import sign_append_author, sign_doc_author
from protocol.encoding import b64decode, b64encode
from protocol.hashing import append_hash, sanitize
from protocol.keys import SigningKey

logs = pytest.mark.parametrize("collection", LOGS)


def post(client, log: Log, body: dict[str, Any], **kwargs: Any):
    """POST a hand-built append body, signed by the log's device."""
    return client.request("POST", "push/" + log.path, json=body, device=log.device, **kwargs)


# ----------------------------------------------------------------------------------- response and timestamps


@check("append.push.response-hash-timestamp", level=MUST,
       rule="An append answers 200 {hash: hash({n: count, last: data}), timestamp: element ts}",
       source="digest §1.10, §3.3, §4.2 step 7")
@logs
def test_response_hash_timestamp(client, collection):
    log = new_log(collection)
    stamps = [append_ok(client, log, {"k": k, "s": "x" * k}, count=k) for k in (1, 2, 3)]
    assert stamps == sorted(set(stamps)), f"element timestamps must strictly increase: {stamps}"
    assert stamps_of(pull(client, log, {"full": "true"})) == stamps, "the returned timestamps are the stored ts"


@check("append.push.server-ts-clock", level=MUST,
       rule="Without a client ts the server assigns max(server now, last ts + 1)",
       source="digest §3.4, §4.2 step 4")
@logs
def test_server_ts_clock(client, collection):
    log = new_log(collection)
    previous = -1
    for k in (1, 2, 3):
        before = server_now(client)
        stamp = append_ok(client, log, {"k": k}, count=k)
        after = server_now(client)
        low, high = max(before, previous + 1), max(after, previous + 1)
        assert low <= stamp <= high, \
            f"append #{k}: ts {stamp} is not max(server now, last+1) (server clock {before}..{after}, last {previous})"
        previous = stamp


@check("append.push.server-ts-after-future-client-ts", level=MUST,
       rule="After a client ts ahead of the clock, server-assigned ts continue at last ts + 1",
       source="digest §4.2 step 4")
@logs
def test_server_ts_after_future_client_ts(client, collection):
    log = new_log(collection)
    ahead = server_now(client) + 200_000
    append_ok(client, log, {"k": 1}, count=1, ts=ahead)
    assert append_ok(client, log, {"k": 2}, count=2) == ahead + 1
    assert append_ok(client, log, {"k": 3}, count=3) == ahead + 2


@check("append.push.client-ts-accepted", level=MUST,
       rule="A client ts greater than the last stored ts (-1 for an empty log, so 0 works) is stored as given",
       source="digest §1.10, §4.2 step 3")
@logs
def test_client_ts_accepted(client, collection):
    log = new_log(collection)
    fill(client, log, [0, 5, 6, 1_000])
    assert stamps_of(pull(client, log, {"full": "true"})) == [0, 5, 6, 1_000]


@check("append.push.ts-not-monotonic-409", level=MUST,
       rule="A client ts equal to or lower than the last ts gets 409 {error: non_monotonic_timestamp} (no latest)",
       source="digest §1.10, §4.2 step 3, §11 row 11")
@logs
def test_ts_not_monotonic(client, collection):
    log = new_log(collection)
    append_ok(client, log, {"k": 1}, count=1, ts=100)
    for stale in (100, 99, 0):
        response = client.append(log.path, {"k": "stale"}, device=log.device, ts=stale)
        body = expect_error(response, 409, "non_monotonic_timestamp")
        assert body == {"error": "non_monotonic_timestamp"}, f"ts {stale}: expected exactly the error, got {body!r}"
    append_ok(client, log, {"k": 2}, count=2, ts=101)  # nothing was stored by the rejected appends


@check("append.push.ts-not-integer-400", level=MUST,
       rule="A ts that is not a non-negative JSON integer gets 400 'ts must be a non-negative integer'",
       source="digest §4.2 step 3")
@logs
def test_ts_not_integer(client, collection):
    log = new_log(collection)
    data = {"k": 1}
    proof = sign_append_author(log.device.key, log.path, data)
    for bad_ts in (1.5, True, -1, "5", [5]):
        response = post(client, log, {"data": data, "ts": bad_ts, **proof})
        assert response.status_code == 400, f"ts {bad_ts!r}: expected 400, got {response.status_code}"
        expect_error(response, 400, TS_NOT_INTEGER)
    append_ok(client, log, data, count=1)


@check("append.push.ts-too-far-future-400", level=MUST,
       rule="A client ts beyond server now + 300000 ms gets 400 'ts is too far in the future'",
       source="digest §4.2 step 3, §12.6")
@logs
def test_ts_too_far_future(client, collection):
    log = new_log(collection)
    # The request reaches the server well within 20 s of the clock reading, so this ts stays past the limit.
    too_far = server_now(client) + FUTURE_LIMIT_MS + 20_000
    expect_error(client.append(log.path, {"k": 1}, device=log.device, ts=too_far), 400, TS_IN_FUTURE)
    expect_error(client.append(log.path, {"k": 1}, device=log.device, ts=2**62), 400, TS_IN_FUTURE)
    append_ok(client, log, {"k": 2}, count=1)


@check("append.push.ts-future-limit-accepted", level=MUST,
       rule="A client ts of exactly server now + 300000 ms is accepted (the limit is inclusive)",
       source="digest §4.2 step 3")
@logs
def test_ts_future_limit_accepted(client, collection):
    log = new_log(collection)
    # The server's clock only moves on after /health answered, so this ts is at most its now + 300000.
    at_limit = server_now(client) + FUTURE_LIMIT_MS
    append_ok(client, log, {"k": 1}, count=1, ts=at_limit)


# --------------------------------------------------------------------------------------------- body rules


@check("append.push.missing-data-400", level=MUST,
       rule="An append whose data is missing or not an object gets 400 'Missing or invalid data'",
       source="digest §3.7, §4.2 step 1")
@logs
def test_missing_data(client, collection):
    log = new_log(collection)
    for body in ({}, {"data": [1]}, {"data": "x"}, {"data": None}, {"items": {"k": 1}}):
        response = post(client, log, body)
        assert response.status_code == 400, f"body {body!r}: expected 400, got {response.status_code}"
        expect_error(response, 400, "Missing or invalid data")


@check("append.push.basehash-ignored", level=MUST,
       rule="An append ignores baseHash: a stale or null baseHash is not a conflict",
       source="digest §1.10, §4.2 step 9")
@logs
def test_basehash_ignored(client, collection):
    log = new_log(collection)
    for count, base in enumerate(("0" * 64, None, ""), start=1):
        data = {"k": count}
        body = {"data": data, "baseHash": base, **sign_append_author(log.device.key, log.path, data)}
        answer = expect_ok(post(client, log, body))
        assert answer.get("hash") == append_hash(count, data), f"baseHash {base!r}: {answer!r}"


@check("append.push.sanitized-data", level=MUST,
       rule="Unsafe keys are dropped at every object depth; the proof, stored element and hash use the sanitized data",
       source="digest §3.7, §4.2 steps 1, 2, 6, 7")
@logs
def test_sanitized_data(client, collection):
    log = new_log(collection)
    raw = {"keep": 1, "constructor": {"x": 1}, "__proto__": {"polluted": True},
           "nested": {"prototype": 2, "__class__": 3, "__dict__": 4, "ok": {"__proto__": 5, "deep": True}}}
    clean = sanitize(raw)
    assert clean == {"keep": 1, "nested": {"ok": {"deep": True}}}
    body = {"data": raw, **sign_append_author(log.device.key, log.path, clean)}
    answer = expect_ok(post(client, log, body))
    assert answer.get("hash") == append_hash(1, clean), f"expected the hash of the sanitized data: {answer!r}"
    _, elements = pulled(pull(client, log, {"full": "true"}))
    assert [e.get("data") for e in elements] == [clean], f"expected the sanitized data stored: {elements!r}"


@check("append.push.write-role-required", level=MUST,
       rule="An append needs a writeRoles role: a read-only cap gets 403 {error: Forbidden} and nothing is stored",
       source="digest §6.1 push step 2, §6.2")
@logs
def test_write_role_required(client, collection):
    log = new_log(collection)
    reader = cap_device(collection, ("read",))
    response = client.append(log.path, {"k": 1}, device=reader)
    assert expect_error(response, 403, "Forbidden") == {"error": "Forbidden"}
    append_ok(client, log, {"k": 2}, count=1)


# ------------------------------------------------------------------------------------------------ maxItems


def full_capped(client) -> Log:
    log = new_log("capped")
    fill(client, log, [10, 20, 30, 40, 50])
    return log


LIMIT_BODY = {"error": "append_limit_exceeded", "limit": 5}


@check("append.push.limit-exceeded-409", level=MUST,
       rule="An append to a log holding maxItems elements gets 409 {error: append_limit_exceeded, limit: maxItems}",
       source="digest §1.10, §4.1, §4.2 step 5, §12.6")
def test_limit_exceeded(client):
    log = full_capped(client)
    for ts in (None, 60):
        body = expect_error(client.append(log.path, {"k": 6}, device=log.device, ts=ts), 409)
        assert body == LIMIT_BODY, f"expected exactly {LIMIT_BODY}: {body!r}"
    assert stamps_of(pull(client, log, {"full": "true"})) == [10, 20, 30, 40, 50]


@check("append.push.limit-after-ts-validation", level=MUST,
       rule="On a full log, the 400 ts checks still win over append_limit_exceeded",
       source="digest §4.2 step 5")
def test_limit_after_ts_validation(client):
    log = full_capped(client)
    data = {"k": 6}
    body = {"data": data, "ts": 1.5, **sign_append_author(log.device.key, log.path, data)}
    expect_error(post(client, log, body), 400, TS_NOT_INTEGER)
    too_far = server_now(client) + FUTURE_LIMIT_MS + 20_000
    expect_error(client.append(log.path, data, device=log.device, ts=too_far), 400, TS_IN_FUTURE)


@check("append.push.limit-before-monotonic", level=MUST,
       rule="On a full log, a non-monotonic ts gets append_limit_exceeded, not non_monotonic_timestamp",
       source="digest §4.2 step 5")
def test_limit_before_monotonic(client):
    log = full_capped(client)
    for stale in (50, 1):
        body = expect_error(client.append(log.path, {"k": 6}, device=log.device, ts=stale), 409)
        assert body == LIMIT_BODY, f"ts {stale}: expected exactly {LIMIT_BODY}: {body!r}"


# ------------------------------------------------------------------------------------------- author proof


APPEND_AUTHOR_FIELDS = "append requires authorPubkey and authorSignature"
BAD_SIGNATURE = "invalid append author signature"


@check("append.push.author-required-400", level=MUST,
       rule="An append without both authorPubkey and authorSignature as strings gets 400 "
            "'append requires authorPubkey and authorSignature'",
       source="digest §4.1 requireAuthorSignature, §4.2 step 2")
@logs
def test_author_required(client, collection):
    log = new_log(collection)
    data = {"k": 1}
    proof = sign_append_author(log.device.key, log.path, data)
    proofs = {
        "none": {},
        "pubkey-only": {"authorPubkey": proof["authorPubkey"]},
        "signature-only": {"authorSignature": proof["authorSignature"]},
        "signature-number": {"authorPubkey": proof["authorPubkey"], "authorSignature": 7},
        "pubkey-null": {"authorPubkey": None, "authorSignature": proof["authorSignature"]},
    }
    for variant, fields in proofs.items():
        response = post(client, log, {"data": data, **fields})
        assert response.status_code == 400, f"{variant}: expected 400, got {response.status_code}"
        expect_error(response, 400, APPEND_AUTHOR_FIELDS)
    append_ok(client, log, {"k": 2}, count=1)


@check("append.push.author-not-presenter-403", level=MUST,
       rule="A cap-authenticated append whose authorPubkey is not the request presenter gets 403 "
            "'append author must be the request presenter'",
       source="digest §4.2 step 2, §11 row 9")
@logs
def test_author_not_presenter(client, collection):
    log = new_log(collection)
    other = root()
    response = client.append(log.path, {"k": 1}, device=log.device, author=other)  # a valid proof by another key
    expect_error(response, 403, "append author must be the request presenter")
    append_ok(client, log, {"k": 2}, count=1)


@check("append.push.author-bad-signature-403", level=MUST,
       rule="An author signature that does not verify over the data gets 403 'invalid append author signature'",
       source="digest §4.2 step 2, §5.3")
@logs
def test_author_bad_signature(client, collection):
    log = new_log(collection)
    data = {"k": 1}
    proof = sign_append_author(log.device.key, log.path, data)
    flipped = bytearray(b64decode(proof["authorSignature"]))
    flipped[10] ^= 0x01
    signatures = {
        "other-data": sign_append_author(log.device.key, log.path, {"k": 2})["authorSignature"],
        "zero-bytes": b64encode(bytes(64)),
        "flipped-bit": b64encode(bytes(flipped)),
    }
    for variant, signature in signatures.items():
        response = post(client, log, {"data": data, **proof, "authorSignature": signature})
        assert response.status_code == 403, f"{variant}: expected 403, got {response.status_code}"
        expect_error(response, 403, BAD_SIGNATURE)
    append_ok(client, log, {"k": 3}, count=1)


@check("append.push.author-other-document-403", level=MUST,
       rule="An author signature bound to another document key gets 403 'invalid append author signature'",
       source="digest §4.2 step 2, §3.8 (document key without namespace or /push/ prefix)")
@logs
def test_author_other_document(client, collection):
    log = new_log(collection)
    room = log.path.split("/")[1]
    keys = {
        "other-room": f"rooms/{fresh('r')}/{collection}",
        "push-prefix": f"push/{log.path}",
        "other-collection": f"rooms/{room}/{'chunked' if collection == 'events' else 'events'}",
    }
    for variant, key in keys.items():
        response = client.append(log.path, {"k": 1}, device=log.device, document_key=key)
        assert response.status_code == 403, f"proof for {variant} key {key!r}: expected 403, got {response.status_code}"
        expect_error(response, 403, BAD_SIGNATURE)
    append_ok(client, log, {"k": 2}, count=1)


@check("append.push.author-doc-domain-403", level=MUST,
       rule="A proof signed in the document-author domain is not an append proof (403 'invalid append author "
            "signature')",
       source="digest §3.8, §4.2 step 2, §5.3 (domain tags)")
@logs
def test_author_doc_domain(client, collection):
    log = new_log(collection)
    data = {"k": 1}
    body = {"data": data, **sign_doc_author(log.device.key, log.path, data)}
    expect_error(post(client, log, body), 403, BAD_SIGNATURE)


# -------------------------------------------------------------------------------------------- concurrency


@check("append.push.concurrent", level=MUST,
       rule="N parallel appends to one log all get 200 with distinct counts and strictly increasing ts; "
            "the log then holds N elements",
       source="digest §4.2 step 9, §12.4")
@logs
def test_concurrent_appends(client, collection):
    log = new_log(collection)
    n = 12
    requests = []
    for i in range(n):
        data = {"worker": i}
        body = {"data": data, **sign_append_author(log.device.key, log.path, data)}
        requests.append(client.build("POST", "push/" + log.path, json=body, device=log.device))
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = client.send(requests[i])
        except Exception as exc:  # reported below as this request's outcome
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for i, result in enumerate(results):
        assert not isinstance(result, BaseException) and result is not None, f"append {i}: {result!r}"
    answers = [expect_ok(result) for result in results]
    by_count: dict[int, tuple[int, int]] = {}
    for i, answer in enumerate(answers):
        count = next((k for k in range(1, n + 1) if append_hash(k, {"worker": i}) == answer.get("hash")), None)
        assert count is not None, f"append {i}: hash is not hash({{n: 1..{n}, last: data}}): {answer!r}"
        assert count not in by_count, f"two appends reported the same count {count}: {answers!r}"
        by_count[count] = (answer["timestamp"], i)
    ordered = [by_count[k] for k in range(1, n + 1)]
    stamps = [stamp for stamp, _ in ordered]
    assert stamps == sorted(set(stamps)), f"ts must strictly increase with the count: {ordered}"
    _, elements = pulled(pull(client, log, {"full": "true"}))
    assert [(e["ts"], e.get("data")) for e in elements] == [(ts, {"worker": i}) for ts, i in ordered], \
        f"expected the {n} elements in count order: {elements!r}"


# ----------------------------------------------------------------------------------- anonymous public append


def wall() -> str:
    return f"walls/{fresh('w')}"


@check("append.public.anonymous-with-proof", level=MUST,
       rule="A public-write log accepts an append with no Authorization and a valid author proof by any key",
       source="digest §4.4; seeds/002 (appendAnonymous)")
def test_anonymous_with_proof(client):
    path, sender = wall(), SigningKey.generate()
    data = {"type": "space-invite", "from": "bob"}
    proof = sign_append_author(sender, path, data)
    response = client.request("POST", "push/" + path, json={"data": data, **proof})
    assert "authorization" not in response.request.headers
    answer = expect_ok(response)
    assert answer.get("hash") == append_hash(1, data), answer
    _, elements = pulled(client.pull(path, query={"last": "1"}))
    assert elements == [{"ts": answer["timestamp"], "data": data, **proof}], elements


@check("append.public.anonymous-without-proof-400", level=MUST,
       rule="An anonymous append without an author proof gets 400 'append requires authorPubkey and authorSignature'",
       source="digest §4.4, §11 row 10; seeds/002")
def test_anonymous_without_proof(client):
    path = wall()
    expect_error(client.request("POST", "push/" + path, json={"data": {"k": 1}}), 400, APPEND_AUTHOR_FIELDS)
    pulled_body, elements = pulled(client.pull(path, query={"full": "true"}))
    assert elements == [] and pulled_body["hash"] == "", f"nothing may be stored: {pulled_body!r}"


@check("append.public.anonymous-bad-signature-403", level=MUST,
       rule="An anonymous append is still bound to its proof: a signature for another wall gets 403 "
            "'invalid append author signature'",
       source="digest §4.2 step 2, §4.4; seeds/002 (server verification)")
def test_anonymous_bad_signature(client):
    path, sender = wall(), SigningKey.generate()
    data = {"k": 1}
    proof = sign_append_author(sender, wall(), data)
    expect_error(client.request("POST", "push/" + path, json={"data": data, **proof}), 403, BAD_SIGNATURE)
