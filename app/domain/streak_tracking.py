"""Advancing a user's streak inside an event's transaction.

Qualifying days are stored once each; the latest run is kept beside them, so an in-order event
updates it in O(1) and only an out-of-order one (a backfill) re-reads the user's days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.domain.model import Achievement, StreakSettings, User
from app.domain.ports import StreakState, StreakWrites
from app.domain.streaks import (
    StreakFrequency,
    StreakRun,
    StreakView,
    current_streak,
    extend_run,
    latest_run,
    local_date,
    period_start,
    previous_period,
    run_length_containing,
)


@dataclass(frozen=True, slots=True)
class StreakProgress:
    run: StreakRun | None
    reached: list[Achievement]
    previous: StreakRun | None
    """The run before this event (None when none, or computed for another frequency)."""


async def advance_streak(
    tx: StreakWrites,
    tenant_id: int,
    user: User,
    settings: StreakSettings,
    metric_id: int,
    value: float,
    occurred_at: datetime,
) -> StreakProgress:
    """A stored run computed for another frequency is rebuilt from the days, even when this
    event does not qualify: the payload must show the streak under the current settings."""
    frequency = settings.frequency
    state = await tx.streak_state(user.pk)
    current = state.frequency in (None, frequency)
    period: date | None = None
    if value > 0 and metric_id in settings.metric_ids:
        day = local_date(occurred_at, user.tz)
        if await tx.add_streak_day(tenant_id, user.pk, day):
            period = period_start(day, frequency)
    previous_run = state.run if current else None
    if current and period is None:
        return StreakProgress(state.run, [], previous_run)
    run = extend_run(state.run, period, frequency) if current and period else None
    if run is not None:
        longest = max(state.longest, run.length)
    else:
        periods = {period_start(d, frequency) for d in await tx.streak_days(user.pk)}
        run = latest_run(periods, frequency)
        if current and period is not None:
            longest = max(state.longest, run_length_containing(periods, period, frequency))
        else:
            longest = _longest(periods, frequency)
    await tx.save_streak_state(tenant_id, user.pk, StreakState(run, longest, frequency))
    previous = state.longest if current else 0
    reached: list[Achievement] = []
    if longest > previous:
        reached = await tx.streak_achievements_between(tenant_id, previous, longest)
    return StreakProgress(run, reached, previous_run)


def _longest(periods: set[date], frequency: StreakFrequency) -> int:
    """The longest run in a set of periods; needed once when the tenant's frequency changed."""
    starts = (p for p in periods if previous_period(p, frequency) not in periods)
    return max((run_length_containing(periods, p, frequency) for p in starts), default=0)


def streak_view(
    run: StreakRun | None, settings: StreakSettings, now: datetime, tz: str
) -> StreakView:
    return current_streak(run, settings.frequency, now, tz)


def extended(progress: StreakProgress, settings: StreakSettings, now: datetime, tz: str) -> bool:
    """The event made the current streak longer, as the user sees it now."""
    before = streak_view(progress.previous, settings, now, tz).length
    return streak_view(progress.run, settings, now, tz).length > before
