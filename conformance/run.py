"""`starfish-conformance run`: the suite against one target, with results, report and a CI exit status.

Exit status: 0 when no gated check failed unexpectedly; 1 when one did; 3 when the harness itself
had errors (a check could not run), which is never reported as a pass or a failure; 2 for usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

SUITE = Path(__file__).resolve().parent / "suite"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run the conformance suite against a server",
        description="Run every conformance check against a target and write results.jsonl, junit.xml, "
                    "summary.md and report.html.")
    parser.add_argument("--target", default="reference",
                        help="reference (default), starfish-server-py[@VERSION], starfish-server-ts[@VERSION], "
                             "image:NAME[:TAG], url:http://HOST:PORT/PREFIX or process:'CMD'")
    parser.add_argument("--output", help="output folder (default reports/<target>-<time>)")
    parser.add_argument("--level", choices=("must", "should"), default="should",
                        help="gate on MUST failures only, or MUST and SHOULD (default)")
    parser.add_argument("--expectations", help="expectations TOML (default: bundled file named after the target)")
    parser.add_argument("--check", action="append", default=[], metavar="GLOB",
                        help="run only checks whose id matches (repeatable), e.g. 'auth.nonce.*'")
    parser.add_argument("--jobs", "-n", type=int, default=0, help="parallel workers (pytest-xdist); 0 = serial")
    parser.add_argument("--list", action="store_true", help="list the checks (id, level, rule) and exit")
    parser.add_argument("--quiet", "-q", action="store_true", help="no per-check progress")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest, after --")
    parser.set_defaults(handler=run_suite)


def run_suite(args: argparse.Namespace) -> int:
    import pytest

    from conformance.cli import UsageError
    from conformance.targets import TargetError, parse_target

    try:
        target = parse_target(args.target)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    name = target.name
    if args.list:
        return _list_checks()
    try:
        target.preflight()  # installs, engine and image checks: once, with one line, before any worker
    except TargetError as exc:
        raise UsageError(f"target {args.target}: {exc}") from None
    output = Path(args.output) if args.output else Path("reports") / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    pytest_args = [str(SUITE), "-p", "no:cacheprovider", "--starfish-target", args.target,
                   "--starfish-level", args.level, "--starfish-output", str(output),
                   f"--junitxml={output / 'junit.xml'}", "-o", "junit_family=xunit2",
                   "-o", "console_output_style=count", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if args.expectations:
        pytest_args += ["--starfish-expectations", args.expectations]
    for pattern in args.check:
        pytest_args += ["--starfish-check", pattern]
    if args.jobs:
        pytest_args += ["-n", str(args.jobs)]
    pytest_args += ["-q"] if args.quiet else []
    pytest_args += ["-rN", "--tb=short", *args.pytest_args]
    return int(pytest.main(pytest_args))


def _list_checks() -> int:
    import pytest

    from conformance.checks import check_of

    class Collector:
        def __init__(self) -> None:
            self.checks: dict[str, tuple[str, str]] = {}

        def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
            for item in items:
                check = check_of(item)
                if check is not None:
                    self.checks[check.id] = (check.level, check.rule)

    collector = Collector()
    code = pytest.main([str(SUITE), "--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[collector])
    for check_id, (level, rule) in sorted(collector.checks.items()):
        print(f"{check_id:55s} {level:6s} {rule}")
    print(f"{len(collector.checks)} checks")
    return 0 if code == 0 else int(code)
