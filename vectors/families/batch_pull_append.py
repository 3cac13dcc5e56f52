"""Family `batch-pull-append`: bounded append-log reads through GET /batch/pull (upstream
batch-pull-append.json).

Shape: `collections` (server configs), `fixtures` (stored documents) and
`cases[{id, description, caller, capScope, collections, params, appendParams, expected |
expectedStatus}]`. Server-bound: each case needs a target configured with those collections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vectors.families._server_bound import needs_target
from vectors.results import CaseResult

NAME = "batch-pull-append"
SERVER_BOUND = True


def detect(doc: Any) -> bool:
    return (
        isinstance(doc, Mapping)
        and isinstance(doc.get("collections"), list)
        and isinstance(doc.get("fixtures"), Mapping)
        and isinstance(doc.get("cases"), list)
    )


def _summary(item: Any) -> str:
    if not isinstance(item, Mapping):
        return "malformed case"
    if "expectedStatus" in item:
        return f"expects HTTP {item['expectedStatus']}"
    return f"expects per-entry results for {', '.join(map(str, item.get('collections', [])))}"


def replay(doc: Any) -> list[CaseResult]:
    return needs_target(NAME, [("cases", index, item, _summary(item)) for index, item in enumerate(doc["cases"])])
