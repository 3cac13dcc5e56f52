"""Canonical JSON ("stable stringify"), byte-identical to the official servers (digest §3.2).

Why not `json.dumps(sort_keys=True)`: Starfish hashes and signs the text JavaScript's
`JSON.stringify` would produce for the key-sorted value, and Python renders numbers differently
(`1.0`, `-0.0`, `1e-05`, `1e+21`, huge integers). This module renders every number the way
ECMAScript's Number::toString does.

Two deliberate choices where implementations can disagree (both recorded in `vectors/README.md`):
- keys sort by Unicode code point (as the official Python server and `hash.json` do), not by the
  UTF-16 code units JavaScript's default sort would use;
- a lone surrogate in a string is written as a `\\udXXX` escape, as ES2019's well-formed
  `JSON.stringify` does, so every string has a canonical UTF-8 form.
"""

from __future__ import annotations

import math
import re
from typing import Any

from protocol.errors import CanonicalJsonError, rejects_garbage

_SAFE_INTEGER_LIMIT = 2**53
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@rejects_garbage(CanonicalJsonError)
def js_number(value: float) -> str:
    """Render a double as ECMAScript's Number::toString does (NaN and ±Infinity become `null`)."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == 0:
        return "0"  # both +0 and -0
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digit string that round-trips (the "k digits" of the spec).
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0")
    digits = (whole + fraction).lstrip("0")
    # n: position of the decimal point relative to the first significant digit.
    leading_zeros = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    n = len(whole) - leading_zeros + (int(exponent) if exponent else 0)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exp = n - 1
        exp_text = f"e+{exp}" if exp >= 0 else f"e-{-exp}"
        text = (digits if k == 1 else digits[0] + "." + digits[1:]) + exp_text
    return sign + text


def _integer(value: int) -> str:
    if -_SAFE_INTEGER_LIMIT < value < _SAFE_INTEGER_LIMIT:
        return str(value)
    try:
        return js_number(float(value))
    except OverflowError:
        # Beyond the double range: JavaScript would hold ±Infinity, which JSON.stringify writes as null.
        return "null"


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff]')


def _needs_slow_path(value: str) -> bool:
    # Fast check: most strings have nothing to escape.
    return _NEEDS_ESCAPE.search(value) is not None


@rejects_garbage(CanonicalJsonError)
def json_string(value: str) -> str:
    """A JSON string literal with exactly the escapes `JSON.stringify` uses."""
    return _string(value) if _needs_slow_path(value) else f'"{value}"'


def _js_property_order(keys: Any) -> list[str]:
    """JavaScript's own key order: array-index keys ("0", "7", "42", below 2**32 - 1) ascending, then the
    others in insertion order. `JSON.stringify` (and `JSON.parse`) follow it; Python dicts do not."""
    index_keys = {k for k in keys if _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1}
    return sorted(index_keys, key=int) + [k for k in keys if k not in index_keys]


def _render(value: Any, out: list[str], depth: int, sort_keys: bool = True) -> None:
    if depth > 10_000:
        raise CanonicalJsonError("value nests deeper than 10000 levels; refusing to canonicalize it")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(js_number(value))
    elif isinstance(value, str):
        out.append(_string(value) if _needs_slow_path(value) else f'"{value}"')
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _render(item, out, depth + 1, sort_keys)
        out.append("]")
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJsonError(
                    f"object key {key!r} is a {type(key).__name__}; canonical JSON keys must be strings"
                )
        out.append("{")
        for index, key in enumerate(sorted(value) if sort_keys else _js_property_order(value)):
            if index:
                out.append(",")
            out.append(_string(key) if _needs_slow_path(key) else f'"{key}"')
            out.append(":")
            _render(value[key], out, depth + 1, sort_keys)
        out.append("}")
    else:
        # JSON.stringify has no form for other types; the official servers write null (digest §3.2 rule 6).
        out.append("null")


@rejects_garbage(CanonicalJsonError)
def stable_stringify(value: Any) -> str:
    """The canonical text of a JSON value: sorted keys, no whitespace, JavaScript number forms."""
    out: list[str] = []
    _render(value, out, 0)
    return "".join(out)


@rejects_garbage(CanonicalJsonError)
def js_stringify(value: Any) -> str:
    """`JSON.stringify(value)` as JavaScript writes it: keys in insertion order, JavaScript number forms.

    For the few places that hash or encode plain (unsorted) JSON, such as share-link fragments.
    """
    out: list[str] = []
    _render(value, out, 0, sort_keys=False)
    return "".join(out)


@rejects_garbage(CanonicalJsonError)
def canonical_bytes(value: Any) -> bytes:
    """UTF-8 bytes of `stable_stringify(value)`; always encodable because lone surrogates are escaped."""
    return stable_stringify(value).encode("utf-8")
