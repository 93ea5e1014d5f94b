"""Backfill: a board that goes live with runs in the past is rebuilt from stored history.

Going live sets the board's backfill cursor; batches of users, in pk order, are then rebuilt
one transaction each (holding the users' locks, as their events would): each run's value
becomes the sum of the user's stored events on the metric (METRIC) or awards in the system
(POINTS) dated in it, with the user's current attributes (stored events keep none); on a
STREAK board, the user's current streak, reached when its current period began (the event's
own instant is not stored). Setting the
sum, rather than adding, makes a batch repeatable and leaves nothing counted twice: an event
counted live before its user's batch is in the sum, one after it adds to it. The first batch
waits `settle`, so that every transaction that began before the board went live (and so did
not count toward it) has committed and is in the history.

All of it is silent. The run clock holds a board's announcements until its backfill is done,
so a run finalised meanwhile is announced with its rebuilt standings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from app.domain.leaderboard_counting import rebuild_on_board, rebuild_streak_on_board
from app.domain.leaderboard_ports import LeaderboardWrites
from app.domain.leaderboards import Leaderboard, RankBy
from app.domain.model import StreakSettings, User
from app.domain.ports import Standing, StoredStreak
from app.domain.queries import user_streak
from app.domain.streaks import period_start_instant

BATCH = 200

__all__ = ["BackfillStore", "BackfillTransactions", "DueBackfill", "run_backfill_batch"]


@dataclass(frozen=True, slots=True)
class DueBackfill:
    tenant_id: int
    board: Leaderboard


class BackfillStore(Protocol):
    async def due_backfills(self, went_live_by: datetime, limit: int) -> list[DueBackfill]:
        """Boards with a backfill left that went live by `went_live_by`."""
        ...


class BackfillTransaction(LeaderboardWrites, Protocol):
    async def claim_backfill(self, board_id: int) -> int | None:
        """The board's cursor (the last user pk rebuilt), locked; None when done."""
        ...

    async def backfill_users(self, tenant_id: int, after_pk: int, limit: int) -> list[User]:
        """The next users in pk order, locked."""
        ...

    async def metric_history(
        self, metric_id: int, user_pks: Sequence[int], since: datetime
    ) -> list[tuple[int, datetime, float]]:
        """(user pk, occurred at, value) of the users' stored events from `since`."""
        ...

    async def points_history(
        self, system_id: int, user_pks: Sequence[int], since: datetime
    ) -> list[tuple[int, datetime, float]]:
        """(user pk, awarded at, awarded) of the users' awards from `since`."""
        ...

    async def streak_settings(self, tenant_id: int) -> StreakSettings | None: ...
    async def stored_streaks(
        self, tenant_id: int, user_pks: Sequence[int]
    ) -> dict[int, StoredStreak]: ...
    async def advance_backfill(self, board_id: int, cursor: int | None) -> None:
        """None: the backfill is done."""
        ...


BackfillTransactions = Callable[[], AbstractAsyncContextManager[BackfillTransaction]]


async def run_backfill_batch(
    store: BackfillStore,
    transactions: BackfillTransactions,
    now: datetime,
    *,
    settle: timedelta,
    batch: int = BATCH,
) -> bool:
    """One batch of the first board due; returns whether there was one."""
    due = await store.due_backfills(now - settle, 1)
    if not due:
        return False
    board = due[0].board
    async with transactions() as tx:
        cursor = await tx.claim_backfill(board.id)
        if cursor is None:  # another instance finished it meanwhile
            return True
        tenant_id = due[0].tenant_id
        users = await tx.backfill_users(tenant_id, cursor, batch)
        if board.rank_by is RankBy.STREAK:
            await _rebuild_streaks(tx, tenant_id, board, users, now)
        else:
            history = await _history(tx, board, [u.pk for u in users])
            for user in users:
                await rebuild_on_board(tx, board, user, history.get(user.pk, ()))
        done = len(users) < batch
        await tx.advance_backfill(board.id, None if done else users[-1].pk)
    return True


async def _rebuild_streaks(
    tx: BackfillTransaction,
    tenant_id: int,
    board: Leaderboard,
    users: Sequence[User],
    now: datetime,
) -> None:
    """Each user's streak as it stands now (the rule as reads apply it), if at least 1."""
    settings = await tx.streak_settings(tenant_id)
    stored = await tx.stored_streaks(tenant_id, [u.pk for u in users])
    for user in users:
        standing = Standing(user, {}, {}, stored.get(user.pk))
        view = user_streak(settings, standing, now)
        if view is not None and view.length >= 1:
            reached = period_start_instant(view.period_start, user.tz)
            await rebuild_streak_on_board(tx, board, user, view.length, reached)


async def _history(
    tx: BackfillTransaction, board: Leaderboard, user_pks: list[int]
) -> dict[int, list[tuple[datetime, float]]]:
    """From the first run's opening: nothing earlier is dated in a run."""
    if not user_pks:
        return {}
    since = board.calendar.first_run().opens_at
    if board.rank_by is RankBy.METRIC:
        assert board.metric_id is not None, "a METRIC board names its metric"
        rows = await tx.metric_history(board.metric_id, user_pks, since)
    else:
        assert board.system_id is not None, "a POINTS board names its system"
        rows = await tx.points_history(board.system_id, user_pks, since)
    by_user: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for user_pk, at, amount in rows:
        by_user[user_pk].append((at, amount))
    return by_user
