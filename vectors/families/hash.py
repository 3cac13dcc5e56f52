"""Family `hash`: canonical JSON (stable stringify) and document hashes (digest §3.2, §3.3, §3.7).

Upstream shape: `{stableStringify: [{input, expected}], computeHash: [{input, stableJson,
expectedHash}]}`. Our generated file adds two lists in the same spirit, `sanitize` (the server
hashes the sanitised value) and `appendHash` (the append-only log hash), and many traps where
JavaScript and Python number or string rendering differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from protocol.canonical_json import stable_stringify
from protocol.hashing import append_hash, document_hash, sanitize
from vectors.families._common import Check, each_case, require
from vectors.results import CaseResult
from vectors.wycheproof import VALID, case, header, number

NAME = "hash"
FILENAME = "hash.json"

SECTIONS = ("stableStringify", "computeHash", "sanitize", "appendHash")


def detect(doc: Any) -> bool:
    return isinstance(doc, Mapping) and any(
        isinstance(doc.get(key), list) for key in ("stableStringify", "computeHash")
    )


def _replay_stable(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    check.equal("stable stringify", stable_stringify(item["input"]), require(item, "expected", str))
    return check.result(NAME, cid)


def _replay_hash(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    stable_json = require(item, "stableJson", str)
    expected_hash = require(item, "expectedHash", str)
    check.equal("stableJson", stable_stringify(item["input"]), stable_json)
    check.equal(
        "sha256 of the file's stableJson", hashlib.sha256(stable_json.encode("utf-8")).hexdigest(), expected_hash
    )
    check.equal("document hash", document_hash(item["input"]), expected_hash)
    return check.result(NAME, cid)


def _replay_sanitize(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    cleaned = sanitize(item["input"])
    check.equal("sanitised value", stable_stringify(cleaned), stable_stringify(item["sanitized"]))
    check.equal("hash of the sanitised value", document_hash(cleaned), require(item, "expectedHash", str))
    return check.result(NAME, cid)


def _replay_append(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    count = require(item, "count", int)
    check.equal("append hash", append_hash(count, item["last"]), require(item, "expectedHash", str))
    return check.result(NAME, cid)


_REPLAYERS: dict[str, Callable[[Mapping[str, Any], str], CaseResult]] = {
    "stableStringify": _replay_stable,
    "computeHash": _replay_hash,
    "sanitize": _replay_sanitize,
    "appendHash": _replay_append,
}


def replay(doc: Any) -> list[CaseResult]:
    results: list[CaseResult] = []
    for section in SECTIONS:
        if section in doc:
            results += each_case(NAME, section, doc[section], _REPLAYERS[section])
    return results


# ---------------------------------------------------------------------------------------------------------------
# Generation


class GeneratorError(AssertionError):
    """Our kit no longer produces a hand-written expectation: fix the kit, not the vector."""


def _nest(depth: int, leaf: Any, container: str) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value} if container == "object" else [value]
    return value


def _stable(label: str, value: Any, expected: str, flags: list[str], official: dict[str, Any] | None = None) -> dict:
    ours = stable_stringify(value)
    if ours != expected:
        raise GeneratorError(f"hash/{label}: kit writes {ours!r}, the vector expects {expected!r}")
    fields: dict[str, Any] = {"input": value, "expected": expected}
    if official is not None:
        fields["officialPython"] = official
        flags = [*flags, "OfficialPythonDiverges"]
    return case(label, flags, VALID, **fields)


def _hash(label: str, value: Any, flags: list[str], official: dict[str, Any] | None = None, want: str = "") -> dict:
    stable_json = stable_stringify(value)
    digest = hashlib.sha256(stable_json.encode("utf-8")).hexdigest()
    if want and digest != want:
        raise GeneratorError(f"hash/{label}: kit hashes to {digest}, the digest's reference value is {want}")
    fields: dict[str, Any] = {"input": value, "stableJson": stable_json, "expectedHash": digest}
    if official is not None:
        if "stableJson" in official:
            official = {**official, "expectedHash": hashlib.sha256(official["stableJson"].encode("utf-8")).hexdigest()}
        fields["officialPython"] = official
        flags = [*flags, "OfficialPythonDiverges"]
    return case(label, flags, VALID, **fields)


def _stable_cases() -> list[dict[str, Any]]:
    nested_object = _nest(60, 1, "object")
    nested_list = _nest(60, 1, "list")
    threshold = ["JsNumberThreshold"]
    beyond = ["BeyondSafeInteger"]
    return [
        _stable("sorted-keys", {"b": 2, "a": 1}, '{"a":1,"b":2}', ["Baseline", "KeyOrder"]),
        _stable("fixed-at-1e-6", 1e-6, "0.000001", threshold),
        _stable("exponent-at-1e-7", 1e-7, "1e-7", threshold),
        _stable("negative-exponent-at-1e-7", -1e-7, "-1e-7", threshold),
        _stable("fixed-1.5e-5", 1.5e-5, "0.000015", threshold),
        _stable("fixed-1.2345e-5", 1.2345e-5, "0.000012345", threshold),
        _stable("fixed-float-1e16", 1e16, "10000000000000000", threshold),
        _stable("fixed-float-1e20", 1e20, "100000000000000000000", threshold),
        _stable("exponent-at-1e21", 1e21, "1e+21", threshold),
        _stable("exponent-negative-1e21", -1e21, "-1e+21", threshold),
        _stable(
            "largest-double-below-1e21",
            9.999999999999999e20,
            "999999999999999900000",
            [*threshold, "BeyondSafeInteger"],
            {"expected": "999999999999999868928"},
        ),
        _stable("subnormal-5e-324", 5e-324, "5e-324", ["Subnormal"]),
        _stable("largest-double", 1.7976931348623157e308, "1.7976931348623157e+308", threshold),
        _stable("negative-zero", -0.0, "0", ["NegativeZero"]),
        _stable(
            "integral-floats",
            {"neg": -5.0, "one": 1.0, "half": 0.5},
            '{"half":0.5,"neg":-5,"one":1}',
            ["IntegralFloat"],
        ),
        _stable("max-safe-integer", 2**53 - 1, "9007199254740991", beyond),
        _stable("two-pow-53", 2**53, "9007199254740992", beyond),
        _stable("two-pow-53-plus-1", 2**53 + 1, "9007199254740992", beyond),
        _stable("two-pow-60", 2**60, "1152921504606847000", beyond, {"expected": "1152921504606846976"}),
        _stable("minus-two-pow-60", -(2**60), "-1152921504606847000", beyond, {"expected": "-1152921504606846976"}),
        _stable(
            "float-two-pow-60",
            2.0**60,
            "1152921504606847000",
            [*beyond, "IntegralFloat"],
            {"expected": "1152921504606846976"},
        ),
        _stable("two-pow-64", 2**64, "18446744073709552000", beyond, {"expected": "18446744073709551616"}),
        _stable(
            "float-1.2345678901234568e20",
            1.2345678901234568e20,
            "123456789012345680000",
            beyond,
            {"expected": "123456789012345683968"},
        ),
        _stable("integer-1e21", 10**21, "1e+21", [*beyond, "JsNumberThreshold"]),
        _stable("integer-beyond-double-range", 10**400, "null", ["BeyondDoubleRange"], {"raises": "OverflowError"}),
        _stable("lone-high-surrogate", "\ud800", '"\\ud800"', ["LoneSurrogate"], {"expected": '"\ud800"'}),
        _stable("lone-low-surrogate-inside", "a\udfffb", '"a\\udfffb"', ["LoneSurrogate"], {"expected": '"a\udfffb"'}),
        _stable(
            "reversed-surrogate-pair",
            "\ude00\ud83d",
            '"\\ude00\\ud83d"',
            ["LoneSurrogate"],
            {"expected": '"\ude00\ud83d"'},
        ),
        _stable("lone-surrogate-key", {"\udc00": 1}, '{"\\udc00":1}', ["LoneSurrogate"], {"expected": '{"\udc00":1}'}),
        _stable("paired-surrogates-raw", "😀", '"😀"', ["StringEscapes"]),
        _stable(
            "control-characters",
            "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f",
            '"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\x7f"',
            ["ControlCharacter"],
        ),
        _stable("line-separators-raw", "a\u2028b\u2029c", '"a\u2028b\u2029c"', ["LineSeparator"]),
        _stable(
            "quote-backslash-slash",
            {"q": '"', "bs": "\\", "slash": "/"},
            '{"bs":"\\\\","q":"\\"","slash":"/"}',
            ["StringEscapes"],
        ),
        _stable(
            "utf16-sort-ffff-vs-emoji", {"😀": 2, "\uffff": 1}, '{"\uffff":1,"😀":2}', ["Utf16SortTrap", "KeyOrder"]
        ),
        _stable("utf16-sort-ff-ligature-vs-emoji", {"😀": 1, "ﬀ": 2}, '{"ﬀ":2,"😀":1}', ["Utf16SortTrap", "KeyOrder"]),
        _stable(
            "utf16-sort-private-use-vs-emoji",
            {"😀": 1, "\ue000": 2},
            '{"\ue000":2,"😀":1}',
            ["Utf16SortTrap", "KeyOrder"],
        ),
        _stable("numeric-string-keys", {"10": "a", "9": "b", "1": "c"}, '{"1":"c","10":"a","9":"b"}', ["KeyOrder"]),
        _stable("case-sensitive-keys", {"b": 1, "B": 2, "a": 3, "é": 4}, '{"B":2,"a":3,"b":1,"é":4}', ["KeyOrder"]),
        _stable(
            "arrays-keep-order-objects-sort",
            [{"z": 1, "a": [3, 1, {"y": 0, "x": 0}]}],
            '[{"a":[3,1,{"x":0,"y":0}],"z":1}]',
            ["KeyOrder"],
        ),
        _stable("deep-nesting-objects-60", nested_object, '{"a":' * 60 + "1" + "}" * 60, ["DeepNesting"]),
        _stable("deep-nesting-arrays-60", nested_list, "[" * 60 + "1" + "]" * 60, ["DeepNesting"]),
        _stable("literals", [None, True, False, {}, [], ""], '[null,true,false,{},[],""]', ["Baseline"]),
    ]


def _hash_cases() -> list[dict[str, Any]]:
    return [
        _hash(
            "empty-object", {}, ["Baseline"], want="44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        ),
        _hash(
            "one-key", {"a": 1}, ["Baseline"], want="015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
        ),
        _hash(
            "number-thresholds",
            {"tiny": 1e-7, "small": 1e-6, "big": 1e21, "below": 1e20, "neg0": -0.0, "one": 1.0},
            ["JsNumberThreshold", "NegativeZero", "IntegralFloat"],
        ),
        _hash(
            "beyond-safe-integer",
            {"id": 2**60, "n": 2**53 + 1},
            ["BeyondSafeInteger"],
            {"stableJson": '{"id":1152921504606846976,"n":9007199254740992}'},
        ),
        _hash("lone-surrogate", {"text": "broken \ud83d"}, ["LoneSurrogate"], {"raises": "UnicodeEncodeError"}),
        _hash("utf16-sort", {"😀": 1, "\uffff": 2, "ﬀ": 3}, ["Utf16SortTrap", "KeyOrder"]),
        _hash("escapes-and-separators", {"s": '\x00\x1f\x7f\u2028"\\/'}, ["ControlCharacter", "LineSeparator"]),
    ]


def _sanitize_cases() -> list[dict[str, Any]]:
    raw_cases = [
        ("top-level-proto", {"__proto__": {"admin": True}, "a": 1}),
        (
            "every-unsafe-key",
            {"__proto__": 1, "constructor": 2, "prototype": 3, "__class__": 4, "__dict__": 5, "ok": 6},
        ),
        ("nested-objects", {"a": {"constructor": {"x": 1}, "b": {"prototype": 0, "c": 2}}}),
        ("inside-arrays-kept", {"list": [{"__proto__": 1, "v": 2}]}),
    ]
    out = []
    for label, value in raw_cases:
        cleaned = sanitize(value)
        out.append(
            case(label, ["Sanitize"], VALID, input=value, sanitized=cleaned, expectedHash=document_hash(cleaned))
        )
    return out


def _append_cases() -> list[dict[str, Any]]:
    raw_cases = [
        ("first-element", 1, {"text": "first"}),
        ("fifth-element", 5, {"text": "fifth", "n": 1e21, "tiny": 1e-7}),
    ]
    return [
        case(label, ["AppendHash"], VALID, count=count, last=last, expectedHash=append_hash(count, last))
        for label, count, last in raw_cases
    ]


def generate() -> dict[str, Any]:
    sections = {
        "stableStringify": _stable_cases(),
        "computeHash": _hash_cases(),
        "sanitize": _sanitize_cases(),
        "appendHash": _append_cases(),
    }
    number(sections.values())
    every_case = [item for cases in sections.values() for item in cases]
    return {
        **header(
            "Canonical JSON (stable stringify) and document hashes for Starfish v3 (digest §3.2, §3.3, §3.7). "
            "Upstream hash.json shape plus `sanitize` and `appendHash` lists. Every expected text is what "
            "JavaScript's JSON.stringify writes for the key-sorted value (keys by code point).",
            every_case,
        ),
        **sections,
    }
