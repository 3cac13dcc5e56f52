"""Small helpers every check uses: fresh names, and assertions that read a response as untrusted input.

Every assertion here raises AssertionError with the status and body it saw, so a failing check
tells what the server did without opening the report.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx

from conformance import identities
from conformance.identities import Device


def fresh(prefix: str = "d") -> str:
    """A path segment no other check uses (fresh document paths per check)."""
    return f"{prefix}-{secrets.token_hex(6)}"


def _show(response: httpx.Response) -> str:
    body = response.content[:400].decode("utf-8", errors="replace")
    return f"{response.request.method} {response.request.url.raw_path.decode('ascii', 'replace')} -> " \
           f"{response.status_code} {body!r}"


def body_json(response: httpx.Response) -> Any:
    """The response body as JSON; a body that is not JSON fails the check (it is the server's output)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise AssertionError(f"expected a JSON body: {_show(response)}") from None


def expect_status(response: httpx.Response, *statuses: int) -> httpx.Response:
    assert response.status_code in statuses, f"expected status {' or '.join(map(str, statuses))}: {_show(response)}"
    return response


def expect_ok(response: httpx.Response) -> Any:
    """Status 200 with a JSON object body; returns the body."""
    expect_status(response, 200)
    body = body_json(response)
    assert isinstance(body, dict), f"expected a JSON object: {_show(response)}"
    return body


def expect_error(response: httpx.Response, status: int, error: str | None = None) -> dict[str, Any]:
    """`status` with a JSON body `{"error": error, ...}`; `error=None` accepts any string."""
    expect_status(response, status)
    body = body_json(response)
    assert isinstance(body, dict) and isinstance(body.get("error"), str), \
        f"expected an error body {{\"error\": ...}}: {_show(response)}"
    if error is not None:
        assert body["error"] == error, f"expected error {error!r}: {_show(response)}"
    return body


def expect_hash(value: Any) -> str:
    assert isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value), \
        f"expected a 64-character lowercase hex hash, got {value!r}"
    return value


def root(collections: tuple[str, ...] = ("*",), ops: tuple[str, ...] = ("read", "write", "list"),
         paths: list[str] | None = None) -> Device:
    """A fresh self-signed root device with the given scope."""
    return identities.root_device(identities.scope(collections, ops, paths))


def cap_device(collection: str, ops: tuple[str, ...] = ("read", "write", "list")) -> Device:
    """A fresh root device whose scope names exactly one collection (it earns `cap:<op>:<collection>`)."""
    return root((collection,), ops)
