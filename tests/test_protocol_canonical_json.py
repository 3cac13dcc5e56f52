"""Unit tests for protocol.canonical_json: JavaScript number forms, string escapes, key order (digest §3.2)."""

from __future__ import annotations

import json
import math

import pytest

from protocol.canonical_json import canonical_bytes, js_number, stable_stringify
from protocol.errors import CanonicalJsonError, ProtocolError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (-1.0, "-1"),
        (-0.0, "0"),
        (0.0, "0"),
        (0, "0"),
        (1e-6, "0.000001"),
        (1.5e-5, "0.000015"),
        (-1e-6, "-0.000001"),
        (1e-7, "1e-7"),
        (-1e-7, "-1e-7"),
        (1.25e-7, "1.25e-7"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.1, "0.1"),
        (123.456, "123.456"),
        (100.0, "100"),
        (2**53 + 1, "9007199254740992"),  # an int beyond 2^53 is written as the nearest double
        (-(2**53) - 1, "-9007199254740992"),
        (2**53, "9007199254740992"),
        (2**53 - 1, "9007199254740991"),
        (-(2**53) + 1, "-9007199254740991"),
        # JavaScript form. The official Python package writes 1152921504606846976 here: a known divergence.
        (2**60, "1152921504606847000"),
        (10**21, "1e+21"),
        (10**400, "null"),
        (-(10**400), "null"),
        (2**1024 - 2**971, "1.7976931348623157e+308"),  # the largest double, as an int
        (2**1024 - 2**970, "null"),  # halfway to 2^1024 rounds to even: Infinity
        (float("nan"), "null"),
        (float("inf"), "null"),
        (float("-inf"), "null"),
    ],
)
def test_number_forms(value: float, expected: str) -> None:
    assert stable_stringify(value) == expected


@pytest.mark.parametrize("value", [0.5, 1e-6, 1e-7, 1e21, 1e20, 5e-324, -2.5e-300, 3.0, 1 / 3])
def test_js_number_roundtrips_to_the_same_double(value: float) -> None:
    assert float(js_number(value)) == value


def test_js_number_nan_and_infinities() -> None:
    assert js_number(math.nan) == js_number(math.inf) == js_number(-math.inf) == "null"


def test_literals_and_containers() -> None:
    assert stable_stringify(None) == "null"
    assert stable_stringify(True) == "true"
    assert stable_stringify(False) == "false"
    assert stable_stringify([]) == "[]"
    assert stable_stringify({}) == "{}"
    assert stable_stringify([1, [2, {"b": None, "a": False}], "x"]) == '[1,[2,{"a":false,"b":null}],"x"]'
    assert stable_stringify((1, 2)) == "[1,2]"


def test_bools_are_not_numbers() -> None:
    assert stable_stringify([True, 1, False, 0]) == "[true,1,false,0]"


def test_other_types_become_null() -> None:
    assert stable_stringify(object()) == "null"
    assert stable_stringify({"a": {1, 2}}) == '{"a":null}'
    assert stable_stringify(b"bytes") == "null"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", '"plain"'),
        ('"', '"\\""'),
        ("\\", '"\\\\"'),
        ("/", '"/"'),
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00", '"\\u0000"'),
        ("\x01\x1f", '"\\u0001\\u001f"'),
        ("\x0b", '"\\u000b"'),
        ("\x7f", '"\x7f"'),  # DEL is not a JSON control character
        ("\u2028\u2029", '"\u2028\u2029"'),  # written raw, as JSON.stringify does
        ("é😀", '"é😀"'),
        ("\ud800", '"\\ud800"'),  # lone surrogates become lowercase \\u escapes
        ("a\udfffb", '"a\\udfffb"'),
        ("\udc00\ud800", '"\\udc00\\ud800"'),  # low then high: two lone surrogates
    ],
)
def test_string_escapes(text: str, expected: str) -> None:
    assert stable_stringify(text) == expected


def test_lone_surrogate_is_utf8_encodable() -> None:
    assert canonical_bytes({"k": "\ud800"}) == b'{"k":"\\ud800"}'


def test_canonical_bytes_is_utf8_of_stable_stringify() -> None:
    value = {"é": ["😀", "\u2028"]}
    assert canonical_bytes(value) == stable_stringify(value).encode("utf-8")


def test_keys_sort_by_code_point_not_utf16() -> None:
    # U+FFFF sorts before U+1F600 by code point; UTF-16 code units (D83D...) would put the emoji first.
    value = {"😀": 1, "\uffff": 2, "b": 3, "a": 4, "B": 5, "": 6, "aa": 7}
    assert stable_stringify(value) == '{"":6,"B":5,"a":4,"aa":7,"b":3,"\uffff":2,"😀":1}'


def test_integer_like_keys_sort_as_strings() -> None:
    assert stable_stringify({"10": 1, "9": 2, "1": 3}) == '{"1":3,"10":1,"9":2}'


def test_key_escapes() -> None:
    assert stable_stringify({'a"b': 1, "\n": 2}) == '{"\\n":2,"a\\"b":1}'


def test_insertion_order_does_not_matter() -> None:
    assert stable_stringify({"b": 1, "a": {"d": 1, "c": 2}}) == stable_stringify({"a": {"c": 2, "d": 1}, "b": 1})


def test_no_whitespace_and_matches_json_for_simple_values() -> None:
    value = {"z": [1, 2, {"y": "x"}], "a": "b", "n": None, "t": True}
    assert stable_stringify(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("bad", [{1: "x"}, {None: 1}, {("a",): 1}, {"ok": {2.5: 1}}, [{"a": {b"k": 1}}], {True: 1}])
def test_non_string_dict_key_is_rejected(bad: object) -> None:
    with pytest.raises(CanonicalJsonError) as info:
        stable_stringify(bad)
    assert info.value.code == "not-canonicalizable"


def test_too_deep_nesting_raises_canonical_json_error() -> None:
    value: list = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(CanonicalJsonError):
        stable_stringify(value)


def test_cycle_raises_canonical_json_error() -> None:
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(CanonicalJsonError):
        stable_stringify(cycle)


@pytest.mark.parametrize("bad", [None, "1", [1.0], object()])
def test_js_number_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(ProtocolError):
        js_number(bad)  # type: ignore[arg-type]
