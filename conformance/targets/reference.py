"""`reference`: the embedded reference server, started on a free loopback port with the conformance profile."""

from __future__ import annotations

import sys

from conformance.profile import PROFILE_PATH
from conformance.targets.process import DEFAULT_PREFIX, ProcessTarget


def server_flags(port: int) -> list[str]:
    """The process contract (port, prefix, profile) as the reference server's flags.

    The reference server deliberately reads no environment (so no variable can switch a self-check
    fault on), so the harness hands it flags instead of PORT/STARFISH_PREFIX/STARFISH_CONFIG.
    """
    return ["--host", "127.0.0.1", "--port", str(port), "--prefix", DEFAULT_PREFIX, "--config", str(PROFILE_PATH)]


class ReferenceTarget(ProcessTarget):
    """The default target. Runs `python -m conformance serve` as a child process, like any other server."""

    def __init__(self, *, extra_args: list[str] | None = None, name: str = "reference") -> None:
        super().__init__([sys.executable, "-m", "conformance", "serve"], spec="reference", name=name,
                         ready_timeout_s=30.0)
        self.extra_args = extra_args or []

    def command_for(self, port: int) -> list[str]:
        return [*self.command, *server_flags(port), *self.extra_args]
