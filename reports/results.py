"""The results stream: one JSON object per check, the single source every view is rendered from.

Parametrised cases of one check are folded into one line whose outcome is the worst of its cases
(error > fail > stale > xfail > pass > skip), with every case kept under `cases`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASS, FAIL, ERROR, SKIP, XFAIL, STALE, INFO = "pass", "fail", "error", "skip", "xfail", "stale", "info"
_SEVERITY = {ERROR: 6, FAIL: 5, STALE: 4, XFAIL: 3, INFO: 2, PASS: 1, SKIP: 0}


@dataclass
class CaseResult:
    """One executed test node (a check, or one parametrised case of it)."""

    check_id: str
    level: str
    area: str
    rule: str
    source: str
    nodeid: str
    case: str
    outcome: str
    duration_s: float
    detail: str = ""
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    expectation: dict[str, Any] | None = None


@dataclass
class CheckResult:
    id: str
    level: str
    area: str
    rule: str
    source: str
    outcome: str
    duration_s: float
    detail: str
    target: str
    reproducer: dict[str, Any] | None
    expectation: dict[str, Any] | None
    cases: list[dict[str, Any]]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=False)


def fold(cases: Iterable[CaseResult], *, target: str, target_spec: str) -> list[CheckResult]:
    """Group case results by check id, ordered by id."""
    grouped: dict[str, list[CaseResult]] = {}
    for case in cases:
        grouped.setdefault(case.check_id, []).append(case)
    results = []
    for check_id in sorted(grouped):
        members = grouped[check_id]
        if any(c.outcome == XFAIL for c in members):
            # An expectation names a whole check; while one case still fails as expected, the cases that
            # pass are plain passes, not a stale expectation. Only a check whose every case passes is stale.
            for c in members:
                if c.outcome == STALE:
                    c.outcome, c.detail = PASS, ""
        worst = max(members, key=lambda c: _SEVERITY.get(c.outcome, 0))
        reproducer = None
        if worst.outcome in (FAIL, ERROR, STALE, XFAIL):
            reproducer = {
                "command": f"starfish-conformance run --target {target_spec} --check {check_id}",
                "note": "re-runs the check with fresh identities, so every request is re-signed with a fresh nonce",
                "exchanges": worst.exchanges,
            }
        results.append(
            CheckResult(
                id=check_id,
                level=worst.level,
                area=worst.area,
                rule=worst.rule,
                source=worst.source,
                outcome=worst.outcome,
                duration_s=round(sum(c.duration_s for c in members), 4),
                detail=worst.detail,
                target=target,
                reproducer=reproducer,
                expectation=worst.expectation,
                cases=[{"case": c.case, "outcome": c.outcome, "detail": c.detail} for c in members]
                if len(members) > 1 or members[0].case
                else [],
            )
        )
    return results


def write_jsonl(path: Path, results: Iterable[CheckResult]) -> None:
    path.write_text("".join(result.to_json() + "\n" for result in results), encoding="utf-8")


def read_jsonl(path: Path) -> list[CheckResult]:
    """Read a results stream back; a damaged line raises ValueError naming the line."""
    results = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            results.append(CheckResult(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a results line ({exc})") from None
    return results
