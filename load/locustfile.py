"""The Locust user for every Starfish scenario. Works with plain Locust too:

    locust -f load/locustfile.py --host http://127.0.0.1:8000/v1 --headless -u 32 -t 30s \\
        --sf-scenario push --sf-output out/

`starfish-conformance load` runs this file and then audits and reports (see load/cli.py). With
`--sf-output DIR` the raw records land in `DIR/raw.json`; add `--sf-audit` to audit the server and write
the report there at the end of a plain Locust run too.

The user is a plain Locust `User` with a lean keep-alive client of its own (`leanhttp.py`: it writes the
signed request bytes from `wire.py` and reads the answer, with none of FastHttpUser's per-request
overhead); it fires Locust's `request` event once per request, so Locust's stats and UI still work.
Each user has one keep-alive connection, its own
device keys (`keys.py`) and one scenario (`--sf-scenario`, or its share of `--sf-mix`). Closed model:
each user sends its next request as soon as the last one is answered. Open model (`--sf-rate R`):
each user has a fixed schedule of arrivals (R / users per second) and latency is counted from each
arrival's scheduled time, so a server that falls behind shows its queueing delay.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
from locust import User, events, task
from locust.exception import CatchResponseError, LocustError, StopUser
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from load.keys import DEFAULT_ROTATE_AFTER, KeyRing
from load.leanhttp import LeanConnection
from load.recorder import Recorder
from load.scenarios import REGISTRY, SCENARIOS, Scenario, assign, parse_mix
from load.wire import Wire

RECORDER = Recorder()
_users = itertools.count()
_steps = itertools.count(1)
_WALL = time.time() - time.perf_counter()  # perf_counter -> Unix seconds


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("starfish")
    group.add_argument("--sf-scenario", default="push", choices=[*SCENARIOS, "mixed"], help="Starfish scenario")
    group.add_argument("--sf-mix", default="", help="mixed scenario weights, e.g. push=5,pull=3,append=1")
    group.add_argument("--sf-rate", type=float, default=0.0, help="open model: arrivals per second in all (0: closed)")
    group.add_argument("--sf-max-requests", type=int, default=1_000_000, help="request bound for this process")
    group.add_argument("--sf-output", default="", help="write raw records to DIR/raw.json at the end")
    group.add_argument("--sf-run-id", default="", help="names this run's documents (set it in distributed runs)")
    group.add_argument("--sf-rotate-after", type=int, default=DEFAULT_ROTATE_AFTER, help="signed requests per key")
    group.add_argument("--sf-docs-per-user", type=int, default=8, help="push: documents per user")
    group.add_argument("--sf-users", type=int, default=0, help="users in all workers (open model pacing)")
    group.add_argument("--sf-audit", action="store_true",
                       help="with --sf-output: audit the server and write the report at the end (plain Locust runs)")
    group.add_argument("--sf-pad", type=int, default=64, help="bytes of padding per pushed document")


class StarfishUser(User):
    """One simulated client: a key ring, a scenario and (open model) an arrival schedule."""

    network_timeout = 30.0
    connection_timeout = 10.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        if self.host is None:
            raise LocustError("give the target's base URL with --host (e.g. http://127.0.0.1:8000/v1)")
        parts = urlsplit(self.host)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LocustError(f"--host must be an http:// or https:// URL (got {self.host!r})")
        tls = parts.scheme == "https"
        self.connection = LeanConnection(parts.hostname, parts.port or (443 if tls else 80),
                                         timeout=self.network_timeout, connect_timeout=self.connection_timeout, tls=tls)
        self._fire = environment.events.request.fire

    def on_stop(self) -> None:
        self.connection.close()

    def on_start(self) -> None:
        options = self.environment.parsed_options
        runner = self.environment.runner
        worker = getattr(runner, "worker_index", 0) if isinstance(runner, WorkerRunner) else 0
        index = next(_users)
        self.uid = f"w{worker}u{index}"
        self.run_id = options.sf_run_id or _default_run_id()
        self.wire = Wire(self.host)
        self.keys = KeyRing(options.sf_rotate_after)
        RECORDER.keys_used += 1
        self.recorder = RECORDER
        self.max_requests = options.sf_max_requests
        name = options.sf_scenario
        if name == "mixed":
            name = assign(parse_mix(options.sf_mix or "push=1"), index)
        self.scenario: Scenario = REGISTRY[name]({"docs_per_user": options.sf_docs_per_user, "pad": options.sf_pad})
        self.expected = self.scenario.expected_statuses
        rate = options.sf_rate
        users = max(int(options.sf_users or options.num_users or 1), 1)
        self.interval = users / rate if rate > 0 else 0.0
        self.next_due = time.perf_counter() + random.random() * self.interval
        self.intended: float | None = None
        self.scenario.setup(self)
        self._last_rotations = 0

    @task
    def step(self) -> None:
        if next(_steps) > self.max_requests:
            _bound_reached(self.environment)
            raise StopUser()
        if self.interval:
            due = self.next_due
            self.next_due += self.interval
            delay = due - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
            self.intended = due
        self.scenario.step(self)
        if self.keys.rotations != self._last_rotations:
            RECORDER.keys_used += self.keys.rotations - self._last_rotations
            self._last_rotations = self.keys.rotations

    def send(self, method: str, path: str, body: bytes = b"", *, name: str,
             key: Any = None) -> tuple[int, bytes]:
        device, count = key or self.keys.take()
        data = self.wire.request(device.credential, method, path, body)
        sent = time.perf_counter()
        intended = self.intended if self.intended is not None else sent
        self.intended = None
        error: BaseException | None = None
        try:
            status, content = self.connection.request(data, head_only=method == "HEAD")
        except (OSError, ValueError) as exc:  # transport failure: outcome unknown, never resent
            status, content, error = 0, b"", exc
        done = time.perf_counter()
        if error is None and status != 200 and status not in self.expected:
            error = CatchResponseError(f"HTTP {status}")
        self._fire(request_type=method, name=name, response_time=(done - sent) * 1000.0,
                   response_length=len(content), response=None, context={}, exception=error,
                   start_time=_WALL + sent, url=path)
        self.last_latency_ms, self.last_done = (done - intended) * 1000.0, _WALL + done
        RECORDER.request(_WALL + intended, _WALL + sent, (done - intended) * 1000.0, (done - sent) * 1000.0, status,
                         name, count)
        if status == 401:
            RECORDER.auth_failures.append([_WALL + sent, device.key_id, count])
        return status, content


_RUN_ID = ""


def _default_run_id() -> str:
    global _RUN_ID
    if not _RUN_ID:
        _RUN_ID = f"{int(time.time())}-{os.getpid()}"
    return _RUN_ID


_bound_hit = False


def _bound_reached(environment: Any) -> None:
    """The request bound: a local run quits; a worker's users stop (the master's time bound ends the run)."""
    global _bound_hit
    if _bound_hit:
        return
    _bound_hit = True
    if isinstance(environment.runner, LocalRunner):
        gevent.spawn_later(0.5, environment.runner.quit)


@events.test_start.add_listener
def _cpu_start(**_: Any) -> None:
    RECORDER.meta["cpu_start"] = time.process_time()


@events.test_stop.add_listener
def _cpu_stop(**_: Any) -> None:
    """This process's CPU while users ran: with the request count, the generator's CPU per request."""
    if "cpu_start" in RECORDER.meta and not _ROLE.get("master"):
        RECORDER.meta["generator_cpu_s"] = time.process_time() - RECORDER.meta.pop("cpu_start")
    if _ROLE.get("worker"):  # users are stopped: writes cut off go to the master with the last report
        RECORDER.flush_pending()


@events.report_to_master.add_listener
def _ship(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data["starfish"] = RECORDER.drain()


@events.worker_report.add_listener
def _collect(client_id: str, data: dict[str, Any], **_: Any) -> None:
    part = data.get("starfish")
    if part:
        RECORDER.merge(part)


@events.quit.add_listener
def _save(exit_code: int, **_: Any) -> None:
    options = _OPTIONS.get("parsed")
    if options is None or not options.sf_output or _ROLE.get("worker"):
        return
    out = Path(options.sf_output)
    out.mkdir(parents=True, exist_ok=True)
    RECORDER.save(out / "raw.json", {"locust_exit_code": exit_code, "scenario": options.sf_scenario,
                                     "mix": options.sf_mix, "rate": options.sf_rate, "users": options.num_users,
                                     "run_id": options.sf_run_id, "host": options.host})
    if options.sf_audit:
        from load.cli import audit_and_report

        audit_and_report(out, options.host)  # prints the headline; the verdict is in summary.json


_OPTIONS: dict[str, Any] = {}
_ROLE: dict[str, bool] = {}


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    _OPTIONS["parsed"] = environment.parsed_options
    _ROLE["worker"] = isinstance(environment.runner, WorkerRunner)
    _ROLE["master"] = isinstance(environment.runner, MasterRunner)
