"""Fresh identities for tests and load: a signing key plus the cap-cert it presents.

Every helper makes new random keys unless it is given one, so two tests never share a nonce space,
an identity or a document path. The identity a server binds (digest §5.9) is exposed as
`Device.identity`, so a test can build `users/{identity}/...` paths without re-deriving it.

- `root_device()`: a self-signed device cap (iss == sub); the server grants it `device:root`.
- `paired_device(root, ...)`: a device key certified by a root key; it acts as the root's user.
- `member(owner, ...)`: a member cap for another user's key, scoped to one collection.
- `audience(owner, ...)`: a public-link cap; each presenter signs with its own key (X-Starfish-Pub).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from protocol.capcert import build_cap_cert
from protocol.keys import KemKey, SigningKey, user_id_from_pub

DEFAULT_OPS = ("read", "write", "list")


def scope(collections: Sequence[str] = ("*",), ops: Sequence[str] = DEFAULT_OPS,
          paths: Sequence[str] | None = None) -> dict[str, Any]:
    """A cap scope; `paths=None` leaves `paths` out (unrestricted for device caps)."""
    out: dict[str, Any] = {"ops": list(ops), "collections": list(collections)}
    if paths is not None:
        out["paths"] = list(paths)
    return out


def window(nbf: int | None = None, exp: int | None = None, lifetime: int = 3600) -> tuple[int, int]:
    """Cap validity in Unix seconds: by default from a minute ago to `lifetime` seconds from now."""
    now = int(time.time())
    start = now - 60 if nbf is None else nbf
    return start, (now + lifetime if exp is None else exp)


@dataclass
class Device:
    """Something that signs requests: its key, the cap it presents and who issued that cap."""

    key: SigningKey
    cert: dict[str, Any]
    issuer: SigningKey
    kem: KemKey | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.cert["kind"]

    @property
    def identity(self) -> str:
        """The identity the server binds to requests signed by this device (digest §5.9)."""
        if self.kind == "device":
            return self.cert["issUserId"]
        if self.kind == "member":
            return self.cert["subUserId"]
        return user_id_from_pub(self.key.pub)

    @property
    def sends_pub(self) -> bool:
        """Audience caps name their presenter in X-Starfish-Pub."""
        return self.kind == "audience"

    def with_cert(self, cert: dict[str, Any]) -> Device:
        """The same key presenting another cert (for negative tests)."""
        return Device(self.key, cert, self.issuer, self.kem, dict(self.extra))


def root_device(
    cap_scope: dict[str, Any] | None = None, *, root: SigningKey | None = None, nbf: int | None = None,
    exp: int | None = None, extra: dict[str, Any] | None = None,
) -> Device:
    """A self-signed root device cap (default scope: every op on `*`)."""
    root = root or SigningKey.generate()
    kem = KemKey.generate()
    start, end = window(nbf, exp)
    cert = build_cap_cert(issuer=root, kind="device", sub=root.pub, sub_kem=kem.pub, scope=cap_scope or scope(),
                          nbf=start, exp=end, extra=extra)
    return Device(root, cert, root, kem)


def paired_device(
    root: SigningKey, cap_scope: dict[str, Any] | None = None, *, nbf: int | None = None, exp: int | None = None,
    key: SigningKey | None = None, with_sub_user_id: bool = False,
) -> Device:
    """A device key certified by `root`: the server binds it to the root's identity."""
    key = key or SigningKey.generate()
    kem = KemKey.generate()
    start, end = window(nbf, exp)
    cert = build_cap_cert(issuer=root, kind="device", sub=key.pub, sub_kem=kem.pub, scope=cap_scope or scope(),
                          nbf=start, exp=end, sub_user_id=key.user_id if with_sub_user_id else None)
    return Device(key, cert, root, kem)


def member(
    owner: SigningKey, collection: str, paths: Sequence[str] | None, *, ops: Sequence[str] = ("read", "list"),
    key: SigningKey | None = None, nbf: int | None = None, exp: int | None = None,
    collections: Sequence[str] | None = None,
) -> Device:
    """A member cap: `owner` shares `collection` (under `paths`) with another user's key."""
    key = key or SigningKey.generate()
    kem = KemKey.generate()
    start, end = window(nbf, exp)
    cert = build_cap_cert(issuer=owner, kind="member", sub=key.pub, sub_kem=kem.pub, sub_user_id=key.user_id,
                          scope=scope(collections or [collection], ops, paths), nbf=start, exp=end)
    return Device(key, cert, owner, kem)


def audience(
    owner: SigningKey, collection: str, paths: Sequence[str] | None, *, ops: Sequence[str] = ("read",),
    presenter: SigningKey | None = None, aud: Sequence[str] | None = None, nbf: int | None = None,
    exp: int | None = None,
) -> Device:
    """An audience (public-link) cap and one presenter key that redeems it."""
    presenter = presenter or SigningKey.generate()
    start, end = window(nbf, exp)
    cert = build_cap_cert(issuer=owner, kind="audience", scope=scope([collection], ops, paths), nbf=start, exp=end,
                          aud=list(aud) if aud is not None else None)
    return Device(presenter, cert, owner)
