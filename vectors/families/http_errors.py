"""Family `http-errors`: the error status and body per failure scenario (upstream http-errors.json).

Shape: `errors[{scenario, status, error}]`, the body being `{"error": error}`. Server-bound: every
scenario is listed as needing a target. (Two a72 differences are recorded in digest §6.3:
read_only_push / write_only_pull give 404, not 405, on the core server.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vectors.families._server_bound import needs_target
from vectors.results import CaseResult

NAME = "http-errors"
SERVER_BOUND = True


def detect(doc: Any) -> bool:
    errors = doc.get("errors") if isinstance(doc, Mapping) else None
    return isinstance(errors, list) and any(
        isinstance(e, Mapping) and "scenario" in e and "status" in e for e in errors
    )


def replay(doc: Any) -> list[CaseResult]:
    return needs_target(
        NAME,
        (
            (
                "errors",
                index,
                item,
                f"expects {item.get('status')} {item.get('error')!r}"
                if isinstance(item, Mapping)
                else "malformed entry",
            )
            for index, item in enumerate(doc["errors"])
        ),
    )
