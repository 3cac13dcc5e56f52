"""Device keys for load users: each user signs with its own key, rotated after a fixed count.

The official servers' nonce caches refuse a signer after 4 096 live nonces in a 10-minute window
(digest §5.7), so a key is retired after `rotate_after` signed requests (default 4 000) and a fresh
self-signed root device cap takes its place. Every request still gets its own fresh nonce.
"""

from __future__ import annotations

import itertools
import secrets
import time

from protocol.capcert import build_cap_cert
from protocol.keys import SigningKey
from protocol.signing import Credential

# Every collection a scenario writes or reads (the conformance profile's cap-gated ones).
COLLECTIONS = ("shared", "events", "chunked")
DEFAULT_ROTATE_AFTER = 4000
CAP_LIFETIME_S = 12 * 3600

_key_ids = itertools.count()


class DeviceKey:
    """One signing key with its self-signed device cap and a count of the requests it signed."""

    __slots__ = ("credential", "key", "key_id", "signed")

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        now = int(time.time())
        cert = build_cap_cert(issuer=self.key, sub=self.key.pub, sub_kem="00" * 32,
                              scope={"ops": ["read", "write"], "collections": list(COLLECTIONS)},
                              nbf=now - 60, exp=now + CAP_LIFETIME_S)
        self.credential = Credential(cert, self.key)
        self.key_id = f"{next(_key_ids)}-{secrets.token_hex(3)}"
        self.signed = 0


class KeyRing:
    """The current key of one user; `take()` counts a request and rotates when the key is used up."""

    def __init__(self, rotate_after: int = DEFAULT_ROTATE_AFTER) -> None:
        if rotate_after <= 0:
            raise ValueError("rotate_after must be positive")
        self.rotate_after = rotate_after
        self.current = DeviceKey()
        self.rotations = 0

    def take(self) -> tuple[DeviceKey, int]:
        """The key to sign the next request with, and that request's 1-based count on the key."""
        if self.current.signed >= self.rotate_after:
            self.current = DeviceKey()
            self.rotations += 1
        self.current.signed += 1
        return self.current, self.current.signed
