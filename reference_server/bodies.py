"""Request bodies: read within limits, parse JSON strictly, check nesting (digest §3.7, §6.1).

Why strict: Python's parser accepts `NaN`, `Infinity` and `1e400` (a float infinity), which JSON does
not have. The official server stores such a document and later cannot serve it as JSON; here it is a
400 with a clear message, so a document this server accepts is always one it can send back.
"""

from __future__ import annotations

import json
import math
from typing import Any

from protocol.constants import MAX_JSON_DEPTH
from reference_server import errors
from reference_server.faults import NO_FAULTS, Faults
from reference_server.responses import Response


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJson(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotJson(text)
    return value


def _double_int(text: str) -> int:
    value = int(text)
    if len(text) > 308:  # only then can an integer exceed the largest double (~1.8e308)
        try:
            float(value)
        except OverflowError:
            raise _NotJson(text[:20]) from None
    return value


_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_int=_double_int, parse_constant=_no_constant)


def depth_within(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when objects and arrays nest at most `limit` deep (checked iteratively, so it cannot recurse)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, (dict, list)))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return True


def parse_json_object(raw: bytes, faults: Faults = NO_FAULTS) -> dict[str, Any] | Response:
    """The body as a JSON object, or the 400 that explains why it is not one."""
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except _NotJson:
        if faults.on("not-json-number-500"):
            raise OverflowError("a number JSON cannot carry") from None
        return errors.error(400, errors.NOT_ROUND_TRIPPABLE)
    except RecursionError:
        if faults.on("deep-nesting-500"):
            raise
        return errors.error(400, errors.NESTING_TOO_DEEP)
    except (ValueError, UnicodeDecodeError):
        return errors.error(400, errors.INVALID_JSON)
    if not isinstance(value, dict):
        return errors.error(400, errors.BODY_NOT_OBJECT)
    if not depth_within(value):
        if faults.on("deep-nesting-500"):
            raise RecursionError("nesting beyond 64 levels")
        return errors.error(400, errors.NESTING_TOO_DEEP)
    return value


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json`, parameters allowed, case-insensitive (RFC 9110 §8.3.1).

    The official server tests whether the header *contains* `application/json`, case-sensitively, so
    `Application/JSON` fails there and `text/plain; x=application/json` passes.
    """
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def mime_allowed(content_type: str | None, patterns: tuple[str, ...]) -> bool:
    """Binary-collection MIME match (digest §1.15): only a whole `*` component is a wildcard."""
    kind, _, sub = media_type(content_type).partition("/")
    if not kind or not sub:
        return False
    for pattern in patterns:
        p_kind, _, p_sub = pattern.lower().partition("/")
        if p_kind and p_sub and p_kind in ("*", kind) and p_sub in ("*", sub):
            return True
    return False
