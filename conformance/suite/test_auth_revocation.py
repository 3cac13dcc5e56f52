"""auth.revocation: signed, generation-numbered revocation lists (digest §5.5 step 13, §5.8).

The official servers take revocation lists out of band (no HTTP route); the reference server accepts them at
`POST {prefix}/revocations` (reference_server/revocations.py). On a target without that route these checks
skip with that reason: revocation is then not exercised, which is never reported as a pass.
"""

from __future__ import annotations

import pytest

from conformance.checks import MUST, check
from conformance.identities import audience, paired_device, scope
from conformance.suite.auth_support import expect_data, expect_unauthorized, revoke, seed_shared
from protocol.keys import SigningKey
from protocol.revocation import build_revocation_list


def _reader(issuer: SigningKey):
    return paired_device(issuer, scope(["shared"], ["read"]))


@check("auth.revocation.revoked-cap-401", level=MUST,
       rule="A cap listed (sub, cap nonce) in its issuer's accepted revocation list is refused 401 Unauthorized",
       source="digest §5.5 step 13, §5.8")
def test_revoked_cap(client):
    seeded = seed_shared(client)
    issuer = SigningKey.generate()
    laptop = _reader(issuer)
    expect_data(client.pull(seeded.path, device=laptop), seeded.data)
    revoke(client, issuer, 1, [laptop])
    expect_unauthorized(client.pull(seeded.path, device=laptop))


@check("auth.revocation.sibling-cap-unaffected", level=MUST,
       rule="Revoking one cap leaves the issuer's other caps valid, including another cap for the same subject key",
       source="digest §5.8 (lookup by (sub, cap nonce))")
def test_sibling_unaffected(client):
    seeded = seed_shared(client)
    issuer = SigningKey.generate()
    laptop = _reader(issuer)
    phone = _reader(issuer)
    laptop_again = paired_device(issuer, scope(["shared"], ["read"]), key=laptop.key)  # same sub, new cap nonce
    revoke(client, issuer, 1, [laptop])
    expect_unauthorized(client.pull(seeded.path, device=laptop))
    expect_data(client.pull(seeded.path, device=phone), seeded.data)
    expect_data(client.pull(seeded.path, device=laptop_again), seeded.data)


@check("auth.revocation.subject-wide-401", level=MUST,
       rule="A subject listed in revokedSubjects loses every cap its issuer gave it; other subjects keep theirs",
       source="digest §5.8 (revokedSubjects)")
def test_subject_wide(client):
    seeded = seed_shared(client)
    issuer = SigningKey.generate()
    key = SigningKey.generate()
    first = paired_device(issuer, scope(["shared"], ["read"]), key=key)
    second = paired_device(issuer, scope(["shared"], ["read"]), key=key)
    other = _reader(issuer)
    revoke(client, issuer, 1, subjects=[key.pub])
    expect_unauthorized(client.pull(seeded.path, device=first))
    expect_unauthorized(client.pull(seeded.path, device=second))
    expect_data(client.pull(seeded.path, device=other), seeded.data)


@check("auth.revocation.stale-generation-rejected", level=MUST,
       rule="A list whose generation is not strictly greater than the stored one is rejected: it cannot "
            "un-revoke a cap",
       source="digest §5.8 (stale-generation)")
@pytest.mark.parametrize("generation", [2, 1], ids=["equal", "lower"])
def test_stale_generation(client, generation):
    seeded = seed_shared(client)
    issuer = SigningKey.generate()
    laptop = _reader(issuer)
    revoke(client, issuer, 2, [laptop])
    response = revoke(client, issuer, generation, [], expect_accepted=False)
    assert 400 <= response.status_code < 500, f"a stale list must be refused with a 4xx, got {response.status_code}"
    expect_unauthorized(client.pull(seeded.path, device=laptop))


@check("auth.revocation.forged-list-rejected", level=MUST,
       rule="A revocation list whose signature does not verify under its iss is rejected and revokes nothing",
       source="digest §5.3(e), §5.8 (bad-signature)")
def test_forged_list(client):
    seeded = seed_shared(client)
    issuer = SigningKey.generate()
    laptop = _reader(issuer)
    revoke(client, issuer, 1, [])  # skips when the target has no route
    forged = build_revocation_list(issuer, 2, [{"sub": laptop.key.pub, "nonce": laptop.cert["nonce"], "exp": 0}])
    forged["generation"] = 3  # changed after signing
    response = client.request("POST", "revocations", json=forged)
    assert 400 <= response.status_code < 500, f"a forged list must be refused with a 4xx, got {response.status_code}"
    expect_data(client.pull(seeded.path, device=laptop), seeded.data)


@check("auth.revocation.other-issuer-cannot-revoke", level=MUST,
       rule="Revocation is per issuer: another key's validly signed list naming a cap's (sub, nonce) does not "
            "revoke it",
       source="digest §5.8 (a cap is revoked by its issuer's list)")
def test_other_issuer_cannot_revoke(client):
    seeded = seed_shared(client)
    issuer, attacker = SigningKey.generate(), SigningKey.generate()
    laptop = _reader(issuer)
    revoke(client, attacker, 1, [laptop], subjects=[laptop.key.pub])
    expect_data(client.pull(seeded.path, device=laptop), seeded.data)


@check("auth.revocation.audience-by-nonce", level=MUST,
       rule="An audience cap is revoked by its cap nonce with sub \"\"; every presenter then gets 401",
       source="digest §5.8, §5.13 (revocation is per cap nonce, with sub=\"\")")
def test_audience_by_nonce(client):
    seeded = seed_shared(client)
    owner = SigningKey.generate()
    link = audience(owner, "shared", [seeded.path])
    expect_data(client.pull(seeded.path, device=link), seeded.data)
    revoke(client, owner, 1, [link])
    expect_unauthorized(client.pull(seeded.path, device=link))
    other_presenter = audience(owner, "shared", [seeded.path]).with_cert(link.cert)
    expect_unauthorized(client.pull(seeded.path, device=other_presenter))
