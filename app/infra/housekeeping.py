"""Periodic upkeep: purge idempotency keys past their window, so the hot index stays small."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from app.persistence.database import Database
from app.persistence.events import IDEMPOTENCY_WINDOW
from app.persistence.retention import purge_idempotency_keys

log = logging.getLogger("laurel.housekeeping")

PURGE_INTERVAL = 15 * 60.0


class Housekeeping:
    def __init__(
        self,
        database: Database,
        *,
        interval: float = PURGE_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._interval = interval
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="laurel-housekeeping")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                purged = await purge_idempotency_keys(
                    self._database, self._clock() - IDEMPOTENCY_WINDOW
                )
                if purged:
                    log.info("purged %d idempotency keys past their window", purged)
            except Exception:
                log.exception("housekeeping failed; trying again later")
            await asyncio.sleep(self._interval)
