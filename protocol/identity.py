"""Root identity from a passphrase (identity-derivation.json): Argon2id, then HKDF into two keys.

Why two HKDF branches: the Ed25519 signing key and the X25519 KEM key must be independent, so each
gets its own salt and info from the one Argon2id master secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.constants import (
    ARGON2_HASH_LEN,
    ARGON2_ITERATIONS,
    ARGON2_MEMORY_KIB,
    ARGON2_PARALLELISM,
    ARGON2_SALT,
    ROOT_ED_HKDF_INFO,
    ROOT_ED_HKDF_SALT,
    ROOT_KEM_HKDF_INFO,
    ROOT_KEM_HKDF_SALT,
)
from protocol.errors import IdentityError
from protocol.keys import KemKey, SigningKey, hkdf_sha256


@dataclass(frozen=True, repr=False)
class RootIdentity:
    """The keys of a root principal. `repr` shows only public parts."""

    user_id: str
    signing: SigningKey
    kem: KemKey

    def __repr__(self) -> str:
        return f"RootIdentity(user_id={self.user_id})"


def argon2_master(passphrase: str) -> bytes:
    """The 32-byte Argon2id master secret (47104 KiB, 3 passes, 1 lane, salt `starfish-v3-root`)."""
    if not isinstance(passphrase, str) or not passphrase.strip():
        raise IdentityError("passphrase must be a non-blank string")
    return hash_secret_raw(
        secret=passphrase.encode("utf-8"),
        salt=ARGON2_SALT,
        time_cost=ARGON2_ITERATIONS,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=ARGON2_HASH_LEN,
        type=Type.ID,
    )


def derive_root_identity(passphrase: str) -> RootIdentity:
    """Derive the same root keys every official client derives from this passphrase."""
    master = argon2_master(passphrase)
    ed_seed = hkdf_sha256(master, salt=ROOT_ED_HKDF_SALT, info=ROOT_ED_HKDF_INFO)
    kem_seed = hkdf_sha256(master, salt=ROOT_KEM_HKDF_SALT, info=ROOT_KEM_HKDF_INFO)
    signing = SigningKey(Ed25519PrivateKey.from_private_bytes(ed_seed))
    kem = KemKey(X25519PrivateKey.from_private_bytes(kem_seed))
    return RootIdentity(user_id=signing.user_id, signing=signing, kem=kem)
