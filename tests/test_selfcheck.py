"""The self-check itself: the fault registry, `selfcheck` killing and missing mutants, and the guarantee that
faults are unreachable from the normal server (`serve`, requests, environment)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import build_parser, main
from conformance.targets import parse_target
from conformance.targets.base import TargetError
from conformance.targets.mutant import MutantTarget
from reference_server.cli import build_app
from reference_server.faults import _UNBOUND_FIELD as UNBOUND_FIELD
from reference_server.faults import BATTERY, FAULTS, NO_FAULTS, Faults, UnknownFault
from tests.refserver_support import ServerThread, fresh

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "reference_server"
ISSUE_8_AREAS = {"signing", "skew", "nonce", "revocation", "scope", "identity", "roles", "basehash", "hash", "etag",
                 "append", "checkpoint", "last-limit", "chunking", "max-items", "list", "body-limits",
                 "content-types", "error-bodies", "robustness"}


def _check_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "conformance" / "suite").glob("test_*.py"):
        ids.update(re.findall(r'@check\(\s*"([a-z0-9.-]+)"', path.read_text()))
    return ids


# ----------------------------------------------------------------------------------------------- registry


def test_battery_covers_every_area_with_forty_faults():
    assert len(BATTERY) >= 40
    assert {fault.area for fault in BATTERY} >= ISSUE_8_AREAS
    signing = {fault.name for fault in BATTERY if fault.oracle}
    assert len(signing) == 8, "one sig-*-unbound fault per canonical-input field: m, p, prefix, query, b, h, ts, nonce"


def test_every_fault_lists_existing_checks_and_has_a_hook():
    ids = _check_ids()
    hooks = "\n".join(path.read_text() for path in SERVER.rglob("*.py"))
    for fault in FAULTS.values():
        assert fault.description and fault.killed_by, fault.name
        for pattern in fault.killed_by:
            assert any(re.fullmatch(pattern.replace(".", r"\.").replace("*", ".*"), i) for i in ids), \
                f"{fault.name}: {pattern} names no check"
        if fault.battery:
            assert re.search(rf'\.on\(\s*"{re.escape(fault.name)}"\)', hooks) or fault.name in UNBOUND_FIELD, \
                f"{fault.name} has no hook in the server"


def test_faults_are_validated_and_immutable():
    with pytest.raises(UnknownFault):
        Faults(["no-such-fault"])
    with pytest.raises(UnknownFault):
        NO_FAULTS.on("no-such-fault")  # a typo in a hook fails loudly
    faults = Faults(["skew-widened"])
    assert faults.on("skew-widened") and not faults.on("skew-narrowed") and not NO_FAULTS
    with pytest.raises(AttributeError):
        faults.extra = 1  # type: ignore[attr-defined]
    assert isinstance(faults.names, frozenset)


def test_relevant_checks_per_scope():
    from conformance.selfcheck import relevant_checks

    expected = ("auth.sig.ts-bound", "auth.attack.replay-to-other-host", "sync.push.*-409", "list.pagination")
    assert relevant_checks(expected) == ["auth.attack.*", "auth.sig.*", "list.*", "sync.push.*"]
    assert relevant_checks(expected, "areas") == ["auth.*", "list.*", "sync.*"]
    assert relevant_checks(expected, "full") == []
    assert relevant_checks(("auth.*-401",)) == ["auth.*"]


def test_mutant_target_spec():
    target = parse_target("mutant:skew-widened")
    assert isinstance(target, MutantTarget) and target.name == "mutant-skew-widened" and not target.needs_oracle
    assert parse_target("mutant:sig-ts-unbound").needs_oracle
    with pytest.raises(TargetError):
        parse_target("mutant:no-such-fault")


# ------------------------------------------------------------------ unreachable from the normal server


def test_serve_has_no_way_to_switch_faults_on(capsys):
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    assert not [a for a in serve._actions if "fault" in " ".join(a.option_strings) + (a.dest or "")]
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--fault", "skew-widened"])
    assert exc.value.code == 2
    args = serve.parse_args([])
    app = build_app(args)
    try:
        assert app.faults is NO_FAULTS and not app.faults and app.auth.faults is NO_FAULTS
    finally:
        app.store.close()


def test_only_the_mutant_entry_point_builds_faults():
    builders = []
    for path in [*SERVER.rglob("*.py"), *(ROOT / "conformance").rglob("*.py")]:
        text = path.read_text()
        if re.search(r"\bFaults\(", text) and path.name != "faults.py":
            builders.append(path.relative_to(ROOT).as_posix())
        if path.parent == SERVER:
            assert not re.search(r"os\.environ|getenv", text), f"{path.name} reads the environment"
    assert builders == ["reference_server/mutant.py"]


def test_no_request_reaches_a_fault():
    """Fault names in headers, query or body change nothing: a 301 s old request stays 401."""
    from conformance.client import StarfishClient
    from conformance.identities import root_device, scope
    from protocol.signing import now_ms

    server = ServerThread()
    try:
        assert not server.app.faults
        with StarfishClient(server.url) as client:
            device = root_device(scope(["shared"], ["read", "write"]))
            path = f"shared/{fresh()}"
            headers = {"X-Starfish-Fault": "skew-widened", "X-Fault": "basehash-ignored"}
            assert client.push(path, {"v": 1}, device=device, headers=headers).status_code == 200
            stale = client.pull(path, device=device, ts_ms=now_ms() - 301_000, headers=headers,
                                query={"fault": "skew-widened", "faults": "skew-widened"})
            assert stale.status_code == 401
            conflict = client.push(path, {"v": 2}, device=device, headers=headers)
            assert conflict.status_code == 409
    finally:
        server.stop()


def test_mutant_entry_point_refuses_unknown_faults():
    done = subprocess.run([sys.executable, "-m", "reference_server.mutant", "--fault", "no-such-fault"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown fault" in done.stderr


# ------------------------------------------------------------------------------------- the command


def _selfcheck(tmp_path: Path, *mutants: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    argv = [sys.executable, "-m", "conformance", "selfcheck", "--jobs", "2", "--output", str(tmp_path)]
    for name in mutants:
        argv += ["--mutant", name]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return done, json.loads((tmp_path / "selfcheck.json").read_text())


def test_selfcheck_kills_a_mutant_and_exits_0(tmp_path):
    done, summary = _selfcheck(tmp_path, "config-snake-case")
    assert done.returncode == 0, done.stdout + done.stderr
    [mutant] = summary["mutants"]
    assert mutant["status"] == "killed" and mutant["killers"] == ["config.append-only-camelcase"]
    assert summary["kill_rate"] == 100.0 and summary["clean"]["passed"]
    assert (tmp_path / "mutants" / "config-snake-case" / "results.jsonl").is_file()
    assert (tmp_path / "mutants" / "config-snake-case" / "report.html").is_file()
    assert "killed" in (tmp_path / "selfcheck.html").read_text()
    assert "1 mutants: 1 killed" in done.stdout


def test_a_fault_that_changes_nothing_survives_and_fails_the_selfcheck(tmp_path):
    done, summary = _selfcheck(tmp_path, "selftest-noop")
    assert done.returncode == 1, done.stdout + done.stderr
    [mutant] = summary["mutants"]
    assert mutant["status"] == "survived" and mutant["killers"] == []
    assert summary["kill_rate"] == 0.0 and summary["survived"] == 1
    assert "SURVIVED selftest-noop" in done.stdout
    assert "Survivors and errors (1)" in (tmp_path / "selfcheck.html").read_text()


def test_selfcheck_usage_errors(capsys):
    assert main(["selfcheck", "--mutant", "no-such-fault"]) == 2
    assert "unknown fault" in capsys.readouterr().err
    assert main(["selfcheck", "--jobs", "0"]) == 2
    assert main(["selfcheck", "--list"]) == 0
    assert f"{len(BATTERY)} faults in the battery" in capsys.readouterr().out
