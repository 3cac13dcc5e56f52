"""A test double: the reference server behind an ASGI wrapper that loses exactly one acknowledged write.

The N-th `POST .../push/...` (env `LOSSY_DROP_AT`, default 10) is answered `200` with a plausible body
(`hash` of the data, `timestamp` now) but never reaches the server. The load audit must name it.
Runs under the target contract (PORT, STARFISH_CONFIG, STARFISH_PREFIX), so a test reaches it with
`--target process:'python tests/lossy_server.py'`. The normal reference server has no such switch.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from protocol.hashing import document_hash
from protocol.signing import now_ms
from reference_server.app import ServerOptions, StarfishApp
from reference_server.config import load_config_file
from reference_server.storage import open_store


class DropOneWrite:
    def __init__(self, app, drop_at: int) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.drop_at = drop_at
        self.writes = 0

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["method"] == "POST" and "/push/" in scope["path"]:
            self.writes += 1
            if self.writes == self.drop_at:
                body, more = b"", True
                while more:
                    message = await receive()
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                data = json.loads(body).get("data", {})
                payload = json.dumps({"hash": document_hash(data), "timestamp": now_ms()}).encode()
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(payload)).encode())]})
                await send({"type": "http.response.body", "body": payload})
                return
        await self.app(scope, receive, send)


def main() -> None:
    import uvicorn

    config = load_config_file(os.environ["STARFISH_CONFIG"])
    prefix = os.environ.get("STARFISH_PREFIX", "/v1").rstrip("/")
    app = StarfishApp(config, open_store("memory"), ServerOptions(prefix=prefix))
    wrapped = DropOneWrite(app, int(os.environ.get("LOSSY_DROP_AT", "10")))
    uvicorn.run(wrapped, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning", access_log=False,
                lifespan="on")


if __name__ == "__main__":
    main()
