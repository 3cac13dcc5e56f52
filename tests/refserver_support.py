"""Shared helpers for the reference-server tests: real servers on 127.0.0.1, fresh identities and paths.

`ServerThread` runs uvicorn (httptools + uvloop, as `serve` does) in a background thread on a free port,
so a test can also reach the app object (to seed fixtures). `default_server()` is one per test process,
started lazily with the conformance profile; tests use fresh identities and document paths, so they
never depend on each other's state or order.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from conformance.client import StarfishClient
from reference_server.app import ServerOptions, StarfishApp
from reference_server.config import ServerConfig, load_config_file, parse_config
from reference_server.storage import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "conformance" / "profile" / "starfish-profile.json"
VECTORS = ROOT.parent / "shared" / "vectors" / "starfish-3.0.0a72"


def fresh(label: str = "d") -> str:
    """A unique path parameter value."""
    return f"{label}-{secrets.token_hex(6)}"


class ServerThread:
    def __init__(self, config: ServerConfig | dict[str, Any] | None = None, store: Store | None = None,
                 options: ServerOptions | None = None) -> None:
        if config is None:
            config = load_config_file(PROFILE)
        elif isinstance(config, dict):
            config = parse_config(config)
        self.app = StarfishApp(config, store or open_store("memory"), options)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}{self.app.prefix}"
        cfg = uvicorn.Config(self.app, loop="uvloop", http="httptools", lifespan="on", log_level="error",
                             access_log=False)
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("reference server did not start")
            time.sleep(0.005)

    def _run(self) -> None:
        import uvloop

        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.server.serve(sockets=[self.sock]))

    def client(self, **kwargs: Any) -> StarfishClient:
        return StarfishClient(self.url, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


_default: ServerThread | None = None


def default_server() -> ServerThread:
    global _default
    if _default is None:
        _default = ServerThread()
    return _default


def spawn_serve(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Run `starfish-conformance serve ARGS` in a subprocess; returns it and the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"serve printed {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}")
    return proc, line
