"""Revocation lists (digest §5.8): accepted from anyone because they authenticate themselves.

Mechanism (README "Revocation"): `POST {prefix}/revocations` with a signed list as the JSON body, and
`serve --revocations FILE` at startup. A list is verified with `protocol.revocation.verify_revocation_list`
(its issuer's signature), and replaces the issuer's previous list only if its `generation` is strictly
greater, so an old list cannot be replayed to un-revoke a cap. Accepted lists are kept in the store,
so with SQLite they survive a restart.

The lookup is indexed (a set per issuer) rather than a scan, and matches `protocol.revocation.is_revoked`
exactly: a (sub, cap nonce) pair, or a whole subject except the audience sentinel `sub == ""`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol.errors import RevocationListError
from protocol.revocation import verify_revocation_list
from reference_server.faults import NO_FAULTS, Faults
from reference_server.storage import Store

MAX_ISSUERS = 10_000


@dataclass(frozen=True)
class _Index:
    generation: int
    pairs: frozenset[tuple[str, str]]
    subjects: frozenset[str]


class RevocationRejected(ValueError):
    """`code` is `malformed`, `bad-signature`, `stale-generation` or `too-many-issuers`."""

    def __init__(self, message: str, code: str, generation: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.generation = generation


class Revocations:
    def __init__(self, store: Store, *, faults: Faults = NO_FAULTS) -> None:
        self._store = store
        self.faults = faults
        self._by_issuer: dict[str, _Index] = {}
        for stored in store.revocation_lists():
            self._by_issuer[stored["iss"]] = _index(stored)

    def is_revoked(self, iss: str, sub: str, cap_nonce: str) -> bool:
        if self.faults.on("revocation-ignored"):
            return False
        if self.faults.on("revocation-any-issuer") and any((sub, cap_nonce) in other.pairs
                                                          for other in self._by_issuer.values()):
            return True
        index = self._by_issuer.get(iss)
        if index is None:
            return False
        subjects = frozenset() if self.faults.on("revocation-subjects-ignored") else index.subjects
        return (sub, cap_nonce) in index.pairs or (sub != "" and sub in subjects)

    def generation(self, iss: str) -> int | None:
        index = self._by_issuer.get(iss)
        return index.generation if index else None

    def accept(self, revocation_list: Any) -> int:
        """Verify and store a list; returns its generation or raises `RevocationRejected`."""
        try:
            verify_revocation_list(revocation_list)
        except RevocationListError as exc:
            if not (exc.code == "bad-signature" and self.faults.on("revocation-unsigned")):
                raise RevocationRejected(str(exc), exc.code) from None
        iss = revocation_list["iss"]
        current = self._by_issuer.get(iss)
        stale = current is not None and revocation_list["generation"] <= current.generation
        if stale and not self.faults.on("revocation-stale-generation"):
            raise RevocationRejected(
                f"generation {revocation_list['generation']} is not greater than the stored {current.generation}",
                "stale-generation", current.generation,
            )
        if current is None and len(self._by_issuer) >= MAX_ISSUERS:
            raise RevocationRejected(f"at most {MAX_ISSUERS} issuers may have revocation lists", "too-many-issuers")
        stored = dict(revocation_list)
        self._store.put_revocation_list(stored)
        self._by_issuer[iss] = _index(stored)
        return stored["generation"]


def _index(revocation_list: dict[str, Any]) -> _Index:
    return _Index(
        generation=revocation_list["generation"],
        pairs=frozenset((e["sub"], e["nonce"]) for e in revocation_list.get("revoked", [])),
        subjects=frozenset(e["sub"] for e in revocation_list.get("revokedSubjects", [])),
    )
