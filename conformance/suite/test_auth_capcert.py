"""auth.capcert: the cap-cert itself: window with ±300 s slack, issuer signature, userId bindings and shape
(digest §5.2, §5.3(a), §5.5 step 6)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from conformance.checks import MUST, check
from conformance.identities import Device, root_device, scope
from conformance.suite.auth_support import (
    ServerClock,
    expect_absent,
    expect_data,
    expect_forbidden,
    expect_unauthorized,
    seed_shared,
    shared_reader,
)
from conformance.suite.support import root
from protocol.capcert import build_cap_cert, new_cap_nonce, sign_cap_cert
from protocol.encoding import b64encode
from protocol.keys import KemKey, SigningKey

DELETE = object()


def resign(device: Device, **changes: Any) -> Device:
    """The device presenting its cert with `changes` applied (DELETE removes a key), re-signed by its issuer."""
    cert = {k: v for k, v in device.cert.items() if k != "sig"}
    for key, value in changes.items():
        if value is DELETE:
            cert.pop(key, None)
        else:
            cert[key] = value
    return device.with_cert(sign_cap_cert(cert, device.issuer))


def _window_reader(client, field: str, offset: int) -> Device:
    """A shared reader whose `field` (nbf or exp) is `offset` seconds from the server's current second."""
    now = ServerClock.read(client).early_second()
    nbf, exp = (now + offset, now + 3600) if field == "nbf" else (now - 3600, now + offset)
    return root_device(scope(["shared"], ["read"]), nbf=nbf, exp=exp)


@check("auth.capcert.nbf-300s-slack-accepted", level=MUST,
       rule="A cap whose nbf is exactly 300 s in the future is accepted (valid from nbf - 300 s, inclusive)",
       source="digest §5.2 (now < nbf - 300 is not-yet-valid), §12.3")
def test_nbf_slack_accepted(client):
    seeded = seed_shared(client)
    expect_data(client.pull(seeded.path, device=_window_reader(client, "nbf", 300)), seeded.data)


@check("auth.capcert.nbf-301s-rejected", level=MUST,
       rule="A cap whose nbf is 301 s in the future is refused 401 Unauthorized (not-yet-valid)",
       source="digest §5.2, §5.5 step 6, §12.3")
def test_nbf_past_slack_rejected(client):
    seeded = seed_shared(client)
    expect_unauthorized(client.pull(seeded.path, device=_window_reader(client, "nbf", 301)))


@check("auth.capcert.exp-300s-slack-accepted", level=MUST,
       rule="A cap that expired exactly 300 s ago is still accepted (valid until exp + 300 s, inclusive)",
       source="digest §5.2 (now > exp + 300 is expired), §12.3")
def test_exp_slack_accepted(client):
    seeded = seed_shared(client)
    expect_data(client.pull(seeded.path, device=_window_reader(client, "exp", -300)), seeded.data)


@check("auth.capcert.exp-301s-rejected", level=MUST,
       rule="A cap that expired 301 s ago is refused 401 Unauthorized (expired)",
       source="digest §5.2, §5.5 step 6, §12.3")
def test_exp_past_slack_rejected(client):
    seeded = seed_shared(client)
    expect_unauthorized(client.pull(seeded.path, device=_window_reader(client, "exp", -301)))


@check("auth.capcert.inverted-window-401", level=MUST,
       rule="A cap with exp <= nbf is refused 401 Unauthorized even while now is inside the slack of both",
       source="digest §5.2 (inverted-window), §5.5 step 6")
@pytest.mark.parametrize("case", ["exp-equals-nbf", "exp-before-nbf"])
def test_inverted_window(client, case):
    seeded = seed_shared(client)
    now = ServerClock.read(client).now_ms() // 1000
    nbf, exp = (now, now) if case == "exp-equals-nbf" else (now + 10, now - 10)
    expect_unauthorized(client.pull(seeded.path, device=root_device(scope(["shared"], ["read"]), nbf=nbf, exp=exp)))


@check("auth.capcert.bad-signature-401", level=MUST,
       rule="A cap whose sig does not verify under iss over the canonical cert (tampered, extended, borrowed, "
            "garbage or made by another key) is refused 401 Unauthorized",
       source="digest §5.2 (bad-signature), §5.3(a), §5.5 step 6")
@pytest.mark.parametrize("case", ["tampered-scope", "unsigned-extra-field", "sig-of-another-cert", "garbage-sig",
                                  "signed-by-another-key"])
def test_bad_cap_signature(client, case):
    seeded = seed_shared(client)
    device = root(("shared",), ("read",))
    cert = dict(device.cert)
    if case == "tampered-scope":
        cert["scope"] = {"ops": ["read", "write"], "collections": ["shared"]}
    elif case == "unsigned-extra-field":
        cert["note"] = "added after signing"
    elif case == "sig-of-another-cert":
        cert["sig"] = resign(device, nonce=new_cap_nonce()).cert["sig"]
    elif case == "garbage-sig":
        cert["sig"] = b64encode(b"\0" * 64)
    else:
        cert = sign_cap_cert(cert, SigningKey.generate())
    expect_unauthorized(client.pull(seeded.path, device=device.with_cert(cert)))


@check("auth.capcert.iss-userid-mismatch-401", level=MUST,
       rule="A cap whose issUserId is not sha256(iss)[0:32] is refused 401: a self-signed cap cannot claim "
            "another user's identity (the victim's document stays untouched)",
       source="digest §5.2 (iss-userid-mismatch), §5.9")
def test_iss_user_id_mismatch(client):
    victim = root(("notes",), ("read", "write"))
    attacker = root(("notes",), ("read", "write"))
    forged = resign(attacker, issUserId=victim.identity)
    path = f"users/{victim.identity}/notes"
    expect_unauthorized(client.push(path, {"owned": True}, device=forged))
    expect_unauthorized(client.pull(path, device=forged))
    expect_absent(client, path, reader=victim)


@check("auth.capcert.sub-userid-mismatch-401", level=MUST,
       rule="A cap whose subUserId is present but not sha256(sub)[0:32] is refused 401 Unauthorized",
       source="digest §5.2 (sub-userid-mismatch)")
def test_sub_user_id_mismatch(client):
    seeded = seed_shared(client)
    device = resign(shared_reader(), subUserId=SigningKey.generate().user_id)
    expect_unauthorized(client.pull(seeded.path, device=device))


_MALFORMED: dict[str, dict[str, Any]] = {
    "unknown-kind": {"kind": "admin"},
    "scope-not-object": {"scope": [["read"], ["shared"]]},
    "nbf-string": {"nbf": "NBF"},
    "nbf-bool": {"nbf": True},
    "nbf-fraction": {"nbf": "NBF+0.5"},
    "nonce-15-bytes": {"nonce": b64encode(b"\1" * 15)},
    "nonce-unpadded": {"nonce": b64encode(b"\2" * 16).rstrip("=")},
    "nonce-not-base64": {"nonce": "%%%%%%%%%%%%%%%%%%%%%%%%"},
    "ops-unknown": {"scope": {"ops": ["read", "admin"], "collections": ["shared"]}},
    "ops-not-list": {"scope": {"ops": "read", "collections": ["shared"]}},
    "collections-not-list": {"scope": {"ops": ["read"], "collections": "shared"}},
    "collections-non-string": {"scope": {"ops": ["read"], "collections": ["shared", 7]}},
    "paths-not-list": {"scope": {"ops": ["read"], "collections": ["shared"], "paths": "shared/**"}},
    "aud-on-device-cap": {"aud": ["SUB"]},
    "sub-user-id-null": {"subUserId": None},
    "sub-kem-missing": {"subKem": DELETE},
}


@check("auth.capcert.malformed-401", level=MUST,
       rule="A correctly signed cap that breaks the cap-cert shape rules (kind, scope, integer nbf/exp, 16-byte "
            "padded base64 nonce, aud only on audience caps, subUserId a string, subKem present) is refused 401",
       source="digest §5.2 (malformed-shape, non-audience-has-aud), §5.5 step 6")
@pytest.mark.parametrize("case", sorted(_MALFORMED))
def test_malformed_cap(client, case):
    seeded = seed_shared(client)
    device = shared_reader()
    changes = dict(_MALFORMED[case])
    for key, value in changes.items():
        if value == "NBF":
            changes[key] = str(device.cert["nbf"])
        elif value == "NBF+0.5":
            changes[key] = device.cert["nbf"] + 0.5
        elif value == ["SUB"]:
            changes[key] = [device.cert["sub"]]
    expect_unauthorized(client.pull(seeded.path, device=resign(device, **changes)))


@check("auth.capcert.integral-float-window-accepted", level=MUST,
       rule="nbf and exp sent as integral floats (1.7e9 written as 1700000000.0) are JS integers and accepted",
       source="digest §5.1 (the server re-canonicalises), §5.2 (nbf/exp: int or integral finite float)")
def test_integral_float_window(client):
    seeded = seed_shared(client)
    device = shared_reader()
    as_floats = dict(device.cert, nbf=float(device.cert["nbf"]), exp=float(device.cert["exp"]))
    text = json.dumps(as_floats)
    assert f'"nbf": {device.cert["nbf"]}.0' in text
    request = client.build("GET", "pull/" + seeded.path, device=device)
    request.headers["Authorization"] = "Cap " + base64.b64encode(text.encode("utf-8")).decode("ascii")
    expect_data(client.send(request), seeded.data)


@check("auth.capcert.extra-fields-accepted", level=MUST,
       rule="Extra cap-cert fields covered by the signature (e.g. issAlg/subAlg) are allowed and ignored",
       source="digest §5.2 (extra keys)")
def test_extra_fields(client):
    seeded = seed_shared(client)
    device = root_device(scope(["shared"], ["read"]), extra={"issAlg": "ed25519", "subAlg": "ed25519", "memo": "x"})
    expect_data(client.pull(seeded.path, device=device), seeded.data)


@check("auth.capcert.empty-ops-forbidden", level=MUST,
       rule="scope.ops = [] is well formed: the caller authenticates but holds no cap role, so 403 (not 401)",
       source="digest §5.2 (an empty list is well-formed), §5.10")
def test_empty_ops(client):
    seeded = seed_shared(client)
    expect_forbidden(client.pull(seeded.path, device=root(("shared",), ())))


@check("auth.capcert.paired-device-cap-accepted", level=MUST,
       rule="A device cap issued by a root key to another key (iss != sub) verifies and grants its scope",
       source="digest §5.2, §5.9")
def test_paired_device_cap(client):
    seeded = seed_shared(client)
    issuer, key = SigningKey.generate(), SigningKey.generate()
    now = ServerClock.read(client).now_ms() // 1000
    cert = build_cap_cert(issuer=issuer, kind="device", sub=key.pub, sub_kem=KemKey.generate().pub,
                          scope=scope(["shared"], ["read"]), nbf=now - 60, exp=now + 600)
    expect_data(client.pull(seeded.path, device=Device(key, cert, issuer)), seeded.data)
