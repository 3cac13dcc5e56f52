"""Run Locust headless on `locustfile.py` for the `load` command, in its own process.

Locust (gevent) patches the standard library when imported, so it never runs inside the command's
own process: the engine starts `python -m locust` and waits for it, bounded in time. Local mode is
one process; `workers > 0` is Locust's distributed mode: one master and `workers` worker processes
forked on this machine (`--processes`), plus `remote_workers` started by hand on other machines with
`locust -f load/locustfile.py --worker --master-host <this machine>` (the master sends them every
`--sf-*` option). The raw records of every worker come back to the master (recorder.py).
"""

from __future__ import annotations

import contextlib
import math
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
GRACE_S = 120.0  # on top of the duration: start-up, stop timeout, the final reports


@dataclass
class RunSpec:
    base_url: str
    scenario: str
    users: int
    duration_s: float
    max_requests: int
    output: Path
    run_id: str
    rate: float = 0.0
    mix: str = ""
    workers: int = 0
    remote_workers: int = 0
    master_bind_port: int = 0  # 0: a free port (only local workers)
    rotate_after: int = 4000
    docs_per_user: int = 8
    stop_timeout_s: float = 10.0

    def command(self) -> list[str]:
        processes = self.workers + self.remote_workers
        per_process = math.ceil(self.max_requests / processes) if processes else self.max_requests
        cmd = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
            "--host", self.base_url, "-u", str(self.users), "-r", str(max(self.users, 1)),
            "-t", f"{max(1, math.ceil(self.duration_s))}s", "--stop-timeout", f"{self.stop_timeout_s:g}",
            "--loglevel", "WARNING",
            "--sf-scenario", self.scenario, "--sf-rate", f"{self.rate:g}", "--sf-max-requests", str(per_process),
            "--sf-output", str(self.output), "--sf-run-id", self.run_id, "--sf-users", str(self.users),
            "--sf-rotate-after", str(self.rotate_after), "--sf-docs-per-user", str(self.docs_per_user),
        ]
        if self.mix:
            cmd += ["--sf-mix", self.mix]
        if self.workers and not self.remote_workers:
            # Locust forks the workers itself; --master-port is where they connect (else 5557).
            port = self.master_bind_port or _free_port()
            cmd += ["--processes", str(self.workers), "--master-bind-port", str(port), "--master-port", str(port)]
        elif self.remote_workers:
            # --processes would start the test once its own workers are in; wait for the remote ones too.
            cmd += ["--master", "--expect-workers", str(processes), "--master-bind-port", str(self.port())]
        return cmd

    def port(self) -> int:
        if not self.master_bind_port:
            self.master_bind_port = _free_port()
        return self.master_bind_port

    def local_worker_command(self) -> list[str]:
        """One local worker for a run with remote workers (the master sends it every --sf-* option)."""
        return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host", "127.0.0.1",
                "--master-port", str(self.port()), "--loglevel", "WARNING"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EngineError(RuntimeError):
    """Locust did not produce records; the message has the end of its log."""


def run(spec: RunSpec) -> Path:
    """Run Locust; returns the raw records file. Raises EngineError when none were written."""
    spec.output.mkdir(parents=True, exist_ok=True)
    raw = spec.output / "raw.json"
    raw.unlink(missing_ok=True)
    log_path = spec.output / "locust.log"
    with open(log_path, "wb") as log:
        command = spec.command()
        local = []
        if spec.remote_workers:
            local = [subprocess.Popen(spec.local_worker_command(), stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL) for _ in range(spec.workers)]
        try:
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               timeout=spec.duration_s + GRACE_S + (600 if spec.remote_workers else 0), check=False)
        finally:
            for worker in local:
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    if not raw.exists():
        tail = log_path.read_text(errors="replace")[-1500:].strip()
        raise EngineError(f"locust wrote no records; its log ends with:\n{tail}")
    return raw
