"""`starfish-conformance run` end to end, as CI calls it: real servers on 127.0.0.1, real exit statuses."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.targets.base import free_port

CLI = [sys.executable, "-m", "conformance"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def results(output: Path) -> dict[str, dict]:
    lines = (output / "results.jsonl").read_text().splitlines()
    return {entry["id"]: entry for entry in map(json.loads, lines)}


@pytest.fixture
def served() -> Iterator[str]:
    """A reference server started separately, as a user would, for url: targets."""
    process = subprocess.Popen([*CLI, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_run_against_reference_writes_every_output(tmp_path: Path):
    done = run("run", "--check", "sync.health.*", "--check", "sync.push.first-*", "--output", str(tmp_path), "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in tmp_path.iterdir()} >= {"results.jsonl", "junit.xml", "summary.md", "report.html",
                                                    "run.json"}
    found = results(tmp_path)
    assert set(found) == {"sync.health.ok", "sync.push.first-null-basehash"}
    assert all(entry["outcome"] == "pass" and entry["target"] == "reference" for entry in found.values())
    assert "2 checks: 2 pass" in done.stdout
    assert "<testcase" in (tmp_path / "junit.xml").read_text()


def test_run_against_a_url_target(tmp_path: Path, served: str):
    done = run("run", "--target", f"url:{served}", "--check", "sync.push.*", "--output", str(tmp_path), "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    found = results(tmp_path)
    assert found and all(entry["outcome"] == "pass" for entry in found.values())


def test_run_against_a_process_target(tmp_path: Path):
    command = f"{shlex.quote(sys.executable)} -m conformance serve --port $PORT --prefix $STARFISH_PREFIX " \
              f"--config $STARFISH_CONFIG"
    spec = f"process:sh -c {shlex.quote(command)}"
    done = run("run", "--target", spec, "--check", "sync.health.ok", "--output", str(tmp_path), "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert results(tmp_path)["sync.health.ok"]["outcome"] == "pass"


def test_unreachable_target_is_a_harness_error_not_a_failure(tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = run("run", "--target", f"url:{url}", "--check", "sync.health.ok", "--output", str(tmp_path), "-q")
    assert done.returncode == 3, done.stdout + done.stderr
    entry = results(tmp_path)["sync.health.ok"]
    assert entry["outcome"] == "error" and "did not answer" in entry["detail"]


def test_unknown_target_is_a_one_line_usage_error():
    done = run("run", "--target", "ftp://nowhere")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "unknown target" in done.stderr
    assert "Traceback" not in done.stderr


def test_expectations_mark_stale_and_skip(tmp_path: Path):
    expectations = tmp_path / "impl.toml"
    expectations.write_text(
        '[[expectation]]\ncheck = "sync.health.ok"\nstatus = "xfail"\nreason = "pretend it fails"\n\n'
        '[[expectation]]\ncheck = "sync.push.first-null-basehash"\nstatus = "skip"\nreason = "not applicable"\n'
    )
    output = tmp_path / "out"
    done = run("run", "--check", "sync.health.ok", "--check", "sync.push.first-null-basehash",
               "--expectations", str(expectations), "--output", str(output), "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    found = results(output)
    assert found["sync.health.ok"]["outcome"] == "stale"
    assert found["sync.push.first-null-basehash"]["outcome"] == "skip"
    assert "not applicable" in found["sync.push.first-null-basehash"]["detail"]


def test_bad_expectations_file_is_a_usage_error(tmp_path: Path):
    expectations = tmp_path / "impl.toml"
    expectations.write_text('[[expectation]]\ncheck = "a.b"\nstatus = "sometimes"\nreason = "r"\n')
    done = run("run", "--check", "sync.health.ok", "--expectations", str(expectations), "--output",
               str(tmp_path / "o"))
    assert done.returncode != 0
    assert "`status` must be one of" in done.stdout + done.stderr


def test_list_names_every_check():
    done = run("run", "--list")
    assert done.returncode == 0, done.stderr
    assert "sync.health.ok" in done.stdout and done.stdout.strip().endswith("checks")


def test_profile_commands():
    path = run("profile", "path").stdout.strip()
    assert Path(path).is_file()
    shown = json.loads(run("profile", "show").stdout)
    assert shown["version"] == 1 and shown["collections"]


def test_parallel_run_gives_the_same_result(tmp_path: Path):
    """Checks are independent: two xdist workers give exactly the serial outcomes."""
    serial = run("run", "--output", str(tmp_path / "serial"), "-q", "--check", "sync.*", "--check", "auth.sig.*",
                 "--check", "append.pull.*")
    parallel = run("run", "--output", str(tmp_path / "parallel"), "-q", "-n", "2", "--check", "sync.*",
                   "--check", "auth.sig.*", "--check", "append.pull.*")
    assert serial.returncode == parallel.returncode == 0, serial.stdout[-2000:] + parallel.stdout[-2000:]
    outcomes = {name: {i: e["outcome"] for i, e in results(tmp_path / name).items()} for name in ("serial", "parallel")}
    assert outcomes["serial"] == outcomes["parallel"]
    assert len(outcomes["serial"]) > 40
