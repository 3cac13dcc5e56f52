"""(g) JSON Schemas: every generated file validates against its family's schema, and so does every
upstream a72 file of a family we have a schema for (the same format)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from vectors.registry import FAMILIES, detect_family

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
SCHEMAS = VECTORS / "schemas"
SHARED = ROOT.parent / "shared" / "vectors" / "starfish-3.0.0a72"


def _schema(family: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{family}.schema.json").read_text(encoding="utf-8"))


def _errors(doc: Any) -> list[str]:
    family = detect_family(doc)
    assert family is not None
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(_schema(family.NAME)).iter_errors(doc)
    ]


def test_one_valid_schema_per_family() -> None:
    assert {p.name for p in SCHEMAS.glob("*.schema.json")} == {f"{f.NAME}.schema.json" for f in FAMILIES}
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted(VECTORS.glob("*.json")), ids=lambda p: p.name)
def test_generated_file_matches_schema(path: Path) -> None:
    assert _errors(json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/vectors/starfish-3.0.0a72 is not present")
@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.glob("*.json")) if SHARED.is_dir() else [])
def test_upstream_file_matches_schema(name: str) -> None:
    assert _errors(json.loads((SHARED / name).read_text(encoding="utf-8"))) == []


def test_generated_files_must_carry_case_metadata() -> None:
    """The schemas require tcId/flags/result only when generatorVersion is present (our files)."""
    doc = json.loads((VECTORS / "request-signature.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(doc)
    del broken["cases"][3]["tcId"]
    assert any("'tcId' is a required property" in e for e in _errors(broken))
    upstream_style = copy.deepcopy(broken)
    for key in ("generatorVersion", "protocolVersion", "notes"):
        del upstream_style[key]
    for case in upstream_style["cases"]:
        for key in ("tcId", "flags", "result"):
            case.pop(key, None)
    assert _errors(upstream_style) == []


def test_typo_in_a_case_field_is_caught() -> None:
    doc = json.loads((VECTORS / "append-author.json").read_text(encoding="utf-8"))
    doc["cases"][0]["verifyDocumentkey"] = "x"
    assert any("verifyDocumentkey" in e for e in _errors(doc))
