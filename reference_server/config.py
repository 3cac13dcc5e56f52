"""The standard Starfish collection config (`{"version": 1, "collections": [...]}`), loaded and validated.

The same JSON file loads into the official servers (digest §7). Two rules differ on purpose:
- a key this server does not know, or a feature it does not implement (`bundle`, `restrictions`), is a
  startup error naming it, never silently ignored: a conformance target that quietly drops a rule
  would report behaviour it does not have;
- semantic errors use the official messages (digest §7.3), collected and raised together as
  `ConfigError("Invalid sync config:\\n<one error per line>")`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

PUBLIC = "public"
SELF = "self"
JSON_MIME = "application/json"
PARAM_SEGMENT = re.compile(r"\{(\w+)\}")
NAMESPACE_NAME = re.compile(r"[a-zA-Z0-9_-]+")
RESERVED_NAMESPACES = frozenset({"pull", "push", "list", "health", "batch", "config", "openapi.json", "revocations"})
DEFAULT_APPEND_FIELD = "items"

_TOP_KEYS = {"version", "collections", "namespaces", "rateLimit", "restrictions"}
_COLLECTION_KEYS = {
    "name", "storagePath", "readRoles", "writeRoles", "encryption", "maxBodyBytes", "rateLimit", "cacheDurationMs",
    "objectSchema", "allowedMimeTypes", "pullOnly", "pushOnly", "forceFullFetch", "bundle", "appendOnly", "ttlMs",
    "fieldPermissions", "keyringPath", "listable", "rootOnly", "restrictions",
}
_APPEND_KEYS = {
    "type", "field", "persist", "maxItems", "chunkSize", "requireAuthorSignature", "allowFull", "maxPullLimit",
    "maxCheckpointAgeMs",
}
_RATE_KEYS = {"windowMs", "maxRequests", "bucket", "push", "pull", "list"}
_RULE_KEYS = {"windowMs", "maxRequests", "bucket", "identity", "ip"}
_BUCKETS = ("identity", "ip", "identity+ip")
# Features the official schema accepts that this server does not implement: refused at startup.
_UNSUPPORTED = {
    "bundle": "bundles are not implemented by the reference server",
    "restrictions": "identity restrictions need an authorize plugin; the reference server has none",
}


class ConfigError(ValueError):
    """The config cannot be served; the message says exactly why."""


@dataclass(frozen=True)
class AppendOnly:
    field: str = DEFAULT_APPEND_FIELD
    persist: bool = True
    max_items: int | None = None
    chunk_size: int | None = None
    require_author_signature: bool = True
    allow_full: bool = True
    max_pull_limit: int | None = None
    max_checkpoint_age_ms: int | None = None

    def client_info(self) -> dict[str, Any]:
        """camelCase, as in the config file (the official server leaks snake_case here: digest §1.5)."""
        info: dict[str, Any] = {"type": "by_timestamp", "field": self.field, "persist": self.persist,
                                "requireAuthorSignature": self.require_author_signature, "allowFull": self.allow_full}
        for key, value in (("maxItems", self.max_items), ("chunkSize", self.chunk_size),
                           ("maxPullLimit", self.max_pull_limit), ("maxCheckpointAgeMs", self.max_checkpoint_age_ms)):
            if value is not None:
                info[key] = value
        return info


@dataclass(frozen=True)
class Counter:
    """One fixed-window counter of a rate-limit rule: `dimension` picks the bucket key."""

    dimension: str  # "identity" | "ip" | "identity+ip"
    window_ms: int
    max_requests: int


@dataclass(frozen=True)
class Template:
    """A storagePath split into segments; a segment is a literal or a whole `{param}`."""

    text: str
    segments: tuple[tuple[bool, str], ...]  # (is_param, literal or param name)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(name for is_param, name in self.segments if is_param)

    def resolve(self, params: dict[str, str]) -> str:
        return "/".join(params[name] if is_param else name for is_param, name in self.segments)


@dataclass(frozen=True)
class Collection:
    name: str
    template: Template
    read_roles: frozenset[str]
    write_roles: frozenset[str]
    encryption: str
    max_body_bytes: int
    allowed_mime_types: tuple[str, ...]
    binary: bool
    pull_only: bool = False
    push_only: bool = False
    force_full_fetch: bool = False
    append_only: AppendOnly | None = None
    ttl_ms: int | None = None
    cache_duration_ms: int | None = None
    keyring: Template | None = None
    listable: bool = False
    root_only: bool = False
    object_schema: dict[str, Any] | None = None
    field_permissions: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None]] = field(default_factory=dict)
    rate_limits: dict[str, tuple[Counter, ...]] = field(default_factory=dict)
    namespace: str | None = None

    @property
    def is_log(self) -> bool:
        """An append-only collection that stores its elements (persist:false stores nothing)."""
        return self.append_only is not None and self.append_only.persist

    def client_info(self) -> dict[str, Any]:
        """The collection as `GET /config` shows it (digest §1.5), null fields dropped."""
        info: dict[str, Any] = {"name": self.name, "maxBodyBytes": self.max_body_bytes, "encryption": self.encryption,
                                "allowedMimeTypes": list(self.allowed_mime_types)}
        if self.pull_only:
            info["pullOnly"] = True
        if self.push_only:
            info["pushOnly"] = True
        if self.force_full_fetch:
            info["forceFullFetch"] = True
        if self.ttl_ms is not None:
            info["ttlMs"] = self.ttl_ms
        if self.append_only is not None:
            info["appendOnly"] = self.append_only.client_info()
        return info


@dataclass(frozen=True)
class ServerConfig:
    collections: tuple[Collection, ...]
    namespaces: dict[str, tuple[Collection, ...]]
    raw: dict[str, Any]

    def all_collections(self) -> list[Collection]:
        out = list(self.collections)
        for cols in self.namespaces.values():
            out.extend(cols)
        return out


def load_config_file(path: str | Path) -> ServerConfig:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    return parse_config_text(text)


def parse_config_text(text: str) -> ServerConfig:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return parse_config(raw)


def parse_config(raw: Any) -> ServerConfig:
    """Validate `raw` (the parsed JSON) and build the server's view of it."""
    if not isinstance(raw, dict):
        raise ConfigError("config must be a JSON object")
    _reject_unsupported(raw)
    errors: list[str] = []
    for key in raw:
        if key not in _TOP_KEYS:
            errors.append(f'unknown top-level field "{key}"')
    if raw.get("version") != 1:
        errors.append("version must be 1")
    global_rl = _global_rate_limit(raw.get("rateLimit"), errors)
    collections = _parse_scope(raw.get("collections"), "", None, global_rl, errors)
    namespaces: dict[str, tuple[Collection, ...]] = {}
    raw_ns = raw.get("namespaces")
    if raw_ns is not None:
        if not isinstance(raw_ns, dict):
            errors.append("namespaces must be an object")
        else:
            for ns, ns_cfg in raw_ns.items():
                label = f'Namespace "{ns}"'
                if not NAMESPACE_NAME.fullmatch(ns):
                    errors.append(f"{label}: name must contain only letters, digits, hyphens, and underscores "
                                  f'(got "{ns}")')
                if ns in RESERVED_NAMESPACES:
                    errors.append(f"{label}: name is reserved and cannot be used as a namespace")
                if not isinstance(ns_cfg, dict) or set(ns_cfg) - {"collections", "restrictions"}:
                    errors.append(f"{label}: must be an object with a collections list")
                    continue
                if not ns_cfg.get("collections"):
                    errors.append(f"{label}: must contain at least one collection")
                namespaces[ns] = _parse_scope(ns_cfg.get("collections"), label, ns, global_rl, errors)
    if errors:
        raise ConfigError("Invalid sync config:\n" + "\n".join(errors))
    return ServerConfig(collections=collections, namespaces=namespaces, raw=raw)


def _reject_unsupported(raw: dict[str, Any]) -> None:
    """One line naming the first unimplemented feature the config uses."""
    places: list[tuple[str, dict[str, Any]]] = [("config", raw)]
    for col in raw.get("collections") or []:
        if isinstance(col, dict):
            places.append((f'collection "{col.get("name")}"', col))
    for ns, ns_cfg in (raw.get("namespaces") or {}).items() if isinstance(raw.get("namespaces"), dict) else []:
        if isinstance(ns_cfg, dict):
            places.append((f'namespace "{ns}"', ns_cfg))
            for col in ns_cfg.get("collections") or []:
                if isinstance(col, dict):
                    places.append((f'namespace "{ns}" collection "{col.get("name")}"', col))
    for where, obj in places:
        for key, why in _UNSUPPORTED.items():
            if obj.get(key) not in (None, [], False):
                raise ConfigError(f'unsupported config feature "{key}" in {where}: {why}')


def _pos_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _global_rate_limit(value: Any, errors: list[str]) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"windowMs", "maxRequests"} or not (
        _pos_int(value.get("windowMs")) and _pos_int(value.get("maxRequests"))
    ):
        errors.append("rateLimit must be {windowMs: positive int, maxRequests: positive int}")
        return None
    return value["windowMs"], value["maxRequests"]


def _parse_template(text: str, what: str, errors: list[str]) -> Template | None:
    segments: list[tuple[bool, str]] = []
    seen: set[str] = set()
    for seg in text.split("/"):
        match = PARAM_SEGMENT.fullmatch(seg)
        if match:
            if match.group(1) in seen:
                errors.append(f'{what}: parameter "{{{match.group(1)}}}" appears twice')
            seen.add(match.group(1))
            segments.append((True, match.group(1)))
        elif not seg or "{" in seg or "}" in seg or seg in (".", "..") or not re.fullmatch(r"[a-zA-Z0-9._:@-]+", seg):
            errors.append(f'{what}: segment "{seg}" must be a literal of [a-zA-Z0-9._:@-] or a whole {{param}}')
            return None
        else:
            segments.append((False, seg))
    return Template(text, tuple(segments))


def _parse_scope(
    raw_cols: Any, label: str, ns: str | None, global_rl: tuple[int, int] | None, errors: list[str]
) -> tuple[Collection, ...]:
    prefix = f"{label}: " if label else ""
    if not isinstance(raw_cols, list):
        errors.append(f"{prefix}collections must be a list")
        return ()
    out: list[Collection] = []
    names: set[str] = set()
    for raw in raw_cols:
        if not isinstance(raw, dict):
            errors.append(f"{prefix}each collection must be an object")
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"{prefix}collection name must be a non-empty string")
            continue
        if name in names:
            errors.append(f'{prefix}Duplicate collection name: "{name}"')
        names.add(name)
        col = _parse_collection(raw, f'{prefix}Collection "{name}"', ns, global_rl, errors)
        if col is not None:
            out.append(col)
    return tuple(out)


def _roles(raw: dict[str, Any], key: str, where: str, errors: list[str]) -> frozenset[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        errors.append(f"{where}: {key} must be a list of strings")
        return frozenset()
    return frozenset(value)


def _opt_bool(raw: dict[str, Any], key: str, where: str, errors: list[str]) -> bool:
    value = raw.get(key)
    if value is not None and not isinstance(value, bool):
        errors.append(f"{where}: {key} must be a boolean")
        return False
    return bool(value)


def _opt_pos_int(raw: dict[str, Any], key: str, where: str, errors: list[str]) -> int | None:
    value = raw.get(key)
    if value is not None and not _pos_int(value):
        errors.append(f"{where}: {key} must be a positive integer")
        return None
    return value


def _parse_collection(
    raw: dict[str, Any], where: str, ns: str | None, global_rl: tuple[int, int] | None, errors: list[str]
) -> Collection | None:
    n_errors = len(errors)
    for key in raw:
        if key not in _COLLECTION_KEYS:
            errors.append(f'{where}: unknown field "{key}"')
    storage_path = raw.get("storagePath")
    template = None
    if not isinstance(storage_path, str) or not storage_path:
        errors.append(f"{where}: storagePath must be a non-empty string")
    elif storage_path.startswith("/"):
        errors.append(f"{where}: storagePath must not start with /")
    else:
        template = _parse_template(storage_path, where, errors)
    read_roles = _roles(raw, "readRoles", where, errors)
    write_roles = _roles(raw, "writeRoles", where, errors)
    encryption = raw.get("encryption")
    if encryption not in ("none", "delegated"):
        errors.append(f'{where}: encryption must be "none" or "delegated"')
    max_body = raw.get("maxBodyBytes")
    if not _pos_int(max_body):
        errors.append(f"{where}: maxBodyBytes must be a positive integer")
    mimes = raw.get("allowedMimeTypes", [JSON_MIME])
    if not isinstance(mimes, list) or not all(isinstance(m, str) for m in mimes):
        errors.append(f"{where}: allowedMimeTypes must be a list of strings")
        mimes = [JSON_MIME]
    lowered = [m.lower() for m in mimes]
    binary = JSON_MIME not in lowered
    if not mimes:
        errors.append(f"{where}: allowedMimeTypes must contain at least one pattern")
    elif not binary and len(mimes) > 1:
        # The official server silently accepts only JSON on such a collection; say so instead.
        errors.append(f"{where}: allowedMimeTypes mixes application/json with other types; "
                      "a collection is either JSON or binary")
    pull_only = _opt_bool(raw, "pullOnly", where, errors)
    push_only = _opt_bool(raw, "pushOnly", where, errors)
    if pull_only and push_only:
        errors.append(f"{where}: cannot be both pullOnly and pushOnly")
    listable = _opt_bool(raw, "listable", where, errors)
    root_only = _opt_bool(raw, "rootOnly", where, errors)
    append = _parse_append(raw.get("appendOnly"), where, errors)
    if append is not None:
        if binary:
            errors.append(f"{where}: appendOnly cannot be used with binary collections")
        if pull_only:
            errors.append(f"{where}: appendOnly cannot be used with pullOnly (push routes are disabled)")
    if listable and template is not None:
        if not template.params:
            errors.append(f"{where}: listable requires at least one path parameter in storagePath")
        elif not template.segments[-1][0]:
            errors.append(f"{where}: listable requires the last storagePath segment to be a path parameter "
                          f'(e.g. {{day}}), got "{storage_path.split("/")[-1]}"')
        if append is not None and not append.persist:
            errors.append(f"{where}: listable cannot be used with appendOnly+persist=false (no documents are stored)")
    if root_only and (PUBLIC in read_roles or PUBLIC in write_roles):
        errors.append(f'{where}: rootOnly cannot be combined with the "public" role in readRoles/writeRoles '
                      "(a root-only collection is never public)")
    if not pull_only and not read_roles:
        errors.append(f'{where}: readRoles must not be empty (use ["public"] for public access)')
    object_schema = raw.get("objectSchema")
    if object_schema is not None:
        if binary:
            errors.append(f"{where}: binary collections cannot have objectSchema")
        try:
            jsonschema.validators.validator_for(object_schema).check_schema(object_schema)
        except (jsonschema.SchemaError, TypeError, AttributeError) as exc:
            errors.append(f"{where}: objectSchema is not a valid JSON Schema ({getattr(exc, 'message', exc)})")
    field_perms = _parse_field_permissions(raw.get("fieldPermissions"), where, errors)
    keyring = None
    if raw.get("keyringPath") is not None or raw.get("encryption") == "delegated":
        keyring = _parse_keyring(raw, template, where, errors)
    ttl = _opt_pos_int(raw, "ttlMs", where, errors)
    cache = _opt_pos_int(raw, "cacheDurationMs", where, errors)
    force_full = _opt_bool(raw, "forceFullFetch", where, errors)
    rate_limits = _parse_rate_limit(raw.get("rateLimit"), where, global_rl, errors)
    if len(errors) != n_errors or template is None:
        return None
    return Collection(
        name=raw["name"], template=template, read_roles=read_roles, write_roles=write_roles, encryption=encryption,
        max_body_bytes=max_body, allowed_mime_types=tuple(mimes), binary=binary, pull_only=pull_only,
        push_only=push_only, force_full_fetch=force_full, append_only=append, ttl_ms=ttl, cache_duration_ms=cache,
        keyring=keyring, listable=listable, root_only=root_only, object_schema=object_schema,
        field_permissions=field_perms, rate_limits=rate_limits, namespace=ns,
    )


def _parse_append(value: Any, where: str, errors: list[str]) -> AppendOnly | None:
    if value is None or value is False:
        return None
    if value is True:
        return AppendOnly()
    if not isinstance(value, dict):
        errors.append(f"{where}: appendOnly must be true, false or an object")
        return None
    for key in value:
        if key not in _APPEND_KEYS:
            errors.append(f'{where}: unknown appendOnly field "{key}"')
    kind = value.get("type", "by_timestamp")
    if kind != "by_timestamp":
        errors.append(f'{where}: appendOnly.type "{kind}" is not supported (expected "by_timestamp")')
    field_name = value.get("field", DEFAULT_APPEND_FIELD)
    if field_name is None:
        field_name = DEFAULT_APPEND_FIELD
    if not isinstance(field_name, str) or not field_name:
        errors.append(f"{where}: appendOnly.field must be a non-empty string")
    flags = {}
    for key, default in (("persist", True), ("requireAuthorSignature", True), ("allowFull", True)):
        flag = value.get(key, default)
        if flag is None:
            flag = default
        if not isinstance(flag, bool):
            errors.append(f"{where}: appendOnly.{key} must be a boolean")
        flags[key] = bool(flag)
    numbers = {}
    for key in ("maxItems", "chunkSize", "maxPullLimit", "maxCheckpointAgeMs"):
        number = value.get(key)
        if number is not None and not _pos_int(number):
            errors.append(f"{where}: appendOnly.{key} must be a positive integer")
        if number is not None and not flags["persist"]:
            errors.append(f"{where}: appendOnly.{key} requires persist=true (nothing is stored when persist=false)")
        numbers[key] = number
    return AppendOnly(
        field=field_name if isinstance(field_name, str) else DEFAULT_APPEND_FIELD, persist=flags["persist"],
        max_items=numbers["maxItems"], chunk_size=numbers["chunkSize"],
        require_author_signature=flags["requireAuthorSignature"], allow_full=flags["allowFull"],
        max_pull_limit=numbers["maxPullLimit"], max_checkpoint_age_ms=numbers["maxCheckpointAgeMs"],
    )


def _parse_field_permissions(
    value: Any, where: str, errors: list[str]
) -> dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None]]:
    if value is None:
        return {}
    out: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None]] = {}
    if not isinstance(value, dict):
        errors.append(f"{where}: fieldPermissions must be an object")
        return out
    for name, perm in value.items():
        if not isinstance(perm, dict) or set(perm) - {"readRoles", "writeRoles"}:
            errors.append(f'{where}: fieldPermissions "{name}" must be {{readRoles?, writeRoles?}}')
            continue
        roles: list[tuple[str, ...] | None] = []
        for key in ("readRoles", "writeRoles"):
            listed = perm.get(key)
            if listed is not None and (not isinstance(listed, list) or not all(isinstance(r, str) for r in listed)):
                errors.append(f'{where}: fieldPermissions "{name}".{key} must be a list of strings')
                listed = None
            roles.append(tuple(listed) if listed is not None else None)
        out[name] = (roles[0], roles[1])
    return out


def _parse_keyring(raw: dict[str, Any], template: Template | None, where: str, errors: list[str]) -> Template | None:
    """Where the keyring lives: `keyringPath`, else `<storagePath>/_keyring` (README convention).

    Unlike the official server, `keyringPath` is honoured (digest §8.2); its params must be a subset of
    the storagePath's, so `?withKeyring=1` can resolve it from the data request.
    """
    path = raw.get("keyringPath")
    if path is None:
        if template is None or not isinstance(raw.get("storagePath"), str):
            return None
        path = raw["storagePath"] + "/_keyring"
    if not isinstance(path, str) or not path or path.startswith("/"):
        errors.append(f"{where}: keyringPath must be a relative path")
        return None
    keyring = _parse_template(path, f"{where}: keyringPath", errors)
    if keyring is not None and template is not None and not set(keyring.params) <= set(template.params):
        errors.append(f"{where}: keyringPath may only use parameters of storagePath")
        return None
    return keyring


def _parse_rate_limit(
    value: Any, where: str, global_rl: tuple[int, int] | None, errors: list[str]
) -> dict[str, tuple[Counter, ...]]:
    """Per-action counters (digest §10.2). A flat object (or `true`) is an implicit push rule.

    The official server ignores a flat rule when no global `rateLimit` exists; here it is honoured when
    its numbers resolve, and a startup error when they do not.
    """
    if value is None or value is False:
        return {}
    if value is True:
        value = {}
    if not isinstance(value, dict):
        errors.append(f"{where}: rateLimit must be true, false or an object")
        return {}
    for key in value:
        if key not in _RATE_KEYS:
            errors.append(f'{where}: unknown rateLimit field "{key}"')
    col_window, col_max = value.get("windowMs"), value.get("maxRequests")
    for key, number in (("windowMs", col_window), ("maxRequests", col_max)):
        if number is not None and not _pos_int(number):
            errors.append(f"{where}: rateLimit.{key} must be a positive integer")
    col_bucket = value.get("bucket", "identity")
    if col_bucket not in _BUCKETS:
        errors.append(f"{where}: rateLimit.bucket must be one of {', '.join(_BUCKETS)}")

    def resolve(*candidates: Any) -> Any:
        for candidate in candidates:
            if candidate is not None:
                return candidate
        return None

    g_window, g_max = global_rl if global_rl else (None, None)
    out: dict[str, tuple[Counter, ...]] = {}
    explicit = any(value.get(a) is not None for a in ("push", "pull", "list"))
    if value.get("push") is None:
        # The implicit push rule: flat fields, then the global rateLimit (digest §10.2).
        window, maximum = resolve(col_window, g_window), resolve(col_max, g_max)
        if window is not None and maximum is not None:
            out["push"] = (Counter(col_bucket, window, maximum),)
        elif not explicit:
            errors.append(f"{where}: rateLimit must resolve both windowMs and maxRequests — set them on the "
                          "collection's rateLimit or on the global rateLimit")
    for action in ("push", "pull", "list"):
        rule = value.get(action)
        if rule is None:
            continue
        if not isinstance(rule, dict) or set(rule) - _RULE_KEYS:
            errors.append(f"{where}: rateLimit.{action} must be an object with {', '.join(sorted(_RULE_KEYS))}")
            continue
        two = rule.get("identity") is not None or rule.get("ip") is not None
        if two and rule.get("bucket") is not None:
            errors.append(f'{where}: rateLimit.{action} cannot set both "bucket" and an "identity"/"ip" sub-limit '
                          "— use one form or the other")
            continue
        counters: list[Counter] = []
        dims = [d for d in ("identity", "ip") if rule.get(d) is not None] if two else [None]
        for dim in dims:
            sub = rule.get(dim, {}) if dim else {}
            if not isinstance(sub, dict) or set(sub) - {"windowMs", "maxRequests"}:
                errors.append(f"{where}: rateLimit.{action}.{dim} must be {{windowMs?, maxRequests?}}")
                continue
            window = resolve(sub.get("windowMs"), rule.get("windowMs"), col_window, g_window)
            maximum = resolve(sub.get("maxRequests"), rule.get("maxRequests"), col_max, g_max)
            if not (_pos_int(window) and _pos_int(maximum)):
                label = f"rateLimit.{action}.{dim}" if dim else f"rateLimit.{action}"
                errors.append(f"{where}: {label} must resolve both windowMs and maxRequests to positive integers")
                continue
            bucket = dim if dim else rule.get("bucket", col_bucket)
            if bucket not in _BUCKETS:
                errors.append(f"{where}: rateLimit.{action}.bucket must be one of {', '.join(_BUCKETS)}")
                continue
            counters.append(Counter(bucket, window, maximum))
        out[action] = tuple(counters)
    return out
