"""`vectors generate`: write the project's own vector files, deterministically.

Each generated family's `generate()` returns the document; `jsonio` fixes the bytes. Running twice
gives identical files, which is what lets CI check that the committed files are current (`--check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vectors.jsonio import vector_bytes
from vectors.registry import generated_families

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class GeneratedFile:
    name: str
    data: bytes


def build_all() -> list[GeneratedFile]:
    """Every generated file's name and exact bytes, in registry order."""
    return [GeneratedFile(family.FILENAME, vector_bytes(family.generate())) for family in generated_families()]


def write_all(out_dir: Path) -> list[Path]:
    """Write every file into `out_dir` (created if missing; its parent must exist)."""
    out_dir.mkdir(exist_ok=True)
    written = []
    for item in build_all():
        target = out_dir / item.name
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(item.data)
        tmp.replace(target)
        written.append(target)
    return written


def stale_files(out_dir: Path) -> list[str]:
    """Names of generated files that are missing from `out_dir` or differ from a fresh generation."""
    stale = []
    for item in build_all():
        target = out_dir / item.name
        if not target.is_file() or target.read_bytes() != item.data:
            stale.append(item.name)
    return stale
