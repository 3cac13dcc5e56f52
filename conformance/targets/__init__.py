"""Targets: how the harness reaches a server under test.

`parse_target(spec)` turns a command-line target into a `Target`:
- `reference` (default): the embedded reference server on a free loopback port;
- `url:http://HOST:PORT/PREFIX`: an already running server;
- `process:'CMD'`: a command the harness starts with PORT, STARFISH_CONFIG and STARFISH_PREFIX set.
"""

from __future__ import annotations

from conformance.targets.base import RunningTarget, Target, TargetError
from conformance.targets.process import ProcessTarget
from conformance.targets.reference import ReferenceTarget
from conformance.targets.url import UrlTarget

__all__ = ["RunningTarget", "Target", "TargetError", "parse_target"]


def parse_target(spec: str) -> Target:
    """Build the target named by `spec`; raises TargetError with the accepted forms when it is unknown."""
    spec = spec.strip()
    if spec in ("", "reference"):
        return ReferenceTarget()
    if spec.startswith("url:"):
        return UrlTarget(spec.removeprefix("url:"))
    if spec.startswith("process:"):
        return ProcessTarget.from_spec(spec)
    raise TargetError(
        f"unknown target {spec!r}; use reference, url:http://HOST:PORT/PREFIX or process:'CMD'"
    )
