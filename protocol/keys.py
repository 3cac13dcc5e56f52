"""Ed25519 signing keys and X25519 KEM keys, as the protocol spells them (lowercase hex).

Private keys are held in `SigningKey`/`KemKey` objects whose `repr` never shows the secret, so a
key cannot leak into a log line or a pytest failure message by accident.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol.constants import USER_ID_HEX_LEN
from protocol.encoding import EncodingError, hex_to_bytes
from protocol.errors import KeyFormatError, rejects_garbage


def user_id_from_pub(pub_hex: str) -> str:
    """A userId: the first 32 hex characters of SHA-256 over the decoded Ed25519 public key."""
    try:
        raw = hex_to_bytes(pub_hex, length=32, what="Ed25519 public key")
    except EncodingError as exc:
        raise KeyFormatError(str(exc)) from None
    return hashlib.sha256(raw).hexdigest()[:USER_ID_HEX_LEN]


@rejects_garbage(KeyFormatError)
def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869); the one KDF the protocol uses."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


class SigningKey:
    """An Ed25519 private key. `pub` is the hex public key that goes on the wire."""

    __slots__ = ("_key", "pub")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.pub: str = private_key.public_key().public_bytes_raw().hex()

    @classmethod
    def from_hex(cls, priv_hex: str) -> SigningKey:
        """Load a 32-byte seed given as hex."""
        try:
            seed = hex_to_bytes(priv_hex, length=32, what="Ed25519 private key")
        except EncodingError as exc:
            raise KeyFormatError(str(exc)) from None
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    @rejects_garbage(KeyFormatError)
    def derive(cls, seed: bytes, label: str) -> SigningKey:
        """A deterministic key from a seed and a label (for reproducible vectors and tests)."""
        ikm = hkdf_sha256(seed, salt=b"starfish-conformance-test-key", info=label.encode("utf-8"))
        return cls(Ed25519PrivateKey.from_private_bytes(ikm))

    @property
    def user_id(self) -> str:
        return user_id_from_pub(self.pub)

    def private_hex(self) -> str:
        """The seed as hex. Only for writing test vectors; never log it."""
        return self._key.private_bytes_raw().hex()

    @rejects_garbage()
    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(pub={self.pub[:16]}…)"


@rejects_garbage(returns=False)
def verify_ed25519(pub_hex: str, signature: bytes, message: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature by `pub_hex`; never raises.

    Malformed keys, wrong lengths and non-canonical encodings all verify as False (fail closed).
    """
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != 64:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(hex_to_bytes(pub_hex, length=32))
        key.verify(bytes(signature), message)
    except (EncodingError, ValueError, InvalidSignature):
        return False
    return True


class KemKey:
    """An X25519 private key for delegated encryption. `pub` is its hex public key."""

    __slots__ = ("_key", "pub")

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._key = private_key
        self.pub: str = private_key.public_key().public_bytes_raw().hex()

    @classmethod
    def from_hex(cls, priv_hex: str) -> KemKey:
        try:
            raw = hex_to_bytes(priv_hex, length=32, what="X25519 private key")
        except EncodingError as exc:
            raise KeyFormatError(str(exc)) from None
        return cls(X25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def generate(cls) -> KemKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    @rejects_garbage(KeyFormatError)
    def derive(cls, seed: bytes, label: str) -> KemKey:
        ikm = hkdf_sha256(seed, salt=b"starfish-conformance-test-kem", info=label.encode("utf-8"))
        return cls(X25519PrivateKey.from_private_bytes(ikm))

    def private_hex(self) -> str:
        """The private scalar as hex. Only for writing test vectors; never log it."""
        return self._key.private_bytes_raw().hex()

    def shared_secret(self, peer_pub_hex: str) -> bytes:
        """X25519 ECDH, refusing the all-zero secret a low-order peer point produces (RFC 7748 §6.1)."""
        try:
            peer = X25519PublicKey.from_public_bytes(hex_to_bytes(peer_pub_hex, length=32, what="X25519 public key"))
            secret = self._key.exchange(peer)
        except (EncodingError, ValueError) as exc:
            raise KeyFormatError(f"cannot run X25519 with that peer key: {exc}") from None
        if hmac.compare_digest(secret, bytes(32)):
            raise KeyFormatError("X25519 peer key is a low-order point (all-zero shared secret)")
        return secret

    def __repr__(self) -> str:
        return f"KemKey(pub={self.pub[:16]}…)"
