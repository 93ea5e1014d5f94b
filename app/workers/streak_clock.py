"""The background task that runs the streak clock (app/domain/streak_clock.py).

It polls every `interval` seconds, so period ends and grants are announced within two intervals
of their moment, and wakes at once after a settings change so that stored streaks are
re-evaluated promptly. Batch after batch until nothing is due; a failure is logged and retried
at the next interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.streak_clock import BATCH, StreakClockTransactions, run_streak_clock
from app.workers.background import WakeableTask

log = logging.getLogger("laurel.streaks")

INTERVAL = 30.0


class StreakClock(WakeableTask):
    name = "laurel-streak-clock"

    def __init__(
        self,
        transactions: StreakClockTransactions,
        *,
        interval: float = INTERVAL,
        on_announced: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`on_announced` runs after a batch left announcements in the outbox (wakes the relay)."""
        super().__init__()
        self._transactions = transactions
        self._interval = interval
        self._on_announced = on_announced
        self._clock = clock

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            await self._drain()
            await self._round_done(self._interval)

    async def _drain(self) -> None:
        while True:
            try:
                processed, announced = await run_streak_clock(self._transactions, self._clock())
            except Exception:
                log.exception("the streak clock failed; trying again later")
                return
            if announced:
                self._on_announced()
            if processed < BATCH:
                return
            await asyncio.sleep(0)
