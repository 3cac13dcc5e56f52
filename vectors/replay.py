"""`vectors verify`: find vector files, recognise each file's family by its shape, replay every case.

Why by shape and not by file name: upstream renames and re-versions files, and a file copied under
another name must still be checked by the right rules (or reported as unknown, never guessed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from vectors.families._common import short
from vectors.loading import VectorFileError, load_vector_file
from vectors.registry import detect_family
from vectors.results import ERROR, UNKNOWN, CaseResult


class FileSelectionError(ValueError):
    """A path given on the command line that names no vector file; the message is one line."""


def collect_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every `*.json` directly inside each directory (sorted), plus each file named explicitly."""
    if not paths:
        raise FileSelectionError("name at least one directory or .json file to verify")
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                raise FileSelectionError(f"{raw}: directory holds no *.json files")
            files += found
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise FileSelectionError(f"{raw}: neither a regular file nor a directory")
        else:
            raise FileSelectionError(f"{raw}: no such file or directory")
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in files:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _top_level_keys(doc: object) -> str:
    if isinstance(doc, dict):
        keys = list(doc)
        return "top-level keys " + short(keys[:8], 100) + (" …" if len(keys) > 8 else "")
    return f"top-level JSON {type(doc).__name__}"


def verify_file(path: Path) -> list[CaseResult]:
    """Replay one file; problems with the file itself become a single `error` or `unknown family` row."""
    name = str(path)
    try:
        doc = load_vector_file(path)
    except VectorFileError as exc:
        return [CaseResult(name, "-", "-", ERROR, str(exc))]
    family = detect_family(doc)
    if family is None:
        return [CaseResult(name, "-", "-", UNKNOWN, f"no known vector family has this shape ({_top_level_keys(doc)})")]
    try:
        rows = family.replay(doc)
    except Exception as exc:  # untrusted file: a shape the family cannot walk is a file error, not a crash
        return [
            CaseResult(name, family.NAME, "-", ERROR, f"cannot replay file: {type(exc).__name__}: {short(str(exc))}")
        ]
    if not rows:
        return [CaseResult(name, family.NAME, "-", ERROR, "file holds no cases")]
    return [replace(row, file=name) for row in rows]


def verify_paths(paths: Sequence[str | Path]) -> list[CaseResult]:
    results: list[CaseResult] = []
    for path in collect_files(paths):
        results += verify_file(path)
    return results


def all_ok(results: Iterable[CaseResult]) -> bool:
    """True when every row is a pass or needs a target (and there is at least one row)."""
    rows = list(results)
    return bool(rows) and all(row.ok() for row in rows)
