"""`starfish-server-py[@VERSION]`: the official Python server (PyPI `starfish-server`) in a harness-managed venv.

Why its own environment: the official server pins its own FastAPI/pydantic/httpx world, and the
harness must test exactly what a user installs from the registry, without either side's
dependencies leaking into the other. The environment is created on first use under the cache
folder and reused after; a stamp file marks a complete install, so an interrupted install is
redone rather than half-used, and a file lock keeps parallel workers from installing twice.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.targets.base import RunningTarget, TargetError
from conformance.targets.process import ProcessTarget

NAME = "starfish-server-py"
DEFAULT_VERSION = "3.0.0a72"
LAUNCHER = Path(__file__).parent / "launchers" / "starfish_server_py.py"
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+-]*")


class OfficialServerSetupError(TargetError):
    """The official server's environment could not be prepared; the message says what to do."""


def cache_root() -> Path:
    base = os.environ.get("STARFISH_CONFORMANCE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "starfish-conformance"
    )
    return Path(base)


def check_version(name: str, version: str, example: str = DEFAULT_VERSION) -> str:
    """`version` as given, if it looks like a release number (it ends up in a pip or npm command line)."""
    if not _VERSION.fullmatch(version):
        raise TargetError(f"bad version in {name}@{version!r}: use a release number like {name}@{example}")
    return version


@contextmanager
def install_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (parallel xdist workers share one install)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def requirements(version: str) -> list[str]:
    # httpx<1: with pre-releases allowed, pip picks httpx 1.0.dev6, which breaks the official packages.
    # starfish-sharing: the plugin that makes the server accept member and audience caps (digest §5.13-5.14).
    # It imports starfish-sdk and starfish-keyring without pinning them; unpinned, pip picks starfish-sdk 2.3.0,
    # which cannot import against protocol 3.x, so every family package is pinned to the same version.
    family = ("starfish-server", "starfish-protocol", "starfish-sharing", "starfish-sdk", "starfish-keyring")
    return [*(f"{package}=={version}" for package in family), "httpx<1", "uvicorn[standard]"]


def _pip_error(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in lines:
        if line.startswith("ERROR:"):
            return line
    return lines[-1] if lines else "(no output)"


def ensure_env(version: str = DEFAULT_VERSION, *, quiet: bool = True) -> Path:
    """Return the interpreter of a ready environment for `starfish-server==version`, creating it if needed."""
    check_version(NAME, version)
    env_dir = cache_root() / "venvs" / f"starfish-server-py-{version}"
    python = env_dir / "bin" / "python"
    stamp = env_dir / ".complete"
    wanted = "\n".join(requirements(version)) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    with install_lock(cache_root() / "locks" / f"starfish-server-py-{version}.lock"):
        if python.exists() and stamp.exists() and stamp.read_text() == wanted:
            return python
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(env_dir)],
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", *(["--quiet"] if quiet else []),
             *requirements(version)],
        ]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                raise OfficialServerSetupError(
                    f"could not install starfish-server=={version} into {env_dir}: "
                    f"{_pip_error(result.stderr or result.stdout)} "
                    f"(check that the version exists on PyPI and that the registry is reachable)"
                )
        stamp.write_text(wanted)
    return python


class OfficialPythonTarget(ProcessTarget):
    """The official Python server as a process: its venv's interpreter running our launcher."""

    def __init__(self, version: str = DEFAULT_VERSION, *, env: dict[str, str] | None = None) -> None:
        self.version = check_version(NAME, version)
        super().__init__([sys.executable], spec=f"{NAME}@{self.version}", name=NAME, env=env, ready_timeout_s=60.0)

    def preflight(self) -> None:
        ensure_env(self.version)

    def start(self, workdir: Path) -> RunningTarget:
        python = ensure_env(self.version)
        self.command = [str(python), str(LAUNCHER)]
        running = super().start(workdir)
        running.details.update({"implementation": NAME, "version": self.version, "blob_signing": "empty-body"})
        return running
