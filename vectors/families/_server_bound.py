"""Shared replay for families that describe server behaviour: each case needs a live target.

The offline replayer cannot judge them, so every case is listed as "needs a target" (which does
not fail the run) with a short summary of what the case expects; the conformance suite replays them
against a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vectors.families._common import case_id
from vectors.results import NEEDS_TARGET, CaseResult, case_result


def needs_target(family: str, cases: Iterable[tuple[str, int, Any, str]]) -> list[CaseResult]:
    """`cases` are (section, index, case, summary) tuples."""
    return [
        case_result(family, case_id(section, index, item), NEEDS_TARGET, summary[:120])
        for section, index, item, summary in cases
    ]
