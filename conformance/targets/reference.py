"""`reference`: the embedded reference server, started on a free loopback port with the conformance profile."""

from __future__ import annotations

import sys

from conformance.profile import PROFILE_PATH
from conformance.targets.process import ProcessTarget


class ReferenceTarget(ProcessTarget):
    """The default target. Runs `python -m conformance serve` as a child process, like any other server."""

    def __init__(self, *, extra_args: list[str] | None = None, name: str = "reference") -> None:
        # The serve command reads PORT-free arguments, so the contract variables are passed as flags.
        super().__init__([sys.executable, "-m", "conformance", "serve"], spec="reference", name=name,
                         ready_timeout_s=30.0)
        self.extra_args = extra_args or []

    def start(self, workdir):  # type: ignore[no-untyped-def]
        # Resolve the port the same way ProcessTarget does, but hand it to `serve` as flags.
        self.command = [sys.executable, "-c", _LAUNCH, str(PROFILE_PATH), *self.extra_args]
        return super().start(workdir)


# `serve` takes flags, not the contract's environment; this shim maps one onto the other.
_LAUNCH = (
    "import os, sys\n"
    "from conformance.cli import main\n"
    "sys.exit(main(['serve', '--host', '127.0.0.1', '--port', os.environ['PORT'],\n"
    "               '--prefix', os.environ['STARFISH_PREFIX'], '--config', sys.argv[1], *sys.argv[2:]]))\n"
)
