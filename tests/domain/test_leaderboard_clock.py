"""The run clock over in-memory ports: which runs it announces as started and finished, in
what order, once each, and what a finished run's standings hold."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from fakes import BoardRow, FakeRunClockStore, State

from app.domain.announcements import Announcement
from app.domain.leaderboard_clock import run_leaderboard_clock
from app.domain.leaderboard_news import LeaderboardFinished, LeaderboardStarted, RunDates
from app.domain.leaderboard_ports import Standing
from app.domain.leaderboard_runs import Calendar, Repeat, RunUnit
from app.domain.leaderboards import Leaderboard, RankBy, StoredStatus, TiePolicy

MARCH_1 = date(2026, 3, 1)
NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


def daily(zone: str | None = "UTC", **overrides: object) -> Leaderboard:
    fields: dict[str, object] = {
        "id": 1,
        "key": "daily",
        "name": "Daily",
        "rank_by": RankBy.METRIC,
        "metric_id": 7,
        "calendar": Calendar(MARCH_1, None, Repeat(RunUnit.DAY, 1), zone),
        "stored_status": StoredStatus.LIVE,
        "ever_live": True,
        "live_since": NOON,
    }
    fields.update(overrides)
    return Leaderboard(**fields)  # type: ignore[arg-type]


def day(n: int) -> RunDates:
    """The dates of a daily board's run n."""
    return RunDates(MARCH_1 + timedelta(days=n), MARCH_1 + timedelta(days=n))


def kinds(events: list[Announcement]) -> list[tuple[str, date]]:
    found = []
    for event in events:
        assert isinstance(event, LeaderboardStarted | LeaderboardFinished)
        found.append((event.type.value, event.run.start))
    return found


async def tick(store: FakeRunClockStore, now: datetime) -> list[Announcement]:
    before = len(store.announced)
    await run_leaderboard_clock(store, store.transaction, now)
    return store.announced[before:]


def seed(state: State, board: Leaderboard, run: date, values: dict[str, float], **kw: str) -> None:
    for pk, (user, value) in enumerate(values.items(), start=len(state.board_rows) + 1):
        group = kw.get("group", "")
        state.board_rows[(board.id, run, pk)] = BoardRow(group, user, Standing(value, NOON))


async def test_runs_open_and_finish_once_each_in_the_order_they_happen() -> None:
    store = FakeRunClockStore(State())
    store.add(daily(), NOON)
    assert await tick(store, NOON) == []  # run 0 opened before the board went live
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    assert store.boards[1].due_at == midnight
    assert kinds(await tick(store, midnight)) == [
        ("leaderboard.finished", MARCH_1),
        ("leaderboard.started", date(2026, 3, 2)),
    ]
    assert await tick(store, midnight + timedelta(seconds=1)) == []


async def test_a_clock_behind_catches_up_on_every_run_it_missed() -> None:
    store = FakeRunClockStore(State())
    store.add(daily(), NOON)
    await tick(store, NOON)
    events = await tick(store, NOON + timedelta(days=3))
    assert kinds(events) == [
        ("leaderboard.finished", MARCH_1),
        ("leaderboard.started", date(2026, 3, 2)),
        ("leaderboard.finished", date(2026, 3, 2)),
        ("leaderboard.started", date(2026, 3, 3)),
        ("leaderboard.finished", date(2026, 3, 3)),
        ("leaderboard.started", date(2026, 3, 4)),
    ]


async def test_user_zone_runs_open_in_the_earliest_zone_and_close_in_the_latest() -> None:
    store = FakeRunClockStore(State())
    store.add(daily(None), NOON)
    await tick(store, NOON)
    # Run 1 (March 2) opens when March 2 begins at UTC+14: March 1, 10:00 UTC, before noon.
    assert store.boards[1].due_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert kinds(await tick(store, datetime(2026, 3, 2, 10, tzinfo=UTC))) == [
        ("leaderboard.started", date(2026, 3, 3))
    ]
    # Run 0 closes when March 1 ends at UTC-12: March 2, 12:00 UTC.
    assert kinds(await tick(store, datetime(2026, 3, 2, 12, tzinfo=UTC))) == [
        ("leaderboard.finished", MARCH_1)
    ]


async def test_a_finished_run_carries_each_groups_first_rows_and_ranked_count() -> None:
    state = State()
    board = daily(breakdown_attribute="team", max_participants=2, tie_policy=TiePolicy.DENSE)
    seed(state, board, MARCH_1, {"ada": 5, "bo": 5, "cy": 1}, group="red")
    seed(state, board, MARCH_1, {"di": 2}, group="blue")
    store = FakeRunClockStore(state)
    store.add(board, NOON)
    await tick(store, NOON)
    events = await tick(store, datetime(2026, 3, 2, tzinfo=UTC))
    finished = [e for e in events if isinstance(e, LeaderboardFinished)]
    assert [(f.group, f.participants) for f in finished] == [("blue", 1), ("red", 2)]
    red = finished[1]
    assert [(r.rank, r.user_id, r.value) for r in red.rankings] == [(1, "ada", 5), (1, "bo", 5)]
    assert red.run == day(0)


async def test_an_empty_run_of_a_board_without_groups_is_still_announced() -> None:
    store = FakeRunClockStore(State())
    store.add(daily(), NOON)
    await tick(store, NOON)
    [finished, _] = await tick(store, datetime(2026, 3, 2, tzinfo=UTC))
    assert isinstance(finished, LeaderboardFinished)
    assert (finished.group, finished.participants, finished.rankings) == ("", 0, ())


async def test_a_board_finished_on_request_finalises_its_open_run_and_opens_no_more() -> None:
    store = FakeRunClockStore(State())
    store.add(daily(), NOON)
    await tick(store, NOON)
    at = NOON + timedelta(hours=1)
    finished = replace(daily(), stored_status=StoredStatus.FINISHED, finished_at=at)
    store.boards[1] = replace(store.boards[1], board=finished, due_at=at)
    assert kinds(await tick(store, at)) == [("leaderboard.finished", MARCH_1)]
    assert store.boards[1].due_at is None


async def test_a_board_gone_live_after_runs_closed_announces_none_of_them() -> None:
    store = FakeRunClockStore(State())
    late = datetime(2026, 3, 5, 12, tzinfo=UTC)
    store.add(daily(live_since=late), late)
    assert await tick(store, late) == []
    assert kinds(await tick(store, datetime(2026, 3, 6, tzinfo=UTC))) == [
        ("leaderboard.finished", date(2026, 3, 5)),
        ("leaderboard.started", date(2026, 3, 6)),
    ]


async def test_a_scheduled_board_announces_its_first_run_when_it_opens() -> None:
    store = FakeRunClockStore(State())
    before = NOON - timedelta(days=3)
    store.add(daily(live_since=before), before)
    await tick(store, before)
    assert store.boards[1].due_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert kinds(await tick(store, datetime(2026, 3, 1, tzinfo=UTC))) == [
        ("leaderboard.started", MARCH_1)
    ]


async def test_an_inactive_board_announces_nothing_and_sleeps() -> None:
    store = FakeRunClockStore(State())
    store.add(daily(stored_status=StoredStatus.INACTIVE), NOON)
    assert await tick(store, NOON + timedelta(days=2)) == []
    assert store.boards[1].due_at is None


async def test_two_rounds_at_once_announce_each_run_once() -> None:
    store = FakeRunClockStore(State())
    store.add(daily(), NOON)
    await tick(store, NOON)
    store.yield_between = True
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    await asyncio.gather(*(run_leaderboard_clock(store, store.transaction, midnight) for _ in "ab"))
    assert kinds(store.announced) == [
        ("leaderboard.finished", MARCH_1),
        ("leaderboard.started", date(2026, 3, 2)),
    ]
