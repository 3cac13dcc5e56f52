"""Append-only logs (`appendOnly: {type: "by_timestamp"}`, digest §1.7, §4).

An append reads only the log's head (count, newest ts, hash) and writes one element, so its cost does
not grow with the log. Elements are `{ts, data[, authorPubkey, authorSignature]}` envelopes kept as
JSON text and spliced into pull responses.
"""

from __future__ import annotations

import json
from typing import Any

from protocol.author import verify_author
from protocol.constants import APPEND_AUTHOR_DOMAIN, APPEND_FUTURE_TS_LIMIT_MS
from protocol.hashing import append_hash, document_hash, sanitize
from reference_server import errors
from reference_server.access import cache_control, filter_element_json, hidden_fields
from reference_server.auth import Caller
from reference_server.config import AppendOnly, Collection
from reference_server.documents import etag_header, etag_matches
from reference_server.faults import NO_FAULTS, Faults
from reference_server.responses import Response, dumps, json_response, json_text
from reference_server.storage import LogHead, Store


def push_append(
    store: Store, col: Collection, key: str, body: dict[str, Any], caller: Caller, now: int, faults: Faults = NO_FAULTS
) -> Response:
    cfg = col.append_only
    assert cfg is not None
    data = body.get("data")
    if not isinstance(data, dict):
        return errors.error(400, errors.MISSING_DATA)
    data = sanitize(data)
    pub, sig = body.get("authorPubkey"), body.get("authorSignature")
    has_proof = isinstance(pub, str) and isinstance(sig, str)
    if cfg.require_author_signature and not has_proof:
        return errors.error(400, errors.APPEND_AUTHOR_FIELDS)
    if has_proof:
        # Checked whenever present, even when not required: the official server stores an unchecked
        # proof on `requireAuthorSignature: false` logs, which readers would then see as an author claim.
        if caller.presenter is not None and pub != caller.presenter:
            return errors.error(403, errors.APPEND_AUTHOR_NOT_PRESENTER)
        if not verify_author(pub, sig, key, data, domain=APPEND_AUTHOR_DOMAIN):
            return errors.error(403, errors.APPEND_AUTHOR_BAD_SIGNATURE)
    client_ts = body.get("ts")
    if client_ts is not None:
        if not isinstance(client_ts, int) or isinstance(client_ts, bool) or client_ts < 0:
            return errors.error(400, errors.TS_NOT_INTEGER)
        if client_ts > now + APPEND_FUTURE_TS_LIMIT_MS - 1000 * faults.on("append-future-limit-narrowed"):
            return errors.error(400, errors.TS_IN_FUTURE)
    if not cfg.persist:
        return json_response(200, {"hash": document_hash(data), "timestamp": now if client_ts is None else client_ts})
    head = store.log_head(key)
    count, last_ts = (head.count, head.last_ts) if head else (0, -1)
    full = cfg.max_items is not None and count >= cfg.max_items + faults.on("max-items-off-by-one")
    limit_first = not faults.on("max-items-after-monotonic")
    if full and limit_first:
        return errors.error(409, errors.APPEND_LIMIT, limit=cfg.max_items)
    if client_ts is None:
        ts = now if faults.on("append-server-ts-is-clock") else max(now, last_ts + 1)
    elif client_ts < last_ts or (client_ts == last_ts and not faults.on("append-equal-ts-accepted")):
        return errors.error(409, errors.NON_MONOTONIC)
    else:
        ts = client_ts
    if full and not limit_first:
        return errors.error(409, errors.APPEND_LIMIT, limit=cfg.max_items)
    element: dict[str, Any] = {"ts": ts, "data": data}
    if has_proof:
        element["authorPubkey"], element["authorSignature"] = pub, sig
    new_hash = append_hash(count + 1, data)
    store.log_append(key, ts, dumps(element), LogHead(count + 1, ts, new_hash), cfg.chunk_size)
    return json_text(200, f'{{"hash":"{new_hash}","timestamp":{ts}}}')


def _canonical_int(raw: str) -> int | None:
    """A base-10 integer >= 0 whose canonical text is exactly `raw` (`01`, `+1`, `-1` all fail)."""
    if not raw.isascii() or not raw.isdigit() or str(int(raw)) != raw:
        return None
    return int(raw)


class Bounds:
    """A validated append pull window: elements with ts > `after` (None: from the start), newest `last`."""

    __slots__ = ("after", "last")

    def __init__(self, after: int | None, last: int | None) -> None:
        self.after = after
        self.last = last


def parse_bounds(
    cfg: AppendOnly, checkpoint: str | None, limit: str | None, last: str | None, full: str | None, now: int,
    faults: Faults = NO_FAULTS,
) -> Bounds | str:
    """Digest §1.7 rules 1-5, in order; returns the error string on failure.

    `checkpoint` is strictly-after at every value, 0 included (rule 6): the official code returns an
    element with ts 0 for `checkpoint=0`, which a client resuming from 0 would then see twice.
    """
    after = None
    if checkpoint is not None:
        after = _canonical_int(checkpoint)
        if after is None:
            return errors.INVALID_CHECKPOINT
    tail = None
    aliases = ((limit, errors.INVALID_LIMIT), (last, errors.INVALID_LAST))
    for raw, message in reversed(aliases) if faults.on("last-wins-over-limit") else aliases:
        if raw is not None:
            tail = _canonical_int(raw)
            if tail is None:
                return message
            break  # `limit` is an alias of `last` and wins when both are given
    is_full = full in ("true", "1")
    if checkpoint is None and tail is None and not is_full:
        return errors.PULL_BOUND_REQUIRED
    if is_full and (checkpoint is not None or tail is not None):
        return errors.FULL_WITH_BOUNDS
    if is_full and not cfg.allow_full:
        return errors.FULL_NOT_ALLOWED
    if after is not None and cfg.max_checkpoint_age_ms is not None and after < now - cfg.max_checkpoint_age_ms:
        return errors.CHECKPOINT_TOO_OLD
    if tail is not None and cfg.max_pull_limit is not None and not faults.on("max-pull-limit-ignored"):
        tail = min(tail, cfg.max_pull_limit)
    if after is not None and (faults.on("checkpoint-inclusive") or (after == 0 and faults.on(
            "checkpoint-zero-inclusive"))):
        after -= 1
    return Bounds(after, tail)


def read_window(
    store: Store, col: Collection, key: str, bounds: Bounds, roles: frozenset[str], now: int, faults: Faults = NO_FAULTS
) -> tuple[str, str]:
    """`({"data":{"<field>":[...]},"hash":...,"timestamp":...} as text, the hash)`; "" hash for no log."""
    cfg = col.append_only
    assert cfg is not None
    head = store.log_head(key)
    field = dumps(cfg.field)
    if head is None or (col.ttl_ms is not None and now - head.last_ts > col.ttl_ms):
        return f'{{"data":{{{field}:[]}},"hash":"","timestamp":{now}}}', ""
    elements = store.log_read(key, bounds.after, bounds.last)
    hidden = hidden_fields(col, roles) if col.field_permissions else None
    if hidden:
        elements = [filter_element_json(e, hidden) for e in elements]
    log_hash, extra = head.hash, ""
    if faults:
        elements, log_hash, extra = _faulty_window(store, col, key, bounds, head, elements, faults)
    return f'{{"data":{{{field}:[{",".join(elements)}]{extra}}},"hash":"{log_hash}","timestamp":{now}}}', log_hash


def _faulty_window(
    store: Store, col: Collection, key: str, bounds: Bounds, head: LogHead, elements: list[str], faults: Faults
) -> tuple[list[str], str, str]:
    """Self-check faults (reference_server/faults.py) in how a window is read and described."""
    log_hash, extra = head.hash, ""
    chunk = col.append_only.chunk_size if col.append_only else None
    if faults.on("last-oldest-k") and bounds.last is not None:
        elements = store.log_read(key, bounds.after, None)[: bounds.last]
    if faults.on("chunk-boundary-drop") and chunk:
        first = head.count - len(elements)  # every window ends at the newest element
        elements = [e for i, e in enumerate(elements, start=first) if i == 0 or i % chunk]
    if faults.on("chunk-internals-leak") and chunk:
        extra = f',"__seg":{{"sealedN":{head.count // chunk},"chunkSize":{chunk}}}'
    if faults.on("etag-window-hash"):
        log_hash = append_hash(len(elements), json.loads(elements[-1])["data"]) if elements else ""
    return elements, log_hash, extra


def pull_append(
    store: Store, col: Collection, key: str, query: dict[str, str], roles: frozenset[str], now: int,
    if_none_match: str | None, faults: Faults = NO_FAULTS,
) -> Response:
    cfg = col.append_only
    assert cfg is not None
    bounds = parse_bounds(cfg, query.get("checkpoint"), query.get("limit"), query.get("last"), query.get("full"), now,
                          faults)
    if isinstance(bounds, str):
        return errors.error(400, bounds)
    text, log_hash = read_window(store, col, key, bounds, roles, now, faults)
    headers = cache_control(col)
    if log_hash:
        # The ETag is the whole log's hash, whatever window was asked for (digest §1.7 rule 9).
        if etag_matches(if_none_match, log_hash, faults):
            return Response(304)
        headers.append(etag_header(log_hash, faults))
    return json_text(200, text, headers)
