"""image: targets without an engine: the error says what is missing and how to set it up."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.targets import TargetError, parse_target
from conformance.targets import container as C


def test_no_engine_error_names_the_socket_and_the_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    target = parse_target("image:localhost/starfish-conformance/reference")
    with pytest.raises(TargetError) as info:
        target.start(tmp_path)
    message = str(info.value)
    assert f"no container engine reachable at unix://{tmp_path}/missing.sock" in message
    assert "scripts/setup-podman.sh" in message and "DOCKER_HOST" in message
    assert "\n" not in message


def test_engine_environment_prefers_podman_socket_and_disables_ryuk(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    socket_path = tmp_path / "podman.sock"
    socket_path.touch()
    for name in ("DOCKER_HOST", "TESTCONTAINERS_RYUK_DISABLED", "TESTCONTAINERS_CONNECTION_MODE", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(C, "PODMAN_SOCKET", str(socket_path))
    env = C.engine_environment()
    assert env["DOCKER_HOST"] == f"unix://{socket_path}"
    assert env["TESTCONTAINERS_RYUK_DISABLED"] == "true"
    assert env["TESTCONTAINERS_CONNECTION_MODE"] == "docker_host"
    assert "127.0.0.1" in env["NO_PROXY"]


def test_an_explicit_docker_host_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.1:2375")
    assert C.engine_environment()["DOCKER_HOST"] == "tcp://10.0.0.1:2375"


class _FakeContainer:
    def __init__(self, owner: str) -> None:
        self.labels = {C.LABEL: "1", C.OWNER_LABEL: owner}
        self.short_id = owner
        self.removed = False

    def remove(self, force: bool = False) -> None:
        self.removed = True


def test_orphans_of_dead_runs_on_this_host_are_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import socket

    host = socket.gethostname()
    dead, alive, elsewhere = (_FakeContainer(f"{host}:999999999"), _FakeContainer(f"{host}:{os.getpid()}"),
                              _FakeContainer("other-host:1"))

    class Client:
        class containers:
            @staticmethod
            def list(all: bool, filters: dict[str, str]) -> list[_FakeContainer]:
                assert filters == {"label": C.LABEL}
                return [dead, alive, elsewhere]

    assert C.reap_orphans(Client()) == [dead.short_id]
    assert dead.removed and not alive.removed and not elsewhere.removed


def _engine_with(image: str) -> bool:
    try:
        client = C.engine_client()
        client.images.get(image)
        client.close()
        return True
    except Exception:
        return False


REFERENCE_IMAGE = "localhost/starfish-conformance/reference:latest"


@pytest.mark.skipif(not _engine_with(REFERENCE_IMAGE),
                    reason="no container engine with the reference image (scripts/setup-podman.sh, images build)")
def test_reference_image_starts_answers_and_is_removed(tmp_path: Path) -> None:
    import httpx

    target = parse_target(f"image:{REFERENCE_IMAGE}")
    running = target.start(tmp_path)
    container_id = running.details["container"]
    try:
        assert httpx.get(f"{running.base_url}/health", timeout=5).status_code == 200
        client = C.engine_client()
        labels = client.containers.get(container_id).labels
        assert labels[C.LABEL] == "1" and labels[C.OWNER_LABEL].endswith(f":{__import__('os').getpid()}")
    finally:
        target.stop()
    assert not [c for c in C.engine_client().containers.list(all=True) if c.short_id == container_id]


def test_run_stops_with_one_line_when_no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    code = main(["run", "--target", "image:localhost/starfish-conformance/reference", "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no container engine reachable" in err and "scripts/setup-podman.sh" in err
