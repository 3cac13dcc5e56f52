"""The official servers as targets: they install on first use (registries), start, and answer the contract.

The first run downloads `starfish-server` from PyPI into a virtualenv and `@drakkar.software/starfish-server`
from npm into a cache folder (about two minutes); later runs reuse both.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from conformance.targets import TargetError, parse_target
from conformance.targets import official_ts as TS

needs_node = pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                                reason="Node.js and npm are not on PATH")


@pytest.mark.parametrize("spec", ["starfish-server-py", pytest.param("starfish-server-ts", marks=needs_node)])
def test_official_server_starts_and_answers_the_contract(spec: str, tmp_path: Path) -> None:
    target = parse_target(spec)
    running = target.start(tmp_path)
    try:
        assert running.base_url.startswith("http://127.0.0.1:") and running.prefix == "/v1"
        assert running.details["blob_signing"] == "empty-body"
        health = httpx.get(f"{running.base_url}/health", timeout=5)
        assert health.status_code == 200 and health.json()["ok"] is True
        spec_doc = httpx.get(f"{running.base_url}/openapi.json", timeout=5).json()
        assert spec_doc["openapi"].startswith("3.") and spec_doc["paths"]
        config = httpx.get(f"{running.base_url}/config", timeout=5).json()
        assert "notes" in {c["name"] for c in config["collections"]}
    finally:
        target.stop()
        target.stop()  # safe twice
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{running.base_url}/health", timeout=2)


def test_a_version_that_does_not_exist_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARFISH_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(TargetError) as info:
        parse_target("starfish-server-py@0.0.0a999").start(tmp_path)
    message = str(info.value)
    assert "could not install starfish-server==0.0.0a999" in message and "\n" not in message


@needs_node
def test_a_ts_version_that_does_not_exist_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARFISH_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(TargetError) as info:
        parse_target("starfish-server-ts@0.0.0-alpha.999").start(tmp_path)
    message = str(info.value)
    assert "could not install @drakkar.software/starfish-server@0.0.0-alpha.999" in message
    assert "\n" not in message


def test_missing_node_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TS.shutil, "which", lambda name: None)
    with pytest.raises(TargetError, match=r"starfish-server-ts needs node \(Node.js 20 or later\) on PATH"):
        parse_target("starfish-server-ts").start(tmp_path)


def test_committed_lockfile_pins_exact_versions() -> None:
    import json

    lock = json.loads((TS.LAUNCHER_DIR / "package-lock.json").read_text())
    packages = lock["packages"]
    assert packages["node_modules/@drakkar.software/starfish-server"]["version"] == TS.DEFAULT_VERSION
    assert packages["node_modules/@drakkar.software/starfish-protocol"]["version"] == TS.DEFAULT_VERSION
    assert packages["node_modules/hono"]["version"] == "4.13.19"
    assert packages["node_modules/@hono/node-server"]["version"] == "2.1.8"
