"""Streak period arithmetic, kept free of I/O so it can be tested exhaustively.

A period is identified by its first calendar day (its *period start*) in the user's zone.
Every function that takes a period also accepts any day inside it, so callers may pass a
local date straight from ``local_date`` without normalising it first.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
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
class StreakView:
    """What the GraphQL ``Streak`` type shows, computed for one moment and zone."""

    length: int
    frequency: StreakFrequency
    started: date | None
    period_start: date
    period_end: date
    expires: datetime | None
    freezes: int | None = None
    """Freezes held now; None while freezes are off."""

    def to_data(self) -> dict[str, Any]:
        """JSON-ready, for the outbox and stored idempotent responses."""
        return {
            "length": self.length,
            "frequency": self.frequency.value,
            "started": self.started.isoformat() if self.started else None,
            "periodStart": self.period_start.isoformat(),
            "periodEnd": self.period_end.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
            "freezes": self.freezes,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> StreakView:
        started, expires = data["started"], data["expires"]
        return cls(
            length=int(data["length"]),
            frequency=StreakFrequency(data["frequency"]),
            started=date.fromisoformat(started) if started else None,
            period_start=date.fromisoformat(str(data["periodStart"])),
            period_end=date.fromisoformat(str(data["periodEnd"])),
            expires=datetime.fromisoformat(expires) if expires else None,
            freezes=data.get("freezes"),
        )


def last_day_to_extend(view: StreakView) -> date | None:
    """The last local day on which a qualifying event still keeps the streak: the day before it
    lapses. ``expires`` is expressed in the user's zone, so its date is the user's date."""
    return view.expires.date() - _ONE_DAY if view.expires else None
