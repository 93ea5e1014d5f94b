"""Metrics no request moves: the outbox's backlog and lag, pending webhook deliveries, the
database pool's use.

Sampled on a timer rather than at scrape time, so that several processes (which scrape reads
from files) report them alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from app.domain.ports import OutboxStore
from app.domain.webhooks.ports import WebhookStore
from app.infra.metrics import Metrics
from app.workers.background import BackgroundTask

log = logging.getLogger("laurel.metrics")

INTERVAL = 5.0


class Pooled(Protocol):
    def pool_use(self) -> tuple[int, int] | None: ...


class MetricsSampler(BackgroundTask):
    name = "laurel-metrics"

    def __init__(
        self,
        outbox: OutboxStore,
        webhooks: WebhookStore,
        database: Pooled,
        metrics: Metrics,
        *,
        interval: float = INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._outbox = outbox
        self._webhooks = webhooks
        self._database = database
        self._metrics = metrics
        self._interval = interval
        self._clock = clock

    async def _run(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:
                log.exception("sampling metrics failed; trying again later")
            await asyncio.sleep(self._interval)

    async def sample(self) -> None:
        waiting, lag = await self._outbox.backlog(self._clock())
        self._metrics.outbox_backlog.set(waiting)
        self._metrics.outbox_lag.set(lag)
        pending, overdue = await self._webhooks.pending(self._clock())
        self._metrics.webhook_pending.set(pending)
        self._metrics.webhook_overdue.set(overdue)
        use = self._database.pool_use()
        if use is not None:
            self._metrics.pool_connections.labels(state="open").set(use[0])
            self._metrics.pool_connections.labels(state="in_use").set(use[1])
