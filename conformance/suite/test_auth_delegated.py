"""auth.member and auth.audience: caps an owner gives to other users (member) and to link holders (audience)
(digest §5.5 steps 7, 9, 11, 14-15, §5.9, §5.13, §5.14).

The official servers accept these caps only with the sharing plugin installed (without it every member and
audience cap is 401, digest §5.14); these checks follow the digest's sharing-plugin rules, which the
reference server implements. Mark them in a target's expectations when it runs without sharing.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.checks import MUST, check
from conformance.identities import Device, audience, member, scope
from conformance.suite.auth_support import (
    expect_absent,
    expect_data,
    expect_forbidden,
    expect_unauthorized,
    seed_shared,
    shared_reader,
)
from conformance.suite.support import cap_device, expect_ok
from protocol.capcert import build_cap_cert
from protocol.keys import KemKey, SigningKey
from protocol.signing import new_nonce

READER_PATHS = ["shared/**", "!shared/_members"]
WRITER_PATHS = ["shared/**", "!shared/_keyring", "!shared/_members"]


def _seed_at(client, path: str) -> dict[str, Any]:
    data = {"at": path}
    expect_ok(client.push(path, data, device=cap_device("shared", ("write",))))
    return data


# ------------------------------------------------------------------------------------------------ member


@check("auth.member.reader-pulls", level=MUST,
       rule="A member cap (kind member, subUserId, one collection, _members denied) is accepted and reads its "
            "collection",
       source="digest §5.14 (read_only preset), §5.10")
def test_member_reader(client):
    seeded = seed_shared(client)
    reader = member(SigningKey.generate(), "shared", READER_PATHS)
    expect_data(client.pull(seeded.path, device=reader), seeded.data)


@check("auth.member.writer-pushes", level=MUST,
       rule="A member cap with the write op and _keyring/_members denied can push; the write is stored",
       source="digest §5.14 (writer preset)")
def test_member_writer(client):
    seeded = seed_shared(client)
    writer = member(SigningKey.generate(), "shared", WRITER_PATHS, ops=("read", "list", "write"))
    expect_ok(client.push(seeded.path, {"by": "member"}, base_hash=seeded.hash, device=writer))
    expect_data(client.pull(seeded.path, device=shared_reader()), {"by": "member"})


@check("auth.member.paths-required-403", level=MUST,
       rule="A member cap with no scope.paths, or paths: [], is refused 403 Forbidden",
       source="digest §5.5 step 15, §5.11")
@pytest.mark.parametrize("paths", [None, []], ids=["absent", "empty"])
def test_member_paths_required(client, paths):
    seeded = seed_shared(client)
    expect_forbidden(client.pull(seeded.path, device=member(SigningKey.generate(), "shared", paths)))


@check("auth.member.sub-user-id-required-401", level=MUST,
       rule="A member cap without subUserId is refused 401 Unauthorized",
       source="digest §5.5 step 14, §5.9, §5.14 (member-missing-sub-userid)")
def test_member_sub_user_id_required(client):
    seeded = seed_shared(client)
    owner, key = SigningKey.generate(), SigningKey.generate()
    now = int(time.time())
    cert = build_cap_cert(issuer=owner, kind="member", sub=key.pub, sub_kem=KemKey.generate().pub,
                          scope=scope(["shared"], ["read"], READER_PATHS), nbf=now - 60, exp=now + 600)
    expect_unauthorized(client.pull(seeded.path, device=Device(key, cert, owner)))


@check("auth.member.identity-is-sub-user-id", level=MUST,
       rule="A member cap binds the identity subUserId: paths [shared/{identity}] admit shared/<subUserId>, "
            "not shared/<issUserId>",
       source="digest §5.9 (member: subUserId)")
def test_member_identity(client):
    owner = SigningKey.generate()
    device = member(owner, "shared", ["shared/{identity}", "!shared/_keyring", "!shared/_members"],
                    ops=("read", "write"))
    own = f"shared/{device.identity}"
    assert device.identity == device.key.user_id
    expect_ok(client.push(own, {"member": True}, device=device))
    expect_data(client.pull(own, device=device), {"member": True})
    owners = f"shared/{owner.user_id}"
    expect_forbidden(client.push(owners, {"member": True}, device=device))
    expect_absent(client, owners)


_MEMBER_SHAPES = {
    "wildcard-collection": lambda o: member(o, "shared", READER_PATHS, collections=["*"]),
    "multi-collection": lambda o: member(o, "shared", READER_PATHS, collections=["shared", "chats"]),
    "private-path": lambda o: member(o, "shared", [f"users/{o.user_id}/**", "!shared/_members"]),
    "members-not-denied": lambda o: member(o, "shared", ["shared/**"]),
    "keyring-not-denied": lambda o: member(o, "shared", READER_PATHS, ops=("read", "write")),
    "member-self": lambda o: member(o, "shared", READER_PATHS, key=o),
}


@check("auth.member.shape-rules-401", level=MUST,
       rule="Member caps follow the sharing shape rules (one named collection, no path into users/<issuer>, "
            "_members denied, _keyring denied with write, not issued to oneself); a breach is 401",
       source="digest §5.5 step 7, §5.14")
@pytest.mark.parametrize("case", sorted(_MEMBER_SHAPES))
def test_member_shape_rules(client, case):
    seeded = seed_shared(client)
    expect_unauthorized(client.pull(seeded.path, device=_MEMBER_SHAPES[case](SigningKey.generate())))


# ---------------------------------------------------------------------------------------------- audience


@check("auth.audience.redeem", level=MUST,
       rule="An audience cap presented with X-Starfish-Pub and signed by that key reads the paths it names",
       source="digest §5.13")
def test_audience_redeem(client):
    seeded = seed_shared(client)
    link = audience(SigningKey.generate(), "shared", [seeded.path])
    expect_data(client.pull(seeded.path, device=link), seeded.data)


@check("auth.audience.pub-required-401", level=MUST,
       rule="An audience cap needs X-Starfish-Pub as 64 lowercase hex characters: missing, uppercase, short or "
            "non-hex is 401",
       source="digest §5.1, §5.5 step 9")
@pytest.mark.parametrize("case", ["missing", "uppercase", "short", "not-hex"])
def test_audience_pub_required(client, case):
    seeded = seed_shared(client)
    link = audience(SigningKey.generate(), "shared", [seeded.path])
    request = client.build("GET", "pull/" + seeded.path, device=link)
    pub = request.headers["X-Starfish-Pub"]
    if case == "missing":
        del request.headers["X-Starfish-Pub"]
    else:
        request.headers["X-Starfish-Pub"] = {"uppercase": pub.upper(), "short": pub[:62],
                                             "not-hex": "g" + pub[1:]}[case]
    expect_unauthorized(client.send(request))


@check("auth.audience.pub-must-sign-401", level=MUST,
       rule="The request must be signed by the key in X-Starfish-Pub: naming another presenter is 401",
       source="digest §5.3(b), §5.5 steps 9-10, §5.13")
def test_audience_pub_must_sign(client):
    seeded = seed_shared(client)
    link = audience(SigningKey.generate(), "shared", [seeded.path])
    request = client.build("GET", "pull/" + seeded.path, device=link)
    request.headers["X-Starfish-Pub"] = SigningKey.generate().pub
    expect_unauthorized(client.send(request))


@check("auth.audience.aud-allow-list", level=MUST,
       rule="With `aud` present, a presenter listed in it is served and one not listed gets 403 Forbidden",
       source="digest §5.5 step 11, §5.13")
def test_audience_aud(client):
    seeded = seed_shared(client)
    owner, friend, stranger = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    listed = audience(owner, "shared", [seeded.path], presenter=friend, aud=[friend.pub])
    expect_data(client.pull(seeded.path, device=listed), seeded.data)
    unlisted = audience(owner, "shared", [seeded.path], presenter=stranger).with_cert(listed.cert)
    expect_forbidden(client.pull(seeded.path, device=unlisted))


@check("auth.audience.identity-is-presenter", level=MUST,
       rule="An audience cap binds the presenter's own userId: paths [shared/{identity}] admit "
            "shared/<sha256(pub)[0:32]>, not the issuer's",
       source="digest §5.9 (audience: the presenter's userId), §5.13")
def test_audience_identity(client):
    owner = SigningKey.generate()
    link = audience(owner, "shared", ["shared/{identity}"])
    mine = _seed_at(client, f"shared/{link.key.user_id}")
    _seed_at(client, f"shared/{owner.user_id}")
    expect_data(client.pull(f"shared/{link.key.user_id}", device=link), mine)
    expect_forbidden(client.pull(f"shared/{owner.user_id}", device=link))


@check("auth.audience.paths-required-403", level=MUST,
       rule="An audience cap with no scope.paths, or paths: [], is refused 403 Forbidden",
       source="digest §5.5 step 15, §5.11")
@pytest.mark.parametrize("paths", [None, []], ids=["absent", "empty"])
def test_audience_paths_required(client, paths):
    seeded = seed_shared(client)
    expect_forbidden(client.pull(seeded.path, device=audience(SigningKey.generate(), "shared", paths)))


def _audience_with(owner: SigningKey, presenter: SigningKey, path: str, **fields: Any) -> Device:
    now = int(time.time())
    extra = {k: v for k, v in fields.items() if k != "aud"}
    cert = build_cap_cert(issuer=owner, kind="audience", scope=scope(["shared"], ["read"], [path]), nbf=now - 60,
                          exp=now + 600, aud=fields.get("aud"), extra=extra or None)
    return Device(presenter, cert, owner)


@check("auth.audience.malformed-401", level=MUST,
       rule="Audience caps carry no sub/subKem/subUserId, and `aud` if present is 1-64 distinct lowercase hex keys; "
            "a signed cap breaking this is 401 even for a listed presenter",
       source="digest §5.2 (audience-has-sub, audience-empty-aud, -aud-too-large, -aud-bad-entry, -aud-dup)")
@pytest.mark.parametrize("case", ["has-sub", "has-sub-kem", "empty-aud", "aud-uppercase-entry", "aud-duplicate",
                                  "aud-65-entries"])
def test_audience_malformed(client, case):
    seeded = seed_shared(client)
    owner, presenter = SigningKey.generate(), SigningKey.generate()
    fields: dict[str, Any] = {
        "has-sub": {"sub": presenter.pub},
        "has-sub-kem": {"subKem": KemKey.generate().pub},
        "empty-aud": {"aud": []},
        "aud-uppercase-entry": {"aud": [presenter.pub, SigningKey.generate().pub.upper()]},
        "aud-duplicate": {"aud": [presenter.pub, presenter.pub]},
        "aud-65-entries": {"aud": [presenter.pub] + [SigningKey.generate().pub for _ in range(64)]},
    }[case]
    expect_unauthorized(client.pull(seeded.path, device=_audience_with(owner, presenter, seeded.path, **fields)))


_AUDIENCE_SHAPES = {
    "wildcard-collection": ["*"],
    "multi-collection": ["shared", "chats"],
}


@check("auth.audience.shape-rules-401", level=MUST,
       rule="Audience caps follow the sharing shape rules (exactly one named collection, no path into "
            "users/<issuer>, _members denied); a breach is 401",
       source="digest §5.5 step 7, §5.13")
@pytest.mark.parametrize("case", ["wildcard-collection", "multi-collection", "private-path", "members-not-denied"])
def test_audience_shape_rules(client, case):
    seeded = seed_shared(client)
    owner, presenter = SigningKey.generate(), SigningKey.generate()
    now = int(time.time())
    collections = _AUDIENCE_SHAPES.get(case, ["shared"])
    paths = {"private-path": [seeded.path, f"users/{owner.user_id}/notes"],
             "members-not-denied": ["shared/**"]}.get(case, [seeded.path])
    cert = build_cap_cert(issuer=owner, kind="audience", scope=scope(collections, ["read"], paths), nbf=now - 60,
                          exp=now + 600)
    expect_unauthorized(client.pull(seeded.path, device=Device(presenter, cert, owner)))


@check("auth.audience.nonce-per-presenter", level=MUST,
       rule="Each audience presenter has its own nonce namespace: two presenters of one cap may use the same nonce",
       source="digest §5.7 (audience redeemers each have their own namespace), §5.13")
def test_audience_nonce_per_presenter(client):
    seeded = seed_shared(client)
    owner = SigningKey.generate()
    first = audience(owner, "shared", [seeded.path])
    second = audience(owner, "shared", [seeded.path]).with_cert(first.cert)
    nonce = new_nonce()
    expect_data(client.pull(seeded.path, device=first, nonce=nonce), seeded.data)
    expect_data(client.pull(seeded.path, device=second, nonce=nonce), seeded.data)
    expect_unauthorized(client.pull(seeded.path, device=first, nonce=nonce))
