"""Render verify results: an aligned text table for people, JSON lines (one object per case) for CI."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from vectors.results import OUTCOMES, STALE, CaseResult


def _outcome_cell(row: CaseResult) -> str:
    return f"{STALE}: {row.detail}" if row.outcome == STALE else row.outcome


def text_table(results: Sequence[CaseResult]) -> str:
    """file | case | outcome | detail, one row per case, then a total line."""
    headers = ("FILE", "CASE", "OUTCOME", "DETAIL")
    rows = []
    for row in results:
        outcome = row.outcome
        detail = row.detail
        if row.outcome == STALE:
            outcome, detail = _outcome_cell(row), ""
        rows.append((row.file, row.case_id, outcome, detail))
    widths = [max([len(headers[i])] + [len(r[i]) for r in rows if i < 2 or r[i] in OUTCOMES]) for i in range(3)]
    lines = []
    for cells in [headers, *rows]:
        head = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[:3]))
        lines.append((head + "  " + cells[3]).rstrip())
    lines.append(total_line(results))
    return "\n".join(lines) + "\n"


def total_line(results: Sequence[CaseResult]) -> str:
    counts = Counter(row.outcome for row in results)
    files = len({row.file for row in results})
    parts = [f"{counts.get(outcome, 0)} {outcome}" for outcome in OUTCOMES if counts.get(outcome, 0)]
    verdict = "OK" if results and all(row.ok() for row in results) else "NOT OK"
    return f"TOTAL {len(results)} cases in {files} files: {', '.join(parts) or 'nothing replayed'} -> {verdict}"


def json_lines(results: Sequence[CaseResult]) -> str:
    """One JSON object per case and line: {file, family, case_id, outcome, detail}."""
    return "".join(json.dumps(row.to_json(), ensure_ascii=False) + "\n" for row in results)
