"""The calendar of a leaderboard's runs: which dates each run holds, and when it opens and closes.

Runs are found by arithmetic from the board's start, never by walking from the first run:
a board may repeat daily for decades. Months and years step from the start date itself (not
from the previous run), the day clamped to short months, so a board started on the 31st keeps
returning to the 31st wherever a month has one.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from app.domain.streaks import local_date, period_start_instant

# A user-zone run opens when its first date begins at UTC+14 and closes when its last date
# ends at UTC-12: the earliest and the latest of the world's zones.
EARLIEST_ZONE = timedelta(hours=14)
LATEST_ZONE = timedelta(hours=12)
ONE_DAY = timedelta(days=1)

__all__ = ["Calendar", "Repeat", "Run", "RunUnit"]


class RunUnit(enum.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


@dataclass(frozen=True, slots=True)
class Repeat:
    unit: RunUnit
    interval: int


@dataclass(frozen=True, slots=True)
class Run:
    index: int
    start: date
    end: date | None
    opens_at: datetime
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class Calendar:
    """`time_zone` None: dates are each user's own (opening and closing span every zone)."""

    start: date
    end: date | None
    repeat: Repeat | None
    time_zone: str | None

    def run(self, index: int) -> Run | None:
        """None before the first run and for a run that would start after the end."""
        return _run_of(self, index)

    def run_containing(self, day: date) -> Run | None:
        if day < self.start or (self.end is not None and day > self.end):
            return None
        index = self._index_near(day)
        while index > 0 and (self._run_start(index) or date.max) > day:
            index -= 1
        while (following := self._run_start(index + 1)) is not None and following <= day:
            index += 1
        return self.run(index)

    def first_run(self) -> Run:
        run = self.run(0)
        assert run is not None, "run 0 starts at the start"
        return run

    def last_run(self) -> Run | None:
        """None when runs never end."""
        return None if self.end is None else self.run_containing(self.end)

    def run_date(self, instant: datetime, user_zone: str | None) -> date:
        """The date an instant counts on: in the board's zone, else in the user's (else UTC)."""
        return local_date(instant, self.time_zone or user_zone or "UTC")

    def today(self, now: datetime, user_zone: str | None) -> date:
        return self.run_date(now, user_zone)

    def opened_runs(self, now: datetime, limit: int) -> list[Run]:
        """Newest first: from the run of the latest date any zone has reached, backwards."""
        latest = (
            (now.astimezone(UTC) + EARLIEST_ZONE).date()
            if self.time_zone is None
            else (local_date(now, self.time_zone))
        )
        newest = self.run_containing(min(latest, self.end) if self.end is not None else latest)
        if newest is None:
            return []
        runs: list[Run] = []
        index = newest.index
        while index >= 0 and len(runs) < limit:
            run = self.run(index)
            if run is not None and run.opens_at <= now:
                runs.append(run)
            index -= 1
        return runs

    def _index_near(self, day: date) -> int:
        """An estimate of the run holding `day`, within a step or two of it."""
        if self.repeat is None:
            return 0
        unit, interval = self.repeat.unit, self.repeat.interval
        if unit in (RunUnit.DAY, RunUnit.WEEK):
            length = interval * (7 if unit is RunUnit.WEEK else 1)
            return (day - self.start).days // length
        months = (day.year - self.start.year) * 12 + day.month - self.start.month
        per_run = interval * (12 if unit is RunUnit.YEAR else 1)
        return max(0, months // per_run)

    def _run_start(self, index: int) -> date | None:
        """None for a negative index or past the last representable date."""
        if index < 0:
            return None
        if self.repeat is None:
            return self.start if index == 0 else None
        unit, interval = self.repeat.unit, self.repeat.interval
        try:
            if unit in (RunUnit.DAY, RunUnit.WEEK):
                length = interval * (7 if unit is RunUnit.WEEK else 1)
                return self.start + timedelta(days=index * length)
            months = index * interval * (12 if unit is RunUnit.YEAR else 1)
            return _add_months(self.start, months)
        except (OverflowError, ValueError):
            return None

    def _opens_at(self, first: date) -> datetime:
        if self.time_zone is None:
            return datetime.combine(first, time(), UTC) - EARLIEST_ZONE
        return period_start_instant(first, self.time_zone).astimezone(UTC)

    def _closes_at(self, last: date | None) -> datetime | None:
        if last is None or last == date.max:
            return None
        following = last + ONE_DAY
        if self.time_zone is None:
            return datetime.combine(following, time(), UTC) + LATEST_ZONE
        return period_start_instant(following, self.time_zone).astimezone(UTC)


@lru_cache(maxsize=4096)
def _run_of(calendar: Calendar, index: int) -> Run | None:
    """Remembered: every event on a board asks for its current run (and a status for the
    first and the last), and a run's instants take zone arithmetic to find; a calendar is a
    value, so its runs never change."""
    begins = calendar._run_start(index)
    if begins is None or (calendar.end is not None and begins > calendar.end):
        return None
    ends = calendar.end
    if calendar.repeat is not None:
        following = calendar._run_start(index + 1)
        last = following - ONE_DAY if following is not None else date.max
        ends = min(last, calendar.end) if calendar.end is not None else last
    return Run(index, begins, ends, calendar._opens_at(begins), calendar._closes_at(ends))


def _add_months(start: date, months: int) -> date:
    """`months` calendar months after `start`, the day clamped to the month's length."""
    total = start.year * 12 + start.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise ValueError("past the calendar")
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day))
