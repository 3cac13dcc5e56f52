"""`GET {prefix}/openapi.json`: an OpenAPI 3.1 description of exactly the routes this server has.

Generated from the loaded config, so it names every collection route (pull, push, keyring, list, batch,
namespaces) and the service routes, with their bodies, responses and errors. The Cap scheme is defined
(`components.securitySchemes`) as the headers it really is, unlike the official generator, which
references an undefined `bearerAuth` (digest §9).
"""

from __future__ import annotations

from typing import Any

from reference_server.config import PUBLIC, Collection, ServerConfig
from reference_server.router import DocRoute, Router

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": "Invalid path parameter, query or body",
    "401": "Cap, signature, timestamp, nonce or revocation check failed",
    "403": "Forbidden: roles, scope paths, identity binding, author proof or a field permission",
    "405": "Wrong method, or the collection is read-only / write-only on this server",
    "409": "Conflict",
    "413": "Body larger than the collection's maxBodyBytes, or a signed write without a usable Content-Length",
    "415": "Content-Type not accepted by this collection",
    "429": "Rate limit exceeded",
    "503": "Replay cache full",
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _json(_ref("Error"), _ERRORS[code]) for code in codes}


_CAP = {"capCert": [], "starfishSig": [], "starfishTs": [], "starfishNonce": []}
_CAP_AUDIENCE = {**_CAP, "starfishPub": []}


def _security(roles: frozenset[str]) -> list[dict[str, list[str]]]:
    return ([{}] if PUBLIC in roles else []) + [_CAP, _CAP_AUDIENCE]


def _path_params(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-zA-Z0-9._:@-]+$"}}
            for n in names]


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"},
            "description": description}


def _op_id(kind: str, col: Collection) -> str:
    return f"{kind}_{col.name}" if col.namespace is None else f"{kind}--{col.namespace}--{col.name}"


def _pull(route: DocRoute) -> dict[str, Any]:
    col = route.collection
    params = _path_params(route.template.params)
    responses: dict[str, Any]
    if route.keyring:
        responses = {"200": _json(_ref("PullResponse"), "The keyring document")}
    elif col.binary:
        responses = {"200": {"description": "The stored bytes, with their media type",
                             "content": {m: {"schema": {"type": "string", "contentMediaType": m}}
                                         for m in col.allowed_mime_types}},
                     "404": {"description": "No object at this key (empty body)"}}
    elif col.is_log:
        params += [_query("checkpoint", "Only elements with ts strictly greater", {"type": "string",
                                                                                  "pattern": "^(0|[1-9][0-9]*)$"}),
                   _query("limit", "Newest N elements (alias of last; wins)", {"type": "string"}),
                   _query("last", "Newest N elements", {"type": "string"}),
                   _query("full", "true or 1: the whole log")]
        responses = {"200": _json(_ref("AppendPullResponse"), f"Elements of the log, in data.{col.append_only.field}")}
    else:
        params += [_query("withKeyring", "1 or true: add the keyring document")]
        responses = {"200": _json(_ref("PullResponse"), "The document ({} and hash \"\" when missing)")}
    responses["304"] = {"description": "If-None-Match equals the ETag"}
    responses.update(_errors("400", "401", "403", "405", "429", "503"))
    params.append({"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}})
    return {"operationId": _op_id("pull_keyring" if route.keyring else "pull", col), "tags": [col.name],
            "parameters": params, "responses": responses, "security": _security(col.read_roles)}


def _push(route: DocRoute) -> dict[str, Any]:
    col = route.collection
    if col.binary and not route.keyring:
        body = {"required": True, "content": {m: {"schema": {"type": "string", "contentMediaType": m}}
                                              for m in col.allowed_mime_types}}
        ok = _json(_ref("BinaryPushResponse"), "Stored; hash is the SHA-256 of the bytes")
        conflicts: dict[str, Any] = {}
    elif col.append_only is not None and not route.keyring:
        body = {"required": True, "content": {"application/json": {"schema": _ref("AppendRequest")}}}
        ok = _json(_ref("PushResponse"), "Appended; timestamp is the element's ts")
        conflicts = {"409": _json({"oneOf": [_ref("AppendLimit"), _ref("Error")]},
                                  "append_limit_exceeded or non_monotonic_timestamp")}
    else:
        body = {"required": True, "content": {"application/json": {"schema": _ref("PushRequest")}}}
        ok = _json(_ref("PushResponse"), "Stored")
        conflicts = {"409": _json(_ref("HashMismatch"), "baseHash is not the current hash")}
    responses = {"200": ok, **conflicts, **_errors("400", "401", "403", "405", "413", "415", "429", "503")}
    return {"operationId": _op_id("push_keyring" if route.keyring else "push", col), "tags": [col.name],
            "parameters": _path_params(route.template.params), "requestBody": body, "responses": responses,
            "security": _security(col.write_roles)}


def _list(col: Collection) -> dict[str, Any]:
    params = [
        *_path_params(col.template.params[:-1]),
        _query("limit", "1-1000, default 100", {"type": "string", "pattern": "^[1-9][0-9]*$"}),
        _query("after", "Only items sorting after this one"),
    ]
    return {"operationId": _op_id("list", col), "tags": [col.name], "parameters": params,
            "responses": {"200": _json(_ref("ListResponse"), "Document names under the prefix"),
                          **_errors("400", "401", "403", "405", "429", "503")},
            "security": _security(col.read_roles)}


def _batch(ns: str | None) -> dict[str, Any]:
    return {"operationId": "batch_pull" if ns is None else f"batch_pull--{ns}",
            "parameters": [{**_query("collections", "Comma-separated collection names"), "required": True},
                           _query("params", "JSON: {collection: [{param: value}...]}"),
                           _query("appendParams", "JSON: {collection: [{since?, last?, limit?} | null...]}")],
            "responses": {"200": _json(_ref("BatchResponse"), "One array of entries per collection"),
                          **_errors("400", "401", "403", "503")},
            "security": [{}, _CAP, _CAP_AUDIENCE]}


def _service(op_id: str, schema: str, description: str) -> dict[str, Any]:
    return {"get": {"operationId": op_id, "responses": {"200": _json(_ref(schema), description),
                                                        **_errors("401", "403", "405", "503")},
                    "security": [{}, _CAP, _CAP_AUDIENCE]}}


def _schemas() -> dict[str, Any]:
    hex64 = {"type": "string", "pattern": "^([0-9a-f]{64})?$"}
    obj = {"type": "object"}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "HashMismatch": {"type": "object", "required": ["error", "currentHash"],
                         "properties": {"error": {"const": "hash_mismatch"}, "currentHash": hex64}},
        "AppendLimit": {"type": "object", "required": ["error", "limit"],
                        "properties": {"error": {"const": "append_limit_exceeded"}, "limit": {"type": "integer"}}},
        "PullResponse": {"type": "object", "required": ["data", "hash", "timestamp"], "properties": {
            "data": obj, "hash": hex64, "timestamp": {"type": "integer"}, "authorPubkey": {"type": "string"},
            "authorSignature": {"type": "string"},
            "keyring": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["data", "hash", "timestamp"]}]}}},
        "AppendPullResponse": {"type": "object", "required": ["data", "hash", "timestamp"], "properties": {
            "data": {"type": "object", "additionalProperties": {"type": "array", "items": _ref("AppendElement")}},
            "hash": hex64, "timestamp": {"type": "integer"}}},
        "AppendElement": {"type": "object", "required": ["ts", "data"], "properties": {
            "ts": {"type": "integer"}, "data": obj, "authorPubkey": {"type": "string"},
            "authorSignature": {"type": "string"}}},
        "PushRequest": {"type": "object", "required": ["data"], "properties": {
            "data": obj, "baseHash": {"type": ["string", "null"]}, "authorPubkey": {"type": "string"},
            "authorSignature": {"type": "string"}}},
        "AppendRequest": {"type": "object", "required": ["data"], "properties": {
            "data": obj, "ts": {"type": "integer", "minimum": 0}, "authorPubkey": {"type": "string"},
            "authorSignature": {"type": "string"}}},
        "PushResponse": {"type": "object", "required": ["hash", "timestamp"],
                         "properties": {"hash": hex64, "timestamp": {"type": "integer"}}},
        "BinaryPushResponse": {"type": "object", "required": ["hash"], "properties": {"hash": hex64}},
        "ListResponse": {"type": "object", "required": ["items", "hasMore"], "properties": {
            "items": {"type": "array", "items": {"type": "string"}}, "hasMore": {"type": "boolean"}}},
        "BatchResponse": {"type": "object", "required": ["collections"], "properties": {"collections": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"oneOf": [
                {"type": "object", "required": ["data", "hash", "timestamp"]}, _ref("Error")]}}}}},
        "Health": {"type": "object", "required": ["ok", "ts"],
                   "properties": {"ok": {"const": True}, "ts": {"type": "integer"}}},
        "ConfigResponse": {"type": "object", "required": ["collections"], "properties": {
            "collections": {"type": "array", "items": obj}, "namespaces": obj}},
        "OpenApi": obj,
        "RevocationList": {"type": "object", "required": ["v", "iss", "issUserId", "generation", "revoked", "sig"],
                           "properties": {"iss": {"type": "string"}, "generation": {"type": "integer", "minimum": 0},
                                          "revoked": {"type": "array", "items": obj},
                                          "revokedSubjects": {"type": "array", "items": obj},
                                          "sig": {"type": "string"}}},
        "RevocationAccepted": {"type": "object", "required": ["ok", "iss", "generation"], "properties": {
            "ok": {"const": True}, "iss": {"type": "string"}, "generation": {"type": "integer"}}},
    }


def _header_scheme(name: str, description: str) -> dict[str, Any]:
    return {"type": "apiKey", "in": "header", "name": name, "description": description}


def build_openapi(config: ServerConfig, router: Router, prefix: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/health": _service("health", "Health", "The server is up; ts is its clock in ms"),
        "/config": _service("config", "ConfigResponse", "The collections this server serves"),
        "/openapi.json": _service("openapi", "OpenApi", "This document"),
        "/revocations": {"post": {
            "operationId": "submit_revocation_list",
            "description": "Submit an issuer-signed revocation list; its generation must exceed the stored one.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("RevocationList")}}},
            "responses": {"200": _json(_ref("RevocationAccepted"), "Accepted"),
                          "409": _json(_ref("Error"), "stale_generation: not newer than the stored list"),
                          **_errors("400", "401", "403", "405", "413", "415", "503")},
            "security": [{}, _CAP, _CAP_AUDIENCE]}},
    }
    for route in router.doc_routes():
        col = route.collection
        ns = f"/{col.namespace}" if col.namespace else ""
        template = route.template.text
        if route.keyring or not col.push_only:
            paths[f"{ns}/pull/{template}"] = {"get": _pull(route)}
        if route.keyring or not col.pull_only:
            paths[f"{ns}/push/{template}"] = {"post": _push(route)}
    for col in config.all_collections():
        if col.listable:
            ns = f"/{col.namespace}" if col.namespace else ""
            paths[f"{ns}/list/" + "/".join(col.template.text.split("/")[:-1])] = {"get": _list(col)}
    paths["/batch/pull"] = {"get": _batch(None)}
    for ns in config.namespaces:
        paths[f"/{ns}/batch/pull"] = {"get": _batch(ns)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Starfish v3 reference server", "version": "3.0.0",
                 "description": "Requests that present a cap are signed per request: X-Starfish-Sig over "
                                "starfish-req-v1 + canonical {b,h,m,nonce,p,ts} (see the project README)."},
        "servers": [{"url": prefix or "/"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "capCert": _header_scheme("Authorization", "`Cap ` + base64 of the cap-cert JSON"),
                "starfishSig": _header_scheme("X-Starfish-Sig", "base64 Ed25519 signature of the request"),
                "starfishTs": _header_scheme("X-Starfish-Ts", "request time, Unix ms, within ±300 000 ms"),
                "starfishNonce": _header_scheme("X-Starfish-Nonce", "fresh per request; replays are refused"),
                "starfishPub": _header_scheme("X-Starfish-Pub", "presenter key (hex), required by audience caps"),
            },
        },
    }
