"""Token buckets in the process: refill by elapsed time, on the injected clock."""

from __future__ import annotations

import pytest

from app.infra.ratelimit import LocalBuckets, Policy


async def test_local_buckets_refill_over_time() -> None:
    now = [100.0]
    buckets, policy = LocalBuckets(clock=lambda: now[0]), Policy(rate=1000.0, burst=2)
    assert [await buckets.acquire("k", policy) for _ in range(2)] == [0.0, 0.0]
    assert await buckets.acquire("k", policy) == pytest.approx(0.001)
    now[0] += 0.0005
    assert await buckets.acquire("k", policy) == pytest.approx(0.0005)
    now[0] += 0.001
    assert await buckets.acquire("k", policy) == 0.0
