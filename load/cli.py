"""`starfish-conformance load`: Locust load against a target, then the audit, the report and the gates.

    starfish-conformance load --target T --scenario S (--users N | --rate R) --duration D
        [--workers W] [--allow-remote] [--fail-if 'p99>200ms'] [--fail-if 'errors>0.1%'] [--output DIR]

Exit status: 0 when the audit found nothing and no gate failed; 1 when a gate failed or the audit
found a lost write or another problem; 3 when the run produced no records (the harness failed); 2 for
a usage mistake (one line on stderr). Loopback targets only unless --allow-remote. Every run is
bounded in time (--duration) and in requests (--max-requests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCALING = "append-scaling"
DEFAULT_MAX_REQUESTS = 1_000_000
SCALING_VARIANTS = (("unchunked", "append"), ("chunked (chunkSize 100)", "append-chunked"))


def register(subparsers: argparse._SubParsersAction) -> None:
    from load.scenarios import SCENARIOS

    parser = subparsers.add_parser(
        "load", help="load-test a server (Locust) and audit that no acknowledged write was lost",
        description="Run a Locust load scenario against a target, audit every acknowledged write, and write "
                    "report.html, summary.json and CSV files. Loopback targets only unless --allow-remote.")
    parser.add_argument("--target", default="reference",
                        help="reference (default), url:http://HOST:PORT/PREFIX, process:'CMD' or another target name")
    parser.add_argument("--scenario", default="push", choices=[*SCENARIOS, "mixed", SCALING])
    parser.add_argument("--mix", default="", help="weights for --scenario mixed, e.g. push=5,pull=3,append=1")
    parser.add_argument("--users", type=int, help="closed model: concurrent users (open model: the user pool)")
    parser.add_argument("--rate", type=float, help="open model: arrivals per second (latency from intended start)")
    parser.add_argument("--duration", default="30s", help="time bound, e.g. 30s, 2m (default 30s)")
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS,
                        help=f"request bound (default {DEFAULT_MAX_REQUESTS}; append-scaling: the log size, 100000)")
    parser.add_argument("--workers", type=int, default=0,
                        help="W > 0: Locust distributed mode, one master and W worker processes on this machine")
    parser.add_argument("--remote-workers", type=int, default=0,
                        help="also wait for this many workers started on other machines (see README)")
    parser.add_argument("--master-bind-port", type=int, default=0,
                        help="distributed mode: the master's port (default: 5557 with --remote-workers, else free)")
    parser.add_argument("--allow-remote", action="store_true", help="allow a target that is not on loopback")
    parser.add_argument("--fail-if", action="append", default=[], metavar="GATE",
                        help="fail (exit 1) when it holds, e.g. 'p99>200ms', 'errors>0.1%%' (repeatable)")
    parser.add_argument("--rotate-after", type=int, default=4000,
                        help="signed requests per device key before a user takes a fresh key (default 4000)")
    parser.add_argument("--docs-per-user", type=int, default=8, help="push: documents per user (default 8)")
    parser.add_argument("--output", help="output folder (default reports/load-<target>-<scenario>-<time>)")
    parser.set_defaults(handler=run_load)


def parse_duration(text: str) -> float:
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*", text or "")
    if not match:
        raise ValueError(f"cannot parse --duration {text!r}; use e.g. 30s, 2m or 1h")
    value = float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    if value <= 0:
        raise ValueError("--duration must be positive")
    return value


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_load(args: argparse.Namespace) -> int:
    from conformance.cli import UsageError
    from conformance.targets import TargetError, parse_target
    from load.gates import GateError, parse_gate
    from load.scenarios import parse_mix

    try:
        duration = parse_duration(args.duration)
        gates = [parse_gate(text) for text in args.fail_if]
        if args.scenario == "mixed":
            parse_mix(args.mix or "")
    except (ValueError, GateError) as exc:
        raise UsageError(str(exc)) from None
    if args.mix and args.scenario != "mixed":
        raise UsageError("--mix needs --scenario mixed")
    if args.rate is not None and args.rate <= 0:
        raise UsageError("--rate must be positive")
    if args.users is not None and args.users <= 0:
        raise UsageError("--users must be positive")
    if args.workers < 0 or args.remote_workers < 0 or args.max_requests <= 0 or args.rotate_after <= 0:
        raise UsageError("--workers, --remote-workers, --max-requests and --rotate-after must not be negative")
    if args.scenario == SCALING and (args.workers or args.remote_workers):
        raise UsageError("append-scaling runs in one process (it measures the log's growth in order)")
    if args.target.startswith("url:") and not args.allow_remote and not is_loopback(args.target[4:]):
        raise UsageError(f"target {args.target[4:]} is not on loopback; load only goes to 127.0.0.1/::1/localhost "
                         "unless --allow-remote is given")
    try:
        target = parse_target(args.target)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    users = args.users or (min(1000, max(8, int(args.rate // 10) or 8)) if args.rate else 16)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    output = Path(args.output) if args.output else Path("reports") / f"load-{target.name}-{args.scenario}-{stamp}"
    output.mkdir(parents=True, exist_ok=True)
    (output / "target").mkdir(exist_ok=True)
    try:
        running = target.start(output / "target")
    except TargetError as exc:
        print(f"starfish-conformance load: error: {exc}", file=sys.stderr)
        return 3
    try:
        if not args.allow_remote and not is_loopback(running.base_url):
            raise UsageError(f"target {running.base_url} is not on loopback; use --allow-remote to load it")
        context = {"target": {"name": running.name, "spec": running.spec, "base_url": running.base_url},
                   "run": {"scenario": args.scenario, "mix": args.mix, "users": users, "rate": args.rate or 0.0,
                           "duration_s": duration, "max_requests": args.max_requests, "workers": args.workers,
                           "remote_workers": args.remote_workers, "rotate_after": args.rotate_after,
                           "started": stamp},
                   "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()[0]}}
        if args.scenario == SCALING:
            return _scaling(args, running.base_url, users, duration, output, gates, context)
        return _single(args, running.base_url, users, duration, output, gates, context)
    finally:
        target.stop()


def _spec(args: argparse.Namespace, base_url: str, scenario: str, users: int, duration: float, output: Path,
          max_requests: int) -> Any:
    from load.engine import RunSpec

    return RunSpec(base_url=base_url, scenario=scenario, users=users, duration_s=duration, max_requests=max_requests,
                   output=output, run_id=f"{dt.datetime.now():%H%M%S}-{secrets.token_hex(3)}", rate=args.rate or 0.0,
                   mix=args.mix, workers=args.workers, remote_workers=args.remote_workers,
                   master_bind_port=args.master_bind_port or (5557 if args.remote_workers else 0),
                   rotate_after=args.rotate_after, docs_per_user=args.docs_per_user)


def _measure(spec: Any) -> tuple[dict[str, Any], dict[str, Any], Any] | None:
    """Run Locust, then audit; returns (raw, summary, audit) or None when Locust produced nothing."""
    from load import engine
    from load.analysis import summarize
    from load.audit import audit
    from load.recorder import load_raw

    try:
        raw = load_raw(engine.run(spec))
    except engine.EngineError as exc:
        print(f"starfish-conformance load: error: {exc}", file=sys.stderr)
        return None
    result = audit(spec.base_url, raw["writes"])
    summary = summarize(raw)
    summary["audit"] = result.as_dict()
    return raw, summary, result


def _finish(summary: dict[str, Any], gates: list[Any], output: Path, plots: list[tuple[str, str]], title: str) -> int:
    from load.gates import evaluate
    from load.report import headline, write_html, write_summary

    if "machine" in summary:
        summary["machine"]["load_average_at_end"] = os.getloadavg()[0]
    summary["gates"] = evaluate(gates, summary)
    failed = any(g["failed"] for g in summary["gates"]) or not summary["audit"]["ok"]
    summary["passed"] = not failed
    write_summary(output, summary)
    html_path = write_html(output, summary, plots, title)
    for line in headline(summary):
        print(line)
    print(f"report: {html_path}  summary: {output / 'summary.json'}")
    return 1 if failed else 0


def audit_and_report(output: Path, base_url: str, gates: list[Any] | None = None) -> int:
    """Audit, summary and report from an existing `output/raw.json` (plain `locust -f ... --sf-audit`)."""
    from load.analysis import summarize, timeseries
    from load.audit import audit
    from load.recorder import load_raw
    from load.report import plot_series, write_csv

    raw = load_raw(output / "raw.json")
    summary = summarize(raw)
    summary["audit"] = audit(base_url, raw["writes"]).as_dict()
    summary["target"] = {"base_url": base_url}
    series = timeseries(raw)
    write_csv(output, raw, series)
    scenario = raw.get("meta", {}).get("scenario", "load")
    return _finish(summary, gates or [], output, plot_series(series, scenario), f"Starfish load: {scenario}")


def _single(args: argparse.Namespace, base_url: str, users: int, duration: float, output: Path, gates: list[Any],
            context: dict[str, Any]) -> int:
    from load.analysis import timeseries
    from load.report import plot_series, write_csv

    measured = _measure(_spec(args, base_url, args.scenario, users, duration, output, args.max_requests))
    if measured is None:
        return 3
    raw, summary, _ = measured
    summary.update(context)
    series = timeseries(raw)
    write_csv(output, raw, series)
    title = f"Starfish load: {args.scenario} on {context['target']['name']}"
    return _finish(summary, gates, output, plot_series(series, args.scenario), title)


def _scaling(args: argparse.Namespace, base_url: str, users: int, duration: float, output: Path, gates: list[Any],
             context: dict[str, Any]) -> int:
    """Two runs, unchunked and chunked, each growing one log to --max-requests (100 000) elements."""
    from load.analysis import scaling_curve, timeseries
    from load.report import plot_scaling, plot_series, write_csv, write_scaling_csv

    size = 100_000 if args.max_requests == DEFAULT_MAX_REQUESTS else args.max_requests
    curves: dict[str, dict[str, Any]] = {}
    variants: dict[str, Any] = {}
    plots: list[tuple[str, str]] = []
    audits: list[dict[str, Any]] = []
    for label, scenario in SCALING_VARIANTS:
        folder = output / scenario
        measured = _measure(_spec(args, base_url, scenario, users, duration, folder, size))
        if measured is None:
            return 3
        raw, summary, result = measured
        series = timeseries(raw)
        write_csv(folder, raw, series)
        curves[label] = scaling_curve(raw["writes"])
        variants[label] = {k: summary[k] for k in ("requests", "elapsed_s", "throughput_rps", "errors", "error_rate",
                                                   "latency_ms", "status_counts", "audit") if k in summary}
        variants[label]["final_log_size"] = result.log_elements
        audits.append(summary["audit"])
        plots += [(f"{label}: {caption}", png) for caption, png in plot_series(series, f"append, {label}")]
        print(f"{label}: {summary['requests']} appends, log at {result.log_elements} elements, "
              f"{summary['throughput_rps']:.0f} appends/s overall; {result.headline()}")
    write_scaling_csv(output, curves)
    plots.insert(0, plot_scaling(curves, f"append scaling on {context['target']['name']}", output / "scaling.png"))
    # Top-level figures (what gates see) are the worse of the two variants; counts are summed.
    summary = {"requests": sum(v["requests"] for v in variants.values()),
               "elapsed_s": sum(v["elapsed_s"] for v in variants.values()),
               "throughput_rps": min(v["throughput_rps"] for v in variants.values()),
               "errors": sum(v["errors"] for v in variants.values()),
               "latency_ms": {k: max(v["latency_ms"][k] for v in variants.values())
                              for k in next(iter(variants.values()))["latency_ms"]},
               "status_counts": {}, "model": "closed", "variants": variants, "scaling": curves, **context,
               "audit": {"ok": all(a["ok"] for a in audits),
                         "lost_writes": sum(a["lost_writes"] for a in audits),
                         "lost": [x for a in audits for x in a["lost"]],
                         "problems": [x for a in audits for x in a["problems"]],
                         "errors": [x for a in audits for x in a["errors"]],
                         "acknowledged_writes": sum(a["acknowledged_writes"] for a in audits),
                         "documents_checked": 0, "logs_checked": sum(a["logs_checked"] for a in audits)}}
    summary["error_rate"] = summary["errors"] / max(summary["requests"], 1)
    for variant in variants.values():
        for status, count in variant["status_counts"].items():
            summary["status_counts"][status] = summary["status_counts"].get(status, 0) + count
    print("append-scaling, both variants (latency and req/s: the worse of the two):")
    return _finish(summary, gates, output, plots, f"Starfish append scaling on {context['target']['name']}")
