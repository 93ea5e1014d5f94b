"""Streak period arithmetic, kept free of I/O so it can be tested exhaustively.

A period is identified by its first calendar day (its *period start*) in the user's zone.
Every function that takes a period also accepts any day inside it, so callers may pass a
local date straight from ``local_date`` without normalising it first.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_ONE_DAY = timedelta(days=1)
_RESOLUTION = timedelta(microseconds=1)


class StreakFrequency(enum.Enum):
    """Values match the GraphQL enum names so the API layer can map them one to one."""

    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


def local_date(instant: datetime, tz: str) -> date:
    """Calendar date of ``instant`` in zone ``tz``.

    Naive datetimes are refused: ``astimezone`` would silently read them as server-local time.
    """
    if instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(ZoneInfo(tz)).date()


def period_start(day: date, frequency: StreakFrequency) -> date:
    """First day of the period containing ``day`` (ISO weeks start on Monday)."""
    if frequency is StreakFrequency.DAILY:
        return day
    if frequency is StreakFrequency.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _first_of_month(start: date, months: int) -> date:
    """Month arithmetic on a flat month index avoids special-casing December and January."""
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _shift(start: date, frequency: StreakFrequency, steps: int) -> date:
    """Periods have no fixed length in days (months), so stepping is per frequency."""
    first = period_start(start, frequency)
    if frequency is StreakFrequency.DAILY:
        return first + timedelta(days=steps)
    if frequency is StreakFrequency.WEEKLY:
        return first + timedelta(weeks=steps)
    return _first_of_month(first, steps)


def next_period(start: date, frequency: StreakFrequency) -> date:
    """Start of the period right after the one containing ``start``."""
    return _shift(start, frequency, 1)


def previous_period(start: date, frequency: StreakFrequency) -> date:
    """Start of the period right before the one containing ``start``."""
    return _shift(start, frequency, -1)


def period_end(start: date, frequency: StreakFrequency) -> date:
    """Last day (inclusive) of the period; derived from the next start so leap years come free."""
    return next_period(start, frequency) - _ONE_DAY


def period_start_instant(start: date, tz: str) -> datetime:
    """First instant whose local date in ``tz`` is ``start`` or later, as an aware local datetime.

    Usually that is local midnight. When a DST or zone change skips midnight, it is the
    transition itself; ``fold=0`` alone would land past it when the gap starts before midnight.
    Do arithmetic on the result in UTC: Python subtracts same-tzinfo datetimes by wall clock.
    """
    zone = ZoneInfo(tz)
    midnight = datetime.combine(start, time())
    candidate = midnight.replace(tzinfo=zone).astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) == midnight:
        return candidate.astimezone(zone)
    earliest = midnight.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _first_instant_on_or_after(start, zone, earliest, candidate).astimezone(zone)


def _first_instant_on_or_after(
    start: date, zone: ZoneInfo, low: datetime, high: datetime
) -> datetime:
    """Bisect for the gap's transition instant, which zoneinfo does not expose.

    Invariant: the local date at ``low`` is before ``start``, the one at ``high`` is not.
    """
    while high - low > _RESOLUTION:
        middle = low + (high - low) / 2
        if middle.astimezone(zone).date() < start:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True, slots=True)
class StreakRun:
    """A maximal-at-the-end run of consecutive active periods, identified by period starts."""

    start: date
    last: date
    length: int


def extend_run(run: StreakRun | None, period: date, frequency: StreakFrequency) -> StreakRun | None:
    """Fold one in-order event into ``run`` in O(1).

    Returns None for an event older than ``run.last``: it may bridge a gap, so only a
    recomputation over all periods (``latest_run``) can tell.
    """
    period = period_start(period, frequency)
    if run is None:
        return StreakRun(period, period, 1)
    if period < run.last:
        return None
    if period == run.last:
        return run
    if period == next_period(run.last, frequency):
        return StreakRun(run.start, period, run.length + 1)
    return StreakRun(period, period, 1)


def _normalised(periods: Iterable[date], frequency: StreakFrequency) -> set[date]:
    return {period_start(day, frequency) for day in periods}


def _count_from(
    starts: set[date],
    origin: date,
    frequency: StreakFrequency,
    step: Callable[[date, StreakFrequency], date],
) -> tuple[int, date]:
    """Walk away from ``origin`` while periods stay active; returns the count and the farthest."""
    count, edge = 0, origin
    while (candidate := step(edge, frequency)) in starts:
        count, edge = count + 1, candidate
    return count, edge


def latest_run(periods: Iterable[date], frequency: StreakFrequency) -> StreakRun | None:
    """Recompute from scratch; the fallback when events arrive out of order."""
    starts = _normalised(periods, frequency)
    if not starts:
        return None
    last = max(starts)
    before, first = _count_from(starts, last, frequency, previous_period)
    return StreakRun(first, last, before + 1)


def run_length_containing(periods: Iterable[date], period: date, frequency: StreakFrequency) -> int:
    """A backfilled event can join two runs; STREAK achievements must see the merged length."""
    starts = _normalised(periods, frequency)
    origin = period_start(period, frequency)
    if origin not in starts:
        return 0
    before, _ = _count_from(starts, origin, frequency, previous_period)
    after, _ = _count_from(starts, origin, frequency, next_period)
    return before + 1 + after


@dataclass(frozen=True, slots=True)
class StreakView:
    """What the GraphQL ``Streak`` type shows, computed for one moment and zone."""

    length: int
    frequency: StreakFrequency
    started: date | None
    period_start: date
    period_end: date
    expires: datetime | None


def last_day_to_extend(view: StreakView) -> date | None:
    """The last local day on which a qualifying event still keeps the streak: the day before it
    lapses. ``expires`` is expressed in the user's zone, so its date is the user's date."""
    return view.expires.date() - _ONE_DAY if view.expires else None


def current_streak(
    run: StreakRun | None, frequency: StreakFrequency, now: datetime, tz: str
) -> StreakView:
    """The streak as seen at ``now`` in ``tz``.

    A run stays live until the period after its last one is over, so the current period may
    still be empty. A run ending after the current period (an ``occurredAt`` slightly in the
    future, or a zone change since) is live too: it cannot have lapsed yet.
    """
    current = period_start(local_date(now, tz), frequency)
    end = period_end(current, frequency)
    if run is None or run.last < previous_period(current, frequency):
        return StreakView(0, frequency, None, current, end, None)
    lapse = next_period(next_period(run.last, frequency), frequency)
    return StreakView(
        run.length, frequency, run.start, current, end, period_start_instant(lapse, tz)
    )
