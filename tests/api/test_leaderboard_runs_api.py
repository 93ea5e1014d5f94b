"""Leaderboard runs through the public API: day, week and month runs splitting at midnight in
the board's zone (the in-process app's clock is moved across it), late events after a run has
closed, and a board read in each user's own zone with users in Auckland and Los Angeles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Api, TestClock
from test_leaderboards import CREATE, PAGE, PLACE, STATUS, page, ranks, track

LOS_ANGELES, AUCKLAND = "America/Los_Angeles", "Pacific/Auckland"


def midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, datetime.min.time(), ZoneInfo(zone)).astimezone(UTC)


def first_two_runs(unit: str, today: date) -> tuple[date, date]:
    """A start whose run holds today, and the start of the run after it."""
    if unit == "DAY":
        return today, today + timedelta(days=1)
    if unit == "WEEK":
        return today - timedelta(days=6), today + timedelta(days=1)
    first = today.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


async def live_board(api: Api, key: str, **fields: Any) -> None:
    spec = {"key": key, "name": key, "rankBy": {"metricKey": "lessons"}, **fields}
    await api.data(CREATE, {"i": spec})
    await api.data(STATUS, {"k": key, "s": "ACTIVE"})


def at(clock: TestClock, instant: datetime) -> Any:
    return clock.moved(instant - clock())


@pytest.mark.parametrize("unit", ["DAY", "WEEK", "MONTH"])
async def test_runs_split_at_midnight_in_the_boards_zone(
    api: Api, clock: TestClock, unit: str
) -> None:
    await api.metric()
    with clock.at_midday():
        today = clock().astimezone(ZoneInfo(LOS_ANGELES)).date()
        start, next_start = first_two_runs(unit, today)
        await live_board(
            api, "runs", start=start.isoformat(), repeat={"runUnit": unit}, timeZone=LOS_ANGELES
        )
        boundary = midnight(next_start, LOS_ANGELES)
        with at(clock, boundary - timedelta(minutes=2)):
            before = await track(api, "ann", 1)
        assert before["leaderboards"][0]["run"] == {"start": start.isoformat()}
        with at(clock, boundary + timedelta(minutes=2)):
            after = await track(api, "ann", 2)
            assert after["leaderboards"][0]["run"] == {"start": next_start.isoformat()}
            late = await track(api, "ann", 4, boundary - timedelta(minutes=1))
            assert (late["total"], late["leaderboards"]) == (7.0, [])  # its run has closed
            closed = await page(api, "runs", run=start.isoformat())
            assert ranks(closed) == [("ann", 1, 1.0)]
            assert closed["run"]["status"] == "FINISHED"
            assert closed["run"]["end"] == (next_start - timedelta(days=1)).isoformat()
            current = await page(api, "runs")
            assert current["run"]["start"] == next_start.isoformat()
            assert ranks(current) == [("ann", 1, 2.0)]
            for unopened in (next_start + timedelta(days=32), start - timedelta(days=1)):
                variables = {"k": "runs", "run": unopened.isoformat()}
                assert await api.error_code(PAGE, variables) == "BAD_USER_INPUT"


async def test_a_user_zone_board_counts_each_users_own_date(api: Api, clock: TestClock) -> None:
    await api.metric()
    with clock.at_midday(), clock.moved(timedelta(hours=1)):
        day = clock().date()
        await live_board(
            api, "local", start=(day - timedelta(days=1)).isoformat(), repeat={"runUnit": "DAY"}
        )
        instant = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12, minutes=30)
        # 12:30 UTC is already tomorrow in Auckland (UTC+12/+13), still today in Los Angeles.
        akl = await track(api, {"id": "akl", "tz": AUCKLAND}, 3, instant)
        lax = await track(api, {"id": "lax", "tz": LOS_ANGELES}, 5, instant)
        tomorrow = day + timedelta(days=1)
        assert akl["leaderboards"][0]["run"] == {"start": tomorrow.isoformat()}
        assert lax["leaderboards"][0]["run"] == {"start": day.isoformat()}
        assert ranks(await page(api, "local", run=day.isoformat())) == [("lax", 1, 5.0)]
        ahead = await page(api, "local", run=tomorrow.isoformat())
        assert ranks(ahead) == [("akl", 1, 3.0)]
        runs = await api.data("{ leaderboards { currentRun { start opensAt closesAt } } }")
        current = runs["leaderboards"][0]["currentRun"]
        assert current["start"] == day.isoformat()  # today in UTC
        opens = datetime.fromisoformat(current["opensAt"])
        closes = datetime.fromisoformat(current["closesAt"])
        assert opens == datetime.combine(
            day - timedelta(days=1), datetime.min.time(), UTC
        ) + timedelta(hours=10)
        assert closes == datetime.combine(tomorrow, datetime.min.time(), UTC) + timedelta(hours=12)
        for user, zone, run in (("akl", AUCKLAND, tomorrow), ("lax", LOS_ANGELES, day)):
            place = (await api.data(PLACE, {"u": user, "k": "local"}))["user"]["leaderboard"]
            assert place["run"] == {"start": run.isoformat()}  # the run of the user's today
            ends = datetime.fromisoformat(place["endsAt"])
            assert ends == midnight(run + timedelta(days=1), zone)
        around = await page(api, "local", a="akl")
        assert around["run"]["start"] == tomorrow.isoformat()  # akl's today picks the run
