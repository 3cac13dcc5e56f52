"""The load command end to end, a few seconds of load each: against the reference server every scenario
runs and the audit passes; against a server that drops one acknowledged write, the audit names it."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from conformance.cli import main

ROOT = Path(__file__).resolve().parent.parent
ALL = "push=1,append=1,append-chunked=1,pull=1,checkpoint-pull=1,conflict=1"


def _run(tmp_path: Path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    code = main(["load", "--output", str(out), *args])
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    return code, summary


def test_every_scenario_runs_and_the_audit_passes(tmp_path, capsys):
    code, summary = _run(tmp_path, "--scenario", "mixed", "--mix", ALL, "--users", "12", "--duration", "3s",
                         "--fail-if", "errors>0", "--fail-if", "lost>0")
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "lost writes: 0" in printed
    assert {"push", "append", "append-chunked", "pull", "checkpoint-pull", "conflict", "setup"} <= set(
        summary["by_name"])
    audit = summary["audit"]
    assert audit["ok"] and audit["lost_writes"] == 0 and audit["acknowledged_writes"] > 0
    assert audit["logs_checked"] == 3 and audit["documents_checked"] > 0
    assert summary["latency_ms"]["p99"] >= summary["latency_ms"]["p50"] > 0
    for name in ("report.html", "requests.csv", "timeseries.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 0


def test_open_model_reaches_its_rate_and_gates_fail_the_run(tmp_path, capsys):
    code, summary = _run(tmp_path, "--scenario", "pull", "--rate", "100", "--users", "8", "--duration", "3s",
                         "--fail-if", "p50<1000s")
    capsys.readouterr()
    assert code == 1  # the gate holds, so the run fails
    assert summary["model"] == "open" and summary["gates"][0]["failed"]
    assert 40 <= summary["by_name"]["pull"]["throughput_rps"] <= 130


def test_request_bound_ends_the_run(tmp_path, capsys):
    code, summary = _run(tmp_path, "--scenario", "append", "--users", "4", "--duration", "30s",
                         "--max-requests", "200")
    capsys.readouterr()
    assert code == 0
    assert 200 <= summary["requests"] <= 210 and summary["elapsed_s"] < 25


def _lossy(drop_at: int) -> str:
    return "process:" + shlex.join([sys.executable, str(ROOT / "tests" / "lossy_server.py")])


def test_the_audit_fails_when_the_server_drops_an_acknowledged_push(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOSSY_DROP_AT", "25")
    code, summary = _run(tmp_path, "--target", _lossy(25), "--scenario", "push", "--users", "4",
                         "--duration", "3s")
    printed = capsys.readouterr().out
    assert code == 1
    assert summary["audit"]["lost_writes"] == 1, summary["audit"]
    assert "lost writes: 1" in printed and "LOST: document shared/" in printed


def test_the_audit_fails_when_the_server_drops_an_acknowledged_append(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOSSY_DROP_AT", "40")
    code, summary = _run(tmp_path, "--target", _lossy(40), "--scenario", "append-chunked", "--users", "4",
                         "--duration", "3s")
    printed = capsys.readouterr().out
    assert code == 1
    assert summary["audit"]["lost_writes"] == 1, summary["audit"]
    assert "is not in the log" in printed


def test_nonce_cache_exhaustion_is_classified(tmp_path, capsys):
    serve = (f"exec {shlex.quote(sys.executable)} -m conformance serve --port $PORT --prefix $STARFISH_PREFIX "
             "--config $STARFISH_CONFIG --nonce-per-signer 40")
    target = "process:" + shlex.join(["sh", "-c", serve])
    code, summary = _run(tmp_path, "--target", target, "--scenario", "pull", "--users", "3", "--duration", "30s",
                         "--max-requests", "300", "--rotate-after", "100", "--fail-if", "401>0")
    capsys.readouterr()
    assert code == 1
    verdict = summary["auth_401"]
    assert verdict["classification"] == "nonce-cache exhaustion (per signer)", verdict
    assert verdict["per_signer_limit"] == 40


def test_distributed_mode_collects_every_workers_records(tmp_path, capsys):
    code, summary = _run(tmp_path, "--scenario", "mixed", "--mix", "append=1,push=1", "--users", "4",
                         "--workers", "2", "--duration", "4s")
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert summary["audit"]["acknowledged_writes"] == summary["status_counts"]["200"] > 0
    assert summary["run"]["workers"] == 2


def test_append_scaling_measures_both_variants_and_plots_the_curve(tmp_path, capsys):
    code, summary = _run(tmp_path, "--scenario", "append-scaling", "--users", "4", "--duration", "10s",
                         "--max-requests", "300")
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert set(summary["variants"]) == {"unchunked", "chunked (chunkSize 100)"}
    for variant in summary["variants"].values():
        assert variant["final_log_size"] == variant["requests"] > 0 and variant["audit"]["lost_writes"] == 0
    curve = summary["scaling"]["unchunked"]
    assert curve["size"] and len(curve["size"]) == len(curve["p99_ms"]) == len(curve["rps"])
    assert (tmp_path / "out" / "scaling.png").stat().st_size > 0 and (tmp_path / "out" / "scaling.csv").exists()
