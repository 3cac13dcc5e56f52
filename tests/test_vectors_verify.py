"""`starfish-conformance vectors verify`: (a) upstream a72 files, (b) our files, (e) corruption is named,
(f) stale generations and unknown shapes are told apart, and untrusted files never crash the run."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
SHARED = ROOT.parent / "shared" / "vectors" / "starfish-3.0.0a72"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/vectors/starfish-3.0.0a72 is not present")

SERVER_BOUND = {"http-errors": 12, "protocol-push": 7, "batch-pull-append": 19}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["vectors", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def verify_json(capsys: pytest.CaptureFixture[str], *paths: str | Path) -> tuple[int, list[dict[str, str]]]:
    code, out, _ = run(capsys, "verify", "--json", *map(str, paths))
    return code, [json.loads(line) for line in out.splitlines()]


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def flip_first_byte(signature_b64: str) -> str:
    raw = bytearray(base64.b64decode(signature_b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


# ---------------------------------------------------------------------------------------------------- (a), (b)


@needs_shared
def test_upstream_a72_passes_offline_and_lists_server_bound(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = verify_json(capsys, SHARED)
    assert code == 0
    offline = [row for row in rows if row["family"] not in SERVER_BOUND]
    assert len(offline) > 70
    assert {row["outcome"] for row in offline} == {"pass"}
    for family, count in SERVER_BOUND.items():
        listed = [row for row in rows if row["family"] == family]
        assert len(listed) == count
        assert {row["outcome"] for row in listed} == {"needs a target"}
    assert len({row["file"] for row in rows}) == len(list(SHARED.glob("*.json")))


@needs_shared
def test_upstream_text_report_has_table_and_total(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", str(SHARED))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["FILE", "CASE", "OUTCOME", "DETAIL"]
    assert any("http-errors.json" in line and "read_only_push" in line and "needs a target" in line for line in lines)
    assert lines[-1].startswith("TOTAL ") and lines[-1].endswith("-> OK")
    assert "38 needs a target" in lines[-1]


def test_our_vectors_all_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = verify_json(capsys, VECTORS)
    assert code == 0
    assert {row["outcome"] for row in rows} == {"pass"}
    files = {Path(row["file"]).name for row in rows}
    assert files == {p.name for p in VECTORS.glob("*.json")}
    assert len(files) == 10


def test_a_single_file_argument_is_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = verify_json(capsys, VECTORS / "crypto.json")
    assert code == 0
    assert {row["family"] for row in rows} == {"crypto"}


# ---------------------------------------------------------------------------------------------------- (e)


def _corrupt_cap_cert(doc: dict[str, Any]) -> str:
    doc["deviceCap"]["cert"]["sig"] = flip_first_byte(doc["deviceCap"]["cert"]["sig"])
    return "deviceCap"


def _corrupt_request_signature(doc: dict[str, Any]) -> str:
    doc["cases"][1]["signatureBase64"] = flip_first_byte(doc["cases"][1]["signatureBase64"])
    return "push-json-body"


def _corrupt_hash(doc: dict[str, Any]) -> str:
    doc["computeHash"][0]["expectedHash"] = "0" * 64
    return "computeHash[0]"


@pytest.mark.parametrize(
    ("source", "corrupt"),
    [
        pytest.param(SHARED / "cap-cert.json", _corrupt_cap_cert, id="upstream-cap-cert", marks=needs_shared),
        pytest.param(
            SHARED / "request-signature.json",
            _corrupt_request_signature,
            id="upstream-request-signature",
            marks=needs_shared,
        ),
        pytest.param(SHARED / "hash.json", _corrupt_hash, id="upstream-hash", marks=needs_shared),
        pytest.param(VECTORS / "cap-cert.json", _corrupt_cap_cert, id="our-cap-cert"),
        pytest.param(VECTORS / "hash.json", _corrupt_hash, id="our-hash"),
    ],
)
def test_a_corrupted_case_fails_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: Path, corrupt: Any
) -> None:
    doc = json.loads(source.read_text(encoding="utf-8"))
    case_name = corrupt(doc)
    target = write_json(tmp_path / "copy.json", doc)
    code, out, _ = run(capsys, "verify", str(target))
    assert code == 1
    failing = [line for line in out.splitlines()[:-1] if " FAIL " in line]
    assert len(failing) == 1
    assert str(target) in failing[0] and case_name in failing[0]
    assert out.splitlines()[-1].endswith("NOT OK")


# ---------------------------------------------------------------------------------------------------- (f)


@needs_shared
def test_alg_inside_request_canonical_is_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((SHARED / "request-signature.json").read_text(encoding="utf-8"))
    first = doc["cases"][0]
    first["canonicalSigningInput"] = first["canonicalSigningInput"].replace('{"b":', '{"alg":"ed25519","b":', 1)
    code, rows = verify_json(capsys, write_json(tmp_path / "req.json", doc))
    assert code == 1
    stale = [row for row in rows if row["outcome"] == "stale generation"]
    assert [row["case_id"] for row in stale] == ["cases[0] pull-empty-body"]
    assert '"alg"' in stale[0]["detail"]
    assert all(row["outcome"] == "pass" for row in rows if row not in stale)


@needs_shared
def test_iss_alg_in_cert_is_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((SHARED / "cap-cert.json").read_text(encoding="utf-8"))
    doc["memberCap"]["cert"]["issAlg"] = "ed25519"
    code, rows = verify_json(capsys, write_json(tmp_path / "caps.json", doc))
    assert code == 1
    (stale,) = [row for row in rows if row["outcome"] == "stale generation"]
    assert stale["case_id"] == "memberCap" and "issAlg" in stale["detail"]


@needs_shared
def test_missing_domain_tags_are_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    caps = json.loads((SHARED / "cap-cert.json").read_text(encoding="utf-8"))
    entry = caps["deviceCap"]
    entry["canonicalSigningInput"] = entry["canonicalSigningInput"].removeprefix("starfish-capcert-v1\n")
    authors = json.loads((SHARED / "append-author.json").read_text(encoding="utf-8"))
    del authors["domain"]
    write_json(tmp_path / "caps.json", caps)
    write_json(tmp_path / "authors.json", authors)
    code, rows = verify_json(capsys, tmp_path)
    assert code == 1
    stale = {(Path(row["file"]).name, row["case_id"]) for row in rows if row["outcome"] == "stale generation"}
    assert ("caps.json", "deviceCap") in stale
    assert {case for name, case in stale if name == "authors.json"} == {
        "cases[0] simple-object",
        "cases[1] nested-and-array",
        "cases[2] encrypted-wrapper",
    }


def test_crypto_v1_shape_is_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v1 = {"secret": "s", "salt": "p", "derived_key_hex": "00" * 32, "vectors": [{"plaintext": "x", "encrypted": "y"}]}
    code, rows = verify_json(capsys, write_json(tmp_path / "crypto.json", v1))
    assert code == 1
    assert {row["outcome"] for row in rows} == {"stale generation"}
    assert "no 'info'" in rows[0]["detail"]


def test_unknown_shape_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows = verify_json(capsys, write_json(tmp_path / "mystery.json", {"widgets": [1, 2, 3]}))
    assert code == 1
    assert rows == [
        {
            "file": str(tmp_path / "mystery.json"),
            "family": "-",
            "case_id": "-",
            "outcome": "unknown family",
            "detail": 'no known vector family has this shape (top-level keys ["widgets"])',
        }
    ]


def test_family_is_recognised_by_shape_not_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(VECTORS / "request-signature.json", tmp_path / "hash.json")
    code, rows = verify_json(capsys, tmp_path / "hash.json")
    assert code == 0
    assert {row["family"] for row in rows} == {"request-signature"}


# ---------------------------------------------------------------------------------------------------- untrusted input


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"stableStringify": [', "not valid JSON"),
        (b'{"a": 1, "a": 2}', "duplicate object key 'a'"),
        (b'{"stableStringify": [{"input": NaN, "expected": "null"}]}', "NaN is not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
    ],
)
def test_unreadable_files_are_one_error_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes, detail: str
) -> None:
    (tmp_path / "bad.json").write_bytes(raw)
    code, rows = verify_json(capsys, tmp_path)
    assert code == 1
    assert len(rows) == 1 and rows[0]["outcome"] == "error" and detail in rows[0]["detail"]


def test_malformed_cases_fail_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"stableStringify": [{"input": 1}, {"input": 2, "expected": 5}, "not a case", {"input": 3, "expected": "3"}]}
    code, rows = verify_json(capsys, write_json(tmp_path / "h.json", doc))
    assert code == 1
    assert [row["outcome"] for row in rows] == ["FAIL", "FAIL", "FAIL", "pass"]
    assert "missing field 'expected'" in rows[0]["detail"]
    assert "wrong type" in rows[1]["detail"]
    assert "must be a JSON object" in rows[2]["detail"]


def test_garbage_in_signed_families_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    caps = json.loads((VECTORS / "cap-cert.json").read_text(encoding="utf-8"))
    caps["deviceCap"]["cert"]["scope"] = [1, {"x": None}]
    caps["memberCap"]["cert"] = "not a cert"
    requests = {"signer": {"edPub": "zz"}, "cases": [{"method": None, "pathAndQuery": 7}]}
    write_json(tmp_path / "caps.json", caps)
    write_json(tmp_path / "requests.json", requests)
    code, rows = verify_json(capsys, tmp_path)
    assert code == 1
    failing = {(Path(row["file"]).name, row["case_id"].split()[0]) for row in rows if row["outcome"] == "FAIL"}
    assert {("caps.json", "deviceCap"), ("caps.json", "memberCap"), ("requests.json", "cases[0]")} <= failing


# ---------------------------------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_bad_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str) -> None:
    target = tmp_path / "nowhere" if make == "missing" else tmp_path
    code, out, err = run(capsys, "verify", str(target))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(target) in err


def test_vectors_without_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 2 and "verify" in out and "generate" in out
