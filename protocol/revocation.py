"""Revocation lists (digest §5.8, §5.3(e)): an issuer's signed, generation-numbered list of revoked caps.

A list is self-authenticating, so a server can accept it from anyone: the signature proves the
issuer wrote it and the strictly increasing `generation` stops an old list from being replayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.canonical_json import stable_stringify
from protocol.constants import REVLIST_DOMAIN
from protocol.encoding import EncodingError, b64decode, b64encode
from protocol.errors import KeyFormatError, RevocationListError, rejects_garbage
from protocol.keys import SigningKey, user_id_from_pub, verify_ed25519


@rejects_garbage(RevocationListError)
def revocation_list_signing_input(revocation_list: Mapping[str, Any]) -> str:
    return REVLIST_DOMAIN + stable_stringify({k: v for k, v in revocation_list.items() if k != "sig"})


@rejects_garbage(RevocationListError)
def build_revocation_list(
    issuer: SigningKey,
    generation: int,
    revoked: list[Mapping[str, Any]],
    revoked_subjects: list[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """A signed list. `revoked` entries are `{sub, nonce, exp}`; `revoked_subjects` `{sub, exp}`."""
    unsigned: dict[str, Any] = {
        "v": 1,
        "iss": issuer.pub,
        "issUserId": issuer.user_id,
        "generation": generation,
        "revoked": [dict(entry) for entry in revoked],
    }
    if revoked_subjects is not None:
        unsigned["revokedSubjects"] = [dict(entry) for entry in revoked_subjects]
    signature = issuer.sign(revocation_list_signing_input(unsigned).encode("utf-8"))
    return {**unsigned, "sig": b64encode(signature)}


@rejects_garbage(RevocationListError)
def verify_revocation_list(revocation_list: Any) -> None:
    """Raise `RevocationListError` unless the list is well formed and signed by its `iss`."""
    if not isinstance(revocation_list, Mapping):
        raise RevocationListError("revocation list must be a JSON object", code="malformed")
    iss = revocation_list.get("iss")
    generation = revocation_list.get("generation")
    if not isinstance(iss, str) or isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        raise RevocationListError(
            "revocation list needs iss (hex) and a non-negative integer generation", code="malformed"
        )
    try:
        if user_id_from_pub(iss) != revocation_list.get("issUserId"):
            raise RevocationListError("revocation list issUserId must be sha256(iss)[0:32 hex]", code="malformed")
    except KeyFormatError:
        raise RevocationListError("revocation list iss must be a 32-byte hex Ed25519 key", code="malformed") from None
    for field, required in (("revoked", ("sub", "nonce")), ("revokedSubjects", ("sub",))):
        entries = revocation_list.get(field, [] if field == "revokedSubjects" else None)
        if not isinstance(entries, list) or not all(
            isinstance(e, Mapping) and all(isinstance(e.get(k), str) for k in required) for e in entries
        ):
            raise RevocationListError(
                f"revocation list {field} must be a list of objects with {', '.join(required)}", code="malformed"
            )
    sig = revocation_list.get("sig")
    try:
        raw = b64decode(sig, what="revocation list sig") if isinstance(sig, str) else b""
    except EncodingError:
        raw = b""
    if not verify_ed25519(iss, raw, revocation_list_signing_input(revocation_list).encode("utf-8")):
        raise RevocationListError("revocation list bad-signature: sig does not verify under iss", code="bad-signature")


@rejects_garbage(RevocationListError)
def is_revoked(revocation_list: Mapping[str, Any], *, sub: str, cap_nonce: str) -> bool:
    """Does this (already verified) list revoke the cap with subject `sub` and nonce `cap_nonce`?

    Subject-wide entries never match the audience sentinel `sub == ""` (digest §5.8).
    """
    for entry in revocation_list.get("revoked", []):
        if entry.get("sub") == sub and entry.get("nonce") == cap_nonce:
            return True
    if sub == "":
        return False
    return any(entry.get("sub") == sub for entry in revocation_list.get("revokedSubjects", []))
