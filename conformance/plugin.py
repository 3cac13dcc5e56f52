"""The pytest plugin behind `starfish-conformance run` and `pytest --starfish-target=...`.

It starts the target once per session (once per worker under xdist), hands checks a signing
client and fresh identities, applies the implementation's expectations, classifies every outcome
(a broken assertion or a dropped connection is the server's failure; any other exception is the
harness's own error), and writes the run's results stream and views at the end.

Implementers can mix the checks into their own CI: `pytest --pyargs conformance.suite
--starfish-target=url:http://127.0.0.1:8000/v1`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.checks import INFO, MARKER, MUST, check_of
from conformance.client import StarfishClient
from conformance.expectations import Expectation, ExpectationsError, for_implementation, load
from conformance.recording import Recorder
from conformance.targets import RunningTarget, TargetError, parse_target
from reports import results as R

_STATE = pytest.StashKey["SuiteState"]()
_RECORDER = pytest.StashKey[Recorder]()
_SERVER_FAILURES = (AssertionError, httpx.TransportError)


class SuiteState:
    def __init__(self, config: pytest.Config) -> None:
        self.spec: str = config.getoption("starfish_target")
        try:
            target = parse_target(self.spec)
            # The resolved spec names the version (starfish-server-py@3.0.0a72): reports and reproducers use it.
            self.target_name, self.resolved_spec = target.name, target.spec
        except TargetError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.level = config.getoption("starfish_level")
        self.check_patterns: list[str] = config.getoption("starfish_check") or []
        output = config.getoption("starfish_output")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.output = Path(output) if output else Path("reports") / f"{self.target_name}-{stamp}"
        self.expectations = self._load_expectations(config.getoption("starfish_expectations"))
        self.cases: list[R.CaseResult] = []
        self.started = time.monotonic()

    def _load_expectations(self, option: str | None) -> list[Expectation]:
        if option == "none":
            return []
        path = Path(option) if option else for_implementation(self.target_name)
        if path is None:
            return []
        try:
            return load(path)
        except ExpectationsError as exc:
            raise pytest.UsageError(str(exc)) from None

    def expectation_for(self, check_id: str) -> Expectation | None:
        for expectation in self.expectations:
            if expectation.matches(check_id) and not expectation.expired():
                return expectation
        return None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("starfish", "Starfish v3 conformance")
    group.addoption("--starfish-target", default=None,
                    help="server under test: reference, starfish-server-py[@V], starfish-server-ts[@V], "
                         "image:NAME[:TAG], "
                         "url:http://HOST:PORT/PREFIX or process:'CMD'")
    group.addoption("--starfish-output", default=None, help="output folder (default reports/<target>-<time>)")
    group.addoption("--starfish-expectations", default=None,
                    help="expectations TOML (default: the bundled file named after the target; 'none' for none)")
    group.addoption("--starfish-check", action="append", default=[],
                    help="run only checks whose id matches this glob (repeatable)")
    group.addoption("--starfish-level", choices=("must", "should"), default="should",
                    help="gate on MUST failures only, or on MUST and SHOULD (default)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(check): a Starfish v3 conformance check (conformance.checks.check)")
    if config.getoption("starfish_target"):
        config.stash[_STATE] = SuiteState(config)


def _state(config: pytest.Config) -> SuiteState | None:
    return config.stash.get(_STATE, None)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is None:
        return
    selected, deselected = [], []
    for item in items:
        check = check_of(item)
        if check is None:
            selected.append(item)
            continue
        if state.check_patterns and not any(fnmatch.fnmatchcase(check.id, p) for p in state.check_patterns):
            deselected.append(item)
            continue
        expectation = state.expectation_for(check.id)
        if expectation is not None:
            reason = f"{expectation.reason} ({expectation.link})" if expectation.link else expectation.reason
            if expectation.status == "skip":
                item.add_marker(pytest.mark.skip(reason=f"expected skip: {reason}"))
            else:
                item.add_marker(pytest.mark.xfail(reason=f"expected failure: {reason}", strict=False))
        selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session")
def starfish_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningTarget]:
    """The running server under test (started once per session, or per xdist worker)."""
    state = _state(request.config)
    if state is None:
        pytest.skip("no --starfish-target given")
    target = parse_target(state.spec)
    try:
        running = target.start(tmp_path_factory.mktemp("target"))
    except TargetError as exc:
        raise RuntimeError(f"target {state.spec}: {exc}") from None
    try:
        yield running
    finally:
        target.stop()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building a context costs ~75 ms; one per session keeps a check's set-up near 1 ms.
    return ssl.create_default_context()


@pytest.fixture
def client(request: pytest.FixtureRequest, starfish_target: RunningTarget) -> Iterator[StarfishClient]:
    """A signing client for the target that records its exchanges for the report."""
    recorder = Recorder()
    request.node.stash[_RECORDER] = recorder
    http = httpx.Client(timeout=15.0, event_hooks=recorder.hooks(), verify=_ssl_context())
    # Targets that sign blob uploads over an empty body (the official servers) say so in their details;
    # the checks about that signing rule build their signatures explicitly and follow the documents.
    official = starfish_target.details.get("blob_signing") == "empty-body"
    with StarfishClient(starfish_target.base_url, client=http, official_blob_signing=official) as starfish_client:
        yield starfish_client


def _classify(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[Any], level: str) -> tuple[str, str]:
    if report.when == "setup":
        if report.skipped:
            return (R.XFAIL if hasattr(report, "wasxfail") else R.SKIP), _skip_reason(report)
        return R.ERROR, f"harness error before the check ran: {_exception_text(call)}"
    if hasattr(report, "wasxfail"):
        return (R.STALE, "expected to fail, but passed: the expectation is stale") if report.passed else (
            R.XFAIL, _exception_text(call))
    if report.passed:
        return (R.INFO if level == INFO else R.PASS), ""
    if report.skipped:
        return R.SKIP, _skip_reason(report)
    excinfo = call.excinfo
    server_fault = excinfo is not None and (
        excinfo.errisinstance(_SERVER_FAILURES)
        or (excinfo.errisinstance(BaseExceptionGroup) and all(
            isinstance(e, _SERVER_FAILURES) for e in excinfo.value.exceptions))
    )
    if level == INFO:
        return R.INFO, _exception_text(call)
    return (R.FAIL if server_fault else R.ERROR), _exception_text(call)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(getattr(report, "wasxfail", "") or longrepr or "")


def _exception_text(call: pytest.CallInfo[Any]) -> str:
    if call.excinfo is None:
        return ""
    text = call.excinfo.exconly()
    return text if len(text) <= 1500 else text[:1500] + "…"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    state = _state(item.config)
    check = check_of(item)
    if state is None or check is None:
        return
    if report.when == "teardown" or (report.when == "setup" and report.passed):
        return
    result, detail = _classify(item, report, call, check.level)
    recorder = item.stash.get(_RECORDER, None)
    expectation = state.expectation_for(check.id)
    callspec = getattr(item, "callspec", None)
    case = R.CaseResult(
        check_id=check.id, level=check.level, area=check.area, rule=check.rule, source=check.source,
        nodeid=item.nodeid, case=callspec.id if callspec is not None else "", outcome=result,
        duration_s=round(report.duration, 4), detail=detail,
        exchanges=recorder.exchanges if (recorder and result in (R.FAIL, R.ERROR, R.STALE)) else [],
        expectation=expectation.as_dict() if expectation else None,
    )
    report.user_properties.append(("starfish_case", json.dumps(asdict(case))))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name == "starfish_case":
            _LOGGED.append(R.CaseResult(**json.loads(value)))


_LOGGED: list[R.CaseResult] = []


def gate(results: list[R.CheckResult], level: str) -> int:
    """Exit status: 1 when a gated check failed unexpectedly, 3 when only harness errors occurred, else 0."""
    gated = {MUST} if level == "must" else {MUST, "SHOULD"}
    if any(r.outcome == R.FAIL and r.level in gated for r in results):
        return 1
    if any(r.outcome == R.ERROR for r in results):
        return 3
    return 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None or hasattr(session.config, "workerinput"):
        return
    from reports.html import write_html
    from reports.summary import write_summary

    results = R.fold(_LOGGED, target=state.target_name, target_spec=state.resolved_spec)
    _LOGGED.clear()
    state.output.mkdir(parents=True, exist_ok=True)
    R.write_jsonl(state.output / "results.jsonl", results)
    meta = {"target": state.target_name, "spec": state.resolved_spec, "level": state.level,
            "duration_s": round(time.monotonic() - state.started, 2),
            "finished": dt.datetime.now().isoformat(timespec="seconds")}
    (state.output / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    write_summary(state.output / "summary.md", results, meta)
    write_html(state.output / "report.html", results, meta)
    state.results = results  # type: ignore[attr-defined]
    state.meta = meta  # type: ignore[attr-defined]
    if exitstatus in (0, 1):
        session.exitstatus = gate(results, state.level)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    results = getattr(state, "results", None) if state else None
    if results is None:
        return
    from reports.summary import terminal_lines

    terminalreporter.section("Starfish conformance")
    for line in terminal_lines(results, state.meta, state.output):  # type: ignore[attr-defined]
        terminalreporter.write_line(line)
