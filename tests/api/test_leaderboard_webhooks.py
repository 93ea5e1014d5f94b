"""Leaderboard webhooks through the public API and a real receiver: a user's own rank changes,
runs opening and being finalised by the clock, and a board finished on request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import Api, TestClock
from test_leaderboards import STATUS, board, page, track
from webhook_receiver import Receiver

ENDPOINT = """
mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }
"""


async def subscribe(api: Api, receiver: Receiver, *types: str) -> None:
    await api.data(ENDPOINT, {"i": {"url": receiver.url, "eventTypes": list(types)}})


async def test_an_operation_that_moves_a_users_own_rank_announces_it(
    api: Api, receiver: Receiver
) -> None:
    await api.metric()
    await board(api, "weekly", maxParticipants=10)
    await subscribe(api, receiver, "LEADERBOARD_RANK_CHANGED")
    await track(api, {"id": "ada", "name": "Ada"}, 5)
    await track(api, "bo", 3)
    await track(api, "bo", 5)  # bo passes ada: ada's rank changes, but not by ada's operation
    await track(api, "bo", 1)  # bo stays first: nothing to announce
    await track(api, "cy", 1)
    arrived = await receiver.wait_for(4, "leaderboard.rank_changed", distinct=True)
    moves = sorted(
        (
            d["user"]["id"],
            d["rank"],
            d["previousRank"],
            d["value"],
            d["previousValue"],
        )
        for d in (r.json["data"] for r in arrived)
    )
    assert moves == [
        ("ada", 1, None, 5, None),
        ("bo", 1, 2, 8, 3),
        ("bo", 2, None, 3, None),
        ("cy", 3, None, 1, None),
    ]
    first = next(r.json["data"] for r in arrived if r.json["data"]["user"]["id"] == "ada")
    assert first["user"]["name"] == "Ada" and first["breakdownValue"] is None
    assert first["run"] == {"start": first["run"]["start"], "end": None}
    assert first["leaderboard"] == {
        "id": first["leaderboard"]["id"],
        "key": "weekly",
        "name": "weekly",
        "description": None,
        "rankBy": "METRIC",
        "metricKey": "lessons",
        "pointsSystemKey": None,
        "runUnit": None,
        "runInterval": None,
        "timeZone": "UTC",
        "breakdownAttribute": None,
        "tiePolicy": "SHARED",
        "status": "ACTIVE",
    }


async def test_the_clock_announces_a_run_finished_and_the_next_started(
    api: Api, receiver: Receiver, clock: TestClock
) -> None:
    await api.metric()
    with clock.at_midday():
        today = clock().date()
        await board(
            api, "daily", start=today.isoformat(), repeat={"runUnit": "DAY", "runInterval": 1}
        )
        await subscribe(api, receiver, "LEADERBOARD_STARTED", "LEADERBOARD_FINISHED")
        await track(api, {"id": "ada", "name": "Ada"}, 5)
        await track(api, "bo", 3)
        await track(api, "cy", 5)
        with clock.moved(timedelta(days=1)):
            [finished] = await receiver.wait_for(1, "leaderboard.finished", distinct=True)
            [started] = await receiver.wait_for(1, "leaderboard.started", distinct=True)
    data = finished.json["data"]
    assert data["run"] == {"start": today.isoformat(), "end": today.isoformat()}
    assert data["participants"] == 3 and data["breakdownValue"] is None
    assert [(r["rank"], r["user"], r["value"]) for r in data["rankings"]] == [
        (1, {"id": "ada", "name": "Ada"}, 5),
        (1, {"id": "cy", "name": None}, 5),
        (3, {"id": "bo", "name": None}, 3),
    ]
    assert (data["leaderboard"]["runUnit"], data["leaderboard"]["runInterval"]) == ("DAY", 1)
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert started.json["data"]["run"] == {"start": tomorrow, "end": tomorrow}
    # The first run opened before the board went live: only its finish was announced.
    assert len({r.webhook_id for r in receiver.of_type("leaderboard.started")}) == 1


async def test_finishing_a_board_on_request_finalises_its_run_at_once(
    api: Api, receiver: Receiver
) -> None:
    await api.metric()
    await board(api, "season", breakdownAttribute="team")
    await subscribe(api, receiver, "LEADERBOARD_FINISHED")
    await track(api, {"id": "ada", "attributes": [{"key": "team", "value": "red"}]}, 2)
    await track(api, {"id": "bo", "attributes": [{"key": "team", "value": "blue"}]}, 1)
    await api.data(STATUS, {"k": "season", "s": "FINISHED"})
    arrived = await receiver.wait_for(2, "leaderboard.finished", distinct=True)
    by_group: dict[str, Any] = {r.json["data"]["breakdownValue"]: r.json["data"] for r in arrived}
    assert sorted(by_group) == ["blue", "red"]
    red = by_group["red"]
    assert red["leaderboard"]["status"] == "FINISHED" and red["participants"] == 1
    assert [r["user"]["id"] for r in red["rankings"]] == ["ada"]
    assert red["run"]["end"] is None


async def test_top_rows_changes_arrive_coalesced_with_the_latest_state(
    api: Api, receiver: Receiver, clock: TestClock
) -> None:
    """The session server keeps the default quiet interval of 60 s: the clock moves past it."""
    await api.metric()
    await board(api, "live")
    await subscribe(api, receiver, "LEADERBOARD_CHANGED")
    await track(api, "u00", 100)
    [first] = await receiver.wait_for(1, "leaderboard.changed", distinct=True)
    assert tops(first) == [(1, "u00", 100)]
    for n in range(1, 11):  # within the quiet interval: held back
        await track(api, f"u{n:02}", 100 - n)
    with clock.moved(timedelta(seconds=61)):
        [_, burst] = await receiver.wait_for(2, "leaderboard.changed", distinct=True)
        assert tops(burst) == [(n + 1, f"u{n:02}", 100 - n) for n in range(10)]
        assert burst.json["data"]["leaderboard"]["key"] == "live"
        assert burst.json["data"]["breakdownValue"] is None
        await track(api, "u10", 0.5)  # below the first ten: they show nothing new
        with clock.moved(timedelta(seconds=61)):
            await track(api, "u09", 50)
            arrived = await receiver.wait_for(3, "leaderboard.changed", distinct=True)
    assert tops(arrived[-1])[:2] == [(1, "u09", 141), (2, "u00", 100)]
    assert len(arrived) == 3


def tops(received: Any) -> list[tuple[int, str, float]]:
    return [(r["rank"], r["user"]["id"], r["value"]) for r in received.json["data"]["rankings"]]


async def test_a_lost_streak_leaves_streak_boards_until_a_new_one_starts(
    api: Api, receiver: Receiver, clock: TestClock
) -> None:
    await api.metric()
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    with clock.at_midday():
        await board(api, "streaks", rankBy={"streak": True})
        await subscribe(api, receiver, "STREAK_LOST", "LEADERBOARD_RANK_CHANGED")
        await track(api, "ada", 1)
        await track(api, "bo", 1)
        assert [r["user"]["id"] for r in (await page(api, "streaks"))["rankings"]] == ["ada", "bo"]
        with clock.moved(timedelta(days=2)):
            await receiver.wait_for(2, "streak.lost", distinct=True)
            left = [
                r.json["data"]
                for r in await receiver.wait_for(4, "leaderboard.rank_changed", distinct=True)
                if r.json["data"]["rank"] is None
            ]
            assert sorted((d["user"]["id"], d["previousRank"], d["value"]) for d in left) == [
                ("ada", 1, 0),
                ("bo", 1, 0),
            ]
            standings = await page(api, "streaks")
            assert (standings["participants"], standings["rankings"]) == (0, [])
            back = await track(api, "bo", 1)
            assert [(c["rank"], c["value"]) for c in back["leaderboards"]] == [(1, 1)]


async def test_a_user_changing_groups_announces_the_rank_it_takes_there(
    api: Api, receiver: Receiver
) -> None:
    await api.metric()
    await board(api, "teams", breakdownAttribute="team")
    await subscribe(api, receiver, "LEADERBOARD_RANK_CHANGED")
    await track(api, {"id": "ada", "attributes": [{"key": "team", "value": "red"}]}, 5)
    await track(api, {"id": "bo", "attributes": [{"key": "team", "value": "red"}]}, 3)
    await api.data(
        'mutation { identify(input: {id: "bo", attributes: [{key: "team", value: "blue"}]}) '
        "{ created } }"
    )
    arrived = await receiver.wait_for(3, "leaderboard.rank_changed", distinct=True)
    moved = next(r.json["data"] for r in arrived if r.json["data"]["breakdownValue"] == "blue")
    assert (moved["user"]["id"], moved["rank"], moved["previousRank"]) == ("bo", 1, 2)
    assert (moved["value"], moved["previousValue"]) == (3, 3)
