"""List: `GET /list/<storagePath minus its last segment>` on listable collections (digest §1.12).

The profile's `chats` collection (`chats/{groupId}/{day}`, readRoles `cap:read:chats`) is listed at
`/list/chats/{groupId}`; every check uses a fresh group, so the listing holds only what the check pushed.
"""

from __future__ import annotations

import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.suite.support import cap_device, expect_error, expect_ok, fresh, root

CHATS = "chats"
DAYS = ["2024-01-03", "2024-01-01", "2024-01-05", "2024-01-02", "2024-01-04"]  # pushed out of order


def _group_with(client, device, days=DAYS) -> str:
    group = fresh("g")
    for day in days:
        expect_ok(client.push(f"{CHATS}/{group}/{day}", {"day": day}, device=device))
    return group


def _list(client, device, group, **query):
    return client.list(f"{CHATS}/{group}", device=device, query=query or None)


@check("list.items-ascending", level=MUST,
       rule="A list returns {items, hasMore}: the last-segment values of the documents under the prefix, in "
            "ascending key order",
       source="digest §1.12 [V], §2")
def test_items_ascending(client):
    device = cap_device(CHATS)
    group = _group_with(client, device)
    response = _list(client, device, group)
    body = expect_ok(response)
    assert set(body) == {"items", "hasMore"}, f"list body keys {sorted(body)}"
    assert body["items"] == sorted(DAYS), body
    assert body["hasMore"] is False, body


@check("list.empty-prefix", level=MUST, rule="Listing a prefix with no documents gives 200 {items: [], hasMore: false}",
       source="digest §1.12")
def test_empty_prefix(client):
    device = cap_device(CHATS)
    body = expect_ok(_list(client, device, fresh("g")))
    assert body == {"items": [], "hasMore": False}, body


@check("list.pagination", level=MUST,
       rule="limit bounds the page and hasMore says whether more keys follow; after=<last item> continues "
            "strictly after it, until hasMore is false",
       source="digest §1.12 [V] (one extra key is fetched to work out hasMore)")
def test_pagination(client):
    device = cap_device(CHATS)
    group = _group_with(client, device)
    expected = sorted(DAYS)
    seen: list[str] = []
    after = None
    pages = []
    while True:
        query = {"limit": "2"} if after is None else {"limit": "2", "after": after}
        body = expect_ok(_list(client, device, group, **query))
        pages.append(body)
        items = body.get("items")
        assert isinstance(items, list) and len(items) <= 2, body
        seen.extend(items)
        if not body.get("hasMore"):
            break
        assert items, f"hasMore true with an empty page: {pages}"
        assert len(pages) < 5, f"pagination does not end: {pages}"
        after = items[-1]
    assert seen == expected, f"pages {pages}"
    assert [p["hasMore"] for p in pages] == [True, True, False], f"pages {pages}"


@check("list.has-more-exact-page", level=MUST,
       rule="When exactly `limit` documents remain, the page holds them all and hasMore is false",
       source="digest §1.12 (one extra key is fetched to work out hasMore)")
def test_has_more_exact(client):
    device = cap_device(CHATS)
    group = _group_with(client, device, DAYS[:3])
    body = expect_ok(_list(client, device, group, limit="3"))
    assert body == {"items": sorted(DAYS[:3]), "hasMore": False}, body
    body = expect_ok(_list(client, device, group, limit="2"))
    assert body == {"items": sorted(DAYS[:3])[:2], "hasMore": True}, body


@check("list.after-strict", level=MUST,
       rule="after=X returns only keys strictly greater than <prefix>X, whether or not X exists",
       source="digest §1.12")
def test_after_strict(client):
    device = cap_device(CHATS)
    group = _group_with(client, device)
    body = expect_ok(_list(client, device, group, after="2024-01-02"))
    assert body == {"items": ["2024-01-03", "2024-01-04", "2024-01-05"], "hasMore": False}, body
    body = expect_ok(_list(client, device, group, after="2024-01-035"))  # between two keys, not itself a key
    assert body == {"items": ["2024-01-04", "2024-01-05"], "hasMore": False}, body
    body = expect_ok(_list(client, device, group, after="2024-01-05"))
    assert body == {"items": [], "hasMore": False}, body


@check("list.invalid-limit-400", level=MUST,
       rule='limit=0, or a limit whose canonical integer text differs from the raw value, gets 400 '
            '"Invalid limit parameter"',
       source="digest §1.12")
@pytest.mark.parametrize("limit", ["0", "01", "+1", "-1", "abc", "1.0", "1e2", " 1", "00"])
def test_invalid_limit(client, limit):
    device = cap_device(CHATS)
    body = expect_error(_list(client, device, fresh("g"), limit=limit), 400, "Invalid limit parameter")
    assert body == {"error": "Invalid limit parameter"}, body


@check("list.limit-above-max-clamped", level=MUST,
       rule="A limit above 1000 is clamped quietly (200), not refused",
       source="digest §1.12 ('Values above 1000 are quietly clamped to 1000')")
def test_limit_clamped(client):
    device = cap_device(CHATS)
    group = _group_with(client, device, DAYS[:2])
    body = expect_ok(_list(client, device, group, limit="5000"))
    assert body == {"items": sorted(DAYS[:2]), "hasMore": False}, body


@check("list.uses-read-roles", level=MUST,
       rule="The list route checks the collection's readRoles: a cap:read holder lists; write-only, list-only "
            "(cap:list is not in readRoles) and anonymous callers get 403",
       source="digest §1.12 ('The route uses OP_READ, so readRoles apply'), §5.10 rule 7, §5.12")
def test_uses_read_roles(client):
    writer = cap_device(CHATS)
    group = _group_with(client, writer, DAYS[:2])
    reader = cap_device(CHATS, ("read",))
    assert expect_ok(_list(client, reader, group)).get("items") == sorted(DAYS[:2])
    for device in (cap_device(CHATS, ("write",)), cap_device(CHATS, ("list",)), root(("shared",)), None):
        body = expect_error(_list(client, device, group), 403, "Forbidden")
        assert body == {"error": "Forbidden"}, body


@check("list.path-param-400", level=MUST,
       rule='A list prefix param outside the path charset gets 400 "Invalid path parameter"',
       source="digest §1.3 rule 1, §6.1 (List: charset check first)")
def test_list_path_param(client):
    response = client.request("GET", f"list/{CHATS}/bad%20group!")
    assert expect_error(response, 400, "Invalid path parameter") == {"error": "Invalid path parameter"}


@check("list.no-cache-headers", level=SHOULD, rule="List responses carry no ETag and no Cache-Control",
       source="digest §1.12, §1.16")
def test_no_cache_headers(client):
    device = cap_device(CHATS)
    group = _group_with(client, device, DAYS[:1])
    response = _list(client, device, group)
    expect_ok(response)
    assert "etag" not in response.headers and "cache-control" not in response.headers, response.headers


@check("list.other-groups-excluded", level=MUST,
       rule="A list returns only documents under its own prefix, not those of a sibling prefix that shares a "
            "leading string",
       source="digest §1.3 rule 4 (the key prefix ends with '/'), §1.12")
def test_other_groups_excluded(client):
    device = cap_device(CHATS)
    group = _group_with(client, device, DAYS[:2])
    expect_ok(client.push(f"{CHATS}/{group}x/2030-01-01", {"other": True}, device=device))
    expect_ok(client.push(f"{CHATS}/{group}-2/2030-01-02", {"other": True}, device=device))
    body = expect_ok(_list(client, device, group))
    assert body == {"items": sorted(DAYS[:2]), "hasMore": False}, body
