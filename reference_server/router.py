"""URL routing: which collection (or keyring) a `/pull/...`, `/push/...` or `/list/...` path names.

Routes are indexed by namespace and segment count, then tried most-literal first, so a keyring path such
as `notes/{identity}/_keyring` wins over `notes/{identity}/{noteId}` whatever the config order (the
official server takes the first registered route, digest §8.2). Two routes with the same shape would
make a path ambiguous; that is a startup error.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from reference_server.config import Collection, ConfigError, ServerConfig, Template

PARAM_VALUE = re.compile(r"[a-zA-Z0-9._:@-]+")
_UNSAFE_KEY = re.compile(r"\.\.|//|[\x00-\x1f]|(?:^|/)\.(?:/|$)")


@dataclass(frozen=True)
class DocRoute:
    collection: Collection
    template: Template
    keyring: bool  # True: this route serves the collection's keyring document


def _keyring_collection(col: Collection) -> Collection:
    """The keyring as a plain JSON document with the collection's roles, limits and rate limits.

    Data-only rules (append-only, binary, TTL, field permissions, schema, pullOnly/pushOnly) do not apply.
    """
    return dataclasses.replace(
        col, allowed_mime_types=("application/json",), binary=False, pull_only=False, push_only=False,
        append_only=None, ttl_ms=None, keyring=None, listable=False, object_schema=None, field_permissions={},
    )


def _shape(template: Template) -> tuple[str | None, ...]:
    return tuple(None if is_param else name for is_param, name in template.segments)


def _priority(template: Template) -> tuple[int, ...]:
    return tuple(1 if is_param else 0 for is_param, _ in template.segments)


def _match(template: Template, parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for (is_param, name), part in zip(template.segments, parts, strict=True):
        if is_param:
            params[name] = part
        elif name != part:
            return None
    return params


def valid_params(params: dict[str, str]) -> bool:
    """Every value must be `[a-zA-Z0-9._:@-]+` (digest §1.3), checked before auth."""
    return all(PARAM_VALUE.fullmatch(value) for value in params.values())


def unsafe_key(key: str) -> bool:
    """Keys with `..`, a `.` segment, a control character or `//` are refused (digest §1.3, after auth).

    A lone `.` segment is refused too (the official server allows it): it would make a key whose scope-path
    match depends on whether `.` segments are collapsed.
    """
    return _UNSAFE_KEY.search(key) is not None


class Router:
    def __init__(self, config: ServerConfig) -> None:
        self.namespaces = frozenset(config.namespaces)
        self.by_name: dict[str | None, dict[str, Collection]] = {None: {c.name: c for c in config.collections}}
        for ns, cols in config.namespaces.items():
            self.by_name[ns] = {c.name: c for c in cols}
        self._docs: dict[tuple[str | None, int], list[DocRoute]] = {}
        self._lists: dict[tuple[str | None, int], list[tuple[Template, Collection]]] = {}
        for col in config.all_collections():
            self._add_doc(DocRoute(col, col.template, keyring=False))
            if col.keyring is not None:
                self._add_doc(DocRoute(_keyring_collection(col), col.keyring, keyring=True))
            if col.listable:
                prefix = Template("/".join(col.template.text.split("/")[:-1]), col.template.segments[:-1])
                self._add_list(col, prefix)

    def _add_doc(self, route: DocRoute) -> None:
        bucket = self._docs.setdefault((route.collection.namespace, len(route.template.segments)), [])
        for other in bucket:
            if _shape(other.template) == _shape(route.template):
                raise ConfigError(f'routes "{other.template.text}" and "{route.template.text}" have the same shape; '
                                  "a path could not be routed to one of them")
        bucket.append(route)
        bucket.sort(key=lambda r: _priority(r.template))

    def _add_list(self, col: Collection, prefix: Template) -> None:
        bucket = self._lists.setdefault((col.namespace, len(prefix.segments)), [])
        for other, other_col in bucket:
            if _shape(other) == _shape(prefix):
                raise ConfigError(f'listable collections "{other_col.name}" and "{col.name}" list the same prefix')
        bucket.append((prefix, col))
        bucket.sort(key=lambda item: _priority(item[0]))

    def match_doc(self, ns: str | None, parts: list[str]) -> tuple[DocRoute, dict[str, str]] | None:
        for route in self._docs.get((ns, len(parts)), ()):
            params = _match(route.template, parts)
            if params is not None:
                return route, params
        return None

    def match_list(self, ns: str | None, parts: list[str]) -> tuple[Collection, Template, dict[str, str]] | None:
        for prefix, col in self._lists.get((ns, len(parts)), ()):
            params = _match(prefix, parts)
            if params is not None:
                return col, prefix, params
        return None

    def doc_routes(self) -> list[DocRoute]:
        return [route for bucket in self._docs.values() for route in bucket]
