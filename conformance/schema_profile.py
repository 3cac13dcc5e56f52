"""The harness's own OpenAPI 3.1 document for the conformance profile (`fuzz --schema profile`).

Built only from `conformance/profile/starfish-profile.json` and the protocol's route table and
bodies (digest §1.2, §2, §6.2), so it describes what every conforming server must serve for that
profile, independent of any server's own document: `/health`, pull and push per collection
(respecting pullOnly/pushOnly), list for listable collections, and `/batch/pull`. Response codes
are the protocol's; bodies are as loose as the protocol allows implementations to differ.
"""

from __future__ import annotations

from typing import Any

from conformance.profile import load_profile

PARAM_PATTERN = "^[a-zA-Z0-9._:@-]+$"
_REF = "#/components/schemas/"
_ERROR_TEXT = {
    "400": "Invalid path parameter, query or body",
    "401": "Cap, signature, timestamp, nonce or revocation check failed",
    "403": "Forbidden",
    "404": "Not found",
    "409": "Conflict",
    "413": "Payload too large",
    "415": "Unsupported Content-Type",
    "429": "Rate limit exceeded",
    "503": "Auth resolver timeout or replay cache full",
}
SECURITY_SCHEMES = {
    "capCert": ("Authorization", "`Cap ` + base64 of the cap-cert JSON"),
    "starfishSig": ("X-Starfish-Sig", "base64 Ed25519 signature of the request (starfish-req-v1)"),
    "starfishTs": ("X-Starfish-Ts", "request time, Unix ms"),
    "starfishNonce": ("X-Starfish-Nonce", "fresh per request"),
    "starfishPub": ("X-Starfish-Pub", "presenter key (hex), audience caps only"),
}
_CAP = {"capCert": [], "starfishSig": [], "starfishTs": [], "starfishNonce": []}
_CAP_AUDIENCE = {**_CAP, "starfishPub": []}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    # Error bodies: {"error": ...}; 404/405 from the framework may be {"detail": ...} (digest §6.2).
    return {code: _json(_ref("Error"), _ERROR_TEXT[code]) for code in codes}


def _params(template: str) -> list[str]:
    return [seg[1:-1] for seg in template.split("/") if seg.startswith("{") and seg.endswith("}")]


def _path_params(names: list[str]) -> list[dict[str, Any]]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": PARAM_PATTERN}}
            for n in names]


def _query(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _security(roles: list[str]) -> list[dict[str, Any]]:
    return ([{}] if "public" in roles else []) + [_CAP, _CAP_AUDIENCE]


def _binary(col: dict[str, Any]) -> bool:
    mimes = col.get("allowedMimeTypes")
    return bool(mimes) and "application/json" not in mimes


def _pull(col: dict[str, Any]) -> dict[str, Any]:
    params = _path_params(_params(col["storagePath"]))
    if _binary(col):
        responses: dict[str, Any] = {
            "200": {"description": "The stored bytes", "content": {m: {"schema": {}} for m in col["allowedMimeTypes"]}},
            "404": {"description": "No object at this key"}}
    elif col.get("appendOnly"):
        digits = "^(0|[1-9][0-9]*)$"
        params += [_query("checkpoint", "elements with ts strictly greater", digits),
                   _query("limit", "newest N elements", digits), _query("last", "newest N elements", digits),
                   _query("full", "true or 1: the whole log")]
        responses = {"200": _json(_ref("PullResponse"), "A window of the log")}
    else:
        params += [_query("withKeyring", "1 or true: add the keyring document")]
        responses = {"200": _json(_ref("PullResponse"), "The document ({} and hash \"\" when missing)")}
    responses["304"] = {"description": "If-None-Match equals the ETag"}
    responses.update(_errors("400", "401", "403", "429", "503"))
    return {"operationId": f"pull_{col['name']}", "parameters": params, "responses": responses,
            "security": _security(col["readRoles"])}


def _push(col: dict[str, Any]) -> dict[str, Any]:
    if _binary(col):
        body = {"required": True, "content": {m: {"schema": {"type": "string", "format": "binary"}}
                                              for m in col["allowedMimeTypes"]}}
        ok = _json(_ref("BinaryPushResponse"), "Stored")
        conflicts: dict[str, Any] = {}
    elif col.get("appendOnly"):
        body = {"required": True, "content": {"application/json": {"schema": _ref("AppendRequest")}}}
        ok = _json(_ref("PushResponse"), "Appended")
        conflicts = {"409": _json(_ref("Error"), "append_limit_exceeded or non_monotonic_timestamp")}
    else:
        body = {"required": True, "content": {"application/json": {"schema": _ref("PushRequest")}}}
        ok = _json(_ref("PushResponse"), "Stored")
        conflicts = {"409": _json(_ref("Error"), "hash_mismatch")}
    return {"operationId": f"push_{col['name']}", "parameters": _path_params(_params(col["storagePath"])),
            "requestBody": body, "responses": {"200": ok, **conflicts,
                                               **_errors("400", "401", "403", "413", "415", "429", "503")},
            "security": _security(col["writeRoles"])}


def _list(col: dict[str, Any]) -> dict[str, Any]:
    params = [*_path_params(_params(col["storagePath"])[:-1]),
              _query("limit", "1-1000, default 100", "^[1-9][0-9]*$"), _query("after", "keys after this one")]
    return {"operationId": f"list_{col['name']}", "parameters": params,
            "responses": {"200": _json(_ref("ListResponse"), "Document names"),
                          **_errors("400", "401", "403", "429", "503")},
            "security": _security(col["readRoles"])}


def _schemas() -> dict[str, Any]:
    hash_ = {"type": "string", "pattern": "^([0-9a-f]{64})?$"}
    return {
        "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
        "PullResponse": {"type": "object", "required": ["data", "hash", "timestamp"], "properties": {
            "data": {"type": "object"}, "hash": hash_, "timestamp": {"type": "integer"}}},
        "PushRequest": {"type": "object", "required": ["data"], "properties": {
            "data": {"type": "object"}, "baseHash": {"type": ["string", "null"]}}},
        "AppendRequest": {"type": "object", "required": ["data"], "properties": {
            "data": {"type": "object"}, "ts": {"type": "integer", "minimum": 0}}},
        "PushResponse": {"type": "object", "required": ["hash", "timestamp"],
                         "properties": {"hash": hash_, "timestamp": {"type": "integer"}}},
        "BinaryPushResponse": {"type": "object", "required": ["hash"], "properties": {"hash": hash_}},
        "ListResponse": {"type": "object", "required": ["items", "hasMore"], "properties": {
            "items": {"type": "array", "items": {"type": "string"}}, "hasMore": {"type": "boolean"}}},
        "BatchResponse": {"type": "object", "required": ["collections"], "properties": {"collections": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "object"}}}}},
        "Health": {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True},
                                                                         "ts": {"type": "integer"}}},
    }


def profile_openapi(profile: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `profile` (default: the bundled conformance profile). Paths are
    relative to the mount prefix; the fuzzer supplies the target's base URL."""
    profile = profile or load_profile()
    paths: dict[str, Any] = {"/health": {"get": {
        "operationId": "health", "responses": {"200": _json(_ref("Health"), "The server is up")}, "security": [{}]}}}
    for col in profile["collections"]:
        if not col.get("pushOnly"):
            paths[f"/pull/{col['storagePath']}"] = {"get": _pull(col)}
        if not col.get("pullOnly"):
            paths[f"/push/{col['storagePath']}"] = {"post": _push(col)}
    for col in profile["collections"]:
        if col.get("listable"):
            paths["/list/" + "/".join(col["storagePath"].split("/")[:-1])] = {"get": _list(col)}
    paths["/batch/pull"] = {"get": {
        "operationId": "batch_pull",
        "parameters": [{**_query("collections", "comma-separated collection names"), "required": True},
                       _query("params", "JSON: {collection: [{param: value}...]}"),
                       _query("appendParams", "JSON: {collection: [{since?, last?, limit?} | null...]}")],
        "responses": {"200": _json(_ref("BatchResponse"), "One array of entries per collection"),
                      **_errors("400", "401", "403", "503")},
        "security": [{}, _CAP, _CAP_AUDIENCE]}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Starfish v3 conformance profile", "version": str(profile.get("version", 1))},
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {key: {"type": "apiKey", "in": "header", "name": name, "description": text}
                                for key, (name, text) in SECURITY_SCHEMES.items()},
        },
    }
