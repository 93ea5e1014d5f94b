"""The streak clock: period ends and AUTO_EARN grants, judged when they fall due.

Reads always show the rule as of now; the clock is what announces it (`streak.lost`,
`streak.freeze_consumed`, `streak.freeze_earned`) and re-evaluates stored streaks after a
settings change. A lost streak also takes the user off STREAK leaderboards. Each user is one
transaction holding the user's lock, as an event on them
would; a second instance picking the same user finds the ledger already settled and announces
nothing, so each period end and grant is announced once.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from app.domain.announcements import StreakLost
from app.domain.completion import Grant, complete
from app.domain.leaderboard_counting import leave_streak_boards
from app.domain.leaderboard_ports import LeaderboardBoards, LeaderboardWrites
from app.domain.model import StreakSettings, User
from app.domain.ports import Announcements, CompletionWrites, StreakWrites
from app.domain.streak_tracking import tick_streak

BATCH = 200


class StreakClockTransaction(
    StreakWrites, CompletionWrites, LeaderboardWrites, LeaderboardBoards, Announcements, Protocol
):
    async def due_streaks(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(tenant id, user pk) of states due by `now`, earliest first."""
        ...

    async def lock_user_pk(self, user_pk: int) -> User | None: ...
    async def current_streak_settings(self, tenant_id: int) -> StreakSettings | None:
        """Read in the transaction, not cached: the clock must judge under the latest version."""
        ...

    async def clear_streak_due(self, user_pk: int) -> None: ...


StreakClockTransactions = Callable[[], AbstractAsyncContextManager[StreakClockTransaction]]


async def run_streak_clock(
    transactions: StreakClockTransactions, now: datetime, *, limit: int = BATCH
) -> tuple[int, int]:
    """One batch: returns (users processed, announcements made)."""
    async with transactions() as tx:
        due = await tx.due_streaks(now, limit)
    announced = 0
    for tenant_id, user_pk in due:
        async with transactions() as tx:
            announced += await _tick(tx, tenant_id, user_pk, now)
    return len(due), announced


async def _tick(tx: StreakClockTransaction, tenant_id: int, user_pk: int, now: datetime) -> int:
    user = await tx.lock_user_pk(user_pk)
    settings = await tx.current_streak_settings(tenant_id)
    if user is None or settings is None:
        await tx.clear_streak_due(user_pk)
        return 0
    news, reached = await tick_streak(tx, tenant_id, user, settings, now)
    if any(isinstance(event, StreakLost) for event in news):
        boards = await tx.leaderboards(tenant_id)
        news = [*news, *await leave_streak_boards(tx, boards, user, now)]
    await tx.announce(tenant_id, news, now)
    if reached:
        # Reached by re-evaluating under new settings: silent, like backdating.
        await complete(tx, tenant_id, [Grant(user, a) for a in reached], now, announce_to=None)
    return len(news)
