"""Periodic upkeep: purge idempotency keys past their window, so the hot index stays small."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.idempotency import WINDOW
from app.domain.ports import Retention
from app.workers.background import BackgroundTask

log = logging.getLogger("laurel.housekeeping")

PURGE_INTERVAL = 15 * 60.0


class Housekeeping(BackgroundTask):
    name = "laurel-housekeeping"

    def __init__(
        self,
        retention: Retention,
        *,
        interval: float = PURGE_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._retention = retention
        self._interval = interval
        self._clock = clock

    async def _run(self) -> None:
        while True:
            try:
                purged = await self._retention.purge_idempotency_keys(self._clock() - WINDOW)
                if purged:
                    log.info("purged %d idempotency keys past their window", purged)
            except Exception:
                log.exception("housekeeping failed; trying again later")
            await asyncio.sleep(self._interval)
