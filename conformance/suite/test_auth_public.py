"""auth.public: anonymous callers and the `public` role (digest §5.12, §5.5 step 1, §6.2)."""

from __future__ import annotations

from conformance.checks import MUST, check
from conformance.suite.auth_support import expect_absent, expect_data, expect_forbidden
from conformance.suite.support import expect_ok, fresh, root


@check("auth.public.anonymous-pull", level=MUST,
       rule="A collection whose readRoles include `public` serves anonymous pulls (profiles: written by its owner, "
            "read by anyone)",
       source="digest §5.12, §5.10 rule 6")
def test_anonymous_pull(client):
    owner = root(("profiles",), ("read", "write"))
    path = f"profiles/{owner.identity}"
    expect_ok(client.push(path, {"name": "owner"}, device=owner))
    expect_data(client.pull(path), {"name": "owner"})


@check("auth.public.anonymous-write", level=MUST,
       rule="A collection whose writeRoles include `public` accepts anonymous pushes, and stores them",
       source="digest §5.12")
def test_anonymous_write(client):
    path = f"guestbook/{fresh()}"
    expect_ok(client.push(path, {"hello": "anon"}))
    expect_data(client.pull(path), {"hello": "anon"})


@check("auth.public.anonymous-push-private-403", level=MUST,
       rule="An anonymous push to a collection without public writeRoles is 403 Forbidden and stores nothing, "
            "even when its reads are public",
       source="digest §5.12 (allow_anonymous: roles [public] fail the role check), §6.2")
def test_anonymous_push_private(client):
    owner = root(("profiles",), ("read", "write"))
    path = f"profiles/{owner.identity}"
    expect_forbidden(client.push(path, {"name": "intruder"}))
    expect_absent(client, path)
    shared = f"shared/{fresh()}"
    expect_forbidden(client.push(shared, {"anon": True}))
    expect_absent(client, shared)


@check("auth.public.non-cap-scheme-anonymous", level=MUST,
       rule="On a public collection a non-Cap Authorization (Bearer) is simply anonymous: 200",
       source="digest §5.12 (a non-Cap scheme counts as anonymous)")
def test_bearer_on_public(client):
    path = f"guestbook/{fresh()}"
    expect_ok(client.push(path, {"b": 1}, headers={"Authorization": "Bearer some-token"}))
    expect_data(client.pull(path, headers={"Authorization": "Bearer some-token"}), {"b": 1})


@check("auth.public.valid-cap-accepted", level=MUST,
       rule="A valid signed cap on a public collection is served like anonymous access (push stored, pull 200)",
       source="digest §5.12")
def test_valid_cap_on_public(client):
    device = root(("shared",), ("read",))
    path = f"guestbook/{fresh()}"
    expect_ok(client.push(path, {"signed": True}, device=device))
    expect_data(client.pull(path, device=device), {"signed": True})


@check("auth.public.signed-read-of-others-document", level=MUST,
       rule="A valid cap never reaches less than anonymous access: another user's signed pull of a public-read "
            "{identity} document (profiles/<owner>) is 200",
       source="digest §5.12 (public fast path: identity and scope steps do not apply), §5.5 step 17")
def test_signed_read_of_others_document(client):
    owner, visitor = root(("profiles",), ("read", "write")), root(("profiles",), ("read", "write"))
    path = f"profiles/{owner.identity}"
    expect_ok(client.push(path, {"name": "owner"}, device=owner))
    expect_data(client.pull(path, device=visitor), {"name": "owner"})
    expect_data(client.pull(path, device=root(("shared",), ("read",), ["shared/x"])), {"name": "owner"})
