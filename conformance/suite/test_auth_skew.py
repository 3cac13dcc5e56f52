"""auth.skew: the request timestamp must be within ±300 000 ms of the server's clock (digest §5.5 step 5, §5.6).

Timestamps are signed relative to the server's own clock (read from `GET /health`), so a skewed host
clock on either side does not move the boundary.
"""

from __future__ import annotations

import pytest

from conformance.checks import MUST, check
from conformance.suite.auth_support import ServerClock, expect_data, expect_unauthorized, seed_shared, shared_reader


@check("auth.skew.299s-accepted", level=MUST,
       rule="A request signed with ts 299 s before or after the server's clock is accepted",
       source="digest §5.6 ([V] ±299 s give 200), §12.3")
@pytest.mark.parametrize("direction", [-1, 1], ids=["past", "future"])
def test_skew_299s_accepted(client, direction):
    seeded = seed_shared(client)
    clock = ServerClock.read(client)
    response = client.pull(seeded.path, device=shared_reader(), ts_ms=clock.now_ms() + direction * 299_000)
    expect_data(response, seeded.data)


@check("auth.skew.301s-rejected", level=MUST,
       rule="A request signed with ts 301 s before or after the server's clock is refused 401 Unauthorized",
       source="digest §5.5 step 5, §5.6 ([V] ±301 s give 401), §12.3")
@pytest.mark.parametrize("direction", [-1, 1], ids=["past", "future"])
def test_skew_301s_rejected(client, direction):
    seeded = seed_shared(client)
    clock = ServerClock.read(client)
    expect_unauthorized(client.pull(seeded.path, device=shared_reader(), ts_ms=clock.now_ms() + direction * 301_000))


@check("auth.skew.ts-in-milliseconds", level=MUST,
       rule="X-Starfish-Ts is Unix milliseconds: the current time written in seconds is refused 401",
       source="digest §5.1, §5.6")
def test_ts_is_milliseconds(client):
    seeded = seed_shared(client)
    clock = ServerClock.read(client)
    expect_unauthorized(client.pull(seeded.path, device=shared_reader(), ts_ms=clock.now_ms() // 1000))
