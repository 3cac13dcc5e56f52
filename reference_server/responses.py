"""The one response type the handlers return, and the JSON rules every body follows.

Responses are plain tuples of status, headers and bytes: the ASGI layer sends them as they are, so
the hot path allocates nothing it does not need.
"""

from __future__ import annotations

import json
from typing import Any

_JSON_HEADER = (b"content-type", b"application/json")


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else []


def dumps(value: Any) -> str:
    """Compact JSON. ASCII-escaped, so a lone surrogate in stored text can always be sent (no 500)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def json_text(status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    """A response whose JSON body is already serialised (pulls splice stored JSON text)."""
    out = [_JSON_HEADER]
    if headers:
        out.extend(headers)
    return Response(status, text.encode("utf-8"), out)


def json_response(status: int, value: Any, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    return json_text(status, dumps(value), headers)
