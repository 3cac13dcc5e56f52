"""What a check is: a stable id, a level, the rule it checks and where that rule comes from.

Checks are pytest tests marked with `@check(...)`. The id is the public name of the rule
(`sync.push.stale-basehash-409`): grouped by area (the first segment), stable across releases, and
what expectations files, reports and `--check` refer to. Parametrised cases share one id.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import pytest

MUST = "MUST"  # the protocol breaks without it
SHOULD = "SHOULD"  # security or interop hardening
INFO = "INFO"  # measured and reported, never failing
LEVELS = (MUST, SHOULD, INFO)

MARKER = "starfish_check"
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+")


@dataclass(frozen=True)
class Check:
    id: str
    level: str
    rule: str
    source: str

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "area": self.area}


def check(id: str, *, level: str, rule: str, source: str) -> pytest.MarkDecorator:
    """Mark a test as the conformance check `id`. `source` names the digest section, vector file or README line."""
    if not _ID.fullmatch(id):
        raise ValueError(f"check id {id!r} must be dotted lowercase words like 'auth.nonce.replay-rejected'")
    if level not in LEVELS:
        raise ValueError(f"check {id}: level must be one of {LEVELS}")
    if not rule.strip() or not source.strip():
        raise ValueError(f"check {id}: rule and source are required")
    return getattr(pytest.mark, MARKER)(Check(id, level, rule.strip(), source.strip()))


def check_of(item: pytest.Item) -> Check | None:
    marker = item.get_closest_marker(MARKER)
    return marker.args[0] if marker is not None else None
