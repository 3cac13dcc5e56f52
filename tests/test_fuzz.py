"""`starfish-conformance fuzz`: signing of the final bytes, the documents, a planted 500 and its replay."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import httpx
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.cli import main
from conformance.fuzz_auth import IdentityPool, SigningAuth, path_and_query
from conformance.fuzz_document import check_routes, check_security_schemes, check_valid, validate_document
from conformance.fuzz_engine import load_schema
from conformance.schema_profile import profile_openapi
from protocol.signing import signed_body, signing_host, verify_request_signature
from tests.refserver_support import default_server

PLANTED = Path(__file__).resolve().parent / "fuzz_planted_server.py"
PUSH_NOTES = "POST /push/users/{identity}/notes"
PULL_NOTES = "GET /pull/users/{identity}/notes"


@pytest.fixture(scope="module")
def reference():
    server = default_server()
    document = httpx.get(server.url + "/openapi.json").json()
    return server.url, document, load_schema(document, server.url)


def _device():
    return IdentityPool(1, collections=["notes"]).next()


def test_a_signed_fuzz_request_is_accepted(reference):
    url, _, schema = reference
    device = _device()
    push = schema.find_operation_by_label(PUSH_NOTES).Case(
        path_parameters={"identity": device.identity}, body={"data": {"é": [1, "x"]}, "baseHash": None},
        media_type="application/json")
    pushed = push.call(base_url=url, auth=SigningAuth(device), timeout=10)
    assert pushed.status_code == 200, pushed.text
    pull = schema.find_operation_by_label(PULL_NOTES).Case(path_parameters={"identity": device.identity},
                                                           query={"withKeyring": "0"})
    pulled = pull.call(base_url=url, auth=SigningAuth(device), timeout=10)
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["hash"] == pushed.json()["hash"]


def test_the_signature_covers_the_bytes_on_the_wire(reference):
    url, _, schema = reference
    device = _device()
    case = schema.find_operation_by_label(PUSH_NOTES).Case(
        path_parameters={"identity": device.identity}, query={"x": "a b/ü"},
        body={"data": {"k": "ü"}, "baseHash": None}, media_type="application/json")
    with requests.Session() as session:
        auth = SigningAuth(device)
        prepared = session.prepare_request(requests.Request(**{**case.as_transport_kwargs(base_url=url), "auth": auth}))
        headers = prepared.headers
        assert verify_request_signature(
            device.key.pub, headers["X-Starfish-Sig"], "POST", path_and_query(prepared.url),
            signed_body("POST", "application/json", prepared.body), host=signing_host(url.split("/")[2]),
            ts_ms=int(headers["X-Starfish-Ts"]), nonce=headers["X-Starfish-Nonce"])
        prepared.body = prepared.body.replace(b'"k"', b'"K"')  # same length, other bytes: must be refused
        assert session.send(prepared).status_code == 401


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_requests_never_fail_authentication(reference, data):
    """Whatever schemathesis generates (unicode queries, odd bodies), the signature holds: never a 401."""
    url, _, schema = reference
    device = _device()
    label = data.draw(st.sampled_from([PUSH_NOTES, PULL_NOTES]))
    operation = schema.find_operation_by_label(label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case = data.draw(operation.as_strategy(path_parameters={"identity": device.identity}))
    response = case.call(base_url=url, auth=SigningAuth(device), timeout=10)
    assert response.status_code != 401, (label, response.text)
    assert response.status_code < 500


def test_the_reference_document_passes_validation(reference):
    url, document, _ = reference
    checks = validate_document(document, url)
    assert [c.detail for c in checks if c.ok is False] == []
    assert all(c.ok for c in checks), [(c.id, c.detail) for c in checks]


def test_the_profile_document_is_valid_and_complete(reference):
    url, _, _ = reference
    document = profile_openapi()
    assert check_valid(document).ok
    assert check_security_schemes(document).ok
    assert check_routes(document, url).ok


def test_an_undefined_security_scheme_is_reported():
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                "paths": {"/pull/x": {"get": {"security": [{"bearerAuth": []}], "responses": {"200": {
                    "description": "ok"}}}}}}
    check = check_security_schemes(document)
    assert check.ok is False and "bearerAuth" in check.detail


def test_fuzz_finds_a_planted_500_and_replays_it(tmp_path, capsys):
    target = f"process:{sys.executable} {PLANTED}"
    output = tmp_path / "out"
    code = main(["fuzz", "--target", target, "--operation", "GET /pull/guestbook", "--max-examples", "20",
                 "--output", str(output), "-q"])
    assert code == 1
    results = {json.loads(line)["id"]: json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()}
    finding = results["fuzz.not_a_server_error"]
    assert finding["outcome"] == "fail" and finding["level"] == "MUST"
    assert any(c["case"] == "GET /pull/guestbook/{docId}" and c["outcome"] == "fail" for c in finding["cases"]) or \
        "guestbook" in finding["detail"]
    for name in ("junit.xml", "summary.md", "report.html", "run.json"):
        assert (output / name).exists()
    reproducer = Path(finding["reproducer"]["files"][0])
    stored = reproducer.read_text()
    assert "X-Starfish-Sig" not in stored and "Cap " not in stored  # unsigned: replay signs afresh
    assert json.loads(stored)["signer"] == "root-device"
    capsys.readouterr()
    assert main(["fuzz", "--target", target, "--replay", str(reproducer)]) == 1
    assert "REPRODUCED" in capsys.readouterr().out


def test_fuzz_against_the_reference_is_clean_and_writes_the_reports(tmp_path):
    output = tmp_path / "out"
    code = main(["fuzz", "--max-examples", "2", "--output", str(output), "-q"])
    lines = [json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()]
    assert code == 0, [(r["id"], r["detail"][:300]) for r in lines if r["outcome"] in ("fail", "error")]
    ids = {r["id"] for r in lines}
    assert {"fuzz.not_a_server_error", "fuzz.ignored_auth", "fuzz.openapi.valid", "fuzz.stateful.push-pull",
            "fuzz.stateful.append-checkpoint"} <= ids
    assert "<testsuite" in (output / "junit.xml").read_text()


def test_auth_negative_check_catches_a_server_that_skips_auth(tmp_path):
    """schemathesis's ignored_auth re-sends a 2xx request unsigned: the mutant that lets anonymous callers write
    to a public-read collection must be caught on `POST /push/profiles/{identity}` (writeRoles: self)."""
    faults = pytest.importorskip("reference_server.faults")
    if "public-read-grants-write" not in faults.FAULTS:
        pytest.skip("the mutant fault public-read-grants-write is not registered")
    output = tmp_path / "out"
    code = main(["fuzz", "--target", "mutant:public-read-grants-write", "--operation", "POST /push/profiles",
                 "--max-examples", "20", "--output", str(output), "-q"])
    results = {json.loads(line)["id"]: json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()}
    assert code == 1
    assert results["fuzz.ignored_auth"]["outcome"] == "fail"
