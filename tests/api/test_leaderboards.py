"""Leaderboards through the public API, on whichever backend the session uses: tie policies,
the participant cap, groups, filters, paging, what operations report, the lifecycle and bad
input. Runs and zones: test_leaderboard_runs_api.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api

CHANGES = """leaderboards { leaderboard { key } run { start } breakdownValue value previousValue
  rank previousRank threshold }"""
TRACK = f"""
mutation($i: TrackEventInput!) {{
  trackEvent(input: $i) {{ total idempotentReplayed {CHANGES} }}
}}
"""
PAGE = """
query($k: String!, $run: Date, $o: Int! = 0, $l: Int! = 10, $a: String, $b: String) {
  leaderboard(key: $k, run: $run, offset: $o, limit: $l, aroundUserId: $a, breakdownValue: $b) {
    participants threshold breakdownValue run { start end status }
    rankings { rank value reachedAt user { id name } }
  }
}
"""
PLACE = """
query($u: String!, $k: String!, $run: Date) {
  user(id: $u) { leaderboard(key: $k, run: $run) {
    rank value previousRank previousValue breakdownValue endsAt run { start }
    history(days: 10) { date value rank previousValue previousRank }
  } }
}
"""
STATUS = """
mutation($k: String!, $s: LeaderboardStatus!) {
  setLeaderboardStatus(key: $k, status: $s) { key status }
}
"""
CREATE = """
mutation($i: CreateLeaderboardInput!) {
  createLeaderboard(input: $i) { key status rankBy tiePolicy start end runUnit runInterval
    timeZone maxParticipants breakdownAttribute metric { key } }
}
"""
NOW = datetime.now(UTC)


def days_ago(days: int) -> str:
    return (NOW - timedelta(days=days)).date().isoformat()


async def board(api: Api, key: str, *, live: bool = True, **fields: Any) -> dict[str, Any]:
    """A perpetual board on `lessons` read in UTC, started two days ago, live by default."""
    spec = {"key": key, "name": key, "rankBy": {"metricKey": "lessons"}, "timeZone": "UTC"}
    spec["start"] = days_ago(2)
    created = (await api.data(CREATE, {"i": {**spec, **fields}}))["createLeaderboard"]
    if live:
        await api.data(STATUS, {"k": key, "s": "ACTIVE"})
    return dict(created)


async def track(
    api: Api, user: str | dict[str, Any], value: float, at: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "metricKey": "lessons",
        "user": user if isinstance(user, dict) else {"id": user},
        "value": value,
        **extra,
    }
    if at is not None:
        event["occurredAt"] = at.isoformat()
    return dict((await api.data(TRACK, {"i": event}))["trackEvent"])


async def page(api: Api, key: str, **args: Any) -> dict[str, Any]:
    return dict((await api.data(PAGE, {"k": key, **args}))["leaderboard"])


def ranks(standings: dict[str, Any]) -> list[tuple[str, int, float]]:
    return [(r["user"]["id"], r["rank"], r["value"]) for r in standings["rankings"]]


async def test_each_tie_policy_ranks_equal_values_its_way(api: Api) -> None:
    await api.metric()
    for policy in ("SHARED", "DENSE", "FIRST_COME"):
        await board(api, policy.lower(), tiePolicy=policy)
    base = datetime.now(UTC) - timedelta(minutes=10)
    await track(api, "ann", 50, base)
    await track(api, "Zed", 40, base + timedelta(seconds=2))
    await track(api, "bob", 40, base + timedelta(seconds=2))
    await track(api, "cy", 40, base + timedelta(seconds=1))
    await track(api, "dan", 30, base)
    # value, then the earlier reachedAt, then user ids by their bytes ("Z" before "b")
    order = ["ann", "cy", "Zed", "bob", "dan"]
    expected = {"shared": [1, 2, 2, 2, 5], "dense": [1, 2, 2, 2, 3], "first_come": [1, 2, 3, 4, 5]}
    for key, wanted in expected.items():
        standings = await page(api, key)
        assert [(u, r) for u, r, _ in ranks(standings)] == list(zip(order, wanted, strict=True))
        assert standings["participants"] == 5 and standings["threshold"] is None
        # every page ranks as the whole list does
        tail = await page(api, key, o=3, l=2)
        assert [r for _, r, _ in ranks(tail)] == wanted[3:]


async def test_an_event_reports_its_move_and_a_replay_repeats_it(api: Api) -> None:
    await api.metric()
    await board(api, "weekly-xp")
    first = await track(api, "ann", 10)
    assert first["leaderboards"] == [
        {
            "leaderboard": {"key": "weekly-xp"},
            "run": {"start": days_ago(2)},
            "breakdownValue": None,
            "value": 10.0,
            "previousValue": None,
            "rank": 1,
            "previousRank": None,
            "threshold": None,
        }
    ]
    assert (await track(api, "bob", 20))["leaderboards"][0]["rank"] == 1
    moved = await track(api, "ann", 15, idempotencyKey="k1")
    change = moved["leaderboards"][0]
    assert (change["value"], change["previousValue"], change["rank"], change["previousRank"]) == (
        25.0,
        10.0,
        1,
        2,
    )
    replay = await track(api, "ann", 15, idempotencyKey="k1")
    assert replay["idempotentReplayed"] is True
    assert replay["leaderboards"] == moved["leaderboards"]
    assert ranks(await page(api, "weekly-xp")) == [("ann", 1, 25.0), ("bob", 2, 20.0)]
    place = (await api.data(PLACE, {"u": "ann", "k": "weekly-xp"}))["user"]["leaderboard"]
    assert (place["rank"], place["value"], place["previousRank"], place["previousValue"]) == (
        1,
        25.0,
        2,
        10.0,
    )
    today = datetime.now(UTC).date().isoformat()
    assert place["history"] == [
        {"date": today, "value": 25.0, "rank": 1, "previousValue": None, "previousRank": None}
    ]


async def test_the_cap_ranks_the_first_rows_and_a_newcomer_must_beat_the_last(api: Api) -> None:
    await api.metric()
    await board(api, "top2", maxParticipants=2)
    base = datetime.now(UTC) - timedelta(minutes=5)
    await track(api, "ann", 30, base)
    await track(api, "bob", 20, base)
    tied = (await track(api, "cy", 20, base + timedelta(seconds=1)))["leaderboards"][0]
    assert (tied["rank"], tied["threshold"]) == (None, 20.0)  # equal is not enough
    standings = await page(api, "top2")
    assert ranks(standings) == [("ann", 1, 30.0), ("bob", 2, 20.0)]
    assert (standings["participants"], standings["threshold"]) == (2, 20.0)
    entered = (await track(api, "cy", 1))["leaderboards"][0]
    assert (entered["rank"], entered["previousRank"], entered["threshold"]) == (2, None, 21.0)
    dropped = (await api.data(PLACE, {"u": "bob", "k": "top2"}))["user"]["leaderboard"]
    assert (dropped["rank"], dropped["value"]) == (None, 20.0)
    assert (await page(api, "top2", a="bob"))["rankings"] == []  # not ranked: an empty page


async def test_groups_rank_apart_and_a_user_moves_with_their_attribute(api: Api) -> None:
    await api.metric()
    await board(api, "teams", breakdownAttribute="team")
    red = {"id": "ann", "attributes": [{"key": "team", "value": "red"}]}
    await track(api, red, 5)
    await track(api, {"id": "bob", "attributes": [{"key": "team", "value": "blue"}]}, 9)
    lone = await track(api, "cy", 50)
    assert lone["leaderboards"] == []  # no team: neither ranked nor counted
    assert ranks(await page(api, "teams", b="red")) == [("ann", 1, 5.0)]
    assert (await page(api, "teams", b="blue"))["breakdownValue"] == "blue"
    assert await api.error_code(PAGE, {"k": "teams"}) == "BAD_USER_INPUT"
    await api.metric("other")
    await board(api, "plain", rankBy={"metricKey": "other"})
    assert await api.error_code(PAGE, {"k": "plain", "b": "red"}) == "BAD_USER_INPUT"
    await api.data(
        'mutation { identify(input: {id: "ann", attributes: [{key: "team", value: "blue"}]}) '
        "{ created } }"
    )
    assert ranks(await page(api, "teams", b="blue")) == [("bob", 1, 9.0), ("ann", 2, 5.0)]
    assert ranks(await page(api, "teams", b="red")) == []
    place = (await api.data(PLACE, {"u": "ann", "k": "teams"}))["user"]["leaderboard"]
    assert (place["breakdownValue"], place["rank"]) == ("blue", 2)


async def test_only_matching_users_take_part_from_the_moment_they_match(api: Api) -> None:
    await api.metric()
    await board(api, "pros", userAttributes=[{"key": "plan", "value": "pro"}])
    assert (await track(api, "ann", 5))["leaderboards"] == []
    pro = {"id": "ann", "attributes": [{"key": "plan", "value": "pro"}]}
    assert (await track(api, pro, 2))["leaderboards"][0]["value"] == 2.0
    assert ranks(await page(api, "pros")) == [("ann", 1, 2.0)]


async def test_pages_around_a_user_at_the_top_the_middle_and_the_bottom(api: Api) -> None:
    await api.metric()
    await board(api, "twenty", tiePolicy="FIRST_COME")
    await asyncio.gather(*(track(api, f"u{n:02}", n) for n in range(1, 21)))
    top = await page(api, "twenty", o=-5, l=11, a="u20")
    assert [r for _, r, _ in ranks(top)] == list(range(1, 12))
    middle = await page(api, "twenty", o=-5, l=11, a="u10")
    assert [r for _, r, _ in ranks(middle)] == list(range(6, 17))
    assert ranks(middle)[5] == ("u10", 11, 10.0)
    bottom = await page(api, "twenty", o=-5, l=11, a="u01")
    assert [r for _, r, _ in ranks(bottom)] == list(range(15, 21))
    assert (await page(api, "twenty", a="nobody"))["rankings"] == []
    assert [r for _, r, _ in ranks(await page(api, "twenty", o=18, l=5))] == [19, 20]
    for bad in ({"o": -1}, {"l": 0}, {"l": 101}):
        assert await api.error_code(PAGE, {"k": "twenty", **bad}) == "BAD_USER_INPUT"


async def test_concurrent_events_of_different_users_leave_a_valid_ranking(api: Api) -> None:
    await api.metric()
    await board(api, "rush")
    values = [(n * 7) % 11 for n in range(30)]
    await asyncio.gather(*(track(api, f"r{n:02}", v) for n, v in enumerate(values)))
    standings = await page(api, "rush", l=30)
    got = ranks(standings)
    assert sorted(v for _, _, v in got) == sorted(float(v) for v in values)
    assert [v for _, _, v in got] == sorted((float(v) for v in values), reverse=True)
    for _, rank, value in got:
        assert rank == 1 + sum(1 for v in values if v > value)
    assert standings["participants"] == 30


async def test_points_boards_count_awards_and_completions_report_them(api: Api) -> None:
    await api.metric()
    await api.data('mutation { createPointsSystem(input: {key: "xp", name: "XP"}) { id } }')
    await api.data(
        'mutation { createPointsTrigger(systemKey: "xp", input: {key: "per-lesson", points: 3, '
        'type: {metric: {metricKey: "lessons", metricThreshold: 1}}}) { __typename } }'
    )
    await api.data(
        'mutation { setPointsTriggerStatus(systemKey: "xp", key: "per-lesson", status: ACTIVE) '
        "{ __typename } }"
    )
    await board(api, "lessons-board")
    await board(api, "xp-board", rankBy={"pointsSystemKey": "xp"})
    moved = await track(api, "ann", 2)
    assert [(c["leaderboard"]["key"], c["value"]) for c in moved["leaderboards"]] == [
        ("lessons-board", 2.0),
        ("xp-board", 6.0),
    ]
    await api.achievement("welcome", {"api": True})
    await api.data(
        'mutation { createPointsTrigger(systemKey: "xp", input: {key: "welcomed", points: 10, '
        'type: {achievement: {achievementKey: "welcome"}}}) { __typename } }'
    )
    await api.data(
        'mutation { setPointsTriggerStatus(systemKey: "xp", key: "welcomed", status: ACTIVE) '
        "{ __typename } }"
    )
    done = await api.data(
        'mutation { completeAchievement(input: {achievementKey: "welcome", user: {id: "ann"}}) '
        f"{{ newlyCompleted {CHANGES} }} }}"
    )
    changes = done["completeAchievement"]["leaderboards"]
    assert [(c["leaderboard"]["key"], c["value"], c["previousValue"]) for c in changes] == [
        ("xp-board", 16.0, 6.0)
    ]


async def test_the_lifecycle_and_what_each_status_shows(api: Api) -> None:
    await api.metric()
    created = await board(api, "cycle", live=False)
    assert created["status"] == "INACTIVE" and created["rankBy"] == "METRIC"
    server = await api.server_key()
    assert (await api.data(PAGE, {"k": "cycle"}, key=server))["leaderboard"] is None
    assert (await page(api, "cycle"))["rankings"] == []  # an ADMIN key reads it
    assert (await track(api, "ann", 5))["leaderboards"] == []  # not counting
    assert await api.error_code(STATUS, {"k": "cycle", "s": "FINISHED"}) == "BAD_USER_INPUT"
    live = await api.data(STATUS, {"k": "cycle", "s": "SCHEDULED"})
    assert live["setLeaderboardStatus"]["status"] == "ACTIVE"  # its first run is open
    listed = await api.data("{ leaderboards { key } }", key=server)
    assert listed["leaderboards"] == [{"key": "cycle"}]
    update = 'mutation($i: UpdateLeaderboardInput!) { updateLeaderboard(key: "cycle", input: $i) { name tiePolicy } }'
    assert await api.error_code(update, {"i": {"tiePolicy": "DENSE"}}) == "BAD_USER_INPUT"
    renamed = await api.data(update, {"i": {"name": "Cycle"}})
    assert renamed["updateLeaderboard"]["name"] == "Cycle"
    finished = await api.data(STATUS, {"k": "cycle", "s": "FINISHED"})
    assert finished["setLeaderboardStatus"]["status"] == "FINISHED"
    assert (await track(api, "ann", 5))["leaderboards"] == []
    ended = (await api.data(PAGE, {"k": "cycle"}, key=server))["leaderboard"]
    assert ended["run"]["status"] == "FINISHED"
    assert await api.error_code(STATUS, {"k": "cycle", "s": "ACTIVE"}) == "BAD_USER_INPUT"
    assert (await api.data("{ leaderboards { key } }", key=server))["leaderboards"] == []
    await api.data(STATUS, {"k": "cycle", "s": "ARCHIVED"})
    assert (await api.data(PAGE, {"k": "cycle"}, key=server))["leaderboard"] is None
    archived = await api.data("{ leaderboards(status: [ARCHIVED]) { key status } }")
    assert archived["leaderboards"] == [{"key": "cycle", "status": "ARCHIVED"}]
    assert await api.error_code(STATUS, {"k": "cycle", "s": "INACTIVE"}) == "BAD_USER_INPUT"
    assert await api.error_code(update, {"i": {"name": "again"}}) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"rankBy": {"metricKey": "nope"}}, "NOT_FOUND"),
        ({"rankBy": {"pointsSystemKey": "nope"}}, "NOT_FOUND"),
        ({"rankBy": {"streak": True}}, "BAD_USER_INPUT"),  # no streak configured
        ({"rankBy": {"streak": False}}, "BAD_USER_INPUT"),
        ({"end": days_ago(3)}, "BAD_USER_INPUT"),
        ({"repeat": {"runUnit": "DAY", "runInterval": 0}}, "BAD_USER_INPUT"),
        ({"timeZone": "Mars/Olympus"}, "BAD_USER_INPUT"),
        ({"maxParticipants": 0}, "BAD_USER_INPUT"),
        ({"breakdownAttribute": "no spaces"}, "BAD_USER_INPUT"),
        ({"key": "bad key"}, "BAD_USER_INPUT"),
        ({"name": " "}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_boards_are_refused_and_store_nothing(
    api: Api, fields: dict[str, Any], code: str
) -> None:
    await api.metric()
    spec = {"key": "b", "name": "b", "rankBy": {"metricKey": "lessons"}, "start": days_ago(1)}
    assert await api.error_code(CREATE, {"i": {**spec, **fields}}) == code
    assert (await api.data("{ leaderboards(status: [INACTIVE]) { key } }"))["leaderboards"] == []


async def test_a_duplicate_key_and_a_repeating_streak_board_are_refused(api: Api) -> None:
    await api.metric()
    await board(api, "once", live=False)
    spec = {"key": "once", "name": "x", "rankBy": {"metricKey": "lessons"}}
    assert await api.error_code(CREATE, {"i": spec}) == "BAD_USER_INPUT"
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) { frequency } }'
    )
    streak = {"key": "s", "name": "s", "rankBy": {"streak": True}}
    repeating = {**streak, "repeat": {"runUnit": "WEEK"}}
    assert await api.error_code(CREATE, {"i": repeating}) == "BAD_USER_INPUT"
    made = await api.data(CREATE, {"i": streak})
    assert made["createLeaderboard"]["rankBy"] == "STREAK"
