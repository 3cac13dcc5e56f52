"""auth.sig: the per-request signature binds the method, the path (mount prefix included), the raw query, the
body bytes, the host, the timestamp and the nonce (digest §5.3(b), §5.4, §5.5 steps 9-10).

Every binding check sends the same request twice over: once signed over exactly what is sent (it must be
served), once signed over something else (it must be refused 401). The first half keeps a server that
refuses everything from passing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from conformance.checks import MUST, check
from conformance.identities import paired_device, scope
from conformance.suite.auth_support import (
    expect_absent,
    expect_data,
    expect_unauthorized,
    seed_shared,
    shared_reader,
    signed_over,
)
from conformance.suite.support import cap_device, fresh, root
from protocol.encoding import b64encode
from protocol.keys import SigningKey
from protocol.signing import request_signing_input


def _host_name(target) -> str:
    return urlsplit(target.base_url).hostname or "127.0.0.1"


def _scheme(target) -> str:
    return urlsplit(target.base_url).scheme


@check("auth.sig.wrong-key-401", level=MUST,
       rule="The request must be signed by the cap's sub: a signature by the issuer or any other key is 401",
       source="digest §5.3(b), §5.5 steps 9-10")
@pytest.mark.parametrize("signer", ["issuer", "stranger"])
def test_wrong_key(client, signer):
    seeded = seed_shared(client)
    issuer = SigningKey.generate()
    device = paired_device(issuer, scope(["shared"], ["read"]))
    expect_data(client.pull(seeded.path, device=device), seeded.data)
    impostor = device.with_cert(device.cert)
    impostor.key = issuer if signer == "issuer" else SigningKey.generate()
    expect_unauthorized(client.pull(seeded.path, device=impostor))


@check("auth.sig.garbage-401", level=MUST,
       rule="An X-Starfish-Sig that is empty, not base64, or not a valid 64-byte Ed25519 signature is 401",
       source="digest §5.1, §5.3 (verification never raises: bad base64 means invalid), §5.5 step 10")
@pytest.mark.parametrize("sig", ["", "!!!!", b64encode(b"\1" * 63), b64encode(b"\0" * 64)],
                         ids=["empty", "not-base64", "63-bytes", "zero-bytes"])
def test_garbage_signature(client, sig):
    seeded = seed_shared(client)
    request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
    request.headers["X-Starfish-Sig"] = sig
    expect_unauthorized(client.send(request))


@check("auth.sig.method-bound", level=MUST,
       rule="The signature covers the method: a GET signed as POST or HEAD is 401",
       source="digest §5.4 rule 1")
@pytest.mark.parametrize("signed_method", ["POST", "HEAD"])
def test_method_bound(client, signed_method):
    seeded = seed_shared(client)
    expect_data(client.send(signed_over(client, shared_reader(), "GET", "pull/" + seeded.path)), seeded.data)
    request = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, sign_method=signed_method)
    expect_unauthorized(client.send(request))


@check("auth.sig.path-bound", level=MUST,
       rule="The signature covers the path: a request signed for another document's path is 401",
       source="digest §5.4 rule 2")
def test_path_bound(client):
    seeded, other = seed_shared(client), seed_shared(client)
    request = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path,
                          sign_path=client.build("GET", "pull/" + other.path).url.raw_path.decode())
    expect_unauthorized(client.send(request))
    expect_data(client.pull(other.path, device=shared_reader()), other.data)


@check("auth.sig.mount-prefix-bound", level=MUST,
       rule="The signed path includes the mount prefix: a request signed over /pull/... while sent to "
            "<prefix>/pull/... is 401",
       source="digest §5.4 rule 2 ([V] a signature over /pull/... against a /v1 mount fails), §12.1")
def test_mount_prefix_bound(client, starfish_target):
    prefix = starfish_target.prefix
    if not prefix:
        pytest.skip("the target is mounted at / so there is no mount prefix to leave out")
    seeded = seed_shared(client)
    raw = client.build("GET", "pull/" + seeded.path).url.raw_path.decode()
    assert raw.startswith(prefix + "/"), raw
    request = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, sign_path=raw[len(prefix):])
    expect_unauthorized(client.send(request))
    expect_data(client.send(signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, sign_path=raw)),
                seeded.data)


@check("auth.sig.query-bound", level=MUST,
       rule="The signature covers the raw query string: a different, reordered, dropped or added query is 401",
       source="digest §5.4 rule 2 (no re-encoding, no reordering)")
@pytest.mark.parametrize("signed_query", ["?a=1&b=3", "?b=2&a=1", "", "?a=1&b=2&c=3"],
                         ids=["changed", "reordered", "dropped", "added"])
def test_query_bound(client, signed_query):
    seeded = seed_shared(client)
    path = "pull/" + seeded.path
    expect_data(client.send(signed_over(client, shared_reader(), "GET", path, query="a=1&b=2")), seeded.data)
    raw_path = client.build("GET", path).url.raw_path.decode()
    request = signed_over(client, shared_reader(), "GET", path, query="a=1&b=2", sign_path=raw_path + signed_query)
    expect_unauthorized(client.send(request))


@check("auth.sig.query-raw", level=MUST,
       rule="The query is signed as sent, percent-escapes included: signing the decoded query is 401",
       source="digest §5.4 rule 2 (the query string is the raw string as sent)")
def test_query_raw(client):
    seeded = seed_shared(client)
    path = "pull/" + seeded.path
    raw_path = client.build("GET", path).url.raw_path.decode()
    expect_data(client.send(signed_over(client, shared_reader(), "GET", path, query="q=%41%20b")), seeded.data)
    request = signed_over(client, shared_reader(), "GET", path, query="q=%41%20b", sign_path=raw_path + "?q=A b")
    expect_unauthorized(client.send(request))


@check("auth.sig.path-decoded", level=MUST,
       rule="The path is signed as the server decodes it: /v1/pull/shared/%64-x is signed as /v1/pull/shared/d-x",
       source="digest §5.4 rule 2 (the ASGI decoded path)")
def test_path_decoded(client):
    seeded = seed_shared(client)
    collection, doc = seeded.path.split("/", 1)
    escaped = f"pull/{collection}/%{ord(doc[0]):02X}{doc[1:]}"
    raw = client.build("GET", escaped).url.raw_path.decode()
    assert "%" in raw, raw
    expect_data(client.send(client.build("GET", escaped, device=shared_reader())), seeded.data)
    expect_unauthorized(client.send(signed_over(client, shared_reader(), "GET", escaped, sign_path=raw)))


@check("auth.sig.body-bound", level=MUST,
       rule="The signature covers the SHA-256 of the exact body bytes: a push whose bytes differ from the signed "
            "ones is 401 and nothing is stored",
       source="digest §5.4 rule 3, §5.5 step 10")
def test_body_bound(client):
    device = cap_device("shared", ("read", "write"))
    path = f"shared/{fresh()}"
    request = client.build("POST", "push/" + path, json={"data": {"v": 2}, "baseHash": None})
    signed = b'{"data":{"v":1},"baseHash":null}'
    assert len(signed) == len(request.content)
    tampered = signed_over(client, device, "POST", "push/" + path, body=request.content,
                           content_type="application/json", sign_body=signed)
    expect_unauthorized(client.send(tampered))
    expect_absent(client, path)


@check("auth.sig.host-bound", level=MUST,
       rule="The signature covers the host: signed for another host, for the host without its non-default port, "
            "or for an empty host is 401",
       source="digest §5.4 rule 4 ([V] a signature for `test` fails against `Host: test:8000`; h \"\" fails)")
@pytest.mark.parametrize("case", ["other-host", "port-dropped", "empty"])
def test_host_bound(client, starfish_target, case):
    seeded = seed_shared(client)
    host = starfish_target.host_port.lower()
    signed_host = {"other-host": "evil.example", "port-dropped": _host_name(starfish_target), "empty": ""}[case]
    if signed_host == host:
        pytest.skip("the target is on its scheme's default port, so no port can be dropped")
    request = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, sign_host=signed_host)
    expect_unauthorized(client.send(request))
    expect_data(client.send(signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, sign_host=host)),
                seeded.data)


@check("auth.sig.host-default-port-dropped", level=MUST,
       rule="With `Host: name:80` over http (443 over https) the signed host is `name`; signing `name:80` is 401",
       source="digest §5.4 rule 4")
def test_host_default_port(client, starfish_target):
    seeded = seed_shared(client)
    name = _host_name(starfish_target)
    default = {"http": "80", "https": "443"}[_scheme(starfish_target)]
    headers = {"Host": f"{name}:{default}"}
    good = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, headers=headers, sign_host=name)
    expect_data(client.send(good), seeded.data)
    bad = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, headers=headers,
                      sign_host=f"{name}:{default}")
    expect_unauthorized(client.send(bad))


@check("auth.sig.host-lowercased", level=MUST,
       rule="The signed host is the Host header lowercased: `Host: Starfish.EXAMPLE:<port>` is signed as "
            "`starfish.example:<port>`",
       source="digest §5.4 rule 4")
def test_host_lowercased(client, starfish_target):
    seeded = seed_shared(client)
    port = urlsplit(starfish_target.base_url).port
    mixed = "Starfish.EXAMPLE" + (f":{port}" if port else "")
    request = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, headers={"Host": mixed},
                          sign_host=mixed.lower())
    expect_data(client.send(request), seeded.data)
    verbatim = signed_over(client, shared_reader(), "GET", "pull/" + seeded.path, headers={"Host": mixed},
                           sign_host=mixed)
    expect_unauthorized(client.send(verbatim))


@check("auth.sig.ts-bound", level=MUST,
       rule="The signature covers ts: changing X-Starfish-Ts by 1 ms after signing is 401",
       source="digest §5.4 rule 6")
def test_ts_bound(client):
    seeded = seed_shared(client)
    request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
    request.headers["X-Starfish-Ts"] = str(int(request.headers["X-Starfish-Ts"]) + 1)
    expect_unauthorized(client.send(request))


@check("auth.sig.nonce-bound", level=MUST,
       rule="The signature covers the nonce: changing X-Starfish-Nonce after signing is 401",
       source="digest §5.4 rule 7")
def test_nonce_bound(client):
    seeded = seed_shared(client)
    request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
    request.headers["X-Starfish-Nonce"] = b64encode(b"\7" * 16)
    expect_unauthorized(client.send(request))


@check("auth.sig.no-alg-field", level=MUST,
       rule="The canonical input has exactly the keys b, h, m, nonce, p, ts: a signature over an input with an "
            "extra \"alg\" key is 401",
       source="digest §5.4 rule 8")
def test_no_alg_field(client):
    seeded = seed_shared(client)
    device = root(("shared",), ("read",))
    request = client.build("GET", "pull/" + seeded.path, device=device)
    ts, nonce = int(request.headers["X-Starfish-Ts"]), request.headers["X-Starfish-Nonce"]
    text = request_signing_input("GET", request.url.raw_path.decode(), b"", host=request.headers["host"], ts_ms=ts,
                                 nonce=nonce)
    with_alg = text.replace('{"b":', '{"alg":"ed25519","b":', 1)
    request.headers["X-Starfish-Sig"] = b64encode(device.key.sign(with_alg.encode("utf-8")))
    expect_unauthorized(client.send(request))
