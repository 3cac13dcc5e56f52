"""Ways to break a valid Ed25519 signature, shared by every signed family's generator.

Each produces the standard-base64 text a vector stores. Why these: they are the classic verifier
bugs (accepting a malleable S, decoding leniently, not checking the length, treating "" as absent).
"""

from __future__ import annotations

from protocol.encoding import b64decode, b64encode

# The order of the Ed25519 base point.
ED25519_L = 2**252 + 27742317777372353535851937790883648493


def flip_bit(signature_b64: str, byte_index: int = 0, bit: int = 0) -> str:
    raw = bytearray(b64decode(signature_b64))
    raw[byte_index] ^= 1 << bit
    return b64encode(bytes(raw))


def non_canonical_s(signature_b64: str) -> str:
    """Replace S by S + L: the same value modulo L, but an encoding RFC 8032 says to reject."""
    raw = b64decode(signature_b64)
    s = int.from_bytes(raw[32:], "little") + ED25519_L
    return b64encode(raw[:32] + s.to_bytes(32, "little"))


def truncated(signature_b64: str) -> str:
    return b64encode(b64decode(signature_b64)[:-1])


def with_space(signature_b64: str) -> str:
    """The same signature with a space in the middle of its base64 text."""
    middle = len(signature_b64) // 2
    return signature_b64[:middle] + " " + signature_b64[middle:]
