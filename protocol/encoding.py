"""Strict text encodings used on the wire: hex keys, standard base64 signatures, base64url links.

Strict means: a value with stray whitespace, the wrong alphabet or a bad length is rejected with an
`EncodingError`, never silently "repaired" (Python's `bytes.fromhex` skips spaces; the TypeScript
side does not, so a lenient decoder would split the two implementations).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from protocol.canonical_json import js_stringify
from protocol.errors import EncodingError, rejects_garbage

_HEX = re.compile(r"[0-9a-fA-F]*")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@rejects_garbage(EncodingError)
def hex_to_bytes(text: str, *, length: int | None = None, what: str = "hex value") -> bytes:
    """Decode hex; `length` (bytes) is enforced when given."""
    if not isinstance(text, str) or _HEX.fullmatch(text) is None or len(text) % 2:
        raise EncodingError(f"{what} must be an even-length string of hex digits")
    raw = bytes.fromhex(text)
    if length is not None and len(raw) != length:
        raise EncodingError(f"{what} must be {length} bytes ({2 * length} hex characters), got {len(raw)}")
    return raw


@rejects_garbage(EncodingError)
def b64encode(raw: bytes) -> str:
    """Standard, padded base64 (RFC 4648 §4): the form of every Starfish signature and nonce."""
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str, *, what: str = "base64 value") -> bytes:
    """Decode standard padded base64, refusing anything outside the alphabet."""
    if not isinstance(text, str) or _B64.fullmatch(text) is None or len(text) % 4:
        raise EncodingError(f"{what} must be standard padded base64")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EncodingError(f"{what} must be standard padded base64 ({exc})") from None


@rejects_garbage(EncodingError)
def to_base64url(text: str) -> str:
    """base64url of the UTF-8 bytes, no padding (base64url.json)."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def from_base64url(text: str) -> str:
    """Inverse of `to_base64url`; rejects `+`, `/` and `=` so a value has one spelling."""
    if not isinstance(text, str) or _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise EncodingError("base64url value must use A-Z a-z 0-9 - _ with no padding")
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise EncodingError(f"base64url value does not decode to UTF-8 text ({exc})") from None


@rejects_garbage(EncodingError)
def encode_link_fragment(origin: str, path: str, token: Any) -> str:
    """The fragment of a share link: base64url(JSON.stringify([origin, path, token])).

    Plain JSON in insertion order, not canonical JSON, written exactly as JavaScript does: non-ASCII
    raw, lone surrogates escaped, numbers in JavaScript form (`1.0` as `1`, `1e-7`, 2**60 as
    1152921504606847000) (base64url.json `link_fragment`). `json.dumps` would write Python forms.
    """
    return to_base64url(js_stringify([origin, path, token]))


@rejects_garbage(EncodingError)
def decode_link_fragment(fragment: str) -> Any:
    """Return the token of a link fragment (a leading `#` is allowed)."""
    raw = fragment[1:] if fragment.startswith("#") else fragment
    try:
        parsed = json.loads(from_base64url(raw))
    except json.JSONDecodeError as exc:
        raise EncodingError(f"link fragment is not JSON ({exc.msg})") from None
    if not (isinstance(parsed, list) and len(parsed) == 3):
        raise EncodingError("link fragment must decode to [origin, path, token]")
    return parsed[2]
