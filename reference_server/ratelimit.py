"""Fixed-window rate limits per collection and action (digest §10.2), answered with 429.

Every request that reaches the check counts, including ones that fail later. The bucket is the
caller's identity (else the socket peer's IP, else "anonymous"), the IP, or both; X-Forwarded-For
is never trusted. Counters whose window has ended are swept once the table grows, so memory stays
bounded by the number of buckets active in one window.
"""

from __future__ import annotations

from reference_server.config import Counter

_SWEEP_AT = 100_000


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, int, str], list[int]] = {}  # (rule, counter, bucket) -> [start, n, length]

    def over_limit(self, rule_key: str, counters: tuple[Counter, ...], identity: str, ip: str, now_ms: int) -> bool:
        """Count this request against each counter; True if any is now above its maximum."""
        if len(self._windows) > _SWEEP_AT:
            self._sweep(now_ms)
        over = False
        for index, counter in enumerate(counters):
            if counter.dimension == "ip":
                bucket = ip or "anonymous"
            elif counter.dimension == "identity":
                bucket = identity or ip or "anonymous"
            else:
                bucket = f"{identity}|{ip}"
            key = (rule_key, index, bucket)
            window = self._windows.get(key)
            if window is None or now_ms - window[0] >= counter.window_ms:
                window = self._windows[key] = [now_ms, 0, counter.window_ms]
            window[1] += 1
            if window[1] > counter.max_requests:
                over = True
        return over

    def _sweep(self, now_ms: int) -> None:
        stale = [key for key, (start, _, length) in self._windows.items() if now_ms - start >= length]
        for key in stale:
            del self._windows[key]
