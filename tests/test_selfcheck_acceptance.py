"""Issue 4 acceptance: no check is unable to fail.

For checks across every area of the suite, a deliberately broken reference server (one rule disabled,
reference_server/faults.py) is started and the check's group is run against it (`--check auth.skew.*`
for `auth.skew.301s-rejected`): exactly the expected check fails and every other check of the group
passes. The clean reference server passes the same groups. One `starfish-conformance selfcheck` run does
all of it (the mutants share one warmed-up harness process). `selfcheck --scope areas` runs whole areas
instead; the same cases hold there too, at twice the cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reference_server.faults import FAULTS
from reports.results import read_jsonl

ROOT = Path(__file__).resolve().parent.parent

# fault -> the only checks of its group (`auth.skew.*`, or the area for two-part ids) that fail against it.
CASES = {
    # sync: baseHash, hash canonicalisation, ETag
    "null-basehash-overwrites": {"sync.push.null-on-existing-409", "sync.push.absent-basehash-as-null"},
    "hash-keys-utf16": {"sync.hash.key-order-code-point"},
    "etag-loose-match": {"sync.etag.mismatch-200"},
    # append-only: ordering, last/limit
    "append-equal-ts-accepted": {"append.push.ts-not-monotonic-409"},
    "last-wins-over-limit": {"append.pull.limit-wins-over-last"},
    # auth: skew boundary, a signature field (simulated with the signature oracle), revocation, scope glob
    "skew-widened": {"auth.skew.301s-rejected"},
    "sig-ts-unbound": {"auth.sig.ts-bound"},
    "revocation-stale-generation": {"auth.revocation.stale-generation-rejected"},
    "scope-star-crosses-slash": {"auth.scope.path-star-one-segment"},
    # list, errors, collection modes, batch, config
    "list-sibling-prefix": {"list.other-groups-excluded"},
    "content-type-params-refused": {"errors.content-type.charset-accepted"},
    "pull-only-writable": {"modes.pull-only.push-405"},
    "batch-roles-ignored": {"batch.forbidden-entry", "batch.identity-from-caller"},
    "config-snake-case": {"config.append-only-camelcase"},
}


def test_cases_are_registered_faults_listing_their_checks():
    for name, expected in CASES.items():
        assert name in FAULTS, name
        assert expected <= set(FAULTS[name].killed_by), f"{name}: the registry must list {sorted(expected)}"
        assert len({check.split(".", 1)[0] for check in expected}) == 1, f"{name}: one area per case"


def test_each_broken_rule_fails_exactly_its_check(tmp_path):
    argv = [sys.executable, "-m", "conformance", "selfcheck", "--jobs", "2", "--scope", "groups", "--output",
            str(tmp_path)]
    for name in CASES:
        argv += ["--mutant", name]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    summary = json.loads((tmp_path / "selfcheck.json").read_text())
    assert summary["clean"]["passed"], f"the clean reference server must pass these areas: {summary['clean']}"
    areas = {check.split(".", 1)[0] for expected in CASES.values() for check in expected}
    clean = read_jsonl(tmp_path / "clean" / "results.jsonl")
    assert {r.area for r in clean} >= areas, "the clean run covers every area the mutants ran"

    clean_skipped = {r.id for r in clean if r.outcome == "skip"}
    problems = []
    for name, expected in CASES.items():
        results = read_jsonl(tmp_path / "mutants" / name / "results.jsonl")
        area = next(iter(expected)).split(".", 1)[0]
        ran = [r for r in results if r.area == area]  # the group(s) of the expected checks
        failed = {r.id for r in ran if r.outcome in ("fail", "error")}
        rest = [r for r in ran if r.id not in failed]
        if failed != expected:
            problems.append(f"{name}: expected exactly {sorted(expected)} to fail, got {sorted(failed)}")
        # The rest of the area passes; a skip is allowed only where the clean server's run skips it too.
        odd = [f"{r.id}={r.outcome}" for r in rest if r.outcome != "pass" and not (
            r.outcome == "skip" and r.id in clean_skipped)]
        if odd or not rest:
            problems.append(f"{name}: the other checks that ran must pass ({len(rest)} others: {odd})")
    assert not problems, "\n".join(problems) + f"\n{done.stdout[-2000:]}"
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert summary["kill_rate"] == 100.0 and summary["killed"] == len(CASES)
    page = (tmp_path / "selfcheck.html").read_text()
    assert "Mutant × area" in page and all(name in page for name in CASES)
