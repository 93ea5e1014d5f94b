"""The boost clock: `points.boost_started` and `points.boost_finished`, once each per boost.

A boost's status follows its dates (`points_rules.boost_status`); this clock is what announces
the transitions. Each batch is one transaction over the boosts not yet announced, locked (on
PostgreSQL, skipping those another instance holds), so a second instance finds them marked and
announces nothing. A boost first seen already FINISHED (created with past dates) announces only
that; archived boosts announce nothing, ever.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.announcements import Announcement, BoostFinished, BoostStarted
from app.domain.points import BoostScope, BoostStatus, PointsBoost
from app.domain.points_rules import boost_status
from app.domain.ports import Announcements

BATCH = 200


@dataclass(frozen=True, slots=True)
class UnsentBoost:
    tenant_id: int
    boost: PointsBoost
    started_sent: bool
    user_tz: str | None = None
    """The zone of a USER boost's user, whose days its window follows."""


class BoostClockTransaction(Announcements, Protocol):
    async def unsent_boosts(self, limit: int) -> list[UnsentBoost]:
        """Boosts not archived whose start or finish is not announced yet, locked."""
        ...

    async def mark_boost_sent(self, boost_id: int, *, finished: bool) -> None:
        """The start announced (and, with `finished`, the finish too)."""
        ...


BoostClockTransactions = Callable[[], AbstractAsyncContextManager[BoostClockTransaction]]


async def run_boost_clock(transactions: BoostClockTransactions, now: datetime) -> int:
    """One batch; returns how many transitions it announced."""
    announced = 0
    async with transactions() as tx:
        for unsent in await tx.unsent_boosts(BATCH):
            news = _transitions(unsent, now)
            if news is None:
                continue
            finished = any(isinstance(n, BoostFinished) for n in news)
            await tx.mark_boost_sent(unsent.boost.id, finished=finished)
            await tx.announce(unsent.tenant_id, news, now)
            announced += len(news)
    return announced


def _transitions(unsent: UnsentBoost, now: datetime) -> list[Announcement] | None:
    """None while nothing is due."""
    boost = unsent.boost
    zone = unsent.user_tz if boost.scope is BoostScope.USER else None
    status = boost_status(boost, zone, now)
    if status is BoostStatus.FINISHED:
        return [BoostFinished(boost.id)]
    if status is BoostStatus.ACTIVE and not unsent.started_sent:
        return [BoostStarted(boost.id)]
    return None
