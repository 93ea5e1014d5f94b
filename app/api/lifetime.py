"""What every subscription shares, whatever it watches: its lifetime on the metrics and how
it ends when it cannot keep up."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from app.domain.errors import RateLimited
from app.infra.metrics import Metrics
from app.infra.pubsub import SubscriberOverflow


@contextlib.contextmanager
def counted(metrics: Metrics) -> Iterator[None]:
    """A subscription's lifetime, as every subscription has it: counted as started and open
    while it runs, and ended with RATE_LIMITED when its subscriber fell too far behind."""
    metrics.subscriptions_started.inc()
    metrics.subscriptions_open.inc()
    try:
        yield
    except SubscriberOverflow:
        raise RateLimited(
            "this subscription fell too far behind and was dropped; subscribe again",
            retry_after=1,
        ) from None
    finally:
        metrics.subscriptions_open.dec()
