"""The target contract: what the suite needs from any way of reaching a server.

A `Target` starts (or finds) a server and returns a `RunningTarget` with its base URL (mount prefix
included). Servers the harness starts must load the conformance profile and answer
`GET <prefix>/health` with 200 when ready; see targets/README.md.
"""

from __future__ import annotations

import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx


class TargetError(RuntimeError):
    """The target could not be started or reached; the message says what to check."""


@dataclass
class RunningTarget:
    name: str
    spec: str
    base_url: str
    log_path: Path | None = None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def host_port(self) -> str:
        return urlsplit(self.base_url).netloc


class Target(ABC):
    """One way of reaching a server. `name` labels reports and picks the expectations file."""

    spec: str
    name: str

    @abstractmethod
    def start(self, workdir: Path) -> RunningTarget: ...

    def preflight(self) -> None:  # noqa: B027 - most targets have nothing to prepare
        """Prepare or check what `start` needs, once, before any worker starts (installs, engine, image).

        Raises TargetError with a one-line message; the run command reports it and exits 2.
        """

    def stop(self) -> None:  # noqa: B027 - targets that start nothing have nothing to stop
        """Stop whatever `start` started; must be safe to call twice."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base_url: str, *, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll `<base_url>/health` until it answers 200; raise TargetError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if not alive():
            raise TargetError(f"the server process exited before {base_url}/health answered")
        try:
            response = httpx.get(f"{base_url}/health", timeout=1.0)
            if response.status_code == 200:
                return
            last = f"status {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise TargetError(f"{base_url}/health did not answer 200 within {timeout_s:.0f} s (last: {last})")
