"""Replay protection: remember each signer's nonces for exactly as long as a replay could pass the skew check.

A signed request is accepted only while `|ts - now| <= 300 s`, so once `now > ts + 300 s` a replay
of it fails the timestamp check anyway. Each nonce is therefore remembered until `ts + 300 s`, not
for a fixed window from first sight; that keeps the cache as small as correctness allows.

Why not the official design (a 10-minute TTL set, 4096 nonces per signer and 100 000 in total, fail
closed when full): one busy signer fills its 4096 slots in minutes and locks itself out, and any set
of signers filling the global table locks out everyone. Here:
- a signer over its own quota is refused (401, like a replay): a flooding signer exhausts only its
  own quota, never anyone else's;
- live nonces are never evicted, so a replay can never slip through;
- the total is bounded too (`max_entries`); reaching it refuses new nonces with a 503 that says the
  server is busy, rather than a 401 that looks like a forged request.
"""

from __future__ import annotations

import heapq
from enum import Enum

from protocol.constants import MAX_REQUEST_SKEW_MS

MAX_NONCE_LENGTH = 128  # clients send 24 characters; a longer nonce only costs the server memory


class NonceVerdict(Enum):
    FRESH = "fresh"
    REPLAY = "replay"  # seen while still replayable, or the signer's quota is used up (401)
    FULL = "full"  # the whole cache is at its bound (503)


class NonceCache:
    def __init__(self, *, per_signer_limit: int = 65_536, max_entries: int = 2_000_000) -> None:
        self.per_signer_limit = per_signer_limit
        self.max_entries = max_entries
        self._by_signer: dict[str, dict[str, int]] = {}
        self._expiries: list[tuple[int, str, str]] = []  # min-heap of (expires_at_ms, signer, nonce)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def check_and_remember(self, signer: str, nonce: str, ts_ms: int, now_ms: int) -> NonceVerdict:
        """Record `nonce` for `signer` unless it is a replay. `ts_ms` is the request's (already checked) time."""
        self._expire(now_ms)
        seen = self._by_signer.get(signer)
        if seen is not None and nonce in seen:
            return NonceVerdict.REPLAY  # still live: expired ones were just removed
        if seen is not None and len(seen) >= self.per_signer_limit:
            return NonceVerdict.REPLAY
        if self._size >= self.max_entries:
            return NonceVerdict.FULL
        if seen is None:
            seen = self._by_signer[signer] = {}
        expires = ts_ms + MAX_REQUEST_SKEW_MS
        seen[nonce] = expires
        heapq.heappush(self._expiries, (expires, signer, nonce))
        self._size += 1
        return NonceVerdict.FRESH

    def _expire(self, now_ms: int) -> None:
        """Forget nonces whose request time has left the skew window (a replay now fails on `ts`)."""
        heap = self._expiries
        while heap and heap[0][0] < now_ms:
            _, signer, nonce = heapq.heappop(heap)
            seen = self._by_signer.get(signer)
            if seen is not None and seen.pop(nonce, None) is not None:
                self._size -= 1
                if not seen:
                    del self._by_signer[signer]
