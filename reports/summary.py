"""Text views of a run: the markdown summary file and the terminal summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from reports.results import ERROR, FAIL, PASS, SKIP, STALE, XFAIL, CheckResult

ORDER = (FAIL, ERROR, STALE, XFAIL, PASS, SKIP)


def area_table(results: list[CheckResult]) -> list[tuple[str, Counter[str]]]:
    areas: dict[str, Counter[str]] = {}
    for result in results:
        areas.setdefault(result.area, Counter())[result.outcome] += 1
    return sorted(areas.items())


def totals(results: list[CheckResult]) -> Counter[str]:
    return Counter(result.outcome for result in results)


def verdict_line(results: list[CheckResult]) -> str:
    count = totals(results)
    parts = [f"{count[o]} {o}" for o in (PASS, FAIL, ERROR, XFAIL, STALE, SKIP, "info") if count[o]]
    return f"{len(results)} checks: " + ", ".join(parts)


def write_summary(path: Path, results: list[CheckResult], meta: dict[str, Any]) -> None:
    lines = [f"# Starfish conformance: {meta['target']}", "",
             f"Target `{meta['spec']}`, finished {meta['finished']}, {meta['duration_s']} s. {verdict_line(results)}.",
             "", "| area | pass | fail | error | xfail | stale | skip |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for area, count in area_table(results):
        lines.append(f"| {area} | {count[PASS] + count['info']} | {count[FAIL]} | {count[ERROR]} | {count[XFAIL]} "
                     f"| {count[STALE]} | {count[SKIP]} |")
    problems = [r for r in results if r.outcome in (FAIL, ERROR, STALE)]
    if problems:
        lines += ["", "## Failures, errors and stale expectations", ""]
        for result in problems:
            lines += [f"### `{result.id}` ({result.level}, {result.outcome})", "", f"Rule: {result.rule} "
                      f"(source: {result.source})", "", "```", result.detail.strip()[:1500], "```", ""]
            if result.reproducer:
                lines += [f"Reproduce: `{result.reproducer['command']}`", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def terminal_lines(results: list[CheckResult], meta: dict[str, Any], output: Path) -> list[str]:
    lines = []
    width = max((len(area) for area, _ in area_table(results)), default=4)
    for area, count in area_table(results):
        cells = "  ".join(f"{o} {count[o]:3d}" for o in ORDER if count[o])
        lines.append(f"  {area:<{width}}  {cells}")
    for result in results:
        if result.outcome in (FAIL, ERROR, STALE):
            first = result.detail.strip().splitlines()[0][:160] if result.detail.strip() else ""
            lines.append(f"  {result.outcome.upper():5s} {result.id} [{result.level}] {result.rule}")
            if first:
                lines.append(f"        {first}")
    lines.append(f"{verdict_line(results)} against {meta['target']} in {meta['duration_s']} s")
    lines.append(f"report: {output / 'report.html'}  results: {output / 'results.jsonl'}")
    return lines
