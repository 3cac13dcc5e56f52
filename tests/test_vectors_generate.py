"""`starfish-conformance vectors generate`: (c) the committed files are current, (d) generation is
deterministic, and every generated file carries complete Wycheproof-style metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from vectors.generate import build_all
from vectors.jsonio import dumps_vector
from vectors.registry import detect_family, generated_families

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    assert main(["vectors", "generate", "--out", str(out)]) == 0
    return out


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _cases(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every case of a generated file, wherever its family keeps them."""
    found: list[dict[str, Any]] = []
    if "tcId" in doc:  # crypto.json: the top level is the primary case
        found.append(doc)
    for key, value in doc.items():
        if isinstance(value, list):
            found += [item for item in value if isinstance(item, dict) and "tcId" in item]
        elif isinstance(value, dict) and "tcId" in value:  # cap-cert named entries
            found.append(value)
        elif isinstance(value, dict) and isinstance(value.get("cases"), list) and key != "notes":
            found += value["cases"]
    return found


def test_committed_files_are_up_to_date(generated_dir: Path) -> None:
    fresh = sorted(p.name for p in generated_dir.glob("*.json"))
    assert fresh == sorted(p.name for p in VECTORS.glob("*.json"))
    stale = [name for name in fresh if (generated_dir / name).read_bytes() != (VECTORS / name).read_bytes()]
    assert stale == [], "run `starfish-conformance vectors generate` and commit the result"


def test_generation_is_deterministic(generated_dir: Path) -> None:
    again = {item.name: item.data for item in build_all()}
    assert again == {p.name: p.read_bytes() for p in generated_dir.glob("*.json")}


def test_check_mode(generated_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in generated_dir.glob("*.json"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    assert main(["vectors", "generate", "--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "hash.json").write_text("{}\n", encoding="utf-8")
    assert main(["vectors", "generate", "--check", "--out", str(tmp_path)]) == 1
    assert "out of date: " + str(tmp_path / "hash.json") in capsys.readouterr().out


def test_generate_refuses_missing_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vectors", "generate", "--out", str(tmp_path / "a" / "b")]) == 2
    assert "no such directory" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(p.name for p in VECTORS.glob("*.json")))
def test_file_format_and_metadata(name: str) -> None:
    text = (VECTORS / name).read_text(encoding="utf-8")
    doc = _load(VECTORS / name)
    assert dumps_vector(doc) == text  # indent=2, raw non-ASCII, escaped lone surrogates, trailing newline
    assert name == detect_family(doc).FILENAME
    assert doc["generatorVersion"] and doc["protocolVersion"] == "3.0.0a72"
    cases = _cases(doc)
    ids = [case["tcId"] for case in cases]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)
    used: set[str] = set()
    for case in cases:
        assert case["result"] in ("valid", "invalid")
        assert case["flags"] and len(case["flags"]) == len(set(case["flags"]))
        used.update(case["flags"])
        assert ("officialPython" in case) == ("OfficialPythonDiverges" in case["flags"])
        if "expectVerify" in case and "expectReason" not in case and "lookups" not in case:
            assert (case["result"] == "valid") == case["expectVerify"]
    assert set(doc["notes"]) == used
    assert all(set(note) == {"bugType", "description"} for note in doc["notes"].values())


def test_every_generated_family_has_a_file() -> None:
    assert {family.FILENAME for family in generated_families()} == {p.name for p in VECTORS.glob("*.json")}


def _by_label(name: str, section: str) -> dict[str, dict[str, Any]]:
    return {case["label"]: case for case in _load(VECTORS / name)[section]}


def test_canonical_json_traps_are_present() -> None:
    stable = _by_label("hash.json", "stableStringify")
    expected = {
        "fixed-at-1e-6": "0.000001",
        "exponent-at-1e-7": "1e-7",
        "exponent-at-1e21": "1e+21",
        "fixed-float-1e20": "100000000000000000000",
        "subnormal-5e-324": "5e-324",
        "negative-zero": "0",
        "two-pow-60": "1152921504606847000",
        "lone-high-surrogate": '"\\ud800"',
        "deep-nesting-objects-60": '{"a":' * 60 + "1" + "}" * 60,
        "utf16-sort-ffff-vs-emoji": '{"\uffff":1,"😀":2}',
        "utf16-sort-ff-ligature-vs-emoji": '{"ﬀ":2,"😀":1}',
        "line-separators-raw": '"a\u2028b\u2029c"',
    }
    assert {label: stable[label]["expected"] for label in expected} == expected
    assert stable["integral-floats"]["input"]["one"] == 1.0 and isinstance(
        stable["integral-floats"]["input"]["one"], float
    )


def test_cap_window_edges_are_present() -> None:
    doc = _load(VECTORS / "cap-cert.json")
    cert = doc["deviceCap"]["cert"]
    edges = {
        "windowNbfEdgeValid": (cert["nbf"] - 300, "ok"),
        "windowNbfEdgeInvalid": (cert["nbf"] - 301, "not-yet-valid"),
        "windowExpEdgeValid": (cert["exp"] + 300, "ok"),
        "windowExpEdgeInvalid": (cert["exp"] + 301, "expired"),
    }
    assert {name: (doc[name]["nowSec"], doc[name]["expectReason"]) for name in edges} == edges


def test_signature_edge_cases_are_present() -> None:
    for name in ("request-signature.json", "append-author.json", "doc-author.json"):
        flags = {flag for case in _load(VECTORS / name)["cases"] for flag in case["flags"] if not case["expectVerify"]}
        assert {"WrongKey", "FlippedBit", "NonCanonicalS", "TruncatedSignature", "EmptySignature"} <= flags, name
    requests = {case["label"]: case for case in _load(VECTORS / "request-signature.json")["cases"]}
    assert requests["host-default-port-80-dropped"]["verifyHost"] == "api.example.com"
    assert requests["host-port-8000-kept"]["verifyHost"] == "127.0.0.1:8000"
    assert requests["get-with-body-signed-over-body"]["verifyBodyUtf8"] == ""


def test_every_divergence_is_documented_in_readme() -> None:
    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    for path in VECTORS.glob("*.json"):
        for case in _cases(_load(path)):
            if "officialPython" in case:
                label = case.get("label") or next(k for k, v in _load(path).items() if v is case or v == case)
                assert f"`{label}`" in readme, f"{path.name} {label} is not in vectors/README.md"
