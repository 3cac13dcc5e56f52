"""auth.nonce: replay protection with a nonce cache scoped per signer (digest §5.5 step 12, §5.7)."""

from __future__ import annotations

import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.suite.auth_support import (
    expect_data,
    expect_forbidden,
    expect_unauthorized,
    seed_shared,
    shared_reader,
    signed_over,
)
from conformance.suite.support import root
from protocol.encoding import b64encode
from protocol.signing import new_nonce


@check("auth.nonce.replay-401", level=MUST,
       rule="A signed request sent a second time verbatim (same nonce, same signer) is refused 401 Unauthorized",
       source="digest §5.5 step 12, §5.7 ([V] replay gives 401)")
def test_replay(client):
    seeded = seed_shared(client)
    request = client.build("GET", "pull/" + seeded.path, device=shared_reader())
    expect_data(client.send(request), seeded.data)
    expect_unauthorized(client.send(request))


@check("auth.nonce.per-signer", level=MUST,
       rule="Nonces are scoped per signer: two different signers may each use the same nonce once",
       source="digest §5.7 (key = <verifying pubkey>|<nonce>)")
def test_per_signer(client):
    seeded = seed_shared(client)
    nonce = new_nonce()
    first, second = shared_reader(), shared_reader()
    expect_data(client.pull(seeded.path, device=first, nonce=nonce), seeded.data)
    expect_data(client.pull(seeded.path, device=second, nonce=nonce), seeded.data)
    expect_unauthorized(client.pull(seeded.path, device=first, nonce=nonce))


@check("auth.nonce.reuse-on-other-request-401", level=MUST,
       rule="A signer's nonce is single-use across requests: the same nonce on a different, freshly signed "
            "request is 401",
       source="digest §5.7 (the cache key is the signer and the nonce, not the request)")
def test_reuse_on_other_request(client):
    seeded, other = seed_shared(client), seed_shared(client)
    device, nonce = shared_reader(), new_nonce()
    expect_data(client.pull(seeded.path, device=device, nonce=nonce), seeded.data)
    expect_unauthorized(client.pull(other.path, device=device, nonce=nonce))
    expect_data(client.pull(other.path, device=device), other.data)


@check("auth.nonce.burned-by-later-rejection", level=MUST,
       rule="A request refused after the nonce step (scope path or role: 403) has burned its nonce: an identical "
            "retry is 401",
       source="digest §5.5 (consequences: the nonce is consumed at step 12), §6.1")
@pytest.mark.parametrize("refusal", ["scope-path", "role"])
def test_burned_by_later_rejection(client, refusal):
    seeded = seed_shared(client)
    device = root(("shared",), ("read",), ["shared/only-this"]) if refusal == "scope-path" else root(("chats",),
                                                                                                     ("read",))
    request = client.build("GET", "pull/" + seeded.path, device=device)
    expect_forbidden(client.send(request))
    expect_unauthorized(client.send(request))


@check("auth.nonce.forged-request-does-not-burn", level=SHOULD,
       rule="A request with a bad signature does not consume the nonce it names, so an attacker cannot burn an "
            "honest signer's nonces (the signature step precedes the nonce step)",
       source="digest §5.5 (step 10 before step 12)")
def test_forged_request_does_not_burn(client):
    seeded = seed_shared(client)
    device, nonce = shared_reader(), new_nonce()
    forged = client.build("GET", "pull/" + seeded.path, device=device, nonce=nonce)
    forged.headers["X-Starfish-Sig"] = b64encode(b"\0" * 64)
    expect_unauthorized(client.send(forged))
    expect_data(client.pull(seeded.path, device=device, nonce=nonce), seeded.data)


@check("auth.nonce.any-string", level=MUST,
       rule="The nonce is any string, used as-is: short and non-base64 nonces are accepted once",
       source="digest §5.1 (the server does not check the nonce's format or length)")
@pytest.mark.parametrize("nonce", ["n", "not base64: ~!*", "0123456789abcdef0123456789abcdef"])
def test_any_string_nonce(client, nonce):
    seeded = seed_shared(client)
    device = shared_reader()
    expect_data(client.send(signed_over(client, device, "GET", "pull/" + seeded.path, nonce=nonce)), seeded.data)
    expect_unauthorized(client.send(signed_over(client, device, "GET", "pull/" + seeded.path, nonce=nonce)))
