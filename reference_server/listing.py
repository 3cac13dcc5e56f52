"""`GET /list/<prefix>` (digest §1.12): the documents under a listable collection's prefix, paginated.

An item is listed only if `GET /pull/<prefix><item>` would reach this collection's data route and the
caller's cap scope covers it, so keyrings, deeper keys and internal storage never show up, and a cap
with deny rules cannot learn the names of documents it may not read (the official server lists every
key under the prefix, chunk keys of segmented logs included).
"""

from __future__ import annotations

from reference_server.auth import Caller
from reference_server.config import PUBLIC, Collection
from reference_server.faults import NO_FAULTS, Faults
from reference_server.responses import Response, json_response
from reference_server.router import PARAM_VALUE, Router
from reference_server.storage import Store

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def parse_limit(raw: str | None) -> int | None:
    """Positive integer in canonical form, clamped to 1000; None when invalid."""
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or str(int(raw)) != raw or int(raw) == 0:
        return None
    return min(int(raw), MAX_LIMIT)


def list_documents(
    store: Store, router: Router, col: Collection, prefix: str, after: str | None, limit: int, caller: Caller,
    faults: Faults = NO_FAULTS,
) -> Response:
    kind = "log" if col.is_log else "blob" if col.binary else "doc"
    cursor = prefix + after if after is not None else ""
    if cursor and faults.on("list-after-inclusive"):  # the greatest string below the cursor: ">" becomes ">="
        cursor = cursor[:-1] + chr(ord(cursor[-1]) - 1) + "\U0010ffff"
    items: list[str] = []
    parts_prefix = prefix.split("/")[:-1] if prefix else []
    scoped = PUBLIC not in col.read_roles and not faults.on("list-scope-unfiltered")  # as app._document does
    scan = prefix.rstrip("/") if faults.on("list-sibling-prefix") else prefix
    while len(items) <= limit:
        keys = store.list_keys(kind, scan, cursor, limit + 1)
        if not keys:
            break
        for key in keys:
            suffix = key.rsplit("/", 1)[-1] if faults.on("list-sibling-prefix") else key[len(prefix) :]
            if not PARAM_VALUE.fullmatch(suffix) or (scoped and not caller.path_allowed(key)):
                continue
            match = router.match_doc(col.namespace, [*parts_prefix, suffix])
            if match is not None and match[0].collection is col and not match[0].keyring:
                items.append(suffix)
                if len(items) > limit:
                    break
        cursor = keys[-1]
    has_more = len(items) > limit or (len(items) == limit and faults.on("list-has-more-off-by-one"))
    return json_response(200, {"items": items[:limit], "hasMore": has_more})
