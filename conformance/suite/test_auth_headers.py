"""auth.header: the Authorization Cap header, the signature headers and the signed-write body guard
(digest §5.1, §5.5 steps 1-4 and 8, §6.2)."""

from __future__ import annotations

import base64
import json

import pytest

from conformance.checks import MUST, check
from conformance.client import compact_json
from conformance.identities import Device, root_device, scope
from conformance.suite.auth_support import (
    expect_absent,
    expect_data,
    expect_exact,
    expect_forbidden,
    expect_unauthorized,
    seed_shared,
    shared_reader,
    streamed,
)
from conformance.suite.support import cap_device, expect_ok, fresh
from protocol.canonical_json import stable_stringify
from protocol.capcert import cap_header
from protocol.keys import SigningKey

MAX_CAP_HEADER = 8192


@check("auth.header.missing-cap-anonymous-403", level=MUST,
       rule="Without an Authorization header the caller is anonymous: a private collection answers 403 Forbidden "
            "(pull and push), and nothing is stored",
       source="digest §5.5 step 1, §5.12, §6.2")
def test_missing_cap_is_anonymous(client):
    seeded = seed_shared(client)
    expect_forbidden(client.pull(seeded.path))
    path = f"shared/{fresh()}"
    expect_forbidden(client.push(path, {"anonymous": True}))
    expect_absent(client, path)


def _with_scheme(client, device: Device, path: str, scheme: str):
    request = client.build("GET", path, device=device)
    request.headers["Authorization"] = scheme + request.headers["Authorization"][len("Cap "):]
    return request


@check("auth.header.non-cap-scheme-anonymous", level=MUST,
       rule="An Authorization scheme other than `Cap ` (e.g. Bearer) is treated as anonymous: 403 on a private "
            "collection, never 401 and never accepted",
       source="digest §5.5 step 1, §5.12")
@pytest.mark.parametrize("scheme", ["Bearer ", "Basic ", "Token "])
def test_non_cap_scheme(client, scheme):
    seeded = seed_shared(client)
    expect_forbidden(client.send(_with_scheme(client, shared_reader(), "pull/" + seeded.path, scheme)))


@check("auth.header.cap-scheme-case-sensitive", level=MUST,
       rule="The `Cap ` prefix is case-sensitive: `cap `/`CAP ` with an otherwise valid signed cap is anonymous (403)",
       source="digest §5.1, §5.5 step 1")
@pytest.mark.parametrize("scheme", ["cap ", "CAP "])
def test_cap_scheme_case(client, scheme):
    seeded = seed_shared(client)
    expect_forbidden(client.send(_with_scheme(client, shared_reader(), "pull/" + seeded.path, scheme)))


def _padded_reader(header_len: int) -> Device:
    """A valid `cap:read:shared` device whose Authorization header is exactly `header_len` characters (mod 4)."""
    key = SigningKey.generate()
    cap_scope = scope(["shared"], ["read"])
    probe = root_device(cap_scope, root=key, extra={"pad": ""})
    base = len(stable_stringify(probe.cert))
    raw_len = (header_len - len("Cap ")) // 4 * 3  # base64 of raw_len bytes fills exactly that many chars
    device = root_device(cap_scope, root=key, nbf=probe.cert["nbf"], exp=probe.cert["exp"],
                         extra={"pad": "x" * (raw_len - base)})
    assert len(cap_header(device.cert)) == header_len, len(cap_header(device.cert))
    return device


@check("auth.header.cap-8192-accepted", level=MUST,
       rule="A valid Cap header of exactly 8192 characters (counting `Cap `) is accepted",
       source="digest §5.5 step 2 (max_cap_header_bytes = 8192)")
def test_cap_header_at_limit(client):
    seeded = seed_shared(client)
    expect_data(client.pull(seeded.path, device=_padded_reader(MAX_CAP_HEADER)), seeded.data)


@check("auth.header.cap-over-8192-401", level=MUST,
       rule="A Cap header longer than 8192 characters is refused 401 Unauthorized even when the cap is valid",
       source="digest §5.5 step 2, §6.2")
def test_cap_header_over_limit(client):
    seeded = seed_shared(client)
    expect_unauthorized(client.pull(seeded.path, device=_padded_reader(MAX_CAP_HEADER + 4)))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@check("auth.header.malformed-cap-401", level=MUST,
       rule="A Cap header that is not standard base64 of a JSON cap-cert object is refused 401 Unauthorized",
       source="digest §5.5 step 3, §6.2")
@pytest.mark.parametrize("case", ["not-base64", "truncated-base64", "not-json", "json-array", "json-string",
                                  "invalid-utf8"])
def test_malformed_cap(client, case):
    seeded = seed_shared(client)
    device = shared_reader()
    good = stable_stringify(device.cert).encode("utf-8")
    value = {
        "not-base64": "!!!not*base64!!!",
        "truncated-base64": _b64(good)[:-3],
        "not-json": _b64(b"this is not json"),
        "json-array": _b64(json.dumps([device.cert]).encode()),
        "json-string": _b64(json.dumps(good.decode()).encode()),
        "invalid-utf8": _b64(good[:-1] + b"\xff}"),
    }[case]
    request = client.build("GET", "pull/" + seeded.path, device=device)
    request.headers["Authorization"] = "Cap " + value
    expect_unauthorized(client.send(request))


@check("auth.header.cap-value-trimmed", level=MUST,
       rule="The text after `Cap ` is whitespace-trimmed before decoding (extra spaces after the scheme are accepted)",
       source="digest §5.1")
def test_cap_value_trimmed(client):
    seeded = seed_shared(client)
    request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
    request.headers["Authorization"] = "Cap    " + request.headers["Authorization"][len("Cap "):]
    expect_data(client.send(request), seeded.data)


@check("auth.header.cap-any-key-order", level=MUST,
       rule="The server parses and re-canonicalises the cap JSON, so any key order and spacing verifies",
       source="digest §5.1")
def test_cap_any_key_order(client):
    seeded = seed_shared(client)
    device = shared_reader()
    reordered = json.dumps(dict(reversed(list(device.cert.items()))), indent=1).encode("utf-8")
    request = client.build("GET", "pull/" + seeded.path, device=device)
    request.headers["Authorization"] = "Cap " + _b64(reordered)
    assert request.headers["Authorization"] != cap_header(device.cert)
    expect_data(client.send(request), seeded.data)


@check("auth.header.names-case-insensitive", level=MUST,
       rule="Auth header names match case-insensitively (X-STARFISH-SIG, authorization, ...)",
       source="digest §5.1")
def test_header_names_case_insensitive(client):
    seeded = seed_shared(client)
    request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
    renamed = [(k.upper() if k.lower().startswith("x-starfish") else k.lower(), v)
               for k, v in request.headers.multi_items()]
    request.headers.clear()
    for k, v in renamed:
        request.headers[k] = v
    expect_data(client.send(request), seeded.data)


def _drop(header):
    def test(client):
        seeded = seed_shared(client)
        request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
        del request.headers[header]
        expect_unauthorized(client.send(request))
    return test


test_missing_sig = check(
    "auth.header.sig-required-401", level=MUST,
    rule="A Cap request without X-Starfish-Sig is refused 401 Unauthorized", source="digest §5.5 step 4, §6.2",
)(_drop("X-Starfish-Sig"))
test_missing_ts = check(
    "auth.header.ts-required-401", level=MUST,
    rule="A Cap request without X-Starfish-Ts is refused 401 Unauthorized", source="digest §5.5 step 4, §6.2",
)(_drop("X-Starfish-Ts"))
test_missing_nonce = check(
    "auth.header.nonce-required-401", level=MUST,
    rule="A Cap request without X-Starfish-Nonce is refused 401 Unauthorized", source="digest §5.5 step 4, §6.2",
)(_drop("X-Starfish-Nonce"))


@check("auth.header.ts-decimal-only-401", level=MUST,
       rule="X-Starfish-Ts must fully match -?[0-9]+: a sign, a fraction, an exponent, an underscore, inner space "
            "or hex is 401 even when the signature covers the intended value",
       source="digest §5.1, §5.5 step 4")
@pytest.mark.parametrize("form", ["+{ts}", "{ts}.0", "{ts}e0", "{head}_{tail}", "{head} {tail}", "0x{hex}", ""])
def test_ts_decimal_only(client, form):
    seeded = seed_shared(client)
    request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
    ts = request.headers["X-Starfish-Ts"]
    request.headers["X-Starfish-Ts"] = form.format(ts=ts, head=ts[:4], tail=ts[4:], hex=format(int(ts), "x"))
    expect_unauthorized(client.send(request))


def _exact_body(size: int) -> bytes:
    """A compact `{data, baseHash: null}` push body of exactly `size` bytes."""
    empty = compact_json({"data": {"p": ""}, "baseHash": None})
    body = compact_json({"data": {"p": "x" * (size - len(empty))}, "baseHash": None})
    assert len(body) == size
    return body


@check("auth.header.signed-write-needs-content-length", level=MUST,
       rule="A Cap-signed write without Content-Length (chunked body) is refused 413 "
            "{\"error\":\"missing Content-Length on write\"} and not stored",
       source="digest §5.5 step 8, §6.2")
def test_write_needs_content_length(client):
    device = cap_device("shared", ("read", "write"))
    path = f"shared/{fresh()}"
    request = client.build("POST", "push/" + path, json={"data": {"chunked": True}, "baseHash": None}, device=device)
    expect_exact(client.send(streamed(request)), 413, {"error": "missing Content-Length on write"})
    expect_absent(client, path)


@check("auth.header.signed-write-64kib-accepted", level=MUST,
       rule="A Cap-signed write of exactly 65536 bytes passes the resolver's body guard and is stored",
       source="digest §5.5 step 8 (max_body_bytes = 65536)")
def test_write_at_body_limit(client):
    device = cap_device("shared", ("read", "write"))
    path = f"shared/{fresh()}"
    body = _exact_body(65_536)
    expect_ok(client.request("POST", "push/" + path, body=body, content_type="application/json", device=device))
    expect_data(client.pull(path, device=device), json.loads(body)["data"])


@check("auth.header.signed-write-over-64kib-413", level=MUST,
       rule="A Cap-signed write declaring more than 65536 bytes is refused 413 {\"error\":\"request body too large\"} "
            "by the resolver, whatever the collection's own limit, and nothing is stored",
       source="digest §5.5 step 8, §6.2, §6.3")
@pytest.mark.parametrize("collection", ["shared", "files"])
def test_write_over_body_limit(client, collection):
    if collection == "shared":
        device = cap_device("shared", ("read", "write"))
        path = f"shared/{fresh()}"
        response = client.request("POST", "push/" + path, body=_exact_body(65_537), content_type="application/json",
                                  device=device)
    else:  # `files` allows 1 MiB, so only the resolver's guard can refuse this
        device = root_device(scope(["files"], ["read", "write"]))
        path = f"files/{device.identity}/{fresh()}"
        response = client.request("POST", "push/" + path, body=b"\0" * 70_000,
                                  content_type="application/octet-stream", device=device)
    expect_exact(response, 413, {"error": "request body too large"})
    if collection == "shared":
        expect_absent(client, path)
    else:
        assert client.pull(path).status_code == 404, "a refused blob upload must not be stored"
