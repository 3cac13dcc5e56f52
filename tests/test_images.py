"""`starfish-conformance images`: the parts that need no engine (arguments, the wheelhouse hash, Containerfiles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import images
from conformance.cli import main


def test_wheelhouse_hash_follows_names_and_bytes(tmp_path: Path) -> None:
    (tmp_path / "a.whl").write_bytes(b"one")
    first = images.wheelhouse_hash(tmp_path)
    assert images.wheelhouse_hash(tmp_path) == first
    (tmp_path / "a.whl").write_bytes(b"two")
    assert images.wheelhouse_hash(tmp_path) != first


@pytest.mark.parametrize(("argv", "message"), [
    (["images", "build", "starfish-server-go"], "unknown implementation 'starfish-server-go'"),
    (["images", "build", "--version", "3.0.0a71"], "--version applies to one implementation"),
])
def test_usage_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("impl", images.IMPLEMENTATIONS)
def test_containerfiles_follow_the_contract(impl: str) -> None:
    text = (images.CONTAINERS / impl / "Containerfile").read_text()
    assert f"FROM {images.BASE_IMAGE}" in text
    assert "ENV PORT=8080 HOST=0.0.0.0 STARFISH_PREFIX=/v1 STARFISH_CONFIG=/etc/starfish/config.json" in text
    assert "EXPOSE 8080" in text and "org.starfish-conformance=1" in text
    if "--mount=type=bind,source=wheels" in text:
        assert "ARG WHEELHOUSE_HASH" in text and "${WHEELHOUSE_HASH}" in text  # a changed wheelhouse rebuilds
