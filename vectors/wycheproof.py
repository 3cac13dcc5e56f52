"""Helpers that give generated files their Wycheproof-style metadata.

Every generated case carries `tcId` (a stable integer, unique in its file), `flags` (the hazards it
probes) and `result` ("valid" or "invalid"); every file carries `generatorVersion` and `notes`.
tcIds are given in the order cases are generated, so new cases must be appended at the end of a
generator's list to keep existing ids stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vectors.fixtures import GENERATOR_VERSION, PROTOCOL_VERSION
from vectors.flags import FLAGS, flags_in, notes_for

VALID = "valid"
INVALID = "invalid"


def case(label: str | None, flags: Iterable[str], result: str, **fields: Any) -> dict[str, Any]:
    """A case with its label first (when it has one), its fields, then `flags` and `result`.

    `tcId` is added later by `number`, in generation order.
    """
    flag_list = list(flags)
    unknown = [flag for flag in flag_list if flag not in FLAGS]
    if unknown:
        raise ValueError(f"flags missing from vectors/flags.py: {unknown}")
    if result not in (VALID, INVALID):
        raise ValueError(f"result must be valid or invalid, not {result!r}")
    head = {"label": label} if label is not None else {}
    return {**head, **fields, "flags": flag_list, "result": result}


def number(case_lists: Iterable[list[dict[str, Any]]], start: int = 1) -> int:
    """Give every case a `tcId`, in order across the lists, placed first in its key order."""
    next_id = start
    for cases in case_lists:
        for index, item in enumerate(cases):
            cases[index] = {"tcId": next_id, **item}
            next_id += 1
    return next_id


def number_named(entries: dict[str, dict[str, Any]], start: int = 1) -> int:
    """`number` for files whose cases are named top-level entries (the cap-cert shape)."""
    next_id = start
    for name, item in entries.items():
        entries[name] = {"tcId": next_id, **item}
        next_id += 1
    return next_id


def header(description: str, cases: Iterable[Mapping[str, Any]], extra_flags: Iterable[str] = ()) -> dict[str, Any]:
    """The top of a generated file: description, generator/protocol versions and `notes` for its flags."""
    used = flags_in(cases) | set(extra_flags)
    return {
        "description": description,
        "generatorVersion": GENERATOR_VERSION,
        "protocolVersion": PROTOCOL_VERSION,
        "notes": notes_for(used),
    }
