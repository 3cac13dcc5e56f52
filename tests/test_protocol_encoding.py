"""Unit tests for protocol.encoding: strict hex, strict base64, base64url and link fragments."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.encoding import (
    b64decode,
    b64encode,
    decode_link_fragment,
    encode_link_fragment,
    from_base64url,
    hex_to_bytes,
    to_base64url,
)
from protocol.errors import EncodingError


def test_hex_roundtrip_and_case() -> None:
    assert hex_to_bytes("00ff10") == b"\x00\xff\x10"
    assert hex_to_bytes("ABcd") == b"\xab\xcd"
    assert hex_to_bytes("") == b""


@pytest.mark.parametrize(
    "bad",
    ["ab cd", " abcd", "abcd ", "abc", "a", "zz", "0xab", "ab\n", "ab\t", "ａｂ", "١٢"],
)
def test_hex_rejects_spaces_odd_length_and_non_hex(bad: str) -> None:
    with pytest.raises(EncodingError):
        hex_to_bytes(bad)


def test_hex_length_is_enforced() -> None:
    assert hex_to_bytes("00" * 32, length=32) == bytes(32)
    with pytest.raises(EncodingError):
        hex_to_bytes("00" * 31, length=32)
    with pytest.raises(EncodingError):
        hex_to_bytes("00" * 33, length=32)


@pytest.mark.parametrize("bad", [None, 12, b"ab", ["ab"]])
def test_hex_rejects_non_strings(bad: object) -> None:
    with pytest.raises(EncodingError):
        hex_to_bytes(bad)  # type: ignore[arg-type]


def test_b64_roundtrip() -> None:
    for raw in (b"", b"\x00", b"\xff\xfe", bytes(range(256))):
        assert b64decode(b64encode(raw)) == raw
    assert b64encode(b"\xfb\xff") == "+/8="


@pytest.mark.parametrize(
    "bad",
    ["-_8=", "+/8", "AAA", "AA=A", "AA AA", "AAAA\n", " AAAA", "AA==AA==", "AAAAA===", "A===", "ÀAAA", "AA%A"],
)
def test_b64_rejects_bad_alphabet_padding_and_whitespace(bad: str) -> None:
    with pytest.raises(EncodingError):
        b64decode(bad)


@pytest.mark.parametrize("bad", [None, 5, b"AAAA"])
def test_b64_rejects_non_strings(bad: object) -> None:
    with pytest.raises(EncodingError):
        b64decode(bad)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_base64url_roundtrip(text: str) -> None:
    encoded = to_base64url(text)
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert from_base64url(encoded) == text


def test_base64url_known_value() -> None:
    assert to_base64url("\xfb\xff") == base64.urlsafe_b64encode("\xfb\xff".encode()).decode().rstrip("=")
    assert to_base64url("hi?") == "aGk_"


@pytest.mark.parametrize("bad", ["aGk+", "aGk/", "aGk=", "a", "aGk_a", "aG k", "//8"])
def test_base64url_rejects_other_alphabets_padding_and_bad_length(bad: str) -> None:
    with pytest.raises(EncodingError):
        from_base64url(bad)


def test_base64url_rejects_non_utf8() -> None:
    with pytest.raises(EncodingError):
        from_base64url(base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="))


def test_link_fragment_roundtrip() -> None:
    token = {"cap": "x", "n": [1, 2], "é": "😀"}
    fragment = encode_link_fragment("https://example.com", "/pull/a", token)
    assert decode_link_fragment(fragment) == token
    assert decode_link_fragment("#" + fragment) == token


def test_link_fragment_is_plain_json_in_insertion_order() -> None:
    fragment = encode_link_fragment("o", "p", {"b": 1, "a": "é"})
    assert from_base64url(fragment) == '["o","p",{"b":1,"a":"é"}]'


@pytest.mark.parametrize(
    "bad",
    ["", "#", to_base64url("not json"), to_base64url('["only", "two"]'), to_base64url("{}"), "!!!", None, 7],
)
def test_decode_link_fragment_rejects_garbage(bad: object) -> None:
    with pytest.raises(EncodingError):
        decode_link_fragment(bad)  # type: ignore[arg-type]
