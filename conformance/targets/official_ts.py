"""`starfish-server-ts[@VERSION]`: the official TypeScript server (npm `@drakkar.software/starfish-server`).

The launcher (`launchers/ts/server.mjs`) and its `package.json` + `package-lock.json` are committed
with exact pins. On first use they are copied into a cache folder and installed there with `npm ci`
(the lockfile decides every transitive version). Another version (`starfish-server-ts@3.0.0-alpha.64`)
gets the same pins for hono and @hono/node-server, the server and protocol packages at that version,
and `npm install` (no committed lockfile exists for it; the generated one is kept in the cache folder).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from conformance.targets.base import RunningTarget, TargetError
from conformance.targets.official_py import OfficialServerSetupError, cache_root, check_version, install_lock
from conformance.targets.process import ProcessTarget

NAME = "starfish-server-ts"
DEFAULT_VERSION = "3.0.0-alpha.65"
LAUNCHER_DIR = Path(__file__).parent / "launchers" / "ts"
PACKAGES = ("@drakkar.software/starfish-server", "@drakkar.software/starfish-protocol",
            "@drakkar.software/starfish-sharing")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise OfficialServerSetupError(
            f"{NAME} needs {name} (Node.js 20 or later) on PATH; install it, e.g. `apt-get install -y nodejs npm`")
    return path


def _npm_error(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for marker in ("No matching version", "404 Not Found", "ETARGET", "E404"):
        for line in lines:
            if marker in line:
                return line.removeprefix("npm error ").removeprefix("npm ERR! ").removeprefix("notarget ")
    errors = [line for line in lines if line.startswith(("npm error", "npm ERR!"))]
    return (errors[0] if errors else lines[-1] if lines else "(no output)").removeprefix("npm error ")


def ensure_install(version: str = DEFAULT_VERSION) -> Path:
    """A folder holding server.mjs and an installed node_modules for `version`; installed on first use."""
    check_version(NAME, version, DEFAULT_VERSION)
    node, npm = _tool("node"), _tool("npm")
    del node
    folder = cache_root() / "node" / f"starfish-server-ts-{version}"
    stamp = folder / ".complete"
    launcher = (LAUNCHER_DIR / "server.mjs").read_bytes()
    manifest = json.loads((LAUNCHER_DIR / "package.json").read_text())
    for package in PACKAGES:
        manifest["dependencies"][package] = version
    expected = json.dumps(manifest, indent=2) + "\n"
    if stamp.exists() and (folder / "package.json").read_text() == expected:
        (folder / "server.mjs").write_bytes(launcher)  # launcher edits apply without a reinstall
        return folder
    with install_lock(cache_root() / "locks" / f"starfish-server-ts-{version}.lock"):
        if stamp.exists() and (folder / "package.json").read_text() == expected:
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(expected)
        if version == DEFAULT_VERSION:
            shutil.copy(LAUNCHER_DIR / "package-lock.json", folder / "package-lock.json")
            command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        else:
            command = [npm, "install", "--save-exact", "--no-audit", "--no-fund", "--loglevel=error"]
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        if result.returncode != 0:
            raise OfficialServerSetupError(
                f"could not install @drakkar.software/starfish-server@{version} into {folder}: "
                f"{_npm_error(result.stderr or result.stdout)} "
                f"(check that the version exists on npm and that the registry is reachable)")
        (folder / "server.mjs").write_bytes(launcher)
        stamp.write_text(version + "\n")
    return folder


class OfficialTypeScriptTarget(ProcessTarget):
    """The official TypeScript server as a process: Node running our launcher from the cache folder."""

    def __init__(self, version: str = DEFAULT_VERSION, *, env: dict[str, str] | None = None) -> None:
        self.version = check_version(NAME, version, DEFAULT_VERSION)
        super().__init__(["node"], spec=f"{NAME}@{self.version}", name=NAME, env=env, ready_timeout_s=60.0)

    def preflight(self) -> None:
        ensure_install(self.version)

    def start(self, workdir: Path) -> RunningTarget:
        folder = ensure_install(self.version)
        self.command = [_tool("node"), str(folder / "server.mjs")]
        running = super().start(workdir)
        running.details.update({"implementation": NAME, "version": self.version, "blob_signing": "empty-body"})
        return running


__all__ = ["DEFAULT_VERSION", "NAME", "OfficialTypeScriptTarget", "TargetError", "ensure_install"]
