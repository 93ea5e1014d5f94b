"""`leaderboard.changed`: a group's first rows as webhooks see them, at most once an interval.

Every commit that moves a row near the top of a group announces it internally
(`LeaderboardMoved`). Where the tenant has an endpoint subscribed to `leaderboard.changed`, that
marks the group's watch due: at once when the group has been quiet for an interval, else when
the interval ends, so a burst of moves makes one event. When a watch falls due its first rows
are read afresh, the latest state, and announced only if they differ from the ones announced
last: a move below them, or one that changed nothing they show, announces nothing.

A round reads due watches and their rows outside any transaction, then settles each in a short
transaction that announces only if the watch was not marked again meanwhile; a watch marked
again stays due, so the newer state goes out on a later round.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from app.domain.announcements import Published
from app.domain.leaderboard_news import (
    LeaderboardMoved,
    LeaderboardTopChanged,
    RunDates,
    ranking_to_data,
)
from app.domain.leaderboard_ports import LeaderboardReads
from app.domain.leaderboard_views import standings
from app.domain.leaderboards import Leaderboard
from app.domain.ports import Announcements
from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.ports import Subscriptions

TOP_ROWS = 10
BATCH = 200

__all__ = [
    "StandingsTransactions",
    "StandingsWatchStore",
    "Watch",
    "WatchKey",
    "announce_due_standings",
    "watch_moves",
]


@dataclass(frozen=True, slots=True, order=True)
class WatchKey:
    board_id: int
    run_start: date
    group: str


@dataclass(frozen=True, slots=True)
class Watch:
    """A due watch as read: `sent` is what was last announced (None: nothing yet)."""

    tenant_id: int
    key: WatchKey
    board: Leaderboard
    version: int
    sent: str | None


class StandingsWatchStore(LeaderboardReads, Protocol):
    async def mark(self, keys: Collection[WatchKey], now: datetime) -> None:
        """Makes each watch due (now, or when its quiet interval ends), if it is not already."""
        ...

    async def due_watches(self, now: datetime, limit: int) -> list[Watch]: ...


class StandingsTransaction(Announcements, Protocol):
    async def settle(self, watch: Watch, sent: str | None, quiet_until: datetime | None) -> bool:
        """Clears the watch's due mark, keeping `sent` and `quiet_until` (None: unchanged),
        if it was not marked again since it was read; False when it was."""
        ...


StandingsTransactions = Callable[[], AbstractAsyncContextManager[StandingsTransaction]]


async def watch_moves(
    store: StandingsWatchStore,
    subscriptions: Subscriptions,
    batch: Sequence[Published],
    now: datetime,
) -> bool:
    """Marks the groups moved in `batch` of tenants that receive `leaderboard.changed`;
    returns whether it marked any."""
    moved = [p for p in batch if isinstance(p.event, LeaderboardMoved)]
    if not moved:
        return False
    endpoints = await subscriptions.subscribed({p.tenant_id for p in moved})
    receiving = {
        e.tenant_id for e in endpoints if WebhookEventType.LEADERBOARD_CHANGED in e.event_types
    }
    keys = {
        WatchKey(p.event.board_id, p.event.run_start, p.event.group)
        for p in moved
        if p.tenant_id in receiving and isinstance(p.event, LeaderboardMoved)
    }
    if keys:
        await store.mark(keys, now)
    return bool(keys)


async def announce_due_standings(
    store: StandingsWatchStore,
    transactions: StandingsTransactions,
    now: datetime,
    interval: timedelta,
) -> int:
    """One round over the watches due; returns how many it announced."""
    announced = 0
    for watch in await store.due_watches(now, BATCH):
        news = await _top_changed(store, watch)
        shown = _shown(news) if news else None
        async with transactions() as tx:
            settled = await tx.settle(watch, shown, now + interval if news else None)
            if settled and news is not None:
                await tx.announce(watch.tenant_id, [news], now)
                announced += 1
    return announced


async def _top_changed(store: StandingsWatchStore, watch: Watch) -> LeaderboardTopChanged | None:
    """The group's first rows now, if they are not the ones announced last."""
    board, key = watch.board, watch.key
    run = board.run_for(key.run_start)
    if run is None:  # the board's dates moved away from the run since the mark
        return None
    top = await standings(
        store,
        board,
        run,
        breakdown_value=board.breakdown_value(key.group),
        offset=0,
        limit=TOP_ROWS,
    )
    news = LeaderboardTopChanged(board.id, RunDates(run.start, run.end), key.group, top.rankings)
    return None if _shown(news) == watch.sent else news


def _shown(news: LeaderboardTopChanged) -> str:
    """What a watch keeps of announced rows, to compare the next ones with."""
    return json.dumps([ranking_to_data(r) for r in news.rankings])
