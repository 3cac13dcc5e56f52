"""Shared replay helpers: collecting differences per case, naming cases, shielding the run from
malformed input.

Why `guard`: vector files are untrusted; a case with a missing field or a wrong type must become a
FAIL row that says so, never a traceback that hides every other case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from vectors.results import FAIL, PASS, CaseResult, case_result

_HEX64 = re.compile(r"[0-9a-f]{64}")


def short(value: Any, limit: int = 90) -> str:
    """A one-line, length-limited rendering of a value for a report."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    text = repr(text) if isinstance(value, str) else text
    text = text.encode("unicode_escape").decode("ascii") if any(ord(c) < 0x20 for c in text) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_difference(ours: str, theirs: str) -> str:
    """Where two texts first differ, with a little context from each."""
    index = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
    start = max(0, index - 20)
    ours_part, theirs_part = short(ours[start : index + 30]), short(theirs[start : index + 30])
    return f"first difference at char {index}: ours …{ours_part} vs file …{theirs_part}"


class Check:
    """Collects what differed in one case; empty means the case passes."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def equal(self, what: str, ours: Any, expected: Any) -> None:
        if ours == expected and type(ours) is type(expected):
            return
        if isinstance(ours, str) and isinstance(expected, str):
            self.problems.append(f"{what} differs ({text_difference(ours, expected)})")
        else:
            self.problems.append(f"{what}: ours {short(ours)}, file expects {short(expected)}")

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def result(self, family: str, case_id: str) -> CaseResult:
        if self.problems:
            return case_result(family, case_id, FAIL, "; ".join(self.problems))
        return case_result(family, case_id, PASS)


def guard(family: str, case_id: str, run: Callable[[], CaseResult]) -> CaseResult:
    """Run one case's replay; any exception from malformed data becomes a FAIL naming it."""
    try:
        return run()
    except Exception as exc:  # untrusted input: report, never crash the run
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str) else str(exc)
        return case_result(family, case_id, FAIL, f"malformed case ({type(exc).__name__}): {message[:160]}")


def each_case(
    family: str, section: str, cases: Any, run: Callable[[Mapping[str, Any], str], CaseResult]
) -> list[CaseResult]:
    """Replay every case of a list section: ids, the object check and `guard` in one place."""
    if not isinstance(cases, list):
        return [case_result(family, section, FAIL, f"{section} must be a list of cases")]
    results = []
    for index, item in enumerate(cases):
        cid = case_id(section, index, item)
        if not isinstance(item, Mapping):
            results.append(case_result(family, cid, FAIL, "malformed case: a case must be a JSON object"))
            continue
        results.append(guard(family, cid, lambda item=item, cid=cid: run(item, cid)))
    return results


def case_id(section: str, index: int, case: Any) -> str:
    """A readable, unique id: `section[index]`, then `#tcId` and the label when the case has them."""
    parts = [f"{section}[{index}]" if section else f"[{index}]"]
    if isinstance(case, Mapping):
        if "tcId" in case:
            parts.append(f"#{case['tcId']}")
        label = case.get("label") or case.get("id") or case.get("scenario") or case.get("description")
        if isinstance(label, str) and label:
            parts.append(short(label, 60).strip("'"))
    return " ".join(parts)


def named_case_id(name: str, case: Any) -> str:
    if isinstance(case, Mapping) and "tcId" in case:
        return f"{name} #{case['tcId']}"
    return name


def require(mapping: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    """`mapping[key]`, insisting on its JSON type; raises with a clear message otherwise."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"expected an object holding {key!r}")
    if key not in mapping:
        raise KeyError(f"missing field {key!r}")
    value = mapping[key]
    if isinstance(value, bool) and kind in (int, (int, float)):
        raise TypeError(f"field {key!r} must be a number, not a boolean")
    if not isinstance(value, kind):
        raise TypeError(f"field {key!r} has the wrong type ({type(value).__name__})")
    return value


def resolve_pub(ref: Any, doc: Mapping[str, Any]) -> str:
    """A verifying key given as 64 hex characters or as a `<label>.edPub` reference to a key in the file."""
    if not isinstance(ref, str):
        raise TypeError("a public key reference must be a string")
    if _HEX64.fullmatch(ref):
        return ref
    label, _, attribute = ref.partition(".")
    for value in doc.values():
        if isinstance(value, Mapping) and value.get("label") == label and isinstance(value.get(attribute), str):
            return value[attribute]
        if isinstance(value, Mapping) and isinstance(value.get(label), Mapping):
            nested = value[label].get(attribute)
            if isinstance(nested, str):
                return nested
    raise KeyError(f"public key reference {ref!r} names no key in the file")


def list_of_objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise TypeError(f"{what} must be a list of objects")
    return value
