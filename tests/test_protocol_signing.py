"""Unit tests for protocol.signing: request canonical input, host and body rules, skew (digest §5.4, §5.6)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.canonical_json import stable_stringify
from protocol.capcert import cap_header
from protocol.constants import (
    EMPTY_BODY_SHA256,
    HEADER_AUTHORIZATION,
    HEADER_NONCE,
    HEADER_PUB,
    HEADER_SIG,
    HEADER_TS,
    MAX_REQUEST_SKEW_MS,
    REQUEST_DOMAIN,
)
from protocol.keys import SigningKey
from protocol.signing import (
    auth_headers,
    new_nonce,
    now_ms,
    request_signing_input,
    sign_request,
    signed_body,
    signing_host,
    verify_request_signature,
    within_skew,
)

KEY = SigningKey.derive(b"test_protocol_signing", "device")
OTHER = SigningKey.derive(b"test_protocol_signing", "other")

# Digest §5.4 worked example (we do not hold its private key; Ed25519 is deterministic, so verifying suffices).
EXAMPLE_PUB = "5333460b6cdb1dd4adc074c70ac38823c09153d430202406599f0b929a55f8ca"
EXAMPLE_SIG = "6PI9sfnG7OTaHe4n0zZBSdwTOCOculyK+Am9SsrdTr8jCejxQiQX1aJt1C5Uz0DMHlWAdMMhhpHkKJ5HxfxwDw=="
EXAMPLE = {
    "method": "GET",
    "path_and_query": "/pull/notes/alice/0?checkpoint=0",
    "body": b"",
    "host": "api.example.com",
    "ts_ms": 1747000000000,
    "nonce": "AAECAwQFBgcICQoLDA0ODw==",
}
EXAMPLE_INPUT = (
    "starfish-req-v1\n"
    '{"b":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","h":"api.example.com","m":"GET",'
    '"nonce":"AAECAwQFBgcICQoLDA0ODw==","p":"/pull/notes/alice/0?checkpoint=0","ts":1747000000000}'
)


def _input(**changes: object) -> str:
    args = {**EXAMPLE, **changes}
    return request_signing_input(
        args["method"],
        args["path_and_query"],
        args["body"],
        host=args["host"],
        ts_ms=args["ts_ms"],
        nonce=args["nonce"],
    )  # type: ignore[arg-type]


def test_worked_example_canonical_input() -> None:
    assert _input() == EXAMPLE_INPUT


def test_worked_example_signature_verifies() -> None:
    assert verify_request_signature(EXAMPLE_PUB, EXAMPLE_SIG, **EXAMPLE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"method": "POST"},
        {"path_and_query": "/pull/notes/alice/1?checkpoint=0"},
        {"path_and_query": "/pull/notes/alice/0?checkpoint=1"},
        {"path_and_query": "/pull/notes/alice/0"},
        {"path_and_query": "/v1/pull/notes/alice/0?checkpoint=0"},
        {"body": b"{}"},
        {"host": "api.example.com:8080"},
        {"host": ""},
        {"ts_ms": 1747000000001},
        {"nonce": "AAECAwQFBgcICQoLDA0ODg=="},
    ],
)
def test_worked_example_fails_after_any_change(change: dict[str, object]) -> None:
    assert not verify_request_signature(EXAMPLE_PUB, EXAMPLE_SIG, **{**EXAMPLE, **change})  # type: ignore[arg-type]


def test_canonical_input_keys_and_body_hash() -> None:
    text = request_signing_input("post", "/push/x?a=1&b=2", b'{"data":{}}', host="h:1", ts_ms=-5, nonce="n")
    assert text.startswith(REQUEST_DOMAIN)
    fields = json.loads(text[len(REQUEST_DOMAIN) :])
    assert list(fields) == ["b", "h", "m", "nonce", "p", "ts"]
    assert fields == {
        "b": hashlib.sha256(b'{"data":{}}').hexdigest(),
        "h": "h:1",
        "m": "POST",
        "nonce": "n",
        "p": "/push/x?a=1&b=2",
        "ts": -5,
    }
    assert json.loads(request_signing_input("GET", "/", b"", host="", ts_ms=0, nonce="")[16:])["b"] == EMPTY_BODY_SHA256


# Each request differs from BASE in exactly one signed component.
BASE = {"method": "POST", "path_and_query": "/v1/push/notes/a?x=1", "body": b'{"data":{"a":1}}', "host": "example.com"}


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"path_and_query": "/v1/push/notes/b?x=1"},
        {"path_and_query": "/v1/push/notes/a?x=2"},
        {"path_and_query": "/v1/push/notes/a?x=1&"},
        {"path_and_query": "/v1/push/notes/a"},
        {"body": b'{"data":{"a":2}}'},
        {"body": b""},
        {"host": "example.com:8080"},
        {"host": "EXAMPLE.com"},
        {"ts_ms": 1_700_000_000_001},
        {"nonce": "other"},
    ],
)
def test_signature_fails_when_any_component_changes(change: dict[str, object]) -> None:
    sig, ts, nonce = sign_request(KEY, **BASE, ts_ms=1_700_000_000_000, nonce="n0")  # type: ignore[arg-type]
    signed = {**BASE, "ts_ms": ts, "nonce": nonce}
    assert verify_request_signature(KEY.pub, sig, **signed)  # type: ignore[arg-type]
    assert not verify_request_signature(KEY.pub, sig, **{**signed, **change})  # type: ignore[arg-type]


def test_signature_fails_under_another_key_and_with_bad_sig_text() -> None:
    sig, ts, nonce = sign_request(KEY, "GET", "/pull/a", b"", host="h")
    assert not verify_request_signature(OTHER.pub, sig, "GET", "/pull/a", b"", host="h", ts_ms=ts, nonce=nonce)
    for bad in ("", "!!", sig[:-4], sig + "AAAA", None, 5):
        assert not verify_request_signature(KEY.pub, bad, "GET", "/pull/a", b"", host="h", ts_ms=ts, nonce=nonce)  # type: ignore[arg-type]


def test_method_is_case_insensitive() -> None:
    sig, ts, nonce = sign_request(KEY, "get", "/p", b"", host="h")
    assert verify_request_signature(KEY.pub, sig, "GET", "/p", b"", host="h", ts_ms=ts, nonce=nonce)


def test_sign_request_defaults_fresh_nonce_and_now() -> None:
    before = now_ms()
    _, ts1, nonce1 = sign_request(KEY, "GET", "/p", b"", host="h")
    _, _, nonce2 = sign_request(KEY, "GET", "/p", b"", host="h")
    assert before <= ts1 <= now_ms()
    assert nonce1 != nonce2
    assert len(base64.b64decode(nonce1, validate=True)) == 16
    assert len(base64.b64decode(new_nonce(), validate=True)) == 16


@pytest.mark.parametrize(
    ("host", "scheme", "expected"),
    [
        ("example.com", "http", "example.com"),
        ("Example.COM", "http", "example.com"),
        ("example.com:80", "http", "example.com"),
        ("example.com:443", "http", "example.com:443"),
        ("example.com:443", "https", "example.com"),
        ("example.com:80", "https", "example.com:80"),
        ("example.com:8080", "http", "example.com:8080"),
        ("example.com:8080", "HTTPS", "example.com:8080"),
        ("example.com:80", "HTTP", "example.com"),
        ("127.0.0.1:8000", "http", "127.0.0.1:8000"),
        ("[::1]:8080", "http", "[::1]:8080"),
        ("[::1]:80", "http", "[::1]"),
        ("[::1]:443", "https", "[::1]"),
        ("[::1]", "http", "[::1]"),
        ("[::1]:8080", "https", "[::1]:8080"),
        ("[2001:DB8::1]:9000", "http", "[2001:db8::1]:9000"),
        ("  example.com  ", "http", "example.com"),
    ],
)
def test_signing_host(host: str, scheme: str, expected: str) -> None:
    assert signing_host(host, scheme) == expected


@pytest.mark.parametrize(
    ("method", "content_type", "signed"),
    [
        ("GET", "application/json", False),
        ("get", None, False),
        ("HEAD", None, False),
        ("OPTIONS", "application/json", False),
        ("POST", "application/json", True),
        ("post", "application/json; charset=utf-8", True),
        ("PUT", None, True),
        ("PATCH", "", True),
        ("DELETE", "Application/JSON", True),
        ("POST", "text/plain", False),
        ("POST", "image/png", False),
        ("POST", "application/octet-stream; x=y", False),
        ("POST", "application/json-patch+json", False),
    ],
)
def test_signed_body(method: str, content_type: str | None, signed: bool) -> None:
    body = b'{"data":{}}'
    assert signed_body(method, content_type, body) == (body if signed else b"")


@pytest.mark.parametrize(
    ("ts", "now", "ok"),
    [
        (1_000_000, 1_000_000, True),
        (1_000_000 + MAX_REQUEST_SKEW_MS, 1_000_000, True),
        (1_000_000 - MAX_REQUEST_SKEW_MS, 1_000_000, True),
        (1_000_000 + MAX_REQUEST_SKEW_MS + 1, 1_000_000, False),
        (1_000_000 - MAX_REQUEST_SKEW_MS - 1, 1_000_000, False),
        (1_300_000, 1_000_000, True),
        (700_000, 1_000_000, True),
        (1_300_001, 1_000_000, False),
        (699_999, 1_000_000, False),
    ],
)
def test_within_skew_edges(ts: int, now: int, ok: bool) -> None:
    assert within_skew(ts, now) is ok


def test_within_skew_custom_window_and_garbage() -> None:
    assert within_skew(10, 0, 10)
    assert not within_skew(11, 0, 10)
    assert within_skew(None, 0) is False  # type: ignore[arg-type]
    assert within_skew("5", 0) is False  # type: ignore[arg-type]


def _cert() -> dict[str, object]:
    return {"v": 1, "kind": "device", "iss": KEY.pub, "sub": KEY.pub, "sig": "x"}


def test_auth_headers_get() -> None:
    headers = auth_headers(_cert(), KEY, "GET", "/v1/pull/a?x=1", b"ignored", host="Example.com:80")
    assert set(headers) == {HEADER_AUTHORIZATION, HEADER_SIG, HEADER_TS, HEADER_NONCE}
    assert headers[HEADER_AUTHORIZATION] == cap_header(_cert())
    ts = int(headers[HEADER_TS])
    assert verify_request_signature(
        KEY.pub,
        headers[HEADER_SIG],
        "GET",
        "/v1/pull/a?x=1",
        b"",
        host="example.com",
        ts_ms=ts,
        nonce=headers[HEADER_NONCE],
    )


def test_auth_headers_post_json_blob_and_presenter() -> None:
    body = b'{"data":{"a":1}}'
    headers = auth_headers(
        _cert(),
        KEY,
        "POST",
        "/push/a",
        body,
        host="h:8000",
        content_type="application/json",
        ts_ms=5,
        nonce="n",
        presenter_pub=True,
    )
    assert headers[HEADER_PUB] == KEY.pub
    assert headers[HEADER_TS] == "5" and headers[HEADER_NONCE] == "n"
    assert verify_request_signature(
        KEY.pub, headers[HEADER_SIG], "POST", "/push/a", body, host="h:8000", ts_ms=5, nonce="n"
    )
    blob = auth_headers(
        _cert(), KEY, "POST", "/push/img", b"\x89PNG", host="h", content_type="image/png", ts_ms=5, nonce="n"
    )
    assert verify_request_signature(KEY.pub, blob[HEADER_SIG], "POST", "/push/img", b"", host="h", ts_ms=5, nonce="n")
    assert not verify_request_signature(
        KEY.pub, blob[HEADER_SIG], "POST", "/push/img", b"\x89PNG", host="h", ts_ms=5, nonce="n"
    )


@settings(max_examples=100, deadline=None)
@given(
    method=st.sampled_from(["GET", "post", "Put", "PATCH", "DELETE"]),
    path_and_query=st.text(),
    body=st.binary(max_size=32),
    host=st.text(),
    ts_ms=st.one_of(
        st.integers(min_value=-(2**53), max_value=2**53),
        st.integers(min_value=2**53 - 2, max_value=2**70).flatmap(lambda n: st.sampled_from([n, -n])),
    ),
    nonce=st.text(),
)
def test_signing_input_equals_generic_canonical_json(
    method: str, path_and_query: str, body: bytes, host: str, ts_ms: int, nonce: str
) -> None:
    # The request input may be built by a fast path; it must stay byte-identical to the generic rule (§5.3(b)).
    fields = {"m": method.upper(), "p": path_and_query, "b": hashlib.sha256(body).hexdigest(), "h": host,
              "ts": ts_ms, "nonce": nonce}  # fmt: skip
    expected = REQUEST_DOMAIN + stable_stringify(fields)
    assert request_signing_input(method, path_and_query, body, host=host, ts_ms=ts_ms, nonce=nonce) == expected


def test_credential_repr_hides_the_key() -> None:
    from protocol.signing import Credential

    credential = Credential(_cert(), KEY)
    assert KEY.private_hex() not in repr(credential)
    assert KEY.private_hex()[:16] not in repr(credential)
