"""Recording of the HTTP exchanges a check makes, for its failure detail and reproducer.

Only what went over the wire is kept (method, URL, headers, body; status, headers, body), truncated.
Private keys never travel, so they cannot appear here.
"""

from __future__ import annotations

from typing import Any

import httpx

MAX_BODY = 2000
MAX_EXCHANGES = 6


def _text(raw: bytes) -> str:
    text = raw[:MAX_BODY].decode("utf-8", errors="replace")
    return text + (f"… ({len(raw)} bytes)" if len(raw) > MAX_BODY else "")


class Recorder:
    """httpx event hooks that keep the last few exchanges of one check."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []

    def hooks(self) -> dict[str, list[Any]]:
        return {"response": [self._on_response]}

    def _on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        try:
            request_body = _text(request.content)
        except httpx.RequestNotRead:  # a streamed (chunked) body is not kept by httpx
            request_body = "(streamed body, not recorded)"
        self.exchanges.append(
            {
                "request": {
                    "method": request.method,
                    "url": str(request.url),
                    "headers": dict(request.headers),
                    "body": request_body,
                },
                "response": {
                    "status": response.status_code,
                    "headers": dict(response.headers),
                    "body": _text(response.content),
                },
            }
        )
        del self.exchanges[:-MAX_EXCHANGES]
