"""Authorisation decisions once the caller is known: collection roles, `self`, rootOnly, field permissions.

`self` (digest §5.10 rule 4) is granted on a collection whose storagePath has `{identity}` when the
request's identity param is the caller's bound identity, and here only when the cap's own scope
covers the operation and the collection (README "Divergences": scope limits the holder everywhere).
"""

from __future__ import annotations

import json
from typing import Any

from reference_server.auth import PUBLIC_ROLES, ROOT_ROLE, Caller
from reference_server.config import PUBLIC, SELF, Collection
from reference_server.faults import NO_FAULTS, Faults

READ, WRITE = "read", "write"


def effective_roles(
    caller: Caller, col: Collection, op: str, identity_param: str | None, faults: Faults = NO_FAULTS
) -> frozenset[str]:
    if (
        identity_param is not None
        and caller.authenticated
        and (identity_param == caller.identity or faults.on("self-any-identity"))
        and caller.covers(op, col.name)
    ):
        return caller.roles | {SELF}
    return caller.roles


def allowed(col: Collection, op: str, roles: frozenset[str], faults: Faults = NO_FAULTS) -> bool:
    """The collection role check plus rootOnly (digest §6.2). `public` in the list admits everyone."""
    listed = col.read_roles if op == READ else col.write_roles
    if col.root_only and ROOT_ROLE not in roles and not faults.on("root-only-ignored"):
        return False
    if faults:
        if faults.on("public-read-grants-write") and op == WRITE and PUBLIC in col.read_roles:
            return True
        if faults.on("public-needs-cap") and PUBLIC in listed and roles == PUBLIC_ROLES:
            return False
        if faults.on("scope-star-wildcard") and f"cap:{op}:*" in roles and any(
                role.startswith(f"cap:{op}:") for role in listed):
            return True
    return PUBLIC in listed or not listed.isdisjoint(roles)


def _holds(required: tuple[str, ...], roles: frozenset[str]) -> bool:
    return PUBLIC in required or any(role in roles for role in required)


def forbidden_field(col: Collection, data: dict[str, Any], roles: frozenset[str]) -> str | None:
    """The 403 message for the first field the caller may not write, if any (digest §10.3)."""
    for name, (_, write_roles) in col.field_permissions.items():
        if write_roles and name in data and not _holds(write_roles, roles):
            return f'Forbidden: field "{name}" requires roles: {", ".join(write_roles)}'
    return None


def hidden_fields(col: Collection, roles: frozenset[str]) -> list[str]:
    """Top-level fields the caller may not read; they are removed from pulled data (hash unchanged)."""
    return [name for name, (read_roles, _) in col.field_permissions.items()
            if read_roles is not None and not _holds(read_roles, roles)]


def filter_json(data_json: str, hidden: list[str]) -> str:
    """Drop `hidden` top-level keys from a stored data object's JSON text."""
    data = json.loads(data_json)
    if isinstance(data, dict):
        for name in hidden:
            data.pop(name, None)
    return json.dumps(data, separators=(",", ":"))


def filter_element_json(element_json: str, hidden: list[str]) -> str:
    element = json.loads(element_json)
    if isinstance(element.get("data"), dict):
        for name in hidden:
            element["data"].pop(name, None)
    return json.dumps(element, separators=(",", ":"))


def cache_control(col: Collection) -> list[tuple[bytes, bytes]]:
    """`Cache-Control` on pulls when `cacheDurationMs` is set (digest §1.16)."""
    if col.cache_duration_ms is None:
        return []
    max_age = col.cache_duration_ms // 1000
    value = f"max-age={max_age}" if PUBLIC in col.read_roles else f"private, max-age={max_age}"
    return [(b"cache-control", value.encode("ascii"))]
