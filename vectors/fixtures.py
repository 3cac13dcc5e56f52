"""Fixed inputs for the generators: seeds, keys, times and nonces.

Every key comes from `SigningKey.derive(SEED, label)` / `KemKey.derive(SEED, label)`, every nonce and
IV from a hash of a label, and every time is a constant, so `vectors generate` is a pure function
and two runs give byte-identical files.
"""

from __future__ import annotations

import hashlib

from protocol.encoding import b64encode
from protocol.keys import KemKey, SigningKey

SEED = b"starfish-conformance/vectors/v1"

GENERATOR_VERSION = "starfish-conformance-vectors/1"
PROTOCOL_VERSION = "3.0.0a72"

# Cap-cert window (Unix seconds) and a "now" inside it.
NBF = 1_747_000_000
EXP = 1_749_592_000
NOW = 1_748_000_000
# Request timestamps (Unix milliseconds).
TS_MS = 1_747_000_000_000


def signing_key(label: str) -> SigningKey:
    return SigningKey.derive(SEED, label)


def kem_key(label: str) -> KemKey:
    return KemKey.derive(SEED, label)


def label_bytes(label: str, length: int) -> bytes:
    """`length` bytes that depend only on `label` (nonces, IVs, content keys)."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{label}#{counter}".encode()).digest()
        counter += 1
    return out[:length]


def nonce_b64(label: str) -> str:
    """A 16-byte nonce in standard base64, fixed by `label`."""
    return b64encode(label_bytes("nonce:" + label, 16))
