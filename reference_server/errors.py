"""Every error body the server sends, in one place (digest §6, http-errors.json).

All bodies are `{"error": "<string>"}`, plus `currentHash` on `hash_mismatch` and `limit` on
`append_limit_exceeded`; 404 and 405 too, for one shape everywhere (FastAPI sends `{"detail": ...}`
there). Resolver 401s share one body on the wire; the reason is logged.
"""

from __future__ import annotations

from typing import Any

from reference_server.responses import Response, json_response

# Routing (sent before any auth runs).
NOT_FOUND = "Not Found"
METHOD_NOT_ALLOWED = "Method Not Allowed"
READ_ONLY = "This collection is read-only on this server"
WRITE_ONLY = "This collection is write-only on this server"
INVALID_PATH_PARAM = "Invalid path parameter"

# Authentication and authorisation (digest §5.5, §6.2).
UNAUTHORIZED = "Unauthorized"
FORBIDDEN = "Forbidden"
MISSING_CONTENT_LENGTH = "missing Content-Length on write"
INVALID_CONTENT_LENGTH_AUTH = "invalid Content-Length"
REQUEST_BODY_TOO_LARGE = "request body too large"
REPLAY_CACHE_FULL = "Replay cache full; retry later"

# Bodies (digest §1.15, §3.7).
PAYLOAD_TOO_LARGE = "Payload too large"
INVALID_CONTENT_LENGTH = "Invalid Content-Length"
RATE_LIMITED = "Rate limit exceeded"
WRONG_CONTENT_TYPE = "Content-Type must be application/json"
INVALID_JSON = "Invalid JSON body"
NOT_ROUND_TRIPPABLE = "Invalid JSON body: NaN, Infinity and numbers beyond the double range are not JSON values"
NESTING_TOO_DEEP = "Body nesting too deep"
BODY_NOT_OBJECT = "Body must be a JSON object"
MISSING_DATA = "Missing or invalid data"
BASE_HASH_TYPE = "baseHash must be a string or null"
HASH_MISMATCH = "hash_mismatch"

# Author proofs (digest §3.8, §4.2).
DOC_AUTHOR_FIELDS = "author proof requires authorPubkey and authorSignature"
DOC_AUTHOR_NOT_PRESENTER = "document author must be the request presenter"
DOC_AUTHOR_BAD_SIGNATURE = "invalid document author signature"
APPEND_AUTHOR_FIELDS = "append requires authorPubkey and authorSignature"
APPEND_AUTHOR_NOT_PRESENTER = "append author must be the request presenter"
APPEND_AUTHOR_BAD_SIGNATURE = "invalid append author signature"

# Append-only logs (digest §1.7, §4.2).
TS_NOT_INTEGER = "ts must be a non-negative integer"
TS_IN_FUTURE = "ts is too far in the future"
NON_MONOTONIC = "non_monotonic_timestamp"
APPEND_LIMIT = "append_limit_exceeded"
INVALID_CHECKPOINT = "Invalid checkpoint"
INVALID_LIMIT = "Invalid limit"
INVALID_LAST = "Invalid last"
PULL_BOUND_REQUIRED = "pull_bound_required"
FULL_WITH_BOUNDS = "full_with_bounds"
FULL_NOT_ALLOWED = "full_not_allowed"
CHECKPOINT_TOO_OLD = "checkpoint_too_old"

# List and batch (digest §1.12, §1.14).
INVALID_LIST_LIMIT = "Invalid limit parameter"
BATCH_MISSING_COLLECTIONS = "Missing required query parameter: collections"
BATCH_INVALID_PARAMS = "Invalid params parameter"
BATCH_INVALID_APPEND_PARAMS = "Invalid appendParams parameter"
BATCH_APPEND_LENGTH = "appendParams length mismatch: must equal params length for each collection"
BATCH_TOO_MANY = "Too many collections"
BATCH_BUDGET = "Batch append element budget exceeded"
ENTRY_NOT_FOUND = "Collection not found"
ENTRY_MISSING_PARAM = "Missing required path parameter"
ENTRY_APPEND_NOT_SUPPORTED = "append_params_not_supported"

# Revocation route (this server's own; README "Revocation").
REVOCATION_STALE = "stale_generation"
REVOCATION_FULL = "too_many_issuers"

INTERNAL = "Internal error"


def error(status: int, message: str, **extra: Any) -> Response:
    return json_response(status, {"error": message, **extra})


def method_not_allowed(allow: str) -> Response:
    response = error(405, METHOD_NOT_ALLOWED)
    response.headers.append((b"allow", allow.encode("ascii")))
    return response


def content_type_not_allowed(sent: str, allowed: tuple[str, ...]) -> Response:
    """The binary-collection 415 (digest §1.11), with the allowed list as the official server prints it."""
    return error(415, f"Content-Type '{sent}' is not allowed. Allowed: {list(allowed)!r}")
