"""`starfish-conformance compare RUN_DIR...`: several runs side by side, as one HTML page and one markdown table.

Each RUN_DIR is the output folder of `starfish-conformance run` (results.jsonl + run.json). Checks are rows,
runs are columns (labelled by target and spec), each cell is the check's outcome in that run: pass, fail,
expected-fail (xfail), skip, error, stale, info, or "—" when the run did not include the check. Failing cells
link to the run's report (the failure's detail, exchanges and reproducer); expected failures link to the
finding their expectation names. A per-area score (passed / run, skips excluded) closes each view.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from reports.results import ERROR, FAIL, INFO, PASS, SKIP, STALE, XFAIL, CheckResult, read_jsonl

REPO = Path(__file__).resolve().parent.parent
LABELS = {PASS: "pass", FAIL: "fail", XFAIL: "expected-fail", SKIP: "skip", ERROR: "error", STALE: "stale",
          INFO: "info"}
MISSING = "—"


class CompareError(ValueError):
    """A run folder cannot be read; the message names it."""


@dataclass
class Run:
    folder: Path
    target: str
    spec: str
    label: str
    results: dict[str, CheckResult] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.spec.startswith("image:"):
            return "container"
        if self.spec.startswith("url:"):
            return "url"
        return "process"


def load_run(folder: Path) -> Run:
    results_path = folder / "results.jsonl"
    if not results_path.is_file():
        raise CompareError(f"{folder}: no results.jsonl (give the output folder of `starfish-conformance run`)")
    try:
        results = read_jsonl(results_path)
    except ValueError as exc:
        raise CompareError(str(exc)) from None
    meta: dict[str, object] = {}
    if (folder / "run.json").is_file():
        try:
            meta = json.loads((folder / "run.json").read_text())
        except ValueError:
            raise CompareError(f"{folder / 'run.json'} is not JSON") from None
    target = str(meta.get("target") or (results[0].target if results else folder.name))
    spec = str(meta.get("spec") or target)
    run = Run(folder, target, spec, target, {r.id: r for r in results}, meta)
    return run


def label_runs(runs: list[Run]) -> None:
    """Column labels: the target name, plus `(container)` etc. when it is not a process, made unique."""
    seen: dict[str, int] = {}
    for run in runs:
        label = run.target if run.kind == "process" else f"{run.target} ({run.kind})"
        seen[label] = seen.get(label, 0) + 1
        run.label = label if seen[label] == 1 else f"{label} #{seen[label]}"


@dataclass
class Matrix:
    runs: list[Run]
    checks: list[tuple[str, str, str, str]]  # id, area, level, rule

    def cell(self, run: Run, check_id: str) -> CheckResult | None:
        return run.results.get(check_id)

    def areas(self) -> list[str]:
        return sorted({area for _, area, _, _ in self.checks})

    def score(self, run: Run, area: str | None = None) -> tuple[int, int]:
        """(passed, run) over the checks of `area` (all areas when None); skips and info are not counted."""
        passed = total = 0
        for check_id, check_area, _, _ in self.checks:
            if area is not None and check_area != area:
                continue
            result = run.results.get(check_id)
            if result is None or result.outcome in (SKIP, INFO):
                continue
            total += 1
            passed += result.outcome == PASS
        return passed, total


def not_everywhere_pass(matrix: Matrix) -> list[tuple[str, str, str, str]]:
    """The checks that are not a plain pass in every run that ran them (the interesting rows)."""
    return [c for c in matrix.checks
            if any(r.results.get(c[0]) is not None and r.results[c[0]].outcome not in (PASS, INFO)
                   for r in matrix.runs)]


def build(runs: list[Run]) -> Matrix:
    label_runs(runs)
    checks: dict[str, tuple[str, str, str, str]] = {}
    for run in runs:
        for result in run.results.values():
            checks.setdefault(result.id, (result.id, result.area, result.level, result.rule))
    return Matrix(runs, [checks[k] for k in sorted(checks)])


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def detail_link(run: Run, result: CheckResult, output: Path) -> str | None:
    """Where a reader sees why a cell is not a pass: the finding for expected failures, else the run's report."""
    link = (result.expectation or {}).get("link") or ""
    if result.outcome == XFAIL and link and not link.startswith(("http://", "https://")):
        path, _, anchor = link.partition("#")
        return _rel(REPO / path, output) + (f"#{anchor}" if anchor else "")
    if result.outcome in (XFAIL, FAIL, ERROR, STALE) and link.startswith(("http://", "https://")):
        return link
    if result.outcome in (FAIL, ERROR, STALE, XFAIL):
        return _rel(run.folder / "report.html", output) + f"#check-{result.id}"
    return None


def reproducer(run: Run, check_id: str) -> str:
    return f"starfish-conformance run --target {run.spec} --check {check_id}"


def _pct(passed: int, total: int) -> str:
    return f"{passed}/{total} ({(100 * passed / total):.0f}%)" if total else "—"


def render_markdown(matrix: Matrix, output: Path) -> str:
    runs = matrix.runs
    lines = ["# Starfish v3 conformance matrix", "",
             f"{len(matrix.checks)} checks × {len(runs)} runs. Cells: pass, fail, expected-fail (a documented "
             "finding, see the linked entry), skip, error (harness), stale (an expectation that no longer "
             "fails), — (not run). Generated by `starfish-conformance compare`.", "",
             "| run | target | passed / run (skips excluded) |", "| --- | --- | --- |"]
    for run in runs:
        lines.append(f"| {run.label} | `{run.spec}` | {_pct(*matrix.score(run))} |")
    lines += ["", "## Score per area", "", "| area | " + " | ".join(r.label for r in runs) + " |",
              "| --- |" + " --- |" * len(runs)]
    for area in matrix.areas():
        lines.append(f"| {area} | " + " | ".join(_pct(*matrix.score(r, area)) for r in runs) + " |")
    sections = [("Checks that do not pass everywhere", not_everywhere_pass(matrix)), ("All checks", matrix.checks)]
    for title, checks in sections:
        lines += ["", f"## {title}", "", "| check | level | " + " | ".join(r.label for r in runs) + " |",
                  "| --- | --- |" + " --- |" * len(runs)]
        lines += [_md_row(matrix, check_id, level, output) for check_id, _, level, _ in checks]
    problems = [(run, r) for run in runs for r in run.results.values() if r.outcome in (FAIL, ERROR, STALE, XFAIL)]
    if problems:
        lines += ["", "## Reproducers", "",
                  "Each command re-runs one check with fresh identities, so every request is re-signed.", ""]
        for run, result in sorted(problems, key=lambda p: (p[1].id, p[0].label)):
            reason = (result.expectation or {}).get("reason", "")
            lines.append(f"- `{result.id}` on {run.label} ({LABELS.get(result.outcome, result.outcome)}): "
                         f"`{reproducer(run, result.id)}`" + (f" — {reason}" if reason else ""))
    return "\n".join(lines) + "\n"


def _md_row(matrix: Matrix, check_id: str, level: str, output: Path) -> str:
    cells = []
    for run in matrix.runs:
        result = matrix.cell(run, check_id)
        if result is None:
            cells.append(MISSING)
            continue
        text = LABELS.get(result.outcome, result.outcome)
        text = f"**{text}**" if result.outcome in (FAIL, ERROR, STALE) else text
        link = detail_link(run, result, output)
        cells.append(f"[{text}]({link})" if link else text)
    return f"| `{check_id}` | {level} | " + " | ".join(cells) + " |"


_STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:1.2rem;color:#1b1f24}
h1{font-size:1.35rem;margin:.2rem 0} h2{font-size:1.05rem;margin:1.2rem 0 .4rem} .muted{color:#57606a}
table{border-collapse:collapse} th,td{border:1px solid #d0d7de;padding:.15rem .45rem;text-align:left}
th{background:#f6f8fa;position:sticky;top:0} td.c{text-align:center;white-space:nowrap}
a{color:inherit} code{font-size:12px}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffc9c4;color:#82071e;font-weight:700}
.error{background:#fff1a8;color:#7d4e00;font-weight:700}.xfail{background:#ddf4ff;color:#0550ae}
.stale{background:#f3e1ff;color:#8250df;font-weight:700}.skip{background:#eaeef2;color:#57606a}
.info{background:#e7f5ee;color:#116329}.none{color:#8c959f}
.legend span{padding:0 .4rem;margin-right:.3rem;border-radius:3px}
tr.area td{background:#f6f8fa;font-weight:600}
"""


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def render_html(matrix: Matrix, output: Path) -> str:
    runs = matrix.runs
    head = "".join(f"<th title='{_esc(r.spec)}'>{_esc(r.label)}"
                   + (f"<div class=muted>{_esc(r.spec)}</div>" if r.spec != r.label else "") + "</th>" for r in runs)
    scores = "".join(
        f"<tr><td>{_esc(area)}</td>" + "".join(f"<td class=c>{_pct(*matrix.score(r, area))}</td>" for r in runs)
        + "</tr>" for area in matrix.areas())
    totals = "".join(f"<td class=c><b>{_pct(*matrix.score(r))}</b></td>" for r in runs)
    differing = _html_rows(matrix, not_everywhere_pass(matrix), output)
    everything = _html_rows(matrix, matrix.checks, output)
    legend = "".join(f"<span class={k}>{_esc(v)}</span>" for k, v in LABELS.items())
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Starfish conformance matrix</title>"
            f"<style>{_STYLE}</style><body><h1>Starfish v3 conformance matrix</h1>"
            f"<p class=muted>{len(matrix.checks)} checks × {len(runs)} runs · generated {stamp} by "
            f"<code>starfish-conformance compare</code>. Failing cells link to the run's report (detail, exchanges, "
            f"reproducer); expected failures link to the finding. Hover a cell for its reproducer.</p>"
            f"<p class=legend>{legend}</p>"
            f"<h2>Score per area (passed / run, skips excluded)</h2><table><tr><th>area</th>{head}</tr>{scores}"
            f"<tr><td><b>all</b></td>{totals}</tr></table>"
            f"<h2>Checks that do not pass everywhere</h2><table><tr><th>check</th><th>level</th>{head}</tr>"
            f"{differing}</table>"
            f"<h2>All checks</h2><table><tr><th>check</th><th>level</th>{head}</tr>{everything}</table>"
            "</body></html>")


def _html_rows(matrix: Matrix, checks: list[tuple[str, str, str, str]], output: Path) -> str:
    runs = matrix.runs
    rows = []
    current_area = None
    for check_id, area, level, rule in checks:
        if area != current_area:
            current_area = area
            rows.append(f"<tr class=area><td colspan={2 + len(runs)}>{_esc(area)}</td></tr>")
        cells = []
        for run in runs:
            result = matrix.cell(run, check_id)
            if result is None:
                cells.append(f"<td class='c none'>{MISSING}</td>")
                continue
            text = _esc(LABELS.get(result.outcome, result.outcome))
            link = detail_link(run, result, output)
            tip = result.detail.strip().splitlines()[0][:300] if result.detail.strip() else ""
            if result.expectation:
                tip = f"{result.expectation.get('reason', '')} | {tip}"
            if result.outcome in (FAIL, ERROR, STALE, XFAIL):
                tip = f"{tip} | reproduce: {reproducer(run, check_id)}"
            body = f"<a href='{_esc(link)}'>{text}</a>" if link else text
            cells.append(f"<td class='c {_esc(result.outcome)}' title='{_esc(tip)}'>{body}</td>")
        rows.append(f"<tr><td><code title='{_esc(rule)}'>{_esc(check_id)}</code></td><td>{_esc(level)}</td>"
                    + "".join(cells) + "</tr>")
    return "".join(rows)


def compare(folders: list[Path], output: Path) -> tuple[Path, Path, Matrix]:
    runs = [load_run(folder.resolve()) for folder in folders]
    output = output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    matrix = build(runs)
    html_path, md_path = output / "matrix.html", output / "matrix.md"
    html_path.write_text(render_html(matrix, output), encoding="utf-8")
    md_path.write_text(render_markdown(matrix, output), encoding="utf-8")
    return html_path, md_path, matrix


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare runs side by side (HTML page + markdown table)",
        description="Render the checks × implementations matrix of several `run` output folders.")
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="output folders of `starfish-conformance run`")
    parser.add_argument("--output", help="folder for matrix.html and matrix.md (default reports/compare-<time>)")
    parser.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    from conformance.cli import UsageError

    output = Path(args.output) if args.output else Path("reports") / f"compare-{dt.datetime.now():%Y%m%d-%H%M%S}"
    try:
        html_path, md_path, matrix = compare([Path(f) for f in args.runs], output)
    except CompareError as exc:
        raise UsageError(str(exc)) from None
    for run in matrix.runs:
        print(f"{run.label:32s} {_pct(*matrix.score(run)):>16s}  ({run.spec}, {run.folder})")
    print(f"matrix: {html_path}  table: {md_path}")
    return 0
