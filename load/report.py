"""What a person and CI read after a run: report.html (with plots), summary.json and CSV files.

- `summary.json`: the summary (analysis.py), the audit, the gates, the run's parameters;
- `requests.csv`: one row per request (intended start, send time, latency, service time, status, name);
- `timeseries.csv`: per second: completions, latency p50/p90/p99, one column per status code;
- `scaling.csv` (append-scaling): latency and throughput against the log's size;
- `report.html`: the headline, the gates, the audit, a table per operation and the plots
  (throughput, latency percentiles and status codes over time; the scaling curve).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the non-interactive backend


def write_csv(out: Path, raw: dict[str, Any], series: dict[str, Any]) -> None:
    cols = raw["columns"]
    with open(out / "requests.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["intended_unix_s", "sent_unix_s", "latency_ms", "service_ms", "status", "name", "key_count"])
        for row in zip(cols["intended"], cols["sent"], cols["latency_ms"], cols["service_ms"], cols["status"],
                       cols["name"], cols["kn"], strict=True):
            writer.writerow([f"{row[0]:.6f}", f"{row[1]:.6f}", f"{row[2]:.3f}", f"{row[3]:.3f}", *row[4:]])
    statuses = sorted(series.get("status", {}))
    with open(out / "timeseries.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t_s", "rps", "p50_ms", "p90_ms", "p99_ms", *(f"status_{s}" for s in statuses)])
        for i, t in enumerate(series.get("t", [])):
            writer.writerow([t, series["rps"][i], f"{series['p50'][i]:.3f}", f"{series['p90'][i]:.3f}",
                             f"{series['p99'][i]:.3f}", *(series["status"][s][i] for s in statuses)])


def write_scaling_csv(out: Path, curves: dict[str, dict[str, Any]]) -> None:
    with open(out / "scaling.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["variant", "log_size", "p50_ms", "p99_ms", "appends_per_s"])
        for variant, curve in curves.items():
            for i, size in enumerate(curve["size"]):
                writer.writerow([variant, int(size), f"{curve['p50_ms'][i]:.3f}", f"{curve['p99_ms'][i]:.3f}",
                                 f"{curve['rps'][i]:.1f}"])


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_series(series: dict[str, Any], title: str) -> list[tuple[str, str]]:
    t = series.get("t", [])
    if not t:
        return []
    plots = []
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(t, series["rps"], color="tab:blue")
    ax.set(xlabel="seconds", ylabel="requests / s", title=f"{title}: throughput")
    ax.grid(alpha=0.3)
    plots.append(("throughput over time", _png(fig)))
    fig, ax = plt.subplots(figsize=(8, 3))
    for key, color in (("p50", "tab:green"), ("p90", "tab:orange"), ("p99", "tab:red")):
        ax.plot(t, series[key], label=key, color=color)
    ax.set(xlabel="seconds", ylabel="latency ms", title=f"{title}: latency percentiles (per second)")
    ax.legend()
    ax.grid(alpha=0.3)
    plots.append(("latency percentiles over time", _png(fig)))
    fig, ax = plt.subplots(figsize=(8, 3))
    bottom = [0] * len(t)
    for status, counts in sorted(series["status"].items()):
        ax.bar(t, counts, bottom=bottom, width=0.9, label=status)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set(xlabel="seconds", ylabel="answers / s", title=f"{title}: status codes")
    ax.legend(title="status")
    plots.append(("status codes over time", _png(fig)))
    return plots


def plot_scaling(curves: dict[str, dict[str, Any]], title: str, png_path: Path | None = None) -> tuple[str, str]:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for variant, curve in curves.items():
        left.plot(curve["size"], curve["rps"], marker=".", label=variant)
        right.plot(curve["size"], curve["p50_ms"], marker=".", label=f"{variant} p50")
        right.plot(curve["size"], curve["p99_ms"], linestyle="--", label=f"{variant} p99")
    left.set(xlabel="log size (elements)", ylabel="appends / s", title=f"{title}: append throughput")
    right.set(xlabel="log size (elements)", ylabel="latency ms", title="append latency", yscale="log")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if png_path is not None:
        fig.savefig(png_path, dpi=90, bbox_inches="tight")
    return ("append scaling", _png(fig))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return html.escape(str(value))


def headline(summary: dict[str, Any]) -> list[str]:
    """The lines the command prints (and the report opens with)."""
    lat = summary.get("latency_ms", {})
    lines = [
        f"requests: {summary.get('requests', 0)} in {summary.get('elapsed_s', 0):.1f} s, "
        f"{summary.get('throughput_rps', 0):.0f} req/s ({summary.get('model', 'closed')} model"
        + (f", offered {summary['offered_rps']:g}/s" if summary.get("offered_rps") else "") + ")",
        "latency ms (from intended start): " + ", ".join(f"{k} {lat[k]:.2f}" for k in
                                                         ("p50", "p90", "p99", "p99.9", "max") if k in lat),
        f"errors: {summary.get('errors', 0)} ({100 * summary.get('error_rate', 0):.3f} %); status counts: "
        + ", ".join(f"{k}: {v}" for k, v in summary.get("status_counts", {}).items()),
    ]
    if summary.get("generator_cpu_ms_per_request") is not None:
        lines.append(f"generator CPU: {summary['generator_cpu_ms_per_request']:.3f} ms per request"
                     + (f"; machine load average {summary['machine']['load_average_at_start']:.1f} at start"
                        if "machine" in summary else ""))
    if "conflict" in summary:
        c = summary["conflict"]
        lines.append(f"conflicts: 409 rate {100 * summary.get('rate_409', 0):.1f} %, {c['converged_writes']} writes "
                     f"converged after {c['attempts_mean']:.2f} attempts on average (max {c['attempts_max']:.0f}), "
                     f"{c['unconverged_writes']} gave up (100 attempts or an error)")
    auth = summary.get("auth_401", {})
    if auth.get("count"):
        lines.append(f"401s: {auth['classification']}: {auth.get('detail', '')}")
    if summary.get("bad_reads"):
        lines.append(f"reads contradicting the model: {summary['bad_reads']}")
    audit = summary.get("audit")
    if audit is not None:
        if audit.get("errors"):
            lines.append(f"audit incomplete: {audit['errors'][0]}")
        lines.append(f"lost writes: {audit['lost_writes']} (audited {audit['acknowledged_writes']} acknowledged "
                     f"writes on {audit['documents_checked']} documents and {audit['logs_checked']} logs)")
        lines.extend(f"  LOST: {item}" for item in audit["lost"][:50])
        lines.extend(f"  PROBLEM: {item}" for item in audit["problems"][:50])
    for gate in summary.get("gates", []):
        verdict = "FAILED" if gate["failed"] else "passed"
        lines.append(f"gate {gate['gate']}: {verdict} (measured {gate['measured']:.4g})")
    return lines


def write_html(out: Path, summary: dict[str, Any], plots: list[tuple[str, str]], title: str) -> Path:
    parts = [f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}td,th{padding:2px 8px;"
             "text-align:right}th{background:#eee}.bad{color:#b00}.ok{color:#070}pre{background:#f6f6f6;padding:8px}"
             "</style>", f"<h1>{html.escape(title)}</h1>"]
    audit = summary.get("audit", {})
    ok = audit.get("ok", True) and not any(g["failed"] for g in summary.get("gates", []))
    parts.append(f"<p class={'ok' if ok else 'bad'}><b>{'PASS' if ok else 'FAIL'}</b></p>")
    parts.append("<pre>" + html.escape("\n".join(headline(summary))) + "</pre>")
    rows = ["<tr><th>operation</th><th>requests</th><th>errors</th><th>req/s</th><th>p50</th><th>p90</th>"
            "<th>p99</th><th>p99.9</th><th>max</th><th>statuses</th></tr>"]
    for name, stats in summary.get("by_name", {}).items():
        lat = stats["latency_ms"]
        rows.append(f"<tr><td>{html.escape(name)}</td><td>{stats['requests']}</td><td>{stats['errors']}</td>"
                    f"<td>{_fmt(stats['throughput_rps'])}</td>"
                    + "".join(f"<td>{_fmt(lat[k])}</td>" for k in ("p50", "p90", "p99", "p99.9", "max"))
                    + f"<td>{_fmt(stats['status_counts'])}</td></tr>")
    parts.append("<h2>Per operation (latency ms, exact)</h2><table>" + "".join(rows) + "</table>")
    for caption, png in plots:
        parts.append(f"<h2>{html.escape(caption)}</h2><img alt='{html.escape(caption)}' "
                     f"src='data:image/png;base64,{png}'>")
    meta = {k: v for k, v in summary.items() if k in ("meta", "target", "run", "machine")}
    parts.append("<h2>Run</h2><pre>" + html.escape(json.dumps(meta, indent=1, default=str)) + "</pre>")
    path = out / "report.html"
    path.write_text("\n".join(parts))
    return path


def write_summary(out: Path, summary: dict[str, Any]) -> Path:
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=1, default=float, allow_nan=True))
    return path
