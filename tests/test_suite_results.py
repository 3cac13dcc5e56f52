"""The results stream, the gate and expectations files: the parts of a run that CI reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conformance.expectations import ExpectationsError, load
from conformance.plugin import gate
from reports import results as R


def case(check_id: str, outcome: str, level: str = "MUST", case_id: str = "", detail: str = "") -> R.CaseResult:
    return R.CaseResult(check_id=check_id, level=level, area=check_id.split(".")[0], rule="r", source="s",
                        nodeid=f"x::{check_id}[{case_id}]", case=case_id, outcome=outcome, duration_s=0.01,
                        detail=detail)


def test_fold_keeps_one_line_per_check_with_the_worst_case():
    folded = R.fold([case("a.b", "pass", case_id="1"), case("a.b", "fail", case_id="2", detail="boom"),
                     case("a.c", "pass")], target="t", target_spec="reference")
    assert [r.id for r in folded] == ["a.b", "a.c"]
    assert folded[0].outcome == "fail" and folded[0].detail == "boom"
    assert [c["outcome"] for c in folded[0].cases] == ["pass", "fail"]
    assert folded[0].reproducer["command"] == "starfish-conformance run --target reference --check a.b"
    assert folded[1].reproducer is None and folded[1].cases == []


def test_jsonl_round_trip(tmp_path: Path):
    folded = R.fold([case("a.b", "pass"), case("a.c", "error", detail="harness")], target="t", target_spec="s")
    R.write_jsonl(tmp_path / "results.jsonl", folded)
    assert R.read_jsonl(tmp_path / "results.jsonl") == folded


def test_damaged_results_line_is_named(tmp_path: Path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"id": "a.b"}\n')
    with pytest.raises(ValueError, match=r"results\.jsonl:1"):
        R.read_jsonl(path)


@pytest.mark.parametrize(
    ("outcomes", "level", "expected"),
    [
        ([("MUST", "pass"), ("SHOULD", "pass")], "should", 0),
        ([("MUST", "fail")], "should", 1),
        ([("SHOULD", "fail")], "should", 1),
        ([("SHOULD", "fail")], "must", 0),
        ([("MUST", "xfail"), ("SHOULD", "stale")], "should", 0),
        ([("MUST", "error")], "should", 3),
        ([("MUST", "fail"), ("MUST", "error")], "should", 1),
        ([("INFO", "info")], "should", 0),
    ],
)
def test_gate(outcomes, level, expected):
    folded = R.fold([case(f"a.c{i}", o, level=lv) for i, (lv, o) in enumerate(outcomes)], target="t", target_spec="s")
    assert gate(folded, level) == expected


def test_expectations_load(tmp_path: Path):
    path = tmp_path / "impl.toml"
    path.write_text('[[expectation]]\ncheck = "auth.public.*"\nstatus = "xfail"\nreason = "ignores auth"\n'
                    'link = "docs/findings.md#x"\nexpires = 2000-01-01\n')
    [expectation] = load(path)
    assert expectation.matches("auth.public.garbage-cap") and not expectation.matches("auth.nonce.replay")
    assert expectation.expired(dt.date(2000, 1, 2)) and not expectation.expired(dt.date(2000, 1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[expectation]]\nstatus = 'xfail'\nreason = 'r'\n", "`check`"),
        ("[[expectation]]\ncheck = 'a.b'\nstatus = 'maybe'\nreason = 'r'\n", "`status`"),
        ("[[expectation]]\ncheck = 'a.b'\nstatus = 'skip'\n", "`reason`"),
        ("[[expectation]]\ncheck = 'a.b'\nstatus = 'skip'\nreason = 'r'\nexpires = 'soon'\n", "TOML date"),
        ("[[expectation]]\ncheck = 'a.b'\nstatus = 'skip'\nreason = 'r'\nowner = 'me'\n", "unknown keys owner"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_expectations_are_named(tmp_path: Path, text: str, message: str):
    path = tmp_path / "impl.toml"
    path.write_text(text)
    with pytest.raises(ExpectationsError, match=message):
        load(path)


def test_a_check_with_one_expected_failure_case_is_xfail_not_stale():
    folded = R.fold([case("a.b", "stale", case_id="1"), case("a.b", "xfail", case_id="2", detail="known"),
                     case("a.c", "stale", case_id="1"), case("a.c", "stale", case_id="2")], target="t",
                    target_spec="s")
    assert [r.outcome for r in folded] == ["xfail", "stale"]
    assert [c["outcome"] for c in folded[0].cases] == ["pass", "xfail"]
