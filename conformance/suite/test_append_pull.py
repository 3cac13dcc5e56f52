"""Append-only logs, pull side: GET /pull on `appendOnly` collections (digest §1.7, §1.16, §4.3, §4.5, §12.6).

Rules that hold for every log run against both `events` (single-document layout) and `chunked`
(`chunkSize: 100`); `strictlog` (field `entries`, `allowFull: false`, `maxPullLimit: 50`,
`maxCheckpointAgeMs: 86400000`) carries the per-collection options.
"""

from __future__ import annotations

import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.suite.append_support import (
    LOGS,
    append_ok,
    fill,
    new_log,
    pull,
    pulled,
    server_now,
    stamps_of,
)
from conformance.suite.support import body_json, expect_error, expect_status
from protocol.author import sign_append_author
from protocol.hashing import append_hash

logs = pytest.mark.parametrize("collection", LOGS)
DAY_MS = 86_400_000  # strictlog's maxCheckpointAgeMs


def five(client, collection: str):
    """A fresh log holding elements at ts 10, 20, 30, 40, 50."""
    log = new_log(collection)
    fill(client, log, [10, 20, 30, 40, 50])
    return log


# ---------------------------------------------------------------------------------------------- bounds


@check("append.pull.bound-required", level=MUST,
       rule="An append pull with no checkpoint, limit/last or full gets 400 {error: pull_bound_required}; "
            "full values other than true/1 count as absent",
       source="digest §1.7 rule 1, §11 row 7, §12.6")
@logs
def test_bound_required(client, collection):
    log = new_log(collection)
    append_ok(client, log, {"k": 1}, count=1)
    for query in (None, {"full": "false"}, {"full": "0"}, {"full": "yes"}, {"after": "1"}):
        body = expect_error(pull(client, log, query), 400)
        assert body == {"error": "pull_bound_required"}, f"query {query}: {body!r}"


@check("append.pull.checkpoint-zero-is-bound", level=MUST,
       rule="checkpoint=0 is a bound: it returns every element with ts > 0",
       source="digest §1.7 rule 1")
@logs
def test_checkpoint_zero_is_bound(client, collection):
    log = new_log(collection)
    fill(client, log, [5, 9])
    assert stamps_of(pull(client, log, {"checkpoint": "0"})) == [5, 9]


@check("append.pull.checkpoint-zero-strict", level=SHOULD,
       rule="checkpoint=0 is strict too: an element stored at ts 0 is not returned (a client resuming from 0 would "
            "see it twice)",
       source="digest §1.7 rule 6, §4.2 step 3 (ts 0 is valid on an empty log)")
@logs
def test_checkpoint_zero_strict(client, collection):
    log = new_log(collection)
    fill(client, log, [0, 5, 9])
    got = stamps_of(pull(client, log, {"checkpoint": "0"}))
    assert got == [5, 9], f"checkpoint=0 must keep only ts > 0: expected [5, 9], got {got}"


@check("append.pull.full-with-bounds", level=MUST,
       rule="full together with checkpoint or limit/last gets 400 {error: full_with_bounds}",
       source="digest §1.7 rule 2, §12.6")
@logs
def test_full_with_bounds(client, collection):
    log = five(client, collection)
    for query in ({"full": "true", "checkpoint": "0"}, {"full": "1", "last": "1"}, {"full": "true", "limit": "5"},
                  {"full": "true", "last": "0"}):
        body = expect_error(pull(client, log, query), 400)
        assert body == {"error": "full_with_bounds"}, f"query {query}: {body!r}"


@check("append.pull.full-not-allowed", level=MUST,
       rule="full on a collection with allowFull: false gets 400 {error: full_not_allowed}",
       source="digest §1.7 rule 3, §4.1, §12.6")
def test_full_not_allowed(client):
    log = new_log("strictlog", field="entries")
    append_ok(client, log, {"k": 1}, count=1)
    for value in ("true", "1"):
        body = expect_error(pull(client, log, {"full": value}), 400)
        assert body == {"error": "full_not_allowed"}, f"full={value}: {body!r}"
    _, elements = pulled(pull(client, log, {"last": "5"}), "entries")  # bounded pulls still work
    assert len(elements) == 1, elements


@check("append.pull.bound-errors-order", level=MUST,
       rule="The bound errors apply in order: pull_bound_required, full_with_bounds, full_not_allowed, "
            "checkpoint_too_old",
       source="digest §1.7 rules 1-4")
def test_bound_errors_order(client):
    log = new_log("strictlog", field="entries")
    append_ok(client, log, {"k": 1}, count=1)
    expect_error(pull(client, log, {"full": "no"}), 400, "pull_bound_required")
    expect_error(pull(client, log, {"full": "true", "checkpoint": "0"}), 400, "full_with_bounds")
    expect_error(pull(client, log, {"full": "true", "last": "1"}), 400, "full_with_bounds")
    expect_error(pull(client, log, {"checkpoint": "0", "last": "1"}), 400, "checkpoint_too_old")


@check("append.pull.checkpoint-too-old", level=MUST,
       rule="A checkpoint older than server now - maxCheckpointAgeMs gets 400 {error: checkpoint_too_old}",
       source="digest §1.7 rule 4, §4.1, §12.6")
def test_checkpoint_too_old(client):
    log = new_log("strictlog", field="entries")
    append_ok(client, log, {"k": 1}, count=1)
    old = server_now(client) - DAY_MS - 1
    for checkpoint in (old, 0):
        expect_error(pull(client, log, {"checkpoint": str(checkpoint)}), 400, "checkpoint_too_old")


@check("append.pull.checkpoint-within-age", level=MUST,
       rule="A checkpoint newer than server now - maxCheckpointAgeMs is served (200)",
       source="digest §1.7 rule 4")
def test_checkpoint_within_age(client):
    log = new_log("strictlog", field="entries")
    stamp = append_ok(client, log, {"k": 1}, count=1)
    # Within 60 s of the clock reading the server still sees this checkpoint as younger than a day.
    recent = server_now(client) - DAY_MS + 60_000
    _, elements = pulled(pull(client, log, {"checkpoint": str(recent)}), "entries")
    assert [e["ts"] for e in elements] == [stamp], elements


BAD_NUMBERS = ("01", "+1", "-1", "abc", "1.5", "1e3")


def expect_bad_number(client, collection: str, param: str, error: str) -> None:
    log = new_log(collection)
    for raw in BAD_NUMBERS:
        body = expect_error(pull(client, log, {param: raw}), 400)
        assert body == {"error": error}, f"{param}={raw!r}: {body!r}"


@check("append.pull.invalid-checkpoint", level=MUST,
       rule="A checkpoint that is not a canonical base-10 integer >= 0 gets 400 {error: 'Invalid checkpoint'}",
       source="digest §1.7 (parameter table)")
@logs
def test_invalid_checkpoint(client, collection):
    expect_bad_number(client, collection, "checkpoint", "Invalid checkpoint")


@check("append.pull.invalid-limit", level=MUST,
       rule="A limit that is not a canonical base-10 integer >= 0 gets 400 {error: 'Invalid limit'}",
       source="digest §1.7 (parameter table)")
@logs
def test_invalid_limit(client, collection):
    expect_bad_number(client, collection, "limit", "Invalid limit")


@check("append.pull.invalid-last", level=MUST,
       rule="A last that is not a canonical base-10 integer >= 0 gets 400 {error: 'Invalid last'}",
       source="digest §1.7 (parameter table)")
@logs
def test_invalid_last(client, collection):
    expect_bad_number(client, collection, "last", "Invalid last")


# ---------------------------------------------------------------------------------------------- windows


@check("append.pull.checkpoint-strict", level=MUST,
       rule="A checkpoint pull returns exactly the elements with ts strictly greater than the checkpoint",
       source="digest §1.7 rule 6, §3.5, §12.6")
@logs
def test_checkpoint_strict(client, collection):
    log = five(client, collection)
    for checkpoint, expected in ((20, [30, 40, 50]), (19, [20, 30, 40, 50]), (21, [30, 40, 50]), (50, []),
                                 (9, [10, 20, 30, 40, 50]), (10**15, [])):
        got = stamps_of(pull(client, log, {"checkpoint": str(checkpoint)}))
        assert got == expected, f"checkpoint={checkpoint}: expected ts {expected}, got {got}"


@check("append.pull.last-newest-k", level=MUST,
       rule="last=K returns the newest K elements, oldest first (all of them when K exceeds the count)",
       source="digest §1.7 rules 5, 6")
@logs
def test_last_newest_k(client, collection):
    log = five(client, collection)
    for last, expected in ((1, [50]), (2, [40, 50]), (5, [10, 20, 30, 40, 50]), (9, [10, 20, 30, 40, 50])):
        got = stamps_of(pull(client, log, {"last": str(last)}))
        assert got == expected, f"last={last}: expected ts {expected}, got {got}"


@check("append.pull.last-zero-empty", level=MUST,
       rule="last=0 returns an empty window but still the log's hash",
       source="digest §1.7 rules 6, 7")
@logs
def test_last_zero_empty(client, collection):
    log = new_log(collection)
    append_ok(client, log, {"k": 1}, count=1)
    body, elements = pulled(pull(client, log, {"last": "0"}))
    assert elements == [] and body["hash"] == append_hash(1, {"k": 1}), body


@check("append.pull.limit-alias", level=MUST,
       rule="limit is an alias of last: limit=K returns the newest K elements",
       source="digest §1.7 rule 5")
@logs
def test_limit_alias(client, collection):
    log = five(client, collection)
    for limit, expected in ((2, [40, 50]), (0, []), (7, [10, 20, 30, 40, 50])):
        got = stamps_of(pull(client, log, {"limit": str(limit)}))
        assert got == expected, f"limit={limit}: expected ts {expected}, got {got}"


@check("append.pull.limit-wins-over-last", level=MUST,
       rule="When both limit and last are given, limit wins",
       source="digest §1.7 rule 5, §12.6")
@logs
def test_limit_wins_over_last(client, collection):
    log = five(client, collection)
    for query, expected in (({"limit": "1", "last": "3"}, [50]), ({"last": "1", "limit": "3"}, [30, 40, 50]),
                            ({"limit": "0", "last": "5"}, [])):
        got = stamps_of(pull(client, log, query))
        assert got == expected, f"{query}: expected ts {expected}, got {got}"


@check("append.pull.checkpoint-then-last", level=MUST,
       rule="checkpoint and last together keep the elements after the checkpoint, then the newest K of those",
       source="digest §1.7 rule 6")
@logs
def test_checkpoint_then_last(client, collection):
    log = five(client, collection)
    for query, expected in (({"checkpoint": "20", "last": "2"}, [40, 50]),
                            ({"checkpoint": "35", "last": "5"}, [40, 50]),
                            ({"checkpoint": "0", "limit": "1"}, [50])):
        got = stamps_of(pull(client, log, query))
        assert got == expected, f"{query}: expected ts {expected}, got {got}"


@check("append.pull.max-pull-limit-clamp", level=MUST,
       rule="limit/last above maxPullLimit are quietly clamped to it (200, newest maxPullLimit elements)",
       source="digest §1.7 rule 5, §4.1, §12.6")
def test_max_pull_limit_clamp(client):
    log = new_log("strictlog", field="entries")
    stamps = list(range(1, 53))  # 52 elements; strictlog's maxPullLimit is 50
    for k, stamp in enumerate(stamps, start=1):
        append_ok(client, log, {"i": k}, count=k, ts=stamp)
    for query, expected in (({"last": "1000"}, stamps[-50:]), ({"limit": "51"}, stamps[-50:]),
                            ({"last": "50"}, stamps[-50:]), ({"last": "49"}, stamps[-49:]),
                            ({"checkpoint": str(server_now(client) - 1000), "last": "60"}, [])):
        got = stamps_of(pull(client, log, query), "entries")
        assert got == expected, f"{query}: expected {len(expected)} elements from {expected[:1]}, got {got}"


@check("append.pull.full-returns-all", level=MUST,
       rule="full=true (or full=1) returns every element, oldest first",
       source="digest §1.7 rules 1-3")
@logs
def test_full_returns_all(client, collection):
    log = five(client, collection)
    for value in ("true", "1"):
        got = stamps_of(pull(client, log, {"full": value}))
        assert got == [10, 20, 30, 40, 50], f"full={value}: got ts {got}"


# ----------------------------------------------------------------------------------------------- shapes


@check("append.pull.custom-field", level=MUST,
       rule="A log with a non-default field returns its elements under data.<field> (not items)",
       source="digest §1.7 rules 7, 8, §4.1 field")
def test_custom_field(client):
    log = new_log("strictlog", field="entries")
    missing, _ = pulled(client.pull(log.path, query={"last": "10"}), "entries")  # public read, anonymous
    assert missing["data"] == {"entries": []}, missing
    fill(client, log, [1, 2])
    body, elements = pulled(client.pull(log.path, query={"last": "10"}), "entries")
    assert set(body["data"]) == {"entries"}, f"expected only data.entries: {body!r}"
    assert [e["data"] for e in elements] == [{"i": 1}, {"i": 2}], elements


@check("append.pull.envelope", level=MUST,
       rule="Each pulled element is the full stored envelope {ts, data, authorPubkey, authorSignature}",
       source="digest §1.7 rule 7, §4.2 step 6, §4.3")
@logs
def test_envelope(client, collection):
    log = new_log(collection)
    sent = []
    for k, data in enumerate(({"text": "héllo ✓"}, {"n": [1, 2.5, None], "o": {"b": True}}), start=1):
        proof = sign_append_author(log.device.key, log.path, data)
        stamp = append_ok(client, log, data, count=k)
        sent.append({"ts": stamp, "data": data, **proof})
    for query in ({"full": "true"}, {"last": "2"}, {"checkpoint": "0"}):
        _, elements = pulled(pull(client, log, query))
        assert elements == sent, f"{query}: expected exactly {sent!r}, got {elements!r}"


@check("append.pull.missing-log", level=MUST,
       rule="Pulling a log that does not exist gives 200 {data: {<field>: []}, hash: \"\"} without an ETag",
       source="digest §1.7 rule 8")
@logs
def test_missing_log(client, collection):
    log = new_log(collection)
    for query in ({"full": "true"}, {"last": "5"}, {"checkpoint": "0"}):
        response = pull(client, log, query)
        body, _ = pulled(response)
        assert body["data"] == {"items": []} and body["hash"] == "", f"{query}: expected an empty log: {body!r}"
        assert "etag" not in response.headers, f"{query}: no ETag for a missing log, got {response.headers['etag']!r}"


@check("append.pull.etag-whole-log", level=MUST,
       rule="An append pull's hash and ETag are the whole log's stored hash, whatever window was asked for",
       source="digest §1.7 rules 7, 9, §1.16")
@logs
def test_etag_whole_log(client, collection):
    log = five(client, collection)
    expected = append_hash(5, {"i": 5})
    for query in ({"full": "true"}, {"last": "1"}, {"last": "0"}, {"checkpoint": "50"}, {"checkpoint": "10"}):
        response = pull(client, log, query)
        body, _ = pulled(response)
        assert body["hash"] == expected, f"{query}: expected hash {expected}: {body!r}"
        assert response.headers.get("etag") == f'"{expected}"', \
            f"{query}: expected ETag \"{expected}\", got {response.headers.get('etag')!r}"


@check("append.pull.if-none-match-304", level=MUST,
       rule="If-None-Match equal to the quoted log hash gives 304 with an empty body; a stale one gives 200",
       source="digest §1.7 rule 9, §1.16, §12.9")
@logs
def test_if_none_match(client, collection):
    log = five(client, collection)
    etag = f'"{append_hash(5, {"i": 5})}"'
    for query in ({"full": "true"}, {"last": "2"}):
        response = pull(client, log, query, headers={"If-None-Match": etag})
        expect_status(response, 304)
        assert response.content == b"", f"304 must have an empty body: {response.content[:200]!r}"
    append_ok(client, log, {"i": 6}, count=6, ts=60)
    response = pull(client, log, {"last": "1"}, headers={"If-None-Match": etag})
    assert stamps_of(response) == [60]
    assert response.headers.get("etag") == f'"{append_hash(6, {"i": 6})}"', response.headers


@check("append.pull.timestamp-is-now", level=MUST,
       rule="An append pull's timestamp is the server's time of the pull, not the newest element's ts",
       source="digest §1.7 rules 7, 8, §3.4")
@logs
def test_timestamp_is_now(client, collection):
    log = new_log(collection)
    append_ok(client, log, {"k": 1}, count=1, ts=7)
    before = server_now(client)
    body, _ = pulled(pull(client, log, {"last": "1"}))
    after = server_now(client)
    assert before <= body["timestamp"] <= after, \
        f"expected the pull time (server clock {before}..{after}), got timestamp {body['timestamp']}"


# -------------------------------------------------------------------------------- segmented (chunkSize)


@check("append.chunked.windows-across-chunks", level=MUST,
       rule="A segmented log (chunkSize 100) answers every window exactly as a single-document log, "
            "across chunk boundaries",
       source="digest §4.5, §1.7 rule 6")
def test_windows_across_chunks(client):
    log = new_log("chunked")
    stamps = [1_000 + 10 * k for k in range(1, 206)]  # 205 elements: two sealed chunks and a partial one
    fill(client, log, stamps)
    cases = (({"full": "true"}, stamps), ({"last": "150"}, stamps[-150:]), ({"last": "101"}, stamps[-101:]),
             ({"last": "100"}, stamps[-100:]), ({"checkpoint": str(stamps[99])}, stamps[100:]),
             ({"checkpoint": str(stamps[99] - 1)}, stamps[99:]), ({"checkpoint": str(stamps[49]), "last": "120"},
                                                                stamps[-120:]),
             ({"checkpoint": str(stamps[149]), "limit": "500"}, stamps[150:]), ({"checkpoint": "0"}, stamps))
    for query, expected in cases:
        got = stamps_of(pull(client, log, query))
        assert got == expected, f"{query}: expected {len(expected)} elements from ts {expected[:1]}, " \
                                f"got {len(got)} from {got[:1]}"
    body, elements = pulled(pull(client, log, {"last": "3"}))
    assert [e["data"] for e in elements] == [{"i": 203}, {"i": 204}, {"i": 205}], elements
    assert body["hash"] == append_hash(205, {"i": 205}), body


INTERNAL_MARKERS = ("__seg", "sealedN", "tailKey", "chunkSize", '"seg"')


@check("append.chunked.no-internal-keys", level=MUST,
       rule="Pulls of a segmented log never show its storage internals (chunk keys such as <key>__seg/..., head "
            "fields): data holds only the element array",
       source="digest §4.5 (the wire format is unchanged)")
def test_no_internal_keys(client):
    log = new_log("chunked")
    fill(client, log, list(range(1, 103)))  # crosses one chunk boundary: one sealed chunk and a tail
    for query in ({"full": "true"}, {"last": "5"}, {"checkpoint": "99"}, {"last": "0"}):
        response = pull(client, log, query)
        body, elements = pulled(response)
        assert set(body) == {"data", "hash", "timestamp"}, f"{query}: unexpected top-level keys {sorted(body)}"
        assert set(body["data"]) == {"items"}, f"{query}: data must hold only items: {sorted(body['data'])}"
        for element in elements:
            assert set(element) <= {"ts", "data", "authorPubkey", "authorSignature"}, f"{query}: {element!r}"
        text = response.text
        leaked = [marker for marker in INTERNAL_MARKERS if marker in text]
        assert not leaked, f"{query}: the response shows storage internals {leaked}: {text[:300]!r}"
    assert body_json(response)["data"] == {"items": []}
