"""Family `protocol-push`: optimistic-concurrency push/pull scenarios (upstream protocol-push.json).

Shape: groups `pushConflict`, `pushSuccess`, `pushThenPull`, each a list of `{description,
documentKey, steps[{action, data, baseHash, expect}]}`. Server-bound: each scenario needs a target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vectors.families._server_bound import needs_target
from vectors.results import CaseResult

NAME = "protocol-push"
SERVER_BOUND = True
GROUPS = ("pushConflict", "pushSuccess", "pushThenPull")


def detect(doc: Any) -> bool:
    return isinstance(doc, Mapping) and any(isinstance(doc.get(group), list) for group in GROUPS)


def _summary(item: Any) -> str:
    if not isinstance(item, Mapping) or not isinstance(item.get("steps"), list):
        return "malformed scenario"
    return f"{len(item['steps'])} step(s) on {item.get('documentKey')!r}"


def replay(doc: Any) -> list[CaseResult]:
    cases = []
    for group in GROUPS:
        if isinstance(doc.get(group), list):
            cases += [(group, index, item, _summary(item)) for index, item in enumerate(doc[group])]
    return needs_target(NAME, cases)
