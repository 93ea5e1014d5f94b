"""Streak arithmetic: calendar edge cases by hand; lengths, expiry and history without freezes
against a brute-force model (freezes: test_streak_freezes.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.streak_ledger import Context, evaluate, history, view
from app.domain.streaks import (
    StreakFrequency,
    StreakView,
    local_date,
    next_period,
    period_end,
    period_start,
    period_start_instant,
    previous_period,
)

DAILY, WEEKLY, MONTHLY = StreakFrequency.DAILY, StreakFrequency.WEEKLY, StreakFrequency.MONTHLY
LONDON = "Europe/London"
LOW, HIGH = date(2024, 1, 1), date(2026, 12, 31)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- local_date -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "before", "after"),
    [
        # NZDT is UTC+13 in January: local midnight of Jan 16 is 11:00Z on Jan 15.
        ("Pacific/Auckland", utc(2026, 1, 15, 10, 59, 59), utc(2026, 1, 15, 11)),
        # PST is UTC-8 in January: local midnight of Jan 16 is 08:00Z on Jan 16.
        ("America/Los_Angeles", utc(2026, 1, 16, 7, 59, 59), utc(2026, 1, 16, 8)),
    ],
)
def test_local_midnight_splits_days(tz: str, before: datetime, after: datetime) -> None:
    assert before.astimezone(ZoneInfo(tz)).time().isoformat() == "23:59:59"
    assert local_date(before, tz) == date(2026, 1, 15)
    assert local_date(after, tz) == date(2026, 1, 16)


def test_same_instant_different_dates_per_zone() -> None:
    instant = utc(2026, 1, 15, 12)
    assert local_date(instant, "Pacific/Auckland") == date(2026, 1, 16)
    assert local_date(instant, "America/Los_Angeles") == date(2026, 1, 15)
    assert local_date(instant, "UTC") == date(2026, 1, 15)


def test_local_date_accepts_any_aware_offset() -> None:
    instant = datetime(2026, 1, 16, 0, 30, tzinfo=ZoneInfo("Pacific/Auckland"))
    assert local_date(instant, "America/Los_Angeles") == date(2026, 1, 15)


def test_local_date_refuses_naive() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 1, 15, 12), "UTC")


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # 2026-03-29: GMT -> BST at 01:00Z, local 01:00 -> 02:00.
        (utc(2026, 3, 28, 23, 59, 59), date(2026, 3, 28)),
        (utc(2026, 3, 29, 0, 30), date(2026, 3, 29)),  # 00:30 GMT
        (utc(2026, 3, 29, 1, 30), date(2026, 3, 29)),  # 02:30 BST
        (utc(2026, 3, 29, 22, 59, 59), date(2026, 3, 29)),  # 23:59:59 BST
        (utc(2026, 3, 29, 23), date(2026, 3, 30)),  # 00:00 BST
        # 2026-10-25: BST -> GMT at 01:00Z, local 01:00-01:59 happens twice.
        (utc(2026, 10, 24, 22, 59, 59), date(2026, 10, 24)),  # 23:59:59 BST
        (utc(2026, 10, 24, 23, 30), date(2026, 10, 25)),  # 00:30 BST
        (utc(2026, 10, 25, 0, 30), date(2026, 10, 25)),  # 01:30 BST
        (utc(2026, 10, 25, 1, 30), date(2026, 10, 25)),  # 01:30 GMT
        (utc(2026, 10, 25, 23, 59, 59), date(2026, 10, 25)),  # 23:59:59 GMT
    ],
)
def test_local_date_around_london_dst(instant: datetime, expected: date) -> None:
    assert local_date(instant, LONDON) == expected


# --- period starts, ends and steps ----------------------------------------------------------


def test_iso_week_53() -> None:
    day = date(2026, 12, 31)
    assert day.isocalendar()[:2] == (2026, 53)
    assert period_start(day, WEEKLY) == date(2026, 12, 28)
    assert period_start(date(2027, 1, 3), WEEKLY) == date(2026, 12, 28)
    assert period_end(date(2026, 12, 28), WEEKLY) == date(2027, 1, 3)
    assert next_period(date(2026, 12, 28), WEEKLY) == date(2027, 1, 4)
    assert previous_period(date(2027, 1, 4), WEEKLY) == date(2026, 12, 28)


def test_month_ends() -> None:
    assert next_period(date(2026, 1, 31), DAILY) == date(2026, 2, 1)
    assert period_start(date(2026, 1, 31), MONTHLY) == date(2026, 1, 1)
    assert next_period(date(2026, 1, 1), MONTHLY) == date(2026, 2, 1)
    assert period_end(date(2026, 1, 1), MONTHLY) == date(2026, 1, 31)
    assert period_end(date(2026, 4, 1), MONTHLY) == date(2026, 4, 30)
    assert period_end(date(2026, 12, 1), MONTHLY) == date(2026, 12, 31)
    assert next_period(date(2026, 12, 1), MONTHLY) == date(2027, 1, 1)
    assert previous_period(date(2027, 1, 1), MONTHLY) == date(2026, 12, 1)


def test_february_lengths() -> None:
    assert period_end(date(2028, 2, 1), MONTHLY) == date(2028, 2, 29)
    assert period_end(date(2027, 2, 1), MONTHLY) == date(2027, 2, 28)
    assert period_end(date(2100, 2, 1), MONTHLY) == date(2100, 2, 28)  # century rule


def test_leap_day() -> None:
    leap = date(2028, 2, 29)
    assert next_period(leap, DAILY) == date(2028, 3, 1)
    assert previous_period(date(2028, 3, 1), DAILY) == leap
    assert period_end(leap, DAILY) == leap
    assert period_start(leap, WEEKLY) == date(2028, 2, 28)
    assert period_end(date(2028, 2, 28), WEEKLY) == date(2028, 3, 5)
    assert period_start(leap, MONTHLY) == date(2028, 2, 1)


def test_steps_accept_any_day_of_the_period() -> None:
    assert next_period(date(2026, 5, 13), WEEKLY) == date(2026, 5, 18)
    assert previous_period(date(2026, 5, 13), MONTHLY) == date(2026, 4, 1)


# --- period_start_instant -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        (date(2026, 3, 29), utc(2026, 3, 29)),  # midnight still GMT
        (date(2026, 3, 30), utc(2026, 3, 29, 23)),  # midnight BST
        (date(2026, 10, 25), utc(2026, 10, 24, 23)),  # midnight still BST
        (date(2026, 10, 26), utc(2026, 10, 26)),  # midnight GMT
    ],
)
def test_period_start_instant_london(day: date, expected_utc: datetime) -> None:
    start = period_start_instant(day, LONDON)
    assert start == expected_utc
    assert start.utcoffset() == expected_utc.astimezone(ZoneInfo(LONDON)).utcoffset()
    assert (start.hour, start.minute, start.date()) == (0, 0, day)


def test_transition_days_have_23_and_25_hours() -> None:
    def hours(day: date) -> float:
        # Through UTC: subtracting two datetimes that share a tzinfo compares wall clocks.
        end = period_start_instant(day + timedelta(days=1), LONDON).astimezone(UTC)
        return (end - period_start_instant(day, LONDON).astimezone(UTC)) / timedelta(hours=1)

    assert hours(date(2026, 3, 29)) == 23
    assert hours(date(2026, 10, 25)) == 25
    assert hours(date(2026, 6, 1)) == 24


def test_skipped_midnight_starts_at_the_transition() -> None:
    # Chile springs forward at local midnight: 2026-09-06 00:00-00:59 does not exist.
    start = period_start_instant(date(2026, 9, 6), "America/Santiago")
    assert start == utc(2026, 9, 6, 4)
    assert (start.hour, start.date()) == (1, date(2026, 9, 6))


def test_gap_straddling_midnight_starts_at_the_transition() -> None:
    # Toronto 1919: 23:30 EST jumped to 00:30 EDT, so the day began at 00:30, not at 01:00
    # where fold=0 midnight (00:00 EST) would put it.
    start = period_start_instant(date(1919, 3, 31), "America/Toronto")
    assert start == utc(1919, 3, 31, 4, 30)
    assert (start.hour, start.minute) == (0, 30)


def test_skipped_day_starts_with_the_next_one() -> None:
    # Samoa jumped over 2011-12-30 entirely.
    start = period_start_instant(date(2011, 12, 30), "Pacific/Apia")
    assert (
        start == period_start_instant(date(2011, 12, 31), "Pacific/Apia") == utc(2011, 12, 30, 10)
    )


ZONES = [
    "UTC",
    LONDON,
    "Pacific/Auckland",
    "America/Los_Angeles",
    "America/Santiago",
    "America/Havana",
    "America/Toronto",
    "Pacific/Apia",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]


@given(st.dates(date(1900, 1, 1), date(2040, 12, 31)), st.sampled_from(ZONES))
def test_period_start_instant_is_first_instant_of_the_day(day: date, tz: str) -> None:
    start = period_start_instant(day, tz)
    assert local_date(start, tz) >= day
    # Step back on the UTC line: aware arithmetic in one zone is wall-clock time, which inside a
    # skipped hour (Santiago 2000-10-15 jumps from 00:00 to 01:00) lands on a time that never was.
    just_before = start.astimezone(UTC) - timedelta(microseconds=1)
    assert local_date(just_before, tz) < day
    assert start.tzinfo == ZoneInfo(tz)


# --- the streak as seen now ------------------------------------------------------------------


def days_between(
    first: date, last: date, frequency: StreakFrequency = StreakFrequency.DAILY
) -> set[date]:
    """One day in each period from `first`'s to `last`'s."""
    found, day = set(), period_start(first, frequency)
    while day <= last:
        found.add(day)
        day = next_period(day, frequency)
    return found


def streak_now(days: set[date], frequency: StreakFrequency, now: datetime, tz: str) -> StreakView:
    """No freezes; the user created on the first day (the creation day plays no part then)."""
    today = local_date(now, tz)
    ctx = Context(frequency, None, min(days) if days else today)
    ledger, _ = evaluate(ctx, days, [], today)
    return view(ledger, ctx, now, tz)


def test_no_days() -> None:
    found = streak_now(set(), DAILY, utc(2026, 5, 13, 12), "UTC")
    assert found == StreakView(0, DAILY, None, date(2026, 5, 13), date(2026, 5, 13), None)


@pytest.mark.parametrize("last", [date(2026, 5, 13), date(2026, 5, 12)])
def test_counts_when_current_or_previous_period(last: date) -> None:
    found = streak_now(days_between(date(2026, 5, 10), last), DAILY, utc(2026, 5, 13, 12), "UTC")
    assert found.length == (last - date(2026, 5, 10)).days + 1
    assert found.started == date(2026, 5, 10)
    assert found.expires == utc(last.year, last.month, last.day) + timedelta(days=2)


@pytest.mark.parametrize("last", [date(2026, 5, 11), date(2026, 4, 1)])
def test_lost_when_two_or_more_periods_ago(last: date) -> None:
    found = streak_now(days_between(date(2026, 3, 1), last), DAILY, utc(2026, 5, 13, 12), "UTC")
    assert (found.length, found.started, found.expires) == (0, None, None)
    assert (found.period_start, found.period_end) == (date(2026, 5, 13), date(2026, 5, 13))


def test_days_ending_after_now_are_live() -> None:
    days = days_between(date(2026, 5, 12), date(2026, 5, 14))
    found = streak_now(days, DAILY, utc(2026, 5, 13, 23, 58), "UTC")
    assert found.length == 3
    assert found.expires == utc(2026, 5, 16)


def test_zone_decides_whether_the_streak_survives() -> None:
    days = days_between(date(2026, 1, 10), date(2026, 1, 14))
    now = utc(2026, 1, 15, 12)  # Jan 16 01:00 in Auckland, Jan 15 04:00 in Los Angeles
    assert streak_now(days, DAILY, now, "Pacific/Auckland").length == 0
    live = streak_now(days, DAILY, now, "America/Los_Angeles")
    assert live.length == 5
    assert live.expires == utc(2026, 1, 16, 8)


def test_weekly_view_and_expiry_across_spring_forward() -> None:
    days = days_between(date(2026, 3, 2), date(2026, 3, 16), WEEKLY)
    found = streak_now(days, WEEKLY, utc(2026, 3, 25, 12), LONDON)
    assert found == StreakView(
        3,
        WEEKLY,
        date(2026, 3, 2),
        date(2026, 3, 23),
        date(2026, 3, 29),
        period_start_instant(date(2026, 3, 30), LONDON),
    )
    assert found.expires == utc(2026, 3, 29, 23)
    assert found.expires is not None and found.expires.utcoffset() == timedelta(hours=1)


def test_daily_expiry_across_fall_back() -> None:
    days = days_between(date(2026, 10, 20), date(2026, 10, 24))
    found = streak_now(days, DAILY, utc(2026, 10, 24, 12), LONDON)
    assert found.expires == utc(2026, 10, 26)
    assert found.expires is not None and found.expires.utcoffset() == timedelta(0)


def test_monthly_view_in_leap_february() -> None:
    days = {date(2027, 12, 1), date(2028, 1, 1)}
    found = streak_now(days, MONTHLY, utc(2028, 2, 29, 23, 30), "UTC")
    assert (found.length, found.period_start, found.period_end) == (
        2,
        date(2028, 2, 1),
        date(2028, 2, 29),
    )
    assert found.expires == utc(2028, 3, 1)


# --- reference model ------------------------------------------------------------------------


def index(day: date, frequency: StreakFrequency) -> int:
    """Number periods consecutively without using the module's own stepping."""
    if frequency is DAILY:
        return day.toordinal()
    if frequency is WEEKLY:
        year, week, _ = day.isocalendar()
        return date.fromisocalendar(year, week, 1).toordinal() // 7
    return day.year * 12 + day.month


def reference_runs(days: set[date], frequency: StreakFrequency) -> list[list[int]]:
    """Maximal runs of consecutive period indexes, oldest first."""
    runs: list[list[int]] = []
    for value in sorted({index(day, frequency) for day in days}):
        if runs and runs[-1][-1] == value - 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return runs


frequencies = st.sampled_from(list(StreakFrequency))
# Sparse sets over three years, plus dense clusters so that long runs actually occur.
date_sets = st.sets(st.dates(LOW, HIGH), max_size=40) | st.dates(LOW, HIGH).flatmap(
    lambda base: st.sets(
        st.integers(0, 90).map(lambda offset: base + timedelta(days=offset)), max_size=40
    )
)


@given(st.dates(LOW, HIGH), frequencies)
def test_period_arithmetic_matches_indexes(day: date, frequency: StreakFrequency) -> None:
    start = period_start(day, frequency)
    assert period_start(start, frequency) == start
    assert start <= day <= period_end(start, frequency)
    assert index(next_period(start, frequency), frequency) == index(start, frequency) + 1
    assert index(previous_period(start, frequency), frequency) == index(start, frequency) - 1
    assert period_end(start, frequency) + timedelta(days=1) == next_period(start, frequency)


@given(date_sets, st.dates(LOW, HIGH), frequencies)
def test_current_length_matches_reference(
    days: set[date], today: date, frequency: StreakFrequency
) -> None:
    past = {day for day in days if day <= today}
    now = utc(today.year, today.month, today.day, 12)
    found = streak_now(past, frequency, now, "UTC")
    current = index(today, frequency)
    live = [run for run in reference_runs(past, frequency) if run[-1] >= current - 1]
    assert found.length == (len(live[-1]) if live else 0)
    assert (found.expires is None) == (not live)
    if found.expires is not None:
        assert index(local_date(found.expires, "UTC"), frequency) == live[-1][-1] + 2
        assert (
            index(local_date(found.expires - timedelta(microseconds=1), "UTC"), frequency)
            == live[-1][-1] + 1
        )


@given(date_sets, st.dates(LOW, HIGH), frequencies, st.integers(1, 12))
def test_history_matches_reference(
    days: set[date], today: date, frequency: StreakFrequency, periods: int
) -> None:
    past = {day for day in days if day <= today}
    now = utc(today.year, today.month, today.day, 12)
    ctx = Context(frequency, None, min(past) if past else today)
    rows = history(ctx, past, [], now, "UTC", periods)
    current = index(today, frequency)
    assert [index(p.start, frequency) for p in rows] == list(range(current, current - periods, -1))
    runs = reference_runs(past, frequency)
    for period in rows[1:]:  # the run as it stood when the period closed
        target = index(period.start, frequency)
        containing = [run for run in runs if target in run]
        assert period.length == (containing[0].index(target) + 1 if containing else 0)
        assert not period.used_freeze
    assert rows[0].length == streak_now(past, frequency, now, "UTC").length
