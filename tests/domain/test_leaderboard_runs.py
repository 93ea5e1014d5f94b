"""The run calendar: hand-picked boundaries, and every run found by arithmetic agreeing with a
walk from the first run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.leaderboard_runs import Calendar, Repeat, RunUnit
from app.domain.leaderboard_views import next_turn
from app.domain.leaderboards import Leaderboard, RankBy, StoredStatus


def repeating(start: date, unit: RunUnit, interval: int = 1, end: date | None = None) -> Calendar:
    return Calendar(start, end, Repeat(unit, interval), "UTC")


def test_monthly_runs_from_the_31st_clamp_to_short_months_and_return_to_the_31st() -> None:
    months = repeating(date(2026, 1, 31), RunUnit.MONTH)
    starts = [months.run(i).start for i in range(4)]  # type: ignore[union-attr]
    assert starts == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    february = months.run(1)
    assert february is not None and february.end == date(2026, 3, 30)


def test_weekly_runs_of_two_weeks_hold_fourteen_days() -> None:
    fortnights = repeating(date(2026, 3, 2), RunUnit.WEEK, 2)
    run = fortnights.run_containing(date(2026, 3, 29))
    assert run is not None and (run.index, run.start, run.end) == (
        1,
        date(2026, 3, 16),
        date(2026, 3, 29),
    )


def test_a_yearly_run_from_february_29th_falls_on_the_28th_in_common_years() -> None:
    years = repeating(date(2024, 2, 29), RunUnit.YEAR)
    assert [years.run(i).start for i in range(5)] == [  # type: ignore[union-attr]
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_the_end_cuts_the_last_run_and_nothing_follows_it() -> None:
    weeks = repeating(date(2026, 3, 2), RunUnit.WEEK, end=date(2026, 3, 18))
    last = weeks.last_run()
    assert last is not None and (last.index, last.start, last.end) == (
        2,
        date(2026, 3, 16),
        date(2026, 3, 18),
    )
    assert weeks.run(3) is None and weeks.run_containing(date(2026, 3, 19)) is None


def test_a_fixed_zone_opens_and_closes_at_its_midnights_across_daylight_saving() -> None:
    days = Calendar(date(2026, 3, 7), None, Repeat(RunUnit.DAY, 1), "America/Los_Angeles")
    saturday, sunday = days.run(0), days.run(1)  # clocks go forward on Sunday 8 March
    assert saturday is not None and sunday is not None
    assert saturday.opens_at == datetime(2026, 3, 7, 8, tzinfo=UTC)
    assert saturday.closes_at == sunday.opens_at == datetime(2026, 3, 8, 8, tzinfo=UTC)
    assert sunday.closes_at == datetime(2026, 3, 9, 7, tzinfo=UTC)


def test_a_user_zone_run_spans_every_zone_of_the_world() -> None:
    days = Calendar(date(2026, 3, 7), date(2026, 3, 7), None, None)
    run = days.first_run()
    assert run.opens_at == datetime(2026, 3, 6, 10, tzinfo=UTC)
    assert run.closes_at == datetime(2026, 3, 8, 12, tzinfo=UTC)


def test_opened_runs_are_newest_first_and_only_those_open() -> None:
    days = repeating(date(2026, 3, 1), RunUnit.DAY)
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    assert [r.start.day for r in days.opened_runs(now, 3)] == [5, 4, 3]
    assert [r.start.day for r in days.opened_runs(now, 10)] == [5, 4, 3, 2, 1]


def _reference_starts(start: date, unit: RunUnit, interval: int) -> Iterator[date]:
    """Each run's first date in turn, stepping the calendar one day (or month) at a time."""
    if unit in (RunUnit.DAY, RunUnit.WEEK):
        day = start
        while True:
            yield day
            for _ in range(interval * (7 if unit is RunUnit.WEEK else 1)):
                day += timedelta(days=1)
    year, month = start.year, start.month
    while True:
        day = start.day
        while True:
            try:
                yield date(year, month, day)
                break
            except ValueError:
                day -= 1
        for _ in range(interval * (12 if unit is RunUnit.YEAR else 1)):
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@given(
    start=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    unit=st.sampled_from(list(RunUnit)),
    interval=st.integers(1, 4),
    length=st.none() | st.integers(0, 900),
    offset=st.integers(-5, 1500),
)
def test_the_run_holding_a_date_is_the_one_a_walk_finds(
    start: date, unit: RunUnit, interval: int, length: int | None, offset: int
) -> None:
    end = start + timedelta(days=length) if length is not None else None
    days = repeating(start, unit, interval, end)
    day = start + timedelta(days=offset)
    found = days.run_containing(day)
    if day < start or (end is not None and day > end):
        assert found is None
        return
    starts = _reference_starts(start, unit, interval)
    index, first, following = 0, next(starts), next(starts)
    while following <= day:
        index, first, following = index + 1, following, next(starts)
    last = following - timedelta(days=1)
    assert found is not None
    assert (found.index, found.start) == (index, first)
    assert found.end == (min(last, end) if end is not None else last)


def _daily(zone: str | None, **fields: object) -> Leaderboard:
    calendar = Calendar(date(2026, 3, 1), None, Repeat(RunUnit.DAY, 1), zone)
    return Leaderboard(
        1, "d", "d", RankBy.METRIC, calendar, stored_status=StoredStatus.LIVE, **fields
    )  # type: ignore[arg-type]


def test_the_next_turn_is_the_readers_midnight_of_the_following_run() -> None:
    now = datetime(2026, 3, 5, 15, tzinfo=UTC)
    assert next_turn(_daily("UTC"), now, None) == datetime(2026, 3, 6, tzinfo=UTC)
    assert next_turn(_daily("Asia/Tokyo"), now, None) == datetime(2026, 3, 6, 15, tzinfo=UTC)
    # in each user's zone: the reader's own midnight, UTC's for a key
    assert next_turn(_daily(None), now, "Asia/Tokyo") == datetime(2026, 3, 6, 15, tzinfo=UTC)
    assert next_turn(_daily(None), now, None) == datetime(2026, 3, 6, tzinfo=UTC)


def test_before_the_first_run_the_turn_is_its_opening_and_after_the_last_there_is_none() -> None:
    early = datetime(2026, 2, 27, 15, tzinfo=UTC)
    assert next_turn(_daily("UTC"), early, None) == datetime(2026, 3, 1, tzinfo=UTC)
    once = Leaderboard(
        1,
        "d",
        "d",
        RankBy.METRIC,
        Calendar(date(2026, 3, 1), date(2026, 3, 2), None, "UTC"),
        stored_status=StoredStatus.LIVE,
    )
    assert next_turn(once, datetime(2026, 3, 2, 1, tzinfo=UTC), None) == datetime(
        2026, 3, 3, tzinfo=UTC
    )
    assert next_turn(once, datetime(2026, 3, 4, tzinfo=UTC), None) is None
