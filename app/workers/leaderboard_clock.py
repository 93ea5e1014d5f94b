"""Leaderboard work in the background: backfill (app/domain/leaderboard_backfill.py), the run
clock (app/domain/leaderboard_clock.py) and the watches behind `leaderboard.changed`
(app/domain/leaderboard_watch.py).

`LeaderboardClock` runs every `interval` seconds, so a run's opening and finalisation, and a
group's first rows after a quiet interval, go out within two intervals of their moment; a status
change and a newly marked watch wake it at once, and a round that left backfill to do starts
the next one at once. `StandingsFeed` is the outbox consumer that marks the watches of the
groups a committed batch moved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from app.domain.announcements import Published
from app.domain.leaderboard_backfill import BackfillStore, BackfillTransactions, run_backfill_batch
from app.domain.leaderboard_clock import (
    LeaderboardClockStore,
    LeaderboardClockTransactions,
    run_leaderboard_clock,
)
from app.domain.leaderboard_watch import (
    StandingsTransactions,
    StandingsWatchStore,
    announce_due_standings,
    watch_moves,
)
from app.domain.webhooks.ports import Subscriptions
from app.workers.background import WakeableTask

log = logging.getLogger("laurel.leaderboards")


class LeaderboardClock(WakeableTask):
    name = "laurel-leaderboard-clock"

    def __init__(
        self,
        runs: tuple[LeaderboardClockStore, LeaderboardClockTransactions],
        watches: tuple[StandingsWatchStore, StandingsTransactions],
        backfills: tuple[BackfillStore, BackfillTransactions],
        *,
        interval: float,
        quiet: timedelta,
        settle: timedelta,
        on_announced: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`quiet`: how long a group's `leaderboard.changed` waits after the last one;
        `settle`: how long a backfill waits after its board went live."""
        super().__init__()
        self._runs = runs
        self._watches = watches
        self._backfills = backfills
        self._settle = settle
        self._interval = interval
        self._quiet = quiet
        self._on_announced = on_announced
        self._clock = clock

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                now = self._clock()
                if await run_backfill_batch(*self._backfills, now, settle=self._settle):
                    self.wake()
                announced = await run_leaderboard_clock(*self._runs, now)
                announced += await announce_due_standings(*self._watches, now, self._quiet)
                if announced:
                    self._on_announced()
            except Exception:
                log.exception("the leaderboard clock failed; trying again later")
            await self._round_done(self._interval)


class StandingsFeed:
    def __init__(
        self,
        store: StandingsWatchStore,
        subscriptions: Subscriptions,
        *,
        on_marked: Callable[[], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._subscriptions = subscriptions
        self._on_marked = on_marked
        self._clock = clock

    async def consume(self, batch: Sequence[Published]) -> None:
        if await watch_moves(self._store, self._subscriptions, batch, self._clock()):
            self._on_marked()
