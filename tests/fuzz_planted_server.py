"""A deliberately broken server for tests/test_fuzz.py: the reference app wrapped to answer 500 on some input.

Run as a `process:` target (PORT, STARFISH_CONFIG, STARFISH_PREFIX from the target contract). The planted
bug: `GET <prefix>/pull/guestbook/{docId}` answers `500 {"error":"planted"}` when docId contains a digit.
The normal server has no such switch; this wrapper exists only here.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from reference_server.app import ServerOptions, StarfishApp
from reference_server.config import load_config_file
from reference_server.storage import open_store

PLANTED_OPERATION = "GET /pull/guestbook/{docId}"


def planted(app: Any, prefix: str) -> Any:
    target = f"{prefix}/pull/guestbook/"

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "GET" and path.startswith(target) and any(
                c.isdigit() for c in path[len(target):]):
            body = b'{"error":"planted"}'
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def main() -> None:
    prefix = os.environ.get("STARFISH_PREFIX", "/v1").rstrip("/")
    config = load_config_file(os.environ["STARFISH_CONFIG"])
    app = StarfishApp(config, open_store("memory"), ServerOptions(prefix=prefix))
    uvicorn.run(planted(app, prefix), host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
