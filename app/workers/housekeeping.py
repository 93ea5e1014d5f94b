"""Periodic upkeep: purge idempotency keys past their window, so the hot index stays small;
delete webhook deliveries past their retention and erase previous secrets past their overlap;
prune raw events past their retention, when one is set."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.domain.idempotency import WINDOW
from app.domain.ports import Retention
from app.domain.webhooks.ports import WebhookStore
from app.workers.background import BackgroundTask

log = logging.getLogger("laurel.housekeeping")

PURGE_INTERVAL = 15 * 60.0


class Housekeeping(BackgroundTask):
    name = "laurel-housekeeping"

    def __init__(
        self,
        retention: Retention,
        webhooks: WebhookStore,
        *,
        webhook_retention: timedelta,
        event_retention: timedelta | None = None,
        interval: float = PURGE_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._retention = retention
        self._webhooks = webhooks
        self._webhook_retention = webhook_retention
        self._event_retention = event_retention
        self._interval = interval
        self._clock = clock

    async def _run(self) -> None:
        while True:
            try:
                now = self._clock()
                purged = await self._retention.purge_idempotency_keys(now - WINDOW)
                if purged:
                    log.info("purged %d idempotency keys past their window", purged)
                deleted = await self._webhooks.purge(now - self._webhook_retention, now)
                if deleted:
                    log.info("deleted %d webhook deliveries past their retention", deleted)
                if self._event_retention is not None:
                    pruned = await self._retention.prune_events(now - self._event_retention)
                    if pruned:
                        log.info("pruned %d raw events past their retention", pruned)
            except Exception:
                log.exception("housekeeping failed; trying again later")
            await asyncio.sleep(self._interval)
