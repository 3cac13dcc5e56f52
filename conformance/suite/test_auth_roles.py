"""auth.role: identity binding and role synthesis: `self`, paired devices, `device:root`, list roles
(digest §5.9, §5.10, §5.5 step 17, §10.4)."""

from __future__ import annotations

from conformance.checks import MUST, check
from conformance.identities import paired_device, root_device, scope
from conformance.suite.auth_support import expect_absent, expect_data, expect_forbidden
from conformance.suite.support import cap_device, expect_ok, fresh, root


@check("auth.role.self-own-document", level=MUST,
       rule="A device cap earns `self` on users/<its identity>/notes: it can push and pull its own document",
       source="digest §5.9 (device: issUserId), §5.10 rule 4")
def test_self_own_document(client):
    device = root(("notes",), ("read", "write"))
    path = f"users/{device.identity}/notes"
    expect_ok(client.push(path, {"mine": 1}, device=device))
    expect_data(client.pull(path, device=device), {"mine": 1})


@check("auth.role.self-other-identity-403", level=MUST,
       rule="A cap for user A gets 403 on users/<B>/notes (pull and push); B's document is unchanged",
       source="digest §5.5 step 17, §5.10 rule 4, §6.2")
def test_self_other_identity(client):
    alice, bob = root(("notes",), ("read", "write")), root(("notes",), ("read", "write"))
    path = f"users/{bob.identity}/notes"
    expect_ok(client.push(path, {"owner": "bob"}, device=bob))
    expect_forbidden(client.pull(path, device=alice))
    expect_forbidden(client.push(path, {"owner": "alice"}, device=alice))
    expect_data(client.pull(path, device=bob), {"owner": "bob"})


@check("auth.role.paired-device-acts-as-root", level=MUST,
       rule="A paired device (iss != sub) is bound to its issuer's identity: it writes users/<root>/notes and the "
            "root reads that write",
       source="digest §5.9 (a paired device acts as its root user)")
def test_paired_device_acts_as_root(client):
    owner = root(("notes",), ("read", "write"))
    phone = paired_device(owner.key, scope(["notes"], ["read", "write"]))
    path = f"users/{owner.identity}/notes"
    expect_ok(client.push(path, {"from": "phone"}, device=phone))
    expect_data(client.pull(path, device=owner), {"from": "phone"})


@check("auth.role.paired-device-own-userid-403", level=MUST,
       rule="A paired device's own key userId is not its identity (even with subUserId in the cap): "
            "users/<sub userId>/notes is 403",
       source="digest §5.9 (device caps bind issUserId)")
def test_paired_device_own_user_id(client):
    owner = root(("notes",), ("read", "write"))
    phone = paired_device(owner.key, scope(["notes"], ["read", "write"]), with_sub_user_id=True)
    path = f"users/{phone.key.user_id}/notes"
    expect_forbidden(client.push(path, {"from": "phone"}, device=phone))
    own_root = root_device(scope(["notes"], ["read"]), root=phone.key)  # the only reader of that path
    expect_absent(client, path, reader=own_root)


@check("auth.role.root-only-needs-device-root", level=MUST,
       rule="A rootOnly collection needs device:root (a self-signed device cap): the root gets 200, its paired "
            "device 403 on pull and push",
       source="digest §5.10 rule 3, §10.4 ([V] paired 403, root 200)")
def test_root_only(client):
    owner = root()
    path = f"root/{owner.identity}/settings"
    expect_ok(client.push(path, {"theme": "dark"}, device=owner))
    paired = paired_device(owner.key, scope())
    expect_forbidden(client.pull(path, device=paired))
    expect_forbidden(client.push(path, {"theme": "light"}, device=paired))
    expect_data(client.pull(path, device=owner), {"theme": "dark"})


@check("auth.role.anonymous-no-self", level=MUST,
       rule="An anonymous caller never earns `self`: users/<id>/notes answers 403 to pull and push",
       source="digest §5.9 (anonymous identity \"\"), §5.12")
def test_anonymous_no_self(client):
    owner = root(("notes",), ("read", "write"))
    path = f"users/{owner.identity}/notes"
    expect_forbidden(client.pull(path))
    expect_forbidden(client.push(path, {"anon": True}))
    expect_absent(client, path, reader=owner)


@check("auth.role.list-uses-read-roles", level=MUST,
       rule="Listing needs a readRoles entry: cap:write:chats alone gets 403 on list/chats/<g>, cap:read:chats 200",
       source="digest §5.10 rule 7, §6.1 (list: action list, readRoles)")
def test_list_uses_read_roles(client):
    group = fresh("g")
    writer = cap_device("chats", ("write",))
    expect_ok(client.push(f"chats/{group}/mon", {"d": 1}, device=writer))
    expect_forbidden(client.list(f"chats/{group}", device=writer))
    body = expect_ok(client.list(f"chats/{group}", device=cap_device("chats", ("read",))))
    assert body.get("items") == ["mon"], body


@check("auth.role.identity-param-binds-cap-roles", level=MUST,
       rule="An {identity} path param must equal the caller's bound identity even where a cap role is listed: "
            "cap:read/write:vault reaches vault/<own>/... but gets 403 on vault/<other user>/...",
       source="digest §5.5 step 17, §6.2")
def test_identity_param_binds_cap_roles(client):
    owner, other = root(("vault",), ("read", "write")), root(("vault",), ("read", "write"))
    item = fresh("item")
    theirs, mine = f"vault/{owner.identity}/{item}", f"vault/{other.identity}/{item}"
    sealed = {"_encrypted": "b3BhcXVl", "_epoch": 1}
    expect_ok(client.push(theirs, sealed, device=owner))
    expect_forbidden(client.pull(theirs, device=other))
    expect_forbidden(client.push(theirs, {"_encrypted": "b3Zlcg==", "_epoch": 2}, device=other))
    expect_data(client.pull(theirs, device=owner), sealed)
    expect_ok(client.push(mine, sealed, device=other))
    expect_data(client.pull(mine, device=other), sealed)
