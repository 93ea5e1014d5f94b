"""Token-bucket rate limiting per credential (API key or user token).

Each credential has a bucket of `burst` tokens refilled at `rate` tokens per second; a request
takes one token or waits. Without Redis the buckets live in this process; with Redis they are
shared by every instance through one atomic Lua script, so the limit holds behind a load balancer.
If Redis does not answer (within its short timeout), this instance's own buckets stand in until
it does (`RedisGuard`): each instance then limits alone, a credential spread over N instances
getting up to N times its rate, which beats refusing or waiting.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import RedisError

from app.infra.redis_guard import TIMEOUT, RedisGuard, connect

log = logging.getLogger("laurel.ratelimit")

MAX_LOCAL_BUCKETS = 100_000


@dataclass(frozen=True, slots=True)
class Policy:
    """`rate` tokens per second into a bucket of `burst`; a rate of 0 means unlimited."""

    rate: float
    burst: int


class RateLimiter(Protocol):
    async def acquire(self, credential: str, policy: Policy) -> float:
        """Takes a token: 0 when allowed, else the seconds until one is available."""
        ...

    async def close(self) -> None: ...


class LocalBuckets:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._clock = clock

    async def close(self) -> None:
        self._buckets.clear()

    async def acquire(self, credential: str, policy: Policy) -> float:
        now = self._clock()
        tokens, updated = self._buckets.get(credential, (float(policy.burst), now))
        tokens = min(float(policy.burst), tokens + (now - updated) * policy.rate)
        if tokens >= 1:
            self._store(credential, tokens - 1, now, policy)
            return 0.0
        self._store(credential, tokens, now, policy)
        return (1 - tokens) / policy.rate

    def _store(self, credential: str, tokens: float, now: float, policy: Policy) -> None:
        if len(self._buckets) >= MAX_LOCAL_BUCKETS and credential not in self._buckets:
            self._forget_full(now, policy)
        self._buckets[credential] = (tokens, now)

    def _forget_full(self, now: float, policy: Policy) -> None:
        """A full bucket is the same as no bucket: dropping those bounds memory without effect."""
        refill = policy.burst / policy.rate
        self._buckets = {
            key: entry for key, entry in self._buckets.items() if now - entry[1] < refill
        }


# KEYS[1] bucket; ARGV rate, burst. Redis time, so instances with skewed clocks agree.
TAKE_TOKEN = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(bucket[1]) or burst
local updated = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisBuckets:
    """Buckets shared by every instance; while Redis does not answer, this instance's own."""

    def __init__(
        self, url: str, *, namespace: str, guard: RedisGuard | None = None, timeout: float = TIMEOUT
    ) -> None:
        self._redis = connect(url, timeout=timeout)
        self._namespace = namespace
        self._take = self._redis.register_script(TAKE_TOKEN)
        self._guard = guard or RedisGuard("rate limiting")
        self._local = LocalBuckets()

    async def close(self) -> None:
        await self._redis.aclose()

    async def acquire(self, credential: str, policy: Policy) -> float:
        if not self._guard.available:
            return await self._local.acquire(credential, policy)
        try:
            key = f"{self._namespace}:rate:{credential}"
            wait = await self._take(keys=[key], args=[policy.rate, policy.burst])
        except (RedisError, OSError) as error:
            self._guard.failed(error)
            return await self._local.acquire(credential, policy)
        self._guard.succeeded()
        return float(wait)


def retry_after(wait: float) -> int:
    """Whole seconds for the Retry-After header, never 0 (which would invite a retry storm)."""
    return max(1, math.ceil(wait))


def build_rate_limiter(
    redis_url: str | None,
    *,
    namespace: str = "laurel",
    guard: RedisGuard | None = None,
    timeout: float = TIMEOUT,
) -> RateLimiter:
    if not redis_url:
        return LocalBuckets()
    return RedisBuckets(redis_url, namespace=namespace, guard=guard, timeout=timeout)
