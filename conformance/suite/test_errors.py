"""The error contract: statuses and `{"error": ...}` bodies for malformed requests, and replays of the official
vectors `http-errors.json` and `protocol-push.json` against the target (digest §1.3, §1.15, §3.7, §6).

The vectors are read at test time from `../shared/vectors/starfish-3.0.0a72/` (override the folder with
STARFISH_SHARED_DIR); they are never copied into this repository.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.suite.auth_support import streamed
from conformance.suite.support import body_json, expect_error, expect_ok, expect_status, fresh, root
from protocol.hashing import document_hash

VECTOR_DIR = "vectors/starfish-3.0.0a72"
# Anonymous checks use public collections of the conformance profile: guestbook (public read and write),
# tiny (maxBodyBytes 256), limited (one push per minute), strictlog (append-only, public read).
PUBLIC = "guestbook"


def _shared_dir() -> Path:
    env = os.environ.get("STARFISH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


@cache
def _vector(name: str) -> Any:
    path = _shared_dir() / VECTOR_DIR / name
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _need_vector(name: str) -> Any:
    loaded = _vector(name)
    if loaded is None:
        pytest.skip(f"official vector {name} not found under {_shared_dir() / VECTOR_DIR} (set STARFISH_SHARED_DIR)")
    return loaded


def _http_error_scenarios() -> list[str]:
    loaded = _vector("http-errors.json")
    return [e["scenario"] for e in loaded["errors"]] if loaded else ["vector-missing"]


def _protocol_push_cases() -> list[str]:
    loaded = _vector("protocol-push.json")
    if not loaded:
        return ["vector-missing"]
    return [f"{group}/{i}" for group, cases in loaded.items() for i in range(len(cases))]


def _not_found_body(response) -> None:
    """404 with a JSON body naming Not Found: `{"detail": ...}` (FastAPI's default, official) or `{"error": ...}`."""
    body = body_json(response)
    assert body in ({"detail": "Not Found"}, {"error": "Not Found"}), f"unexpected 404 body {body!r}"


# ------------------------------------------------------------------------------------------ http-errors.json


def _drive_http_error(client, scenario: str):
    doc = fresh()
    if scenario == "payload_too_large":
        return client.push(f"tiny/{doc}", {"pad": "x" * 400})
    if scenario == "hash_mismatch":
        expect_ok(client.push(f"{PUBLIC}/{doc}", {"a": 1}))
        return client.push(f"{PUBLIC}/{doc}", {"a": 2})
    if scenario == "wrong_content_type":
        return client.request("POST", f"push/{PUBLIC}/{doc}", body=b'{"data":{},"baseHash":null}',
                              content_type="text/plain")
    if scenario == "rate_limited":
        # `limited` allows one push per minute per bucket; the first push may already be over the limit if the
        # target served this check recently, so only the second push is judged.
        client.push(f"limited/{doc}", {"a": 1})
        return client.push(f"limited/{fresh()}", {"a": 1})
    if scenario == "forbidden":
        return client.pull(f"shared/{doc}")
    if scenario == "unauthorized":
        device = root(("shared",))
        request = client.build("GET", f"pull/shared/{doc}", device=device)
        request.headers["X-Starfish-Sig"] = "A" * 86 + "=="  # well-formed base64, wrong signature
        return client.send(request)
    if scenario == "invalid_checkpoint":
        return client.pull(f"rooms/{doc}/strictlog", query="checkpoint=abc")
    if scenario == "invalid_path_param":
        return client.request("GET", f"pull/{PUBLIC}/r%20!")
    if scenario == "invalid_body":
        return client.request("POST", f"push/{PUBLIC}/{doc}", json=[1, 2, 3])
    if scenario == "missing_data":
        return client.request("POST", f"push/{PUBLIC}/{doc}", json={"baseHash": None})
    if scenario == "read_only_push":
        device = root(("announcements",))  # device:root holds announcements' writeRoles
        return client.push(f"announcements/{doc}", {"a": 1}, device=device)
    if scenario == "write_only_pull":
        device = root(("inbox",))  # device:root holds inbox's readRoles
        return client.pull(f"inbox/{doc}", device=device)
    raise AssertionError(f"the harness has no driver for http-errors.json scenario {scenario!r}")


@check("errors.vector.http-errors", level=MUST,
       rule="Each http-errors.json scenario gets the vector's status and {error} body (hash_mismatch also carries "
            "currentHash)",
       source="http-errors.json; digest §6.2, §6.3. read_only_push/write_only_pull follow the vector (405); the "
              "official 3.0.0a72 server answers 404 there (digest §6.3, §11 row 5)")
@pytest.mark.parametrize("scenario", _http_error_scenarios())
def test_http_errors_vector(client, scenario):
    vector = _need_vector("http-errors.json")
    case = next(e for e in vector["errors"] if e["scenario"] == scenario)
    response = _drive_http_error(client, scenario)
    body = expect_error(response, case["status"], case["error"])
    if scenario == "hash_mismatch":
        assert set(body) == {"error", "currentHash"}, body
        assert body["currentHash"] == document_hash({"a": 1}), body
    else:
        assert body == {"error": case["error"]}, body


# ---------------------------------------------------------------------------------------- protocol-push.json


@check("errors.vector.protocol-push", level=MUST,
       rule="Each protocol-push.json step sequence (push with null, wrong or previous baseHash; pull) behaves as "
            "the vector says",
       source="protocol-push.json (documentKey mapped to a fresh guestbook document per case); digest §3.6")
@pytest.mark.parametrize("case_ref", _protocol_push_cases())
def test_protocol_push_vector(client, case_ref):
    vector = _need_vector("protocol-push.json")
    group, index = case_ref.split("/")
    case = vector[group][int(index)]
    path = f"{PUBLIC}/{fresh()}"
    previous = None
    for number, step in enumerate(case["steps"], start=1):
        expect = step["expect"]
        where = f"{case['description']!r} step {number}"
        if step["action"] == "push":
            base = previous if step["baseHash"] == "$previous.hash" else step["baseHash"]
            response = client.push(path, step["data"], base_hash=base)
            if expect["type"] == "success":
                body = expect_ok(response)
                assert body.get("hash") == document_hash(step["data"]), f"{where}: {body}"
                if "hashLength" in expect:
                    assert len(body["hash"]) == expect["hashLength"], f"{where}: {body}"
                previous = body["hash"]
            else:
                body = expect_error(response, 409, expect["error"])
                assert isinstance(body.get("currentHash"), str), f"{where}: 409 without currentHash: {body}"
        else:
            body = expect_ok(client.pull(path, query={"checkpoint": step.get("checkpoint", 0)}))
            assert body.get("data") == expect["data"], f"{where}: {body}"
            assert isinstance(body.get("hash"), str) and len(body["hash"]) == expect["hashLength"], f"{where}: {body}"


# ------------------------------------------------------------------------------------------------ bodies


@check("errors.body.invalid-json-400", level=MUST, rule='An unparseable JSON push body gets 400 "Invalid JSON body"',
       source="digest §3.7 [V], §6.1 step 8")
@pytest.mark.parametrize("raw", [b"{", b'{"data": {}', b"not json", b"{'data': {}}", b""],
                         ids=["open-brace", "truncated", "text", "single-quotes", "empty"])
def test_invalid_json(client, raw):
    response = client.request("POST", f"push/{PUBLIC}/{fresh()}", body=raw, content_type="application/json")
    assert expect_error(response, 400, "Invalid JSON body") == {"error": "Invalid JSON body"}


@check("errors.body.not-object-400", level=MUST,
       rule='A push body that is valid JSON but not an object gets 400 "Body must be a JSON object"',
       source="digest §3.7 [V]; http-errors.json invalid_body")
@pytest.mark.parametrize("value", [[1, 2, 3], "data", 42, None, True], ids=["array", "string", "number", "null",
                                                                            "bool"])
def test_body_not_object(client, value):
    response = client.request("POST", f"push/{PUBLIC}/{fresh()}", json=value)
    assert expect_error(response, 400, "Body must be a JSON object") == {"error": "Body must be a JSON object"}


@check("errors.body.missing-data-400", level=MUST,
       rule='A push whose data is missing or not an object gets 400 "Missing or invalid data"',
       source="digest §3.7 [V], §1.9; http-errors.json missing_data")
@pytest.mark.parametrize("body", [{"baseHash": None}, {"data": None, "baseHash": None},
                                  {"data": [1], "baseHash": None}, {"data": "x", "baseHash": None},
                                  {"data": 3, "baseHash": None}, {}],
                         ids=["absent", "null", "array", "string", "number", "empty-object"])
def test_missing_data(client, body):
    response = client.request("POST", f"push/{PUBLIC}/{fresh()}", json=body)
    assert expect_error(response, 400, "Missing or invalid data") == {"error": "Missing or invalid data"}


@check("errors.body.nesting-too-deep-400", level=SHOULD,
       rule='A push body nested far beyond 64 levels gets 400 "Body nesting too deep", never a 500',
       source="digest §3.7, §6.1 steps 8 and 10")
@pytest.mark.parametrize("depth", [100, 5000])
def test_nesting_too_deep(client, depth):
    raw = b'{"baseHash":null,"data":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    response = client.request("POST", f"push/{PUBLIC}/{fresh()}", body=raw, content_type="application/json")
    expect_error(response, 400, "Body nesting too deep")


@check("errors.body.too-large-413", level=MUST,
       rule='A push whose Content-Length exceeds the collection maxBodyBytes gets 413 "Payload too large" and '
            "stores nothing",
       source="digest §6.1 step 5, §6.2; http-errors.json payload_too_large; profile collection tiny "
              "(maxBodyBytes 256)")
def test_body_too_large(client):
    doc = f"tiny/{fresh()}"
    response = client.push(doc, {"pad": "y" * 300})
    assert expect_error(response, 413, "Payload too large") == {"error": "Payload too large"}
    assert expect_ok(client.pull(doc)).get("hash") == "", "a refused push stored data"
    # just under the limit is accepted
    expect_ok(client.push(doc, {"pad": "y" * 100}))


@check("errors.body.too-large-chunked-413", level=SHOULD,
       rule='maxBodyBytes holds for a body sent chunked, without Content-Length: over the limit is 413 "Payload too '
            'large" and nothing is stored; a chunked body under the limit is accepted',
       source="digest §6.1 step 5, §6.2; reference_server/README.md divergence 4 (the official servers skip the "
              "check when Content-Length is absent); profile collection tiny (maxBodyBytes 256)")
def test_body_too_large_chunked(client):
    doc = f"tiny/{fresh()}"
    big = streamed(client.build("POST", f"push/{doc}", json={"data": {"pad": "y" * 300}, "baseHash": None}))
    assert expect_error(client.send(big), 413, "Payload too large") == {"error": "Payload too large"}
    assert expect_ok(client.pull(doc)).get("hash") == "", "a refused chunked push stored data"
    small = streamed(client.build("POST", f"push/{doc}", json={"data": {"pad": "y"}, "baseHash": None}))
    expect_ok(client.send(small))


@check("errors.body.json-content-type", level=SHOULD,
       rule="Error responses are JSON with Content-Type application/json",
       source="digest §2 ('Every JSON response is sent by ... JSONResponse'), §0 (error body shape)")
def test_error_content_type(client):
    for response in (client.request("POST", f"push/{PUBLIC}/{fresh()}", json=[1]),
                     client.pull(f"shared/{fresh()}"),
                     client.request("POST", f"push/{PUBLIC}/{fresh()}", body=b"{}", content_type="text/plain")):
        expect_status(response, 400, 403, 415)
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        assert media == "application/json", f"error response Content-Type {media!r}: {response.status_code}"
        body_json(response)


# ---------------------------------------------------------------------------------------------- content type


@check("errors.content-type.wrong-415", level=MUST,
       rule='A JSON push with a missing or non-JSON Content-Type gets 415 "Content-Type must be application/json"',
       source="digest §1.15; http-errors.json wrong_content_type")
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/octet-stream"],
                         ids=["missing", "text-plain", "form", "multipart", "octet-stream"])
def test_wrong_content_type(client, content_type):
    doc = f"{PUBLIC}/{fresh()}"
    response = client.request("POST", f"push/{doc}", body=b'{"data":{"a":1},"baseHash":null}',
                              content_type=content_type)
    body = expect_error(response, 415, "Content-Type must be application/json")
    assert body == {"error": "Content-Type must be application/json"}, body
    assert expect_ok(client.pull(doc)).get("hash") == "", "a refused push stored data"


@check("errors.content-type.charset-accepted", level=MUST,
       rule="application/json with a charset parameter is accepted as JSON",
       source="digest §1.15 [V] ('application/json; charset=utf-8 passes')")
def test_json_charset_accepted(client):
    response = client.request("POST", f"push/{PUBLIC}/{fresh()}", body=b'{"data":{"a":1},"baseHash":null}',
                              content_type="application/json; charset=utf-8")
    assert expect_ok(response).get("hash") == document_hash({"a": 1})


# ------------------------------------------------------------------------------------------- path params


@check("errors.path.charset-400", level=MUST,
       rule='A path param outside [a-zA-Z0-9._:@-]+ gets 400 "Invalid path parameter", before any auth',
       source="digest §1.3 rule 1, §6.1 step 1; http-errors.json invalid_path_param")
@pytest.mark.parametrize("raw", ["r%20!", "a%0A", "caf%C3%A9", "a*b", "a%25b", "semi%3Bcolon", "a+b"],
                         ids=["space-bang", "trailing-newline", "non-ascii", "star", "percent",
                              "semicolon", "plus"])
def test_path_charset(client, raw):
    # `shared` is private: an anonymous caller would get 403 there, so a 400 shows the charset check runs first
    for collection in ("guestbook", "shared"):
        response = client.request("GET", f"pull/{collection}/{raw}")
        assert expect_error(response, 400, "Invalid path parameter") == {"error": "Invalid path parameter"}


@check("errors.path.dot-dot-400", level=MUST,
       rule='A path param of ".." (a resolved key containing "..") gets 400 "Invalid path parameter"',
       source="digest §1.3 rule 3 [V] ('/pull/pub/.. gives 400')")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_dot_dot_key(client, method):
    action = "pull" if method == "GET" else "push"
    kwargs: dict[str, Any] = {} if method == "GET" else {"json": {"data": {"a": 1}, "baseHash": None}}
    response = client.request(method, f"{action}/{PUBLIC}/%2E%2E", **kwargs)
    assert expect_error(response, 400, "Invalid path parameter") == {"error": "Invalid path parameter"}


# ------------------------------------------------------------------------------------------- routing


@check("errors.route.unknown-404", level=MUST,
       rule="A path that no route matches gets 404",
       source='digest §6.2 (404 {"detail":"Not Found"}, FastAPI default; {"error":"Not Found"} is accepted too)')
@pytest.mark.parametrize("method,path", [
    ("GET", "nope"),
    ("GET", "pull/no-such-collection/x"),
    ("POST", "push/no-such-collection/x"),
    ("GET", "pull/guestbook"),
    ("GET", "pull/guestbook/a/b"),
    ("GET", "list/guestbook"),
    ("GET", "pull"),
    ("GET", "batch"),
], ids=["root-unknown", "pull-unknown-collection", "push-unknown-collection", "too-few-segments",
        "too-many-segments", "list-not-listable", "bare-pull", "bare-batch"])
def test_unknown_path(client, method, path):
    kwargs: dict[str, Any] = {"json": {"data": {}, "baseHash": None}} if method == "POST" else {}
    response = client.request(method, path, **kwargs)
    expect_status(response, 404)
    _not_found_body(response)


@check("errors.route.wrong-method-405", level=MUST,
       rule="A known path with the wrong method gets 405 with an Allow header naming the right method",
       source='digest §6.2 [V] (405 {"detail":"Method Not Allowed"} with Allow, FastAPI default; '
              '{"error":...} accepted too)')
@pytest.mark.parametrize("method,path,allow", [
    ("GET", "push/guestbook/{doc}", "POST"),
    ("PUT", "push/guestbook/{doc}", "POST"),
    ("POST", "pull/guestbook/{doc}", "GET"),
    ("DELETE", "pull/guestbook/{doc}", "GET"),
    ("PATCH", "pull/guestbook/{doc}", "GET"),
    ("POST", "health", "GET"),
    ("POST", "batch/pull", "GET"),
    ("POST", "list/chats/{doc}", "GET"),
], ids=["get-push", "put-push", "post-pull", "delete-pull", "patch-pull", "post-health", "post-batch", "post-list"])
def test_wrong_method(client, method, path, allow):
    body = b'{"data":{},"baseHash":null}' if method in ("POST", "PUT", "PATCH") else None
    response = client.request(method, path.format(doc=fresh()), body=body,
                              content_type="application/json" if body else None)
    expect_status(response, 405)
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",") if m.strip()}
    assert allow in allowed, f"Allow header {response.headers.get('allow')!r} should name {allow}"
    payload = body_json(response)
    assert payload in ({"detail": "Method Not Allowed"}, {"error": "Method Not Allowed"}), payload
