"""Backfill through the public API: a board that goes live with runs in the past is rebuilt
from stored events and awards, silently, with users' current attributes, and nothing it
rebuilt is counted twice by the events that follow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import Api, TestClock, eventually
from test_leaderboard_webhooks import subscribe
from test_leaderboards import STATUS, board, page, ranks, track
from test_points import system, trigger
from webhook_receiver import Receiver

DAILY = {"repeat": {"runUnit": "DAY", "runInterval": 1}}


async def settled(api: Api, key: str, wanted: list[tuple[str, int, float]], **args: Any) -> None:
    async def rebuilt() -> bool:
        return ranks(await page(api, key, **args)) == wanted

    await eventually(rebuilt, what=f"{key} rebuilt as {wanted}")


async def test_a_board_gone_live_is_rebuilt_from_stored_events_silently(
    api: Api, receiver: Receiver, clock: TestClock
) -> None:
    await api.metric()
    with clock.at_midday():
        now = clock()
        today = now.date()
        await track(api, "ada", 5, now - timedelta(days=1))
        await track(api, "bo", 3, now - timedelta(days=2))
        await track(api, "bo", 4, now - timedelta(days=1))
        await track(api, "ada", 2, now)
        await subscribe(
            api,
            receiver,
            "LEADERBOARD_RANK_CHANGED",
            "LEADERBOARD_STARTED",
            "LEADERBOARD_FINISHED",
        )
        start = (today - timedelta(days=3)).isoformat()
        await board(api, "daily", start=start, **DAILY)
        yesterday = (today - timedelta(days=1)).isoformat()
        await settled(api, "daily", [("ada", 1, 5), ("bo", 2, 4)], run=yesterday)
        two_days_ago = (today - timedelta(days=2)).isoformat()
        await settled(api, "daily", [("bo", 1, 3)], run=two_days_ago)
        await settled(api, "daily", [("ada", 1, 2)])
        # An event after the rebuild adds to it: nothing is counted twice.
        after = await track(api, "bo", 1)
        assert [(c["rank"], c["value"]) for c in after["leaderboards"]] == [(2, 1)]
        await track(api, "ada", 1)
        assert ranks(await page(api, "daily")) == [("ada", 1, 3), ("bo", 2, 1)]
        # Only the live events announced anything; the rebuilt runs, closed or open, nothing.
        arrived = await receiver.wait_for(1, "leaderboard.rank_changed", distinct=True)
        assert [r.json["data"]["user"]["id"] for r in arrived] == ["bo"]
        assert {r.json["type"] for r in receiver.received} == {"leaderboard.rank_changed"}


async def test_points_boards_are_rebuilt_from_awards_with_current_attributes(api: Api) -> None:
    await api.metric()
    await system(api)
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    await track(api, {"id": "ada", "attributes": [{"key": "team", "value": "red"}]}, 2)
    await track(api, {"id": "bo", "attributes": [{"key": "team", "value": "red"}]}, 1)
    await track(api, {"id": "cy"}, 5)  # no team: not in any group
    # bo's team is blue now: the rebuild reads the current one.
    await track(api, {"id": "bo", "attributes": [{"key": "team", "value": "blue"}]}, 0)
    await board(
        api, "teams", rankBy={"pointsSystemKey": "xp"}, breakdownAttribute="team", live=False
    )
    await api.data(STATUS, {"k": "teams", "s": "ACTIVE"})
    await settled(api, "teams", [("ada", 1, 20)], b="red")
    await settled(api, "teams", [("bo", 1, 10)], b="blue")


async def test_a_streak_board_is_rebuilt_from_current_streaks(api: Api, clock: TestClock) -> None:
    await api.metric()
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    with clock.at_midday():
        now = clock()
        for days_ago in (2, 1, 0):
            await track(api, "ada", 1, now - timedelta(days=days_ago))
        await track(api, "bo", 1, now)
        await track(api, "cy", 1, now - timedelta(days=3))  # lost since: not on the board
        await board(api, "streaks", rankBy={"streak": True})
        await settled(api, "streaks", [("ada", 1, 3), ("bo", 2, 1)])
