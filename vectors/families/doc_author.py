"""Family `doc-author`: the author proof on a whole pushed document (digest §3.8, §5.3(d)).

Same shape as `append-author` with `domain` = `starfish-doc-author-v1\\n`; upstream has no file for
it, so ours is the only one. Detection is by that domain value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.constants import DOC_AUTHOR_DOMAIN
from vectors.families.append_author import author_file, is_author_shape, replay_author_file
from vectors.results import CaseResult

NAME = "doc-author"
FILENAME = "doc-author.json"


def detect(doc: Any) -> bool:
    return is_author_shape(doc) and isinstance(doc, Mapping) and doc.get("domain") == DOC_AUTHOR_DOMAIN


def replay(doc: Any) -> list[CaseResult]:
    return replay_author_file(NAME, doc)


def generate() -> dict[str, Any]:
    return author_file(
        DOC_AUTHOR_DOMAIN,
        "Document-author Ed25519 proofs for Starfish v3 (digest §3.8, §5.3(d)): the signing input is "
        "'starfish-doc-author-v1\\n' + stableStringify({k: documentKey, d: data}). Same shape as append-author.json.",
    )
