"""The list of vector families, in detection order.

Order matters only where shapes overlap: the batch-pull-append file also has a `cases` list, so it
is tried before the families keyed on their case fields.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from vectors.families import (
    append_author,
    base64url,
    batch_pull_append,
    capcert,
    crypto,
    doc_author,
    hash,
    http_errors,
    identity,
    keyring_wrap,
    protocol_push,
    request_signature,
    revocation,
)

FAMILIES: tuple[ModuleType, ...] = (
    batch_pull_append,
    http_errors,
    protocol_push,
    hash,
    capcert,
    request_signature,
    doc_author,
    append_author,
    base64url,
    crypto,
    identity,
    revocation,
    keyring_wrap,
)


def detect_family(doc: Any) -> ModuleType | None:
    """The first family whose shape matches `doc`, or None."""
    for family in FAMILIES:
        try:
            if family.detect(doc):
                return family
        except Exception:  # a detector must never break the run on odd input
            continue
    return None


def generated_families() -> tuple[ModuleType, ...]:
    """Families the project writes its own vector file for."""
    return tuple(family for family in FAMILIES if hasattr(family, "generate"))


def by_name(name: str) -> ModuleType:
    for family in FAMILIES:
        if name == family.NAME:
            return family
    raise KeyError(name)
