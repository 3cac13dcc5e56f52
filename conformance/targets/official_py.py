"""The official Python server (PyPI `starfish-server`) in a virtualenv the harness manages.

Why its own environment: the official server pins its own FastAPI/pydantic/httpx world, and the
harness must test exactly what a user installs from the registry, without either side's
dependencies leaking into the other. The environment is created on first use under the cache
folder and reused after; a stamp file marks a complete install, so an interrupted install is
redone rather than half-used.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEFAULT_VERSION = "3.0.0a72"
LAUNCHER = Path(__file__).parent / "launchers" / "starfish_server_py.py"


class OfficialServerSetupError(RuntimeError):
    """The official server's environment could not be prepared; the message says what to do."""


def cache_root() -> Path:
    base = os.environ.get("STARFISH_CONFORMANCE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "starfish-conformance"
    )
    return Path(base)


def requirements(version: str) -> list[str]:
    # httpx<1: with pre-releases allowed, pip picks httpx 1.0.dev6, which breaks the official packages.
    return [f"starfish-server=={version}", f"starfish-protocol=={version}", "httpx<1", "uvicorn[standard]"]


def ensure_env(version: str = DEFAULT_VERSION, *, quiet: bool = True) -> Path:
    """Return the interpreter of a ready environment for `starfish-server==version`, creating it if needed."""
    env_dir = cache_root() / "venvs" / f"starfish-server-py-{version}"
    python = env_dir / "bin" / "python"
    stamp = env_dir / ".complete"
    if stamp.exists() and python.exists():
        return python
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(env_dir)],
        [str(python), "-m", "pip", "install", *(["--quiet"] if quiet else []), *requirements(version)],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise OfficialServerSetupError(
                f"could not install starfish-server=={version} into {env_dir}: {tail[0]} "
                f"(check that the version exists on PyPI and that the registry is reachable)"
            )
    stamp.write_text(version + "\n")
    return python
