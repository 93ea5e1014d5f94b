"""The boost clock: `points.boost_started` and `points.boost_finished`, once each per boost.

A boost's status follows its dates (`points_rules.boost_status`); this clock is what announces
the transitions. Each boost keeps the instant of its next transition (`due_at`), first by the
widest window (the earliest and latest zones), which a USER boost then narrows to its user's
zone when it falls due. Each batch is one transaction over the boosts due, locked (on
PostgreSQL, skipping those another instance holds), so a second instance finds them moved on
and announces nothing. A boost first seen already FINISHED (created with past dates) announces
only that; archived boosts are never due.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.announcements import Announcement, BoostFinished, BoostStarted
from app.domain.points import BoostScope, BoostStatus, PointsBoost
from app.domain.points_rules import boost_status, boost_window
from app.domain.ports import Announcements

BATCH = 200


@dataclass(frozen=True, slots=True)
class DueBoost:
    tenant_id: int
    boost: PointsBoost
    started_sent: bool
    user_tz: str | None = None
    """The zone of a USER boost's user, whose days its window follows."""


@dataclass(frozen=True, slots=True)
class BoostProgress:
    started_sent: bool
    finished_sent: bool
    due_at: datetime | None


class BoostClockTransaction(Announcements, Protocol):
    async def due_boosts(self, now: datetime, limit: int) -> list[DueBoost]:
        """Boosts not archived whose `due_at` has passed, earliest first, locked."""
        ...

    async def save_boost_progress(self, boost_id: int, progress: BoostProgress) -> None: ...


BoostClockTransactions = Callable[[], AbstractAsyncContextManager[BoostClockTransaction]]


def first_due(boost: PointsBoost, *, started_sent: bool = False) -> datetime | None:
    """When the clock first looks at a boost: its widest window's start, or once the start
    was announced, its widest window's end (None: open-ended)."""
    begins, ends = boost_window(boost, None)
    return ends if started_sent else begins


async def run_boost_clock(transactions: BoostClockTransactions, now: datetime) -> int:
    """One batch; returns how many transitions it announced."""
    announced = 0
    async with transactions() as tx:
        for due in await tx.due_boosts(now, BATCH):
            news, progress = judge(due, now)
            await tx.save_boost_progress(due.boost.id, progress)
            await tx.announce(due.tenant_id, news, now)
            announced += len(news)
    return announced


def judge(due: DueBoost, now: datetime) -> tuple[list[Announcement], BoostProgress]:
    """What is announced now, and when to look next (by the boost's own window)."""
    boost = due.boost
    zone = due.user_tz if boost.scope is BoostScope.USER else None
    begins, ends = boost_window(boost, zone)
    status = boost_status(boost, zone, now)
    if status is BoostStatus.FINISHED:
        return [BoostFinished(boost.id)], BoostProgress(True, True, None)
    if status is BoostStatus.ACTIVE:
        news: list[Announcement] = [] if due.started_sent else [BoostStarted(boost.id)]
        return news, BoostProgress(True, False, ends)
    return [], BoostProgress(due.started_sent, False, begins)
