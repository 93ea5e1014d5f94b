"""Counting on boards over the in-memory store: which board a change moves, in which run and
group, what each move reports, and which moves are news for live standings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fakes import FakeTransaction, State

from app.domain.leaderboard_counting import (
    WATCHED_ROWS,
    BoardFacts,
    count_on_boards,
    rebuild_on_board,
)
from app.domain.leaderboard_news import LeaderboardMoved, LeaderboardRankChanged, RunDates
from app.domain.leaderboard_runs import Calendar, Repeat, RunUnit
from app.domain.leaderboards import Leaderboard, RankBy, StoredStatus, TiePolicy
from app.domain.model import Attribute, User

NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)
METRIC_ID = 7


def board(**overrides: object) -> Leaderboard:
    fields: dict[str, object] = {
        "id": 1,
        "key": "daily",
        "name": "Daily",
        "rank_by": RankBy.METRIC,
        "metric_id": METRIC_ID,
        "calendar": Calendar(date(2026, 3, 1), None, Repeat(RunUnit.DAY, 1), "UTC"),
        "stored_status": StoredStatus.LIVE,
        "ever_live": True,
    }
    fields.update(overrides)
    return Leaderboard(**fields)  # type: ignore[arg-type]


def user(pk: int, *attributes: Attribute) -> User:
    return User(pk, f"u{pk:04}", "UTC", attributes, NOON)


async def count(
    store: FakeTransaction, boards: list[Leaderboard], who: User, value: float, at: datetime = NOON
):
    return await count_on_boards(
        store, boards, who, BoardFacts(at, metric=(METRIC_ID, value)), NOON
    )


async def test_each_move_reports_the_rank_before_and_after() -> None:
    store = FakeTransaction(State())
    daily = board()
    await count(store, [daily], user(1), 5)
    second = await count(store, [daily], user(2), 3)
    (change,) = second.changes
    assert (change.value, change.rank, change.previous_rank) == (3, 2, None)
    raised = await count(store, [daily], user(2), 4)
    assert (raised.changes[0].value, raised.changes[0].rank) == (7, 1)
    assert raised.changes[0].previous_rank == 2


async def test_a_metric_a_board_does_not_rank_by_moves_nothing() -> None:
    store = FakeTransaction(State())
    other = board(metric_id=METRIC_ID + 1)
    outcome = await count(store, [other], user(1), 5)
    assert outcome.changes == () and outcome.news == ()
    assert store.s.board_rows == {}


async def test_inactive_and_closed_runs_are_left_alone() -> None:
    store = FakeTransaction(State())
    inactive = board(stored_status=StoredStatus.INACTIVE)
    ended = board(id=2, calendar=Calendar(date(2026, 3, 1), date(2026, 3, 5), None, "UTC"))
    assert (await count(store, [inactive, ended], user(1), 5)).changes == ()
    late = board(id=3)
    closed_day = NOON - timedelta(days=2)
    assert (await count(store, [late], user(1), 5, closed_day)).changes == ()


async def test_a_cap_leaves_later_rows_unranked_with_the_threshold_to_beat() -> None:
    store = FakeTransaction(State())
    capped = board(max_participants=2, tie_policy=TiePolicy.FIRST_COME)
    await count(store, [capped], user(1), 9)
    await count(store, [capped], user(2), 8)
    (third,) = (await count(store, [capped], user(3), 8)).changes
    assert third.rank is None and third.threshold == 8


async def test_groups_rank_apart_and_users_without_the_attribute_take_no_part() -> None:
    store = FakeTransaction(State())
    by_team = board(breakdown_attribute="team")
    red, blue = Attribute("team", "red"), Attribute("team", "blue")
    await count(store, [by_team], user(1, red), 9)
    (change,) = (await count(store, [by_team], user(2, blue), 1)).changes
    assert (change.group, change.rank) == ("blue", 1)
    assert (await count(store, [by_team], user(3), 50)).changes == ()


async def test_only_moves_among_the_watched_rows_are_news() -> None:
    store = FakeTransaction(State())
    daily = board()
    for pk in range(1, WATCHED_ROWS + 1):
        await count(store, [daily], user(pk), 1000 - pk)
    below = await count(store, [daily], user(WATCHED_ROWS + 1), 1)
    assert moves(below.news) == []
    climbed = await count(store, [daily], user(WATCHED_ROWS + 1), 5000)
    assert moves(climbed.news) == [LeaderboardMoved(daily.id, date(2026, 3, 10), "")]


def moves(news: tuple[object, ...]) -> list[object]:
    return [n for n in news if isinstance(n, LeaderboardMoved)]


def rank_changes(news: tuple[object, ...]) -> list[object]:
    return [n for n in news if isinstance(n, LeaderboardRankChanged)]


async def test_a_move_that_changes_the_users_own_rank_is_news_for_webhooks() -> None:
    store = FakeTransaction(State())
    capped = board(max_participants=2)
    run = RunDates(date(2026, 3, 10), date(2026, 3, 10))
    entered = await count(store, [capped], user(1), 5)
    assert rank_changes(entered.news) == [
        LeaderboardRankChanged("u0001", capped.id, run, "", 1, None, 5, None)
    ]
    await count(store, [capped], user(2), 3)
    same_rank = await count(store, [capped], user(1), 1)
    assert rank_changes(same_rank.news) == []
    unranked = await count(store, [capped], user(3), 1)  # below the cap: no rank either way
    assert rank_changes(unranked.news) == []
    passed = await count(store, [capped], user(2), 10)
    assert rank_changes(passed.news) == [
        LeaderboardRankChanged("u0002", capped.id, run, "", 1, 2, 13, 3)
    ]


async def test_a_rebuild_sets_each_runs_sum_closed_runs_included_and_repeats_harmlessly() -> None:
    store = FakeTransaction(State())
    daily = board()
    ada = user(1)
    history = [(NOON - timedelta(days=2), 3.0), (NOON - timedelta(days=2), 4.0), (NOON, 2.0)]
    await count(store, [daily], ada, 2)  # counted live before the rebuild reached ada
    for _ in range(2):
        assert await rebuild_on_board(store, daily, ada, history) == 2
    rows = {run: row.standing.value for (_, run, _), row in store.s.board_rows.items()}
    assert rows == {date(2026, 3, 8): 7.0, date(2026, 3, 10): 2.0}
    (after,) = (await count(store, [daily], ada, 1)).changes
    assert after.value == 3.0


async def test_a_rebuild_reads_the_users_current_attributes() -> None:
    store = FakeTransaction(State())
    by_team = board(breakdown_attribute="team", user_attributes=(Attribute("plan", "pro"),))
    history = [(NOON, 5.0)]
    assert await rebuild_on_board(store, by_team, user(1, Attribute("team", "red")), history) == 0
    pro_red = user(2, Attribute("team", "red"), Attribute("plan", "pro"))
    assert await rebuild_on_board(store, by_team, pro_red, history) == 1
    assert [row.group for row in store.s.board_rows.values()] == ["red"]


async def test_rank_changes_are_announced_only_when_asked_for() -> None:
    store = FakeTransaction(State())
    daily = board()
    quiet = await count_on_boards(
        store, [daily], user(1), BoardFacts(NOON, metric=(METRIC_ID, 5)), NOON, announce_ranks=False
    )
    assert quiet.changes[0].rank == 1 and rank_changes(quiet.news) == []
