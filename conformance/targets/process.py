"""`process:'CMD'`: the harness starts a server command, waits for it, and stops it by process group.

The command gets `PORT` (a free loopback port), `STARFISH_CONFIG` (the conformance profile) and
`STARFISH_PREFIX` (`/v1`) in its environment, and must serve `http://127.0.0.1:$PORT$STARFISH_PREFIX`.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from pathlib import Path

from conformance.profile import PROFILE_PATH
from conformance.targets.base import RunningTarget, Target, TargetError, free_port, wait_healthy

DEFAULT_PREFIX = "/v1"


class ProcessTarget(Target):
    def __init__(self, command: list[str], *, spec: str, name: str = "process", env: dict[str, str] | None = None,
                 ready_timeout_s: float = 60.0) -> None:
        if not command:
            raise TargetError("process target needs a command, e.g. process:'python my_server.py'")
        self.command = command
        self.spec = spec
        self.name = name
        self.extra_env = env or {}
        self.ready_timeout_s = ready_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log = None

    @classmethod
    def from_spec(cls, spec: str) -> ProcessTarget:
        try:
            command = shlex.split(spec.removeprefix("process:"))
        except ValueError as exc:
            raise TargetError(f"cannot parse the process command {spec!r}: {exc}") from None
        return cls(command, spec=spec)

    def command_for(self, port: int) -> list[str]:
        """The command to start; subclasses whose server takes flags rather than the environment override it."""
        return self.command

    def start(self, workdir: Path) -> RunningTarget:
        port = free_port()
        log_path = workdir / f"{self.name}-{port}.log"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PORT": str(port), "STARFISH_CONFIG": str(PROFILE_PATH),
               "STARFISH_PREFIX": DEFAULT_PREFIX, **self.extra_env}
        try:
            self._process = subprocess.Popen(self.command_for(port), env=env, stdout=self._log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
        except OSError as exc:
            raise TargetError(f"cannot start {self.command[0]!r}: {exc.strerror}") from None
        base_url = f"http://127.0.0.1:{port}{DEFAULT_PREFIX}"
        process = self._process
        try:
            wait_healthy(base_url, timeout_s=self.ready_timeout_s, alive=lambda: process.poll() is None)
        except TargetError as exc:
            self.stop()
            tail = log_path.read_text(errors="replace")[-800:].strip()
            raise TargetError(f"{exc}; server output ends with: {tail or '(nothing)'}") from None
        return RunningTarget(self.name, self.spec, base_url, log_path=log_path)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None
