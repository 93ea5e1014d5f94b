"""The background task that runs the boost clock (app/domain/boost_clock.py): every `interval`
seconds, so a boost's start and finish go out within two intervals of their moment."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.boost_clock import BoostClockTransactions, run_boost_clock
from app.workers.background import WakeableTask

log = logging.getLogger("laurel.boosts")


class BoostClock(WakeableTask):
    name = "laurel-boost-clock"

    def __init__(
        self,
        transactions: BoostClockTransactions,
        *,
        interval: float,
        on_announced: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self._transactions = transactions
        self._interval = interval
        self._on_announced = on_announced
        self._clock = clock

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                if await run_boost_clock(self._transactions, self._clock()):
                    self._on_announced()
            except Exception:
                log.exception("the boost clock failed; trying again later")
            await self._round_done(self._interval)
