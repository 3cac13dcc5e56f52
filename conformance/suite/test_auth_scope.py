"""auth.scope: a cap's scope (ops, collections, paths) limits its holder (digest §5.10, §5.11, §5.5 step 16)."""

from __future__ import annotations

from conformance.checks import MUST, SHOULD, check
from conformance.suite.auth_support import (
    expect_absent,
    expect_data,
    expect_forbidden,
    expect_unchanged,
    seed_shared,
    shared_reader,
)
from conformance.suite.support import cap_device, expect_ok, fresh, root


@check("auth.scope.read-only-cannot-write", level=MUST,
       rule="A cap with only `read` on a collection can pull but not push there (403); the document is unchanged",
       source="digest §5.10 (cap:<op>:<col>), §6.2")
def test_read_only_cannot_write(client):
    seeded = seed_shared(client)
    reader = root(("shared",), ("read",))
    expect_data(client.pull(seeded.path, device=reader), seeded.data)
    expect_forbidden(client.push(seeded.path, {"overwritten": True}, base_hash=seeded.hash, device=reader))
    expect_unchanged(client, seeded)


@check("auth.scope.write-only-cannot-read", level=MUST,
       rule="A cap with only `write` on a collection can push but not pull there (403)",
       source="digest §5.10, §6.2")
def test_write_only_cannot_read(client):
    writer = root(("shared",), ("write",))
    path = f"shared/{fresh()}"
    expect_ok(client.push(path, {"w": 1}, device=writer))
    expect_forbidden(client.pull(path, device=writer))
    expect_data(client.pull(path, device=shared_reader()), {"w": 1})


@check("auth.scope.unnamed-collection-403", level=MUST,
       rule="Cap roles are per named collection: a cap for `chats` can neither pull nor push `shared` (403)",
       source="digest §5.10")
def test_unnamed_collection(client):
    seeded = seed_shared(client)
    other = root(("chats",), ("read", "write"))
    expect_forbidden(client.pull(seeded.path, device=other))
    path = f"shared/{fresh()}"
    expect_forbidden(client.push(path, {"x": 1}, device=other))
    expect_absent(client, path)


@check("auth.scope.star-collection-literal", level=MUST,
       rule="`collections: [\"*\"]` yields the literal role cap:<op>:*, which a collection listing only "
            "cap:<op>:shared does not accept (403)",
       source="digest §5.10 rule 1 ([V] cap:read:* only matches a config that lists it)")
def test_star_collection_literal(client):
    seeded = seed_shared(client)
    star = root(("*",), ("read", "write"))
    expect_forbidden(client.pull(seeded.path, device=star))
    expect_forbidden(client.push(seeded.path, {"x": 1}, base_hash=seeded.hash, device=star))
    expect_unchanged(client, seeded)


@check("auth.scope.path-glob-star", level=MUST,
       rule="A scope path `*` matches a run of characters within one segment: shared/p-* admits shared/p-1 "
            "(pull and push) and refuses shared/q-1 (403, nothing stored)",
       source="digest §5.11 (glob rules), §5.5 step 16")
def test_path_glob_star(client):
    tag = fresh("p")
    device = root(("shared",), ("read", "write"), [f"shared/{tag}-*"])
    inside, outside = f"shared/{tag}-1", f"shared/{fresh('q')}"
    expect_ok(client.push(inside, {"in": 1}, device=device))
    expect_data(client.pull(inside, device=device), {"in": 1})
    expect_forbidden(client.push(outside, {"out": 1}, device=device))
    expect_absent(client, outside)


@check("auth.scope.path-star-one-segment", level=MUST,
       rule="`*` never crosses `/` but `**` does: chats/* refuses chats/<g>/<day> (403), chats/** admits it",
       source="digest §5.11 (glob rules)")
def test_star_one_segment(client):
    group = fresh("g")
    writer = root(("chats",), ("write",))
    expect_ok(client.push(f"chats/{group}/mon", {"d": "mon"}, device=writer))
    expect_forbidden(client.pull(f"chats/{group}/mon", device=root(("chats",), ("read",), ["chats/*"])))
    expect_data(client.pull(f"chats/{group}/mon", device=root(("chats",), ("read",), ["chats/**"])), {"d": "mon"})


@check("auth.scope.path-whole-match", level=MUST,
       rule="A glob must cover the whole target: shared/<doc> does not admit shared/<doc>x (403)",
       source="digest §5.11 (the match must cover the whole target)")
def test_path_whole_match(client):
    seeded = seed_shared(client)
    expect_data(client.pull(seeded.path, device=shared_reader([seeded.path])), seeded.data)
    expect_forbidden(client.pull(seeded.path + "x", device=shared_reader([seeded.path])))
    expect_forbidden(client.pull(seeded.path, device=shared_reader([seeded.path[:-1]])))


@check("auth.scope.path-deny-exact", level=MUST,
       rule="A deny rule `!d` refuses `d` even when an allow rule matches it; siblings stay allowed",
       source="digest §5.11 (deny rules)")
def test_path_deny_exact(client):
    group = fresh("g")
    writer = root(("chats",), ("write",))
    for day in ("mon", "secret"):
        expect_ok(client.push(f"chats/{group}/{day}", {"d": day}, device=writer))
    reader = root(("chats",), ("read",), [f"chats/{group}/*", f"!chats/{group}/secret"])
    expect_data(client.pull(f"chats/{group}/mon", device=reader), {"d": "mon"})
    expect_forbidden(client.pull(f"chats/{group}/secret", device=reader))


@check("auth.scope.path-deny-covers-descendants", level=MUST,
       rule="A deny rule `!d` also covers everything under d (d/**): !chats/<g> refuses chats/<g>/<day>",
       source="digest §5.11 (a deny also covers descendants)")
def test_path_deny_descendants(client):
    denied, allowed = fresh("g"), fresh("g")
    writer = root(("chats",), ("write",))
    for group in (denied, allowed):
        expect_ok(client.push(f"chats/{group}/mon", {"g": group}, device=writer))
    reader = root(("chats",), ("read",), ["chats/**", f"!chats/{denied}"])
    expect_forbidden(client.pull(f"chats/{denied}/mon", device=reader))
    expect_data(client.pull(f"chats/{allowed}/mon", device=reader), {"g": allowed})


@check("auth.scope.deny-only-allows-nothing", level=MUST,
       rule="A path list with only deny rules allows nothing (403 everywhere, even outside the denied paths)",
       source="digest §5.11 (a list with only deny entries allows nothing)")
def test_deny_only(client):
    seeded = seed_shared(client)
    expect_forbidden(client.pull(seeded.path, device=shared_reader([f"!shared/{fresh()}"])))


@check("auth.scope.identity-substitution", level=MUST,
       rule="`{identity}` in a scope path is replaced by the caller's bound identity before matching",
       source="digest §5.9 (every {identity} in scope.paths is replaced), §5.11")
def test_identity_substitution(client):
    device = root(("shared",), ("read", "write"), ["shared/{identity}"])
    own, other = f"shared/{device.identity}", f"shared/{root().identity}"
    expect_ok(client.push(own, {"mine": True}, device=device))
    expect_data(client.pull(own, device=device), {"mine": True})
    expect_forbidden(client.push(other, {"mine": False}, device=device))
    expect_absent(client, other)


@check("auth.scope.empty-paths-unrestricted", level=MUST,
       rule="A device cap with `paths: []` (or no paths) is unrestricted within its collections",
       source="digest §5.11 (no paths, or paths: [] -> unrestricted for device caps)")
def test_empty_paths(client):
    seeded = seed_shared(client)
    expect_data(client.pull(seeded.path, device=shared_reader([])), seeded.data)


@check("auth.scope.path-ignores-query", level=MUST,
       rule="The scope-path target is the path without its query: paths [shared/<doc>] admits shared/<doc>?x=1",
       source="digest §5.11 (the query is dropped)")
def test_path_ignores_query(client):
    seeded = seed_shared(client)
    expect_data(client.pull(seeded.path, device=shared_reader([seeded.path]), query="x=1"), seeded.data)


@check("auth.scope.list-path-checked", level=MUST,
       rule="List routes check scope paths against the listed prefix: list/chats/<g> needs a rule matching "
            "chats/<g>",
       source="digest §5.11 (/list/shared/o1 gives shared/o1), §1.12")
def test_list_path(client):
    group = fresh("g")
    expect_ok(client.push(f"chats/{group}/mon", {"d": 1}, device=cap_device("chats", ("write",))))
    allowed = root(("chats",), ("read",), [f"chats/{group}", f"chats/{group}/*"])
    body = expect_ok(client.list(f"chats/{group}", device=allowed))
    assert "mon" in str(body), f"the listing must name the document it holds: {body!r}"
    elsewhere = root(("chats",), ("read",), [f"chats/{fresh('g')}", f"chats/{fresh('g')}/*"])
    expect_forbidden(client.list(f"chats/{group}", device=elsewhere))


@check("auth.scope.list-hides-denied", level=SHOULD,
       rule="A list never names a document the cap's scope paths deny: with [chats/<g>, chats/<g>/*, "
            "!chats/<g>/secret] the listing shows mon but not secret (a cap without the deny sees both)",
       source="digest §5.11, §1.12; reference_server/README.md divergence 15 (the official servers list every key "
              "under the prefix)")
def test_list_hides_denied(client):
    group = fresh("g")
    writer = cap_device("chats", ("write",))
    for day in ("mon", "secret"):
        expect_ok(client.push(f"chats/{group}/{day}", {"d": day}, device=writer))
    everything = root(("chats",), ("read",), [f"chats/{group}", f"chats/{group}/*"])
    body = expect_ok(client.list(f"chats/{group}", device=everything))
    assert body.get("items") == ["mon", "secret"], f"a cap without the deny rule lists both documents: {body!r}"
    denied = root(("chats",), ("read",), [f"chats/{group}", f"chats/{group}/*", f"!chats/{group}/secret"])
    body = expect_ok(client.list(f"chats/{group}", device=denied))
    assert body.get("items") == ["mon"], f"the listing names a document the cap may not read: {body!r}"
    expect_forbidden(client.pull(f"chats/{group}/secret", device=denied))
