"""The watches behind leaderboard.changed over in-memory ports: which moves mark a group,
when a watch falls due, and that only a changed top is announced, once an interval."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fakes import BoardRow, FakeRunClockStore, State

from app.domain.announcements import Published
from app.domain.leaderboard_news import LeaderboardMoved, LeaderboardTopChanged
from app.domain.leaderboard_ports import Standing
from app.domain.leaderboard_runs import Calendar
from app.domain.leaderboard_watch import WatchKey, announce_due_standings, watch_moves
from app.domain.leaderboards import Leaderboard, RankBy, StoredStatus
from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.model import Endpoint, EndpointStatus, PayloadFormat

START = date(2026, 3, 1)
NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)
QUIET = timedelta(seconds=60)
BOARD = Leaderboard(
    id=1,
    key="live",
    name="Live",
    rank_by=RankBy.METRIC,
    metric_id=7,
    calendar=Calendar(START, None, None, "UTC"),
    stored_status=StoredStatus.LIVE,
    ever_live=True,
)
KEY = WatchKey(BOARD.id, START, "")


class Subscribed:
    def __init__(self, *types: WebhookEventType) -> None:
        self.types = types

    async def subscribed(self, tenant_ids: object) -> list[Endpoint]:
        return [
            Endpoint(
                1,
                1,
                "https://example.com/hook",
                None,
                self.types,
                PayloadFormat.STANDARD,
                EndpointStatus.ENABLED,
                None,
                NOON,
                NOON,
                NOON,
                None,
            )
        ]


def moved(event_id: int = 1) -> Published:
    return Published(event_id, 1, LeaderboardMoved(BOARD.id, START, ""), NOON)


def store_with(values: dict[str, float]) -> FakeRunClockStore:
    store = FakeRunClockStore(State())
    store.add(BOARD, NOON)
    set_rows(store, values)
    return store


def set_rows(store: FakeRunClockStore, values: dict[str, float]) -> None:
    for pk, (user, value) in enumerate(values.items(), start=1):
        store.state.board_rows[(BOARD.id, START, pk)] = BoardRow("", user, Standing(value, NOON))


async def announced_at(store: FakeRunClockStore, now: datetime) -> list[LeaderboardTopChanged]:
    before = len(store.announced)
    await announce_due_standings(store, store.transaction, now, QUIET)
    news = store.announced[before:]
    assert all(isinstance(n, LeaderboardTopChanged) for n in news)
    return news  # type: ignore[return-value]


async def test_only_tenants_receiving_leaderboard_changed_mark_their_groups() -> None:
    store = store_with({"ada": 5})
    assert not await watch_moves(
        store, Subscribed(WebhookEventType.POINTS_CHANGED), [moved()], NOON
    )
    assert store.watches == {}
    receiving = Subscribed(WebhookEventType.LEADERBOARD_CHANGED)
    assert await watch_moves(store, receiving, [moved(1), moved(2)], NOON)
    assert list(store.watches) == [KEY]


async def test_a_burst_goes_out_once_an_interval_with_the_latest_rows() -> None:
    store = store_with({"ada": 5})
    receiving = Subscribed(WebhookEventType.LEADERBOARD_CHANGED)
    await watch_moves(store, receiving, [moved()], NOON)
    [first] = await announced_at(store, NOON)
    assert [(r.user_id, r.value) for r in first.rankings] == [("ada", 5)]
    set_rows(store, {"ada": 5, "bo": 9})
    await watch_moves(store, receiving, [moved()], NOON + timedelta(seconds=1))
    set_rows(store, {"ada": 5, "bo": 9, "cy": 7})
    await watch_moves(store, receiving, [moved()], NOON + timedelta(seconds=2))
    assert await announced_at(store, NOON + timedelta(seconds=30)) == []  # still quiet
    [burst] = await announced_at(store, NOON + QUIET)
    assert [r.user_id for r in burst.rankings] == ["bo", "cy", "ada"]


async def test_a_top_that_looks_as_announced_sends_nothing() -> None:
    store = store_with({"ada": 5})
    receiving = Subscribed(WebhookEventType.LEADERBOARD_CHANGED)
    await watch_moves(store, receiving, [moved()], NOON)
    await announced_at(store, NOON)
    later = NOON + 2 * QUIET
    await watch_moves(store, receiving, [moved()], later)
    assert await announced_at(store, later) == []
    assert store.watches[KEY][0] is None  # settled: not due again until marked


async def test_a_watch_marked_again_while_read_waits_for_the_next_round() -> None:
    store = store_with({"ada": 5})
    receiving = Subscribed(WebhookEventType.LEADERBOARD_CHANGED)
    await watch_moves(store, receiving, [moved()], NOON)
    [watch] = await store.due_watches(NOON, 10)
    await watch_moves(store, receiving, [moved()], NOON)  # a newer mark lands meanwhile
    assert not await store.settle(watch, "[]", NOON + QUIET)
    [news] = await announced_at(store, NOON)
    assert [r.user_id for r in news.rankings] == ["ada"]
