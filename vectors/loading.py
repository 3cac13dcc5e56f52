"""Read a vector file as strict, untrusted JSON.

Why strict: a vector file is evidence, so anything ambiguous is refused rather than guessed at:
invalid UTF-8, duplicate object keys (which value would a JavaScript reader keep?), the non-JSON
literals NaN/Infinity that Python's parser accepts, absurd sizes and nesting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 32 * 1024 * 1024


class VectorFileError(ValueError):
    """A file that cannot be read as strict JSON; the message is one line for the report."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise VectorFileError(f"duplicate object key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise VectorFileError(f"{name} is not JSON (NaN and Infinity have no JSON form)")


def parse_vector_text(text: str) -> Any:
    """Parse strict JSON text; raise `VectorFileError` with a one-line reason otherwise."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except VectorFileError:
        raise
    except json.JSONDecodeError as exc:
        raise VectorFileError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise VectorFileError("JSON nests too deeply to read") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        raise VectorFileError(f"not readable JSON: {exc}") from None


def load_vector_file(path: Path) -> Any:
    """Read and parse one vector file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise VectorFileError(f"file is {size} bytes; vector files are read only up to {MAX_FILE_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        raise VectorFileError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VectorFileError(f"not UTF-8 text (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise VectorFileError("file starts with a byte-order mark; JSON files must not")
    return parse_vector_text(text)
