"""Targets: how the harness reaches a server under test.

`parse_target(spec)` turns a command-line target into a `Target`:
- `reference` (default): the embedded reference server on a free loopback port;
- `starfish-server-py[@VERSION]`: the official Python server (PyPI), in a harness-managed venv;
- `starfish-server-ts[@VERSION]`: the official TypeScript server (npm), installed with `npm ci`;
- `image:NAME[:TAG]`: a container image run through testcontainers (podman or Docker);
- `url:http://HOST:PORT/PREFIX`: an already running server;
- `process:'CMD'`: a command the harness starts with PORT, STARFISH_CONFIG and STARFISH_PREFIX set;
- `mutant:NAME[,NAME...]`: the reference server with deliberate faults (`starfish-conformance selfcheck`).
"""

from __future__ import annotations

from conformance.targets.base import RunningTarget, Target, TargetError
from conformance.targets.process import ProcessTarget
from conformance.targets.reference import ReferenceTarget
from conformance.targets.url import UrlTarget

__all__ = ["FORMS", "RunningTarget", "Target", "TargetError", "parse_target"]

FORMS = ("reference, starfish-server-py[@VERSION], starfish-server-ts[@VERSION], image:NAME[:TAG], "
         "url:http://HOST:PORT/PREFIX, process:'CMD' or mutant:FAULT")


def parse_target(spec: str) -> Target:
    """Build the target named by `spec`; raises TargetError with the accepted forms when it is unknown."""
    spec = spec.strip()
    if spec in ("", "reference"):
        return ReferenceTarget()
    if spec.startswith("url:"):
        return UrlTarget(spec.removeprefix("url:"))
    if spec.startswith("process:"):
        return ProcessTarget.from_spec(spec)
    if spec.startswith("mutant:"):
        from conformance.targets.mutant import MutantTarget

        return MutantTarget.from_spec(spec)
    if spec.startswith("image:"):
        from conformance.targets.container import ImageTarget

        return ImageTarget.from_spec(spec)
    name, sep, version = spec.partition("@")
    if sep and not version:
        raise TargetError(f"{spec!r}: give a version after '@', e.g. {name}@1.2.3, or leave '@' out")
    if name == "starfish-server-py":
        from conformance.targets.official_py import DEFAULT_VERSION, OfficialPythonTarget

        return OfficialPythonTarget(version or DEFAULT_VERSION)
    if name == "starfish-server-ts":
        from conformance.targets.official_ts import DEFAULT_VERSION as TS_DEFAULT
        from conformance.targets.official_ts import OfficialTypeScriptTarget

        return OfficialTypeScriptTarget(version or TS_DEFAULT)
    raise TargetError(f"unknown target {spec!r}; use {FORMS}")
