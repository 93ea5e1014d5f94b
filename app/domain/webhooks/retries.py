"""What one attempt's result does to its delivery and its endpoint.

2xx succeeds; 410 fails the delivery and disables the endpoint (GONE); anything else is a
failed attempt, retried on the schedule (each delay stretched by up to `jitter`), no sooner than
a `Retry-After` the receiver sent with 429/502/503/504 (capped at a day). After the last retry
the delivery fails. An endpoint whose attempts have all failed for `disable_after` since its
last success is disabled (FAILING). Single attempts (redelivery, tests) never retry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.webhooks.model import DeliveryStatus, DisabledReason

DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = timedelta(hours=24)
GONE = 410


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.1
    disable_after: timedelta = timedelta(days=5)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What came back: a status (with the start of the body, and `Retry-After` in seconds when
    sent), or an error; and how long it took."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None
    body: str | None = None
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Next:
    """The delivery's state after the attempt, and what happens to its endpoint."""

    status: DeliveryStatus
    next_attempt_at: datetime | None
    disable: DisabledReason | None
    failing_since: datetime | None


def after_attempt(
    result: AttemptResult,
    *,
    attempts_made: int,
    failing_since: datetime | None,
    now: datetime,
    policy: RetryPolicy,
    retry: bool,
    rng: random.Random | None = None,
) -> Next:
    """`attempts_made` counts this attempt; `retry` is False for a single attempt."""
    if result.succeeded:
        return Next(DeliveryStatus.SUCCEEDED, None, None, None)
    failing = failing_since or now
    if result.status == GONE:
        return Next(DeliveryStatus.FAILED, None, DisabledReason.GONE, failing)
    disable = DisabledReason.FAILING if now - failing >= policy.disable_after else None
    if not retry or attempts_made > len(policy.schedule):
        return Next(DeliveryStatus.FAILED, None, disable, failing)
    delay = policy.schedule[attempts_made - 1] * (1 + (rng or random).random() * policy.jitter)
    wait = timedelta(seconds=delay)
    if result.retry_after is not None and result.status in RETRY_AFTER_STATUSES:
        wait = max(wait, min(timedelta(seconds=result.retry_after), MAX_RETRY_AFTER))
    return Next(DeliveryStatus.PENDING, now + wait, disable, failing)
