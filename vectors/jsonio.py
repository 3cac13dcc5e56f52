"""Write vector files byte-for-byte reproducibly.

Format: `json.dumps(indent=2, ensure_ascii=False)` plus a trailing newline, so non-ASCII text stays
readable in review. Two adjustments keep every file strict, UTF-8-encodable JSON:
- NaN and ±Infinity are refused (`allow_nan=False`): they have no JSON form;
- a lone surrogate (a deliberate canonical-JSON trap) is written as a `\\udXXX` escape, because raw
  it cannot be encoded as UTF-8; a JSON reader turns the escape back into the same lone surrogate.
"""

from __future__ import annotations

import json
import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps_vector(doc: Any) -> str:
    """The exact text of a generated vector file."""
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def vector_bytes(doc: Any) -> bytes:
    return dumps_vector(doc).encode("utf-8")
