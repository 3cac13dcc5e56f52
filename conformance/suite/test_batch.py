"""Batch pull: `GET /batch/pull?collections=...&params=...&appendParams=...` (digest §1.14, §12.10), and a replay
of the official vector `batch-pull-append.json` against the live target.

The vector describes its own collections and fixtures; here they are mapped onto the conformance profile and
seeded through the API under fresh paths (appends with the fixture's explicit `ts`, pushes for documents):

| vector collection | profile collection | why it fits |
| --- | --- | --- |
| events (items) | events (items) | append-only, default field |
| strictevents (allowFull false, maxPullLimit 50, maxCheckpointAgeMs 1 day) | strictlog (same) | field `entries` |
| feed (field `entries`) | strictlog (field `entries`) | the non-default field is what the case checks |
| notes (regular) | notes (`users/{identity}/notes`, self) | read by its owner |

Cases that need a server option (`maxBatchAppendElements=5`) cannot be set up over HTTP; they are reported by one
check that skips with the reason.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.profile import collection
from conformance.suite.support import body_json, expect_error, expect_ok, fresh, root
from protocol.hashing import append_hash, document_hash

VECTOR_DIR = "vectors/starfish-3.0.0a72"
VECTOR = "batch-pull-append.json"
BATCH_READER = ("events", "strictlog", "notes")
# vector collection -> (profile collection, the profile's path param that takes the vector's document id)
VECTOR_MAP = {"events": ("events", "roomId"), "strictevents": ("strictlog", "roomId"),
              "feed": ("strictlog", "roomId"), "notes": ("notes", "identity")}


def _shared_dir() -> Path:
    env = os.environ.get("STARFISH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


@cache
def _vector() -> Any:
    path = _shared_dir() / VECTOR_DIR / VECTOR
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _need_vector() -> Any:
    loaded = _vector()
    if loaded is None:
        pytest.skip(f"official vector {VECTOR} not found under {_shared_dir() / VECTOR_DIR} (set STARFISH_SHARED_DIR)")
    return loaded


def _needs_server_option(case: dict[str, Any]) -> bool:
    return "maxBatchAppendElements" in case.get("note", "")


def _case_ids(live: bool) -> list[str]:
    loaded = _vector()
    if loaded is None:
        return ["vector-missing"] if live else []
    return [c["id"] for c in loaded["cases"] if _needs_server_option(c) != live]


def _entries(response, name: str) -> list[Any]:
    body = expect_ok(response)
    collections = body.get("collections")
    assert isinstance(collections, dict), f"batch body has no collections object: {body}"
    entries = collections.get(name)
    assert isinstance(entries, list), f"batch body has no entry array for {name!r}: {body}"
    return entries


def _shared_reader():
    return root(("shared",))


# ----------------------------------------------------------------------------------- vector replay


class _Replay:
    """One case's fresh world: vector document ids mapped to fresh ones, fixtures seeded on first use."""

    def __init__(self, client, vector: dict[str, Any]) -> None:
        self.client = client
        self.vector = vector
        self.device = root(BATCH_READER)
        self.templates = {c["name"]: c["storagePath"] for c in vector["collections"]}
        self.ids: dict[tuple[str, str], str] = {}

    def profile_params(self, vector_col: str, param_set: dict[str, Any]) -> dict[str, Any]:
        profile_col, profile_param = VECTOR_MAP[vector_col]
        (vector_param, vector_value), = param_set.items()
        if profile_param == "identity":
            mapped = self.device.identity
        else:
            mapped = self.ids.setdefault((vector_col, str(vector_value)), fresh("vec"))
        key = self.templates[vector_col].replace("{" + vector_param + "}", str(vector_value))
        if key in self.vector["fixtures"]:
            self._seed(vector_col, key, profile_col, mapped)
        return {profile_param: mapped}

    def _seed(self, vector_col: str, key: str, profile_col: str, mapped: str) -> None:
        if ("seeded", key) in self.ids:
            return
        self.ids[("seeded", key)] = mapped
        fixture = self.vector["fixtures"][key]
        if profile_col == "notes":
            expect_ok(self.client.push(f"users/{mapped}/notes", fixture, device=self.device))
            return
        vector_field = next(c for c in self.vector["collections"] if c["name"] == vector_col)["appendOnly"]["field"]
        path = f"rooms/{mapped}/{profile_col}"
        for element in fixture[vector_field]:
            expect_ok(self.client.append(path, element["data"], ts=element["ts"], device=self.device))


@check("batch.vector.batch-pull-append", level=MUST,
       rule="Each batch-pull-append.json case that a live server can host gives the vector's status, per-entry "
            "outcome, element count and first/last ts",
       source="batch-pull-append.json (collections mapped onto the profile, fixtures seeded by append/push under "
              "fresh paths); digest §1.14. Its one case that needs a server started with maxBatchAppendElements=5 "
              "cannot be hosted over HTTP: batch.append-budget-400 checks that rule at the default budget, and "
              "tests/test_reference_server_batch.py replays the case itself")
@pytest.mark.parametrize("case_id", _case_ids(live=True))
def test_batch_vector(client, case_id):
    vector = _need_vector()
    case = next(c for c in vector["cases"] if c["id"] == case_id)
    replay = _Replay(client, vector)
    names = [VECTOR_MAP[name][0] for name in case["collections"]]
    params = {VECTOR_MAP[name][0]: [replay.profile_params(name, p) for p in sets]
              for name, sets in case.get("params", {}).items()}
    if "rawAppendParams" in case:
        append_params: Any = case["rawAppendParams"]
    elif "appendParams" in case:
        append_params = {VECTOR_MAP[name][0]: entries for name, entries in case["appendParams"].items()}
    else:
        append_params = None
    response = client.batch(names, params=params or None, append_params=append_params, device=replay.device)
    if "expectedStatus" in case:
        expect_error(response, case["expectedStatus"])
        return
    for vector_col, expected_entries in case["expected"].items():
        profile_col = VECTOR_MAP[vector_col][0]
        entries = _entries(response, profile_col)
        assert len(entries) == len(expected_entries), f"{profile_col}: {len(entries)} entries: {entries}"
        for index, (entry, expected) in enumerate(zip(entries, expected_entries, strict=True)):
            where = f"{profile_col}[{index}]"
            if expected["outcome"] == "error":
                assert entry == {"error": expected["error"]}, f"{where}: {entry}"
                continue
            assert isinstance(entry, dict) and "error" not in entry, f"{where}: {entry}"
            data = entry.get("data")
            assert isinstance(data, dict), f"{where}: {entry}"
            if "appendField" in expected:
                field = expected["appendField"]
                if vector_col == "strictevents":  # the profile's strictlog names its array `entries`
                    field = collection(profile_col)["appendOnly"]["field"]
                items = data.get(field)
                assert isinstance(items, list), f"{where}: no {field!r} array: {entry}"
                assert len(items) == expected["count"], f"{where}: {len(items)} elements, expected {expected['count']}"
                if "firstTs" in expected:
                    assert items[0].get("ts") == expected["firstTs"], f"{where}: {items}"
                if "lastTs" in expected:
                    assert items[-1].get("ts") == expected["lastTs"], f"{where}: {items}"
            for name, value in expected.get("dataFields", {}).items():
                assert data.get(name) == value, f"{where}: {name}={data.get(name)!r}, expected {value!r}"


# ---------------------------------------------------------------------------------------- whole request


@check("batch.missing-collections-400", level=MUST,
       rule='A batch without a collections parameter, or with an empty one, gets 400 "Missing required query '
            'parameter: collections"',
       source="digest §1.14")
@pytest.mark.parametrize("query", ["", "collections=", "params=%7B%7D"], ids=["no-query", "empty", "params-only"])
def test_missing_collections(client, query):
    response = client.request("GET", "batch/pull", query=query or None)
    body = expect_error(response, 400, "Missing required query parameter: collections")
    assert body == {"error": "Missing required query parameter: collections"}, body


@check("batch.invalid-params-400", level=MUST, rule='A params value that is not JSON gets 400 "Invalid params '
       'parameter"', source="digest §1.14")
@pytest.mark.parametrize("raw", ["not json", "{", "{'shared': []}"])
def test_invalid_params(client, raw):
    body = expect_error(client.batch(["shared"], params=raw), 400, "Invalid params parameter")
    assert body == {"error": "Invalid params parameter"}, body


@check("batch.invalid-append-params-400", level=MUST,
       rule='An appendParams value that is not JSON gets 400 "Invalid appendParams parameter"',
       source="digest §1.14; batch-pull-append.json invalid_append_params_json_returns_400")
@pytest.mark.parametrize("raw", ["this is not json", "{"])
def test_invalid_append_params(client, raw):
    body = expect_error(client.batch(["events"], append_params=raw), 400, "Invalid appendParams parameter")
    assert body == {"error": "Invalid appendParams parameter"}, body


@check("batch.full-rejected-400", level=MUST,
       rule="appendParams with full set (true, \"true\", \"1\" or 1) gets 400 \"appendParams['<col>']: full is not "
            'allowed in batch pull"',
       source="digest §1.14; batch-pull-append.json full_disallowed_in_batch")
@pytest.mark.parametrize("full", [True, "true", "1", 1], ids=["true", "str-true", "str-1", "int-1"])
def test_full_rejected(client, full):
    room = fresh("room")
    response = client.batch(["events"], params={"events": [{"roomId": room}]},
                            append_params={"events": [{"full": full}]}, device=root(("events",)))
    expected = "appendParams['events']: full is not allowed in batch pull"
    assert expect_error(response, 400, expected) == {"error": expected}


@check("batch.append-length-mismatch-400", level=MUST,
       rule='appendParams whose list length differs from params gets 400 "appendParams length mismatch: must '
            'equal params length for each collection"',
       source="digest §1.14; batch-pull-append.json absent_collection_entry_in_append_params_is_null")
def test_append_length_mismatch(client):
    response = client.batch(["events"], params={"events": [{"roomId": fresh()}, {"roomId": fresh()}]},
                            append_params={"events": [{"last": 1}]}, device=root(("events",)))
    expected = "appendParams length mismatch: must equal params length for each collection"
    assert expect_error(response, 400, expected) == {"error": expected}


@check("batch.too-many-collections-400", level=SHOULD,
       rule='More than 100 distinct collection names, or more than 100 reads in all, gets 400 "Too many collections"',
       source="digest §1.14 (max_collections_per_batch, default 100)")
def test_too_many_collections(client):
    names = [f"c{i}" for i in range(101)]
    assert expect_error(client.batch(names), 400, "Too many collections") == {"error": "Too many collections"}
    params = {"shared": [{"docId": f"d{i}"} for i in range(101)]}
    response = client.batch(["shared"], params=params, device=_shared_reader())
    assert expect_error(response, 400, "Too many collections") == {"error": "Too many collections"}


@check("batch.append-budget-400", level=SHOULD,
       rule='A batch whose append budget (sum of min(last, maxPullLimit or 1000)) exceeds 5000 gets 400 "Batch append '
            'element budget exceeded"',
       source="digest §1.14 (max_batch_append_elements, default 5000); batch-pull-append.json "
              "aggregate_budget_exceeded (there with the option set to 5)")
def test_append_budget(client):
    rooms = [{"roomId": fresh("room")} for _ in range(6)]
    response = client.batch(["events"], params={"events": rooms}, append_params={"events": [{"last": 1000}] * 6},
                            device=root(("events",)))
    expected = "Batch append element budget exceeded"
    assert expect_error(response, 400, expected) == {"error": expected}
    # five such entries are within the budget
    ok = client.batch(["events"], params={"events": rooms[:5]}, append_params={"events": [{"last": 1000}] * 5},
                      device=root(("events",)))
    assert len(_entries(ok, "events")) == 5


# ------------------------------------------------------------------------------------------- per entry


@check("batch.entries-in-param-order", level=MUST,
       rule="Each collection maps to an array of entries in param-set order: {data, hash, timestamp} for each "
            'document, {data: {}, hash: ""} for a missing one',
       source="digest §1.14, §12.10")
def test_entries_in_order(client):
    device = _shared_reader()
    writer = root(("shared",))
    docs = {name: fresh(name) for name in ("a", "b", "c")}
    for name, doc in docs.items():
        expect_ok(client.push(f"shared/{doc}", {"name": name}, device=writer))
    missing = fresh("missing")
    order = [docs["c"], docs["a"], missing, docs["b"]]
    response = client.batch(["shared"], params={"shared": [{"docId": d} for d in order]}, device=device)
    entries = _entries(response, "shared")
    assert len(entries) == 4, entries
    for entry, name in zip(entries, ["c", "a", None, "b"], strict=True):
        assert isinstance(entry, dict) and set(entry) == {"data", "hash", "timestamp"}, f"entry {entry}"
        assert isinstance(entry["timestamp"], int), entry
        if name is None:
            assert entry["data"] == {} and entry["hash"] == "", entry
        else:
            assert entry["data"] == {"name": name} and entry["hash"] == document_hash({"name": name}), entry


@check("batch.unknown-collection-entry", level=MUST,
       rule='An unknown collection name gives a per-entry {"error":"Collection not found"}; the batch stays 200 and '
            "the other collections are served",
       source="digest §1.14 (per-entry errors, HTTP status stays 200)")
def test_unknown_collection(client):
    doc = fresh()
    expect_ok(client.push(f"guestbook/{doc}", {"hi": 1}))
    response = client.batch(["no-such-collection", "guestbook"], params={"guestbook": [{"docId": doc}]})
    assert _entries(response, "no-such-collection") == [{"error": "Collection not found"}]
    assert _entries(response, "guestbook")[0].get("data") == {"hi": 1}


@check("batch.path-param-entry-errors", level=MUST,
       rule='A param-set missing a path param gives "Missing required path parameter"; one outside the charset '
            'gives "Invalid path parameter" (per entry, batch 200)',
       source="digest §1.14 (per-entry errors), §1.3")
def test_path_param_entries(client):
    device = _shared_reader()
    response = client.batch(["shared"], params={"shared": [{}, {"docId": "bad id!"}, {"other": "x"}]}, device=device)
    assert _entries(response, "shared") == [{"error": "Missing required path parameter"},
                                            {"error": "Invalid path parameter"},
                                            {"error": "Missing required path parameter"}]


@check("batch.forbidden-entry", level=MUST,
       rule='A collection the caller may not read gives a per-entry {"error":"Forbidden"} while public collections in '
            "the same batch are served",
       source="digest §1.14 ('Forbidden': roles), §12.10")
def test_forbidden_entry(client):
    writer = root(("shared",))
    doc = fresh()
    expect_ok(client.push(f"shared/{doc}", {"private": True}, device=writer))
    expect_ok(client.push(f"guestbook/{doc}", {"public": True}))
    params = {"shared": [{"docId": doc}], "guestbook": [{"docId": doc}]}
    for caller in (None, root(("guestbook",))):
        response = client.batch(["shared", "guestbook"], params=params, device=caller)
        assert _entries(response, "shared") == [{"error": "Forbidden"}], body_json(response)
        assert _entries(response, "guestbook")[0].get("data") == {"public": True}


@check("batch.keyring-members-forbidden", level=MUST,
       rule='A batch entry whose key ends in _keyring or _members is {"error":"Forbidden"}, even for the owner',
       source="digest §1.14, §8.2, §12.10 (batch_key_deny_suffixes)")
def test_keyring_forbidden(client):
    owner = root(("vault",))
    keyring_path = collection("vault")["keyringPath"].replace("{identity}", owner.identity)
    expect_ok(client.push(keyring_path, {"v": 1, "currentEpoch": 1, "epochs": {}}, device=owner))
    item = fresh("item")
    expect_ok(client.push(f"vault/{owner.identity}/{item}", {"_encrypted": "AAAA", "_epoch": 1}, device=owner))
    params = {"vault": [{"identity": owner.identity, "itemId": "_keyring"},
                        {"identity": owner.identity, "itemId": "_members"},
                        {"identity": owner.identity, "itemId": item}]}
    entries = _entries(client.batch(["vault"], params=params, device=owner), "vault")
    assert entries[:2] == [{"error": "Forbidden"}, {"error": "Forbidden"}], entries
    assert entries[2].get("data") == {"_encrypted": "AAAA", "_epoch": 1}, entries


@check("batch.identity-from-caller", level=MUST,
       rule="A param-set that leaves out {identity} is filled with the caller's identity; naming another identity "
            'loses self and gives "Forbidden"',
       source="digest §1.14")
def test_identity_from_caller(client):
    owner = root(("notes",))
    expect_ok(client.push(f"users/{owner.identity}/notes", {"mine": True}, device=owner))
    entries = _entries(client.batch(["notes"], device=owner), "notes")
    assert len(entries) == 1 and entries[0].get("data") == {"mine": True}, entries
    other = root(("notes",))
    entries = _entries(client.batch(["notes"], params={"notes": [{"identity": other.identity}]}, device=owner),
                       "notes")
    assert entries == [{"error": "Forbidden"}], entries


@check("batch.append-params-on-regular-entry", level=MUST,
       rule='appendParams for a regular (non append-only) collection gives the per-entry error '
            '"append_params_not_supported"',
       source="digest §1.14; batch-pull-append.json non_append_collection_with_append_params")
def test_append_params_on_regular(client):
    device = _shared_reader()
    response = client.batch(["shared"], params={"shared": [{"docId": fresh()}]},
                            append_params={"shared": [{"last": 1}]}, device=device)
    assert _entries(response, "shared") == [{"error": "append_params_not_supported"}]


@check("batch.append-entry-shape", level=MUST,
       rule="An append-only entry returns the window of full element envelopes {ts, data, ...} under the "
            "collection's field, with the whole log's hash",
       source="digest §1.7 rules 7 and 9, §1.14, §3.3")
def test_append_entry_shape(client):
    device = root(("events",))
    room = fresh("room")
    elements = [{"text": f"m{i}"} for i in range(3)]
    for element in elements:
        expect_ok(client.append(f"rooms/{room}/events", element, device=device))
    response = client.batch(["events"], params={"events": [{"roomId": room}]}, append_params={"events": [{"last": 2}]},
                            device=device)
    entries = _entries(response, "events")
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry.get("hash") == append_hash(3, elements[-1]), entry
    assert isinstance(entry.get("timestamp"), int), entry
    items = (entry.get("data") or {}).get("items")
    assert isinstance(items, list) and [e.get("data") for e in items] == elements[1:], entry
    assert all(isinstance(e.get("ts"), int) for e in items) and items[0]["ts"] < items[1]["ts"], items
