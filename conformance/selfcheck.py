"""`starfish-conformance selfcheck`: prove the suite's sensitivity against deliberately broken servers.

Each mutant is the reference server with one fault switched on (reference_server/faults.py). The
self-check runs the check groups of the fault's expected checks against it (`auth.sig.*` for
`auth.sig.ts-bound`; `--scope areas` runs whole areas, `--scope full` the whole suite), on its own
port, and calls the mutant *killed* when at least one of the checks the fault lists failed there
while passing against the clean reference server. A mutant that
survives is a gap in the suite. The clean reference server runs the same checks first: if it does not
pass, no kill means anything.

Sharing: this process imports pytest, the plugin and the harness once, then forks one child per run
(`--jobs` at a time), so a run pays for collection and its own server, not for Python start-up. Every
run writes the ordinary report folder (results.jsonl, report.html, ...); the self-check adds
`selfcheck.json` and `selfcheck.html` (a mutant × area matrix).

Exit status: 0 when the clean server passes and every mutant is killed; 1 when a mutant survives or the
clean server fails; 3 when a run could not be carried out (harness error); 2 for usage mistakes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KILLED, SURVIVED, ERROR = "killed", "survived", "error"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "selfcheck", help="run the suite against deliberately broken reference servers (mutants)",
        description="Start the reference server once per fault (reference_server/faults.py), run the relevant "
                    "checks against it and report which mutants the suite kills. Exit 0 only when every mutant "
                    "is killed and the clean reference server passes.")
    parser.add_argument("--mutant", action="append", default=[], metavar="NAME",
                        help="only this fault (repeatable; default: the whole battery)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="mutants run in parallel (default 2)")
    parser.add_argument("--output", help="output folder (default reports/selfcheck-<time>)")
    parser.add_argument("--scope", choices=("groups", "areas", "full"), default="groups",
                        help="what runs against each mutant: the check groups of its expected checks (default, e.g. "
                             "auth.sig.*), their whole areas (auth.*), or the full suite")
    parser.add_argument("--list", action="store_true", help="list the faults and the checks expected to kill them")
    parser.set_defaults(handler=run_selfcheck)


@dataclass
class Run:
    """One suite run: against the clean reference server, or against one mutant."""

    label: str  # "clean" or the fault name
    target: str
    checks: list[str]  # --check globs; empty = the whole suite
    output: Path
    exit_code: int | None = None
    duration_s: float = 0.0


@dataclass
class MutantResult:
    name: str
    area: str
    description: str
    killed_by: list[str]
    status: str
    killers: list[str] = field(default_factory=list)  # expected checks that failed (and pass on the clean server)
    other_failures: list[str] = field(default_factory=list)  # further checks that failed against this mutant
    errors: list[str] = field(default_factory=list)  # checks that could not run (harness errors)
    checks_run: int = 0
    areas: dict[str, dict[str, int]] = field(default_factory=dict)  # check area -> outcome -> count
    output: str = ""
    duration_s: float = 0.0
    note: str = ""


def run_selfcheck(args: argparse.Namespace) -> int:
    from conformance.cli import UsageError
    from reference_server.faults import BATTERY, FAULTS

    if args.list:
        for fault in (BATTERY if not args.mutant else [FAULTS[n] for n in args.mutant if n in FAULTS]):
            print(f"{fault.name:32s} {fault.area:14s} {fault.description}")
            print(f"{'':32s} {'':14s} killed by: {', '.join(fault.killed_by)}")
        print(f"{len(BATTERY)} faults in the battery")
        return 0
    unknown = [name for name in args.mutant if name not in FAULTS]
    if unknown:
        raise UsageError(f"unknown fault {unknown[0]!r}; `starfish-conformance selfcheck --list` names them")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1 (got {args.jobs})")
    faults = [FAULTS[name] for name in dict.fromkeys(args.mutant)] if args.mutant else list(BATTERY)
    output = Path(args.output) if args.output else Path("reports") / f"selfcheck-{dt.datetime.now():%Y%m%d-%H%M%S}"
    output.mkdir(parents=True, exist_ok=True)

    runs = [Run(f.name, f"mutant:{f.name}", relevant_checks(f.killed_by, args.scope), output / "mutants" / f.name)
            for f in faults]
    # The whole battery: the clean server runs the whole suite. A few mutants: the checks they run.
    union = sorted({g for r in runs for g in r.checks})
    clean_checks = [] if not args.mutant or any(not r.checks for r in runs) else union
    clean = Run("clean", "reference", clean_checks, output / "clean")
    started = time.monotonic()
    print(f"selfcheck: {len(faults)} mutant(s) and the clean reference server, {args.jobs} at a time -> {output}",
          flush=True)
    total = len(runs) + 1
    done = 0

    def report(run: Run) -> None:
        nonlocal done
        done += 1
        if run.label == "clean":
            line = f"clean reference server: exit {run.exit_code}"
        else:
            killers = _killers(run, FAULTS[run.label].killed_by)
            verdict = "killed  " if killers else "survived" if run.exit_code in (0, 1) else "error   "
            line = f"{verdict} {run.label}" + (f"  by {', '.join(killers[:3])}" if killers else "")
        print(f"[{done:>{len(str(total))}}/{total}] {line} ({run.duration_s:.1f} s)", flush=True)

    # The clean run is the longest: start it first.
    execute([clean, *runs], jobs=args.jobs, on_done=report)
    duration = time.monotonic() - started

    clean_results = _read(clean)
    clean_failed = sorted(r.id for r in clean_results if r.outcome in ("fail", "error"))
    results = [_judge(run, FAULTS[run.label], clean_results) for run in runs]
    summary = _summary(results, clean, clean_results, clean_failed, duration, args.jobs, output)
    (output / "selfcheck.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    from reports.selfcheck_html import write_selfcheck_html

    write_selfcheck_html(output / "selfcheck.html", summary)
    for line in _terminal_lines(summary):
        print(line)
    if clean_failed or clean.exit_code not in (0,) or any(r.status == SURVIVED for r in results):
        return 1
    return 3 if any(r.status == ERROR for r in results) else 0


def relevant_checks(killed_by: tuple[str, ...], scope: str = "groups") -> list[str]:
    """The --check globs to run against a mutant: the groups (`auth.sig.*`) or areas (`auth.*`) of its expected
    checks; [] means the whole suite."""
    if scope == "full":
        return []
    globs = set()
    for pattern in killed_by:
        parts = pattern.split(".")
        depth = 2 if scope == "groups" and len(parts) > 2 else 1
        head = parts[:depth]
        if any(ch in part for part in head for ch in "*?["):
            head = parts[:1]
            if any(ch in head[0] for ch in "*?["):
                return []
        globs.add(".".join(head) + ".*")
    return sorted(globs)


# ------------------------------------------------------------------------------------------- running


def execute(runs: list[Run], *, jobs: int, on_done: Any = None) -> None:
    """Run each `Run` in a forked child of this process, `jobs` at a time.

    The parent has imported pytest, the plugin and the harness already, so a child only collects the
    suite and starts its target. Children are reaped with os.wait(); SIGINT/SIGTERM in the parent are
    passed on so every child stops its server before exiting.
    """
    _warm_up()
    pending = list(runs)
    running: dict[int, tuple[Run, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                run = pending.pop(0)
                running[_spawn(run)] = (run, time.monotonic())
            pid, status = os.wait()
            if pid in running:
                run, began = running.pop(pid)
                run.exit_code = os.waitstatus_to_exitcode(status)
                run.duration_s = round(time.monotonic() - began, 2)
                if on_done is not None:
                    on_done(run)
    except BaseException:
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in running:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        raise


def _warm_up() -> None:
    """Import the harness and the suite once, here, with pytest's assertion rewriting (a collect-only session).

    Every forked child then finds the modules in memory, rewritten, instead of compiling and rewriting ~200
    modules itself (seconds per run when bytecode is not cached, as under PYTHONDONTWRITEBYTECODE).
    """
    import pytest

    from conformance.run import SUITE

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        pytest.main([str(SUITE), "--collect-only", "-q", "-p", "no:cacheprovider",
                     "-W", "ignore::pytest.PytestAssertRewriteWarning"])


def _spawn(run: Run) -> int:
    run.output.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 4
    try:  # the child: never returns into the parent's code
        signal.signal(signal.SIGTERM, _interrupt)  # pytest tears down (stops the server) on KeyboardInterrupt
        signal.signal(signal.SIGINT, _interrupt)
        log = os.open(run.output / "pytest.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        from conformance.cli import main

        argv = ["run", "--target", run.target, "--output", str(run.output), "--expectations", "none", "-q"]
        for pattern in run.checks:
            argv += ["--check", pattern]
        code = main(argv)
    except BaseException:  # report, and leave with a harness-error status
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


# ------------------------------------------------------------------------------------------- judging


def _read(run: Run) -> list[Any]:
    from reports.results import read_jsonl

    path = run.output / "results.jsonl"
    try:
        return read_jsonl(path) if path.is_file() else []
    except ValueError:
        return []


def _killers(run: Run, killed_by: tuple[str, ...]) -> list[str]:
    return [r.id for r in _read(run) if r.outcome == "fail" and any(fnmatch.fnmatchcase(r.id, p) for p in killed_by)]


def _judge(run: Run, fault: Any, clean_results: list[Any]) -> MutantResult:
    results = _read(run)
    clean_bad = {r.id for r in clean_results if r.outcome in ("fail", "error")}
    listed = [r for r in results if any(fnmatch.fnmatchcase(r.id, p) for p in fault.killed_by)]
    killers = sorted(r.id for r in listed if r.outcome == "fail" and r.id not in clean_bad)
    others = sorted(r.id for r in results if r.outcome == "fail" and r.id not in killers)
    errors = sorted(r.id for r in results if r.outcome == "error")
    areas: dict[str, dict[str, int]] = {}
    for r in results:
        counts = areas.setdefault(r.area, {})
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    note = ""
    if killers:
        status = KILLED
    elif not results or (run.exit_code not in (0, 1) and not listed):
        status, note = ERROR, f"the run did not complete (exit {run.exit_code}); see {run.output / 'pytest.log'}"
    elif not listed:
        status, note = ERROR, "none of the expected checks ran (renamed or removed?)"
    elif any(r.outcome == "error" for r in listed):
        status, note = ERROR, "an expected check could not run (harness error)"
    else:
        status = SURVIVED
        note = "every expected check passed: the suite has no check that notices this fault"
    return MutantResult(fault.name, fault.area, fault.description, list(fault.killed_by), status, killers, others,
                        errors, len(results), areas, str(run.output), run.duration_s, note)


def _summary(results: list[MutantResult], clean: Run, clean_results: list[Any], clean_failed: list[str],
             duration: float, jobs: int, output: Path) -> dict[str, Any]:
    killed = sum(r.status == KILLED for r in results)
    return {
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "jobs": jobs,
        "output": str(output),
        "clean": {"passed": not clean_failed and clean.exit_code == 0, "exit_code": clean.exit_code,
                  "checks_run": len(clean_results), "failed": clean_failed, "output": str(clean.output),
                  "duration_s": clean.duration_s, "checks": clean.checks},
        "total": len(results),
        "killed": killed,
        "survived": sum(r.status == SURVIVED for r in results),
        "errors": sum(r.status == ERROR for r in results),
        "kill_rate": round(100.0 * killed / len(results), 1) if results else 0.0,
        "mutants": [asdict(r) for r in results],
    }


def _terminal_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for mutant in summary["mutants"]:
        if mutant["status"] != KILLED:
            lines.append(f"  {mutant['status'].upper():8s} {mutant['name']}: {mutant['description']}")
            lines.append(f"           {mutant['note']}; expected: {', '.join(mutant['killed_by'])}")
    clean = summary["clean"]
    lines.append(f"clean reference server: {'pass' if clean['passed'] else 'FAIL'} ({clean['checks_run']} checks"
                 + (f"; failed: {', '.join(clean['failed'][:5])}" if clean["failed"] else "") + ")")
    lines.append(f"{summary['total']} mutants: {summary['killed']} killed, {summary['survived']} survived, "
                 f"{summary['errors']} errors; kill rate {summary['kill_rate']} % in {summary['duration_s']} s "
                 f"({summary['jobs']} jobs)")
    lines.append(f"report: {Path(summary['output']) / 'selfcheck.html'}  summary: "
                 f"{Path(summary['output']) / 'selfcheck.json'}")
    return lines
