"""Redis as a helper that may fail: every call bounded by a short timeout, and a circuit breaker
that stops calling for a while after a failure, so a Redis that hangs or refuses costs one
timeout, not one per request.

While the breaker is open, callers fall back to what one instance can do alone (in-process rate
buckets; local fan-out of events, whose outbox rows are handed on again once Redis is back).
After `cooldown` one call is let through; its success closes the breaker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger("laurel.redis")

TIMEOUT = 0.25
COOLDOWN = 5.0


class RedisGuard:
    def __init__(
        self,
        name: str,
        *,
        cooldown: float = COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[bool], None] = lambda up: None,
    ) -> None:
        self._name = name
        self._cooldown = cooldown
        self._clock = clock
        self._on_change = on_change
        self._open_until: float | None = None

    @property
    def available(self) -> bool:
        """False while the breaker is open; True again once the cooldown has passed."""
        return self._open_until is None or self._clock() >= self._open_until

    def succeeded(self) -> None:
        if self._open_until is not None:
            self._open_until = None
            log.warning("Redis answers again: %s is shared across instances again", self._name)
            self._on_change(True)

    def failed(self, error: BaseException) -> None:
        first = self._open_until is None
        self._open_until = self._clock() + self._cooldown
        if first:
            log.warning(
                "Redis does not answer (%s): %s falls back to this instance for %.0f s at a time",
                type(error).__name__,
                self._name,
                self._cooldown,
            )
            self._on_change(False)


def connect(url: str, *, timeout: float = TIMEOUT, **options: Any) -> Redis:
    """A client whose every command and connection attempt gives up after `timeout`."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, **options)
