"""The outcome of replaying one vector case, shared by every family, the driver and the reports.

Why a closed set of outcomes: CI needs to tell "our kit disagrees with the file" (FAIL) apart from
"the file is from an older protocol generation" and "the case needs a live server", and only the
first kinds may fail a run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

PASS = "pass"
FAIL = "FAIL"
STALE = "stale generation"
UNKNOWN = "unknown family"
NEEDS_TARGET = "needs a target"
ERROR = "error"

OUTCOMES = (PASS, FAIL, STALE, UNKNOWN, NEEDS_TARGET, ERROR)

# Outcomes that do not make `vectors verify` exit non-zero.
NON_FAILING = frozenset({PASS, NEEDS_TARGET})


@dataclass(frozen=True)
class CaseResult:
    """One row of the verify report: which file and case, what happened, and why."""

    file: str
    family: str
    case_id: str
    outcome: str
    detail: str = ""

    def ok(self) -> bool:
        """True when this row does not fail the run (a pass, or a case that needs a live server)."""
        return self.outcome in NON_FAILING

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def case_result(family: str, case_id: str, outcome: str, detail: str = "") -> CaseResult:
    """A result whose `file` the replay driver fills in (families do not know their file name)."""
    return CaseResult(file="", family=family, case_id=case_id, outcome=outcome, detail=detail)
