"""`GET /batch/pull` (digest §1.14): many reads in one request, with per-entry results.

Deliberate differences from the official handler (README "Divergences"):
- a presented cap that fails authentication fails the whole request (401/403) instead of silently
  degrading to anonymous, as on every other route;
- each entry obeys the same rules as a standalone pull of that document: the collection's pull rate
  limit, `pushOnly` (write-only) collections, TTL (data and hash both blanked) and the append-pull
  bound rule (an append-only entry without `appendParams` is `pull_bound_required`, not the whole log);
- binary collections are refused per entry (their bytes cannot be a JSON entry).
"""

from __future__ import annotations

import json
from typing import Any

from reference_server import errors
from reference_server.access import READ, allowed, effective_roles, filter_json, hidden_fields
from reference_server.append_log import Bounds, parse_bounds, read_window
from reference_server.auth import Caller
from reference_server.config import PUBLIC, Collection
from reference_server.faults import NO_FAULTS, Faults
from reference_server.ratelimit import RateLimiter
from reference_server.responses import Response, dumps, json_text
from reference_server.router import unsafe_key, valid_params
from reference_server.storage import Store

DENY_SUFFIXES = ("_keyring", "_members")
ENTRY_BINARY = "binary collections cannot be batch-pulled"


def _error(message: str) -> str:
    return dumps({"error": message})


def _parse_json_param(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _INVALID


_INVALID = object()


def batch_pull(
    *,
    store: Store,
    collections: dict[str, Collection],
    query: dict[str, str],
    caller: Caller,
    now: int,
    limiter: RateLimiter,
    client_ip: str,
    max_collections: int,
    max_append_elements: int,
    faults: Faults = NO_FAULTS,
) -> Response:
    raw_names = query.get("collections")
    if not raw_names:
        return errors.error(400, errors.BATCH_MISSING_COLLECTIONS)
    names = list(dict.fromkeys(n.strip() for n in raw_names.split(",") if n.strip()))
    if len(names) > max_collections:
        return errors.error(400, errors.BATCH_TOO_MANY)
    params_by: dict[str, list[dict[str, Any]]] = {}
    if query.get("params"):
        parsed = _parse_json_param(query["params"])
        if not isinstance(parsed, dict) or any(
            not isinstance(v, list) or any(not isinstance(e, dict) for e in v) for v in parsed.values()
        ):
            return errors.error(400, errors.BATCH_INVALID_PARAMS)
        params_by = parsed
    append_by: dict[str, list[dict[str, int] | None]] = {}
    if query.get("appendParams"):
        parsed = _parse_json_param(query["appendParams"])
        if not isinstance(parsed, dict):
            return errors.error(400, errors.BATCH_INVALID_APPEND_PARAMS)
        for name, entries in parsed.items():
            if not isinstance(entries, list):
                return errors.error(400, errors.BATCH_INVALID_APPEND_PARAMS)
            coerced: list[dict[str, int] | None] = []
            for entry in entries:
                if entry is None:
                    coerced.append(None)
                    continue
                if not isinstance(entry, dict):
                    return errors.error(400, errors.BATCH_INVALID_APPEND_PARAMS)
                if entry.get("full") in (True, "true", "1", 1):
                    return errors.error(400, f"appendParams[{name!r}]: full is not allowed in batch pull")
                opts: dict[str, int] = {}
                for key in ("since", "last", "limit"):
                    if key in entry:
                        value = entry[key]
                        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                            return errors.error(400, errors.BATCH_INVALID_APPEND_PARAMS)
                        opts[key] = value
                coerced.append(opts)
            append_by[name] = coerced
    for name, entries in append_by.items():
        if name in params_by and len(entries) != len(params_by[name]):
            return errors.error(400, errors.BATCH_APPEND_LENGTH)
    if sum(len(params_by[n]) if n in params_by else 1 for n in names) > max_collections:
        return errors.error(400, errors.BATCH_TOO_MANY)
    budget = 0
    for name, entries in append_by.items():
        col = collections.get(name)
        cap = col.append_only.max_pull_limit if col and col.append_only and col.append_only.max_pull_limit else 1000
        for opts in entries:
            if opts is not None:
                requested = opts.get("limit", opts.get("last"))
                budget += cap if requested is None else min(requested, cap)
    if budget > max_append_elements:
        return errors.error(400, errors.BATCH_BUDGET)

    parts: list[str] = []
    for name in names:
        param_sets = params_by.get(name, [{}])
        col = collections.get(name)
        if col is None:
            entries_text = [_error(errors.ENTRY_NOT_FOUND)] * len(param_sets)
        else:
            col_append = append_by.get(name)
            entries_text = [
                _entry(store, col, supplied, col_append[i] if col_append is not None and i < len(col_append) else None,
                       caller, now, limiter, client_ip, faults)
                for i, supplied in enumerate(param_sets)
            ]
        parts.append(f"{dumps(name)}:[{','.join(entries_text)}]")
    return json_text(200, '{"collections":{' + ",".join(parts) + "}}")


def _entry(
    store: Store,
    col: Collection,
    supplied: dict[str, Any],
    append_opts: dict[str, int] | None,
    caller: Caller,
    now: int,
    limiter: RateLimiter,
    client_ip: str,
    faults: Faults,
) -> str:
    params: dict[str, str] = {}
    for name in col.template.params:
        value = supplied.get(name)
        if isinstance(value, str):
            params[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            params[name] = str(value)
    if "identity" in col.template.params and "identity" not in params and caller.identity:
        params["identity"] = caller.identity
    if any(name not in params for name in col.template.params):
        return _error(errors.ENTRY_MISSING_PARAM)
    if not valid_params(params):
        return _error(errors.INVALID_PATH_PARAM)
    roles = effective_roles(caller, col, READ, params.get("identity"), faults)
    if not allowed(col, READ, roles, faults) and not faults.on("batch-roles-ignored"):
        return _error(errors.FORBIDDEN)
    key = col.template.resolve(params)
    if unsafe_key(key):
        return _error(errors.INVALID_PATH_PARAM)
    # Scope paths narrow private collections only, as on the standalone routes (app._document).
    in_scope = PUBLIC in col.read_roles or caller.path_allowed(key)
    if not in_scope or any(key == s or key.endswith("/" + s) for s in DENY_SUFFIXES):
        return _error(errors.FORBIDDEN)
    if col.push_only:
        return _error(errors.WRITE_ONLY)
    if col.binary:
        return _error(ENTRY_BINARY)
    pull_rule = col.rate_limits.get("pull")
    if pull_rule and limiter.over_limit(f"{col.namespace}:{col.name}:pull", pull_rule, caller.identity, client_ip, now):
        return _error(errors.RATE_LIMITED)
    if append_opts is not None or col.is_log:
        if not col.is_log:
            return _error(errors.ENTRY_APPEND_NOT_SUPPORTED)
        assert col.append_only is not None
        opts = append_opts or {}
        since, last, limit = opts.get("since"), opts.get("last"), opts.get("limit")
        bounds = parse_bounds(col.append_only, None if since is None else str(since),
                              None if limit is None else str(limit), None if last is None else str(last), None, now,
                              faults)
        if not isinstance(bounds, Bounds):
            return _error(bounds)
        return read_window(store, col, key, bounds, roles, now, faults)[0]
    doc = store.get_doc(key)
    if doc is None or (col.ttl_ms is not None and now - doc.ts > col.ttl_ms):
        return f'{{"data":{{}},"hash":"","timestamp":{now}}}'
    data_json = doc.data_json
    hidden = hidden_fields(col, roles) if col.field_permissions else None
    if hidden:
        data_json = filter_json(data_json, hidden)
    return f'{{"data":{data_json},"hash":"{doc.hash}","timestamp":{now}}}'
