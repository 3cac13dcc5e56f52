"""`starfish-conformance compare`: the matrix of several runs, from small synthetic results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.compare import CompareError, compare
from reports import results as R


def _run(folder: Path, target: str, spec: str, outcomes: dict[str, str], expectation_link: str = "") -> Path:
    folder.mkdir(parents=True)
    cases = []
    for check_id, outcome in outcomes.items():
        expectation = {"status": "xfail", "reason": "known", "link": expectation_link, "expires": ""} \
            if outcome == R.XFAIL else None
        cases.append(R.CaseResult(check_id=check_id, level="MUST", area=check_id.split(".")[0], rule=f"rule {check_id}",
                                  source="s", nodeid=f"n::{check_id}", case="", outcome=outcome, duration_s=0.01,
                                  detail="AssertionError: boom" if outcome != R.PASS else "",
                                  expectation=expectation))
    R.write_jsonl(folder / "results.jsonl", R.fold(cases, target=target, target_spec=spec))
    (folder / "run.json").write_text(json.dumps({"target": target, "spec": spec}))
    return folder


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [
        _run(tmp_path / "ref", "reference", "reference",
             {"sync.a": R.PASS, "sync.b": R.PASS, "auth.c": R.PASS, "auth.d": R.SKIP}),
        _run(tmp_path / "py", "starfish-server-py", "starfish-server-py@3.0.0a72",
             {"sync.a": R.PASS, "sync.b": R.FAIL, "auth.c": R.XFAIL, "auth.d": R.ERROR},
             expectation_link="docs/findings.md#public-fast-path"),
        _run(tmp_path / "img", "reference", "image:localhost/starfish-conformance/reference",
             {"sync.a": R.PASS, "sync.b": R.STALE}),
    ]


def test_matrix_rows_columns_cells_and_scores(runs: list[Path], tmp_path: Path) -> None:
    html_path, md_path, matrix = compare(runs, tmp_path / "out")
    assert [r.label for r in matrix.runs] == ["reference", "starfish-server-py", "reference (container)"]
    assert [c[0] for c in matrix.checks] == ["auth.c", "auth.d", "sync.a", "sync.b"]
    ref, py, img = matrix.runs
    assert matrix.score(ref) == (3, 3)  # skips are not counted
    assert matrix.score(py, "sync") == (1, 2) and matrix.score(py, "auth") == (0, 2)
    assert matrix.score(img, "auth") == (0, 0)
    md = md_path.read_text()
    assert "| `sync.b` | MUST | pass | [**fail**](../py/report.html#check-sync.b) | [**stale**](" in md
    assert "[expected-fail](../../../" in md or "expected-fail](" in md
    assert "| `auth.d` | MUST | skip | [**error**](../py/report.html#check-auth.d) | — |" in md
    assert "starfish-conformance run --target starfish-server-py@3.0.0a72 --check sync.b" in md
    assert "| auth | 1/1 (100%) | 0/2 (0%) | — |" in md
    html = html_path.read_text()
    assert "findings.md#public-fast-path" in html
    assert "class='c fail'" in html and "class='c xfail'" in html and "reference (container)" in html


def test_expected_failure_links_to_the_finding(runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    _, md_path, _ = compare(runs, out)
    line = next(line for line in md_path.read_text().splitlines() if line.startswith("| `auth.c`"))
    assert "docs/findings.md#public-fast-path" in line


def test_a_folder_without_results_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompareError, match=r"empty: no results\.jsonl"):
        compare([tmp_path / "empty"], tmp_path / "out")


def test_command_line(runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *map(str, runs), "--output", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "starfish-server-py" in out and "matrix:" in out
    assert (tmp_path / "cli" / "matrix.html").is_file() and (tmp_path / "cli" / "matrix.md").is_file()
    assert main(["compare", str(tmp_path / "nope"), "--output", str(tmp_path / "x")]) == 2
