"""Progress, order, completions and rarity (docs/concepts.md): progress per trigger kind, the order of a user's list, completions, rarity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api, TestClock, eventually

PROGRESS = """query($id: String!) { user(id: $id) { achievements(includeIncomplete: true) {
  achievedAt progress { current target percent } achievement { ... on Achievement { key } } } } }"""
STATS = "{ achievements { ... on Achievement { key completions rarity } } }"
COMPLETE = """mutation($k: String!, $u: String!) {
  completeAchievement(input: {achievementKey: $k, user: {id: $u}}) { newlyCompleted } }"""


async def progress(api: Api, user: str, **who: Any) -> dict[str, tuple[float, float, float, bool]]:
    data = await api.data(PROGRESS, {"id": user}, **who)
    rows = data["user"]["achievements"]
    return {
        r["achievement"]["key"]: (
            r["progress"]["current"],
            r["progress"]["target"],
            r["progress"]["percent"],
            r["achievedAt"] is not None,
        )
        for r in rows
    }


async def order(api: Api, user: str) -> list[str]:
    data = await api.data(PROGRESS, {"id": user})
    return [r["achievement"]["key"] for r in data["user"]["achievements"]]


async def track(api: Api, user: str, value: float, **extra: Any) -> dict[str, Any]:
    body = await api.track(user, value, **extra)
    assert "errors" not in body, body
    return dict(body["data"]["trackEvent"])


async def stats(api: Api) -> dict[str, tuple[int, float]]:
    data = await api.data(STATS)
    return {a["key"]: (a["completions"], a["rarity"]) for a in data["achievements"]}


async def complete(api: Api, key: str, user: str) -> bool:
    data = await api.data(COMPLETE, {"k": key, "u": user})
    return bool(data["completeAchievement"]["newlyCompleted"])


async def test_metric_progress_is_capped_total_then_full_once_completed(api: Api) -> None:
    await api.metric()
    await api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}})
    await track(api, "u1", 3)
    assert (await progress(api, "u1"))["ten"] == (3, 10, 30, False)
    await track(api, "u1", 2.5)
    assert (await progress(api, "u1"))["ten"] == (5.5, 10, pytest.approx(55), False)
    await track(api, "u1", 20)
    assert (await progress(api, "u1"))["ten"] == (10, 10, 100, True)
    await track(api, "u1", -100)
    assert (await progress(api, "u1"))["ten"] == (10, 10, 100, True), "completed stays completed"
    total = await api.data('{ user(id: "u1") { metricTotal(metricKey: "lessons") } }')
    assert total["user"]["metricTotal"] == pytest.approx(-74.5)


async def test_negative_total_shows_zero_progress(api: Api) -> None:
    await api.metric()
    await api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}})
    await track(api, "u1", -4)
    assert (await progress(api, "u1"))["ten"] == (0, 10, 0, False)


async def test_event_attribute_filter_counts_only_matching_events(api: Api) -> None:
    await api.metric()
    quiz = {"key": "kind", "value": "quiz"}
    await api.achievement(
        "quizzes", {"metric": {"metricKey": "lessons", "value": 5, "eventAttribute": quiz}}
    )
    await api.achievement("any", {"metric": {"metricKey": "lessons", "value": 100}})
    await track(api, "u1", 2, attributes=[quiz])
    await track(api, "u1", 10, attributes=[{"key": "kind", "value": "video"}])
    await track(api, "u1", 1)
    await track(api, "u1", 4, attributes=[{"key": "other", "value": "quiz"}])
    seen = await progress(api, "u1")
    assert seen["quizzes"] == (2, 5, 40, False)
    assert seen["any"] == (17, 100, 17, False)
    total = await api.data('{ user(id: "u1") { metricTotal(metricKey: "lessons") } }')
    assert total["user"]["metricTotal"] == 17
    done = await track(api, "u1", 3, attributes=[quiz, {"key": "x", "value": "y"}])
    assert [a["achievement"]["key"] for a in done["achievements"]] == ["quizzes"]
    assert (await progress(api, "u1"))["quizzes"] == (5, 5, 100, True)


async def test_api_progress_is_zero_or_one(api: Api) -> None:
    await api.achievement("manual", {"api": True})
    await api.data('mutation { identifyUser(input: {id: "u1"}) { id } }')
    assert (await progress(api, "u1"))["manual"] == (0, 1, 0, False)
    assert await complete(api, "manual", "u1") is True
    assert (await progress(api, "u1"))["manual"] == (1, 1, 100, True)
    assert await complete(api, "manual", "u1") is False


async def test_composite_progress_counts_completed_prerequisites(api: Api) -> None:
    for key in ("a", "b", "c"):
        await api.achievement(key, {"api": True})
    await api.achievement("abc", {"composite": {"prerequisiteKeys": ["a", "b", "c"]}})
    await api.data('mutation { identifyUser(input: {id: "u1"}) { id } }')
    assert (await progress(api, "u1"))["abc"] == (0, 3, 0, False)
    await complete(api, "b", "u1")
    current, target, percent, done = (await progress(api, "u1"))["abc"]
    assert (current, target, done) == (1, 3, False) and percent == pytest.approx(100 / 3)
    await complete(api, "a", "u1")
    await complete(api, "c", "u1")
    assert (await progress(api, "u1"))["abc"] == (3, 3, 100, True)


async def test_streak_progress_is_the_current_length(api: Api) -> None:
    await api.metric()
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    await api.achievement("three", {"streak": {"length": 3}})
    await track(api, "u1", 1)
    assert (await progress(api, "u1"))["three"] == (1, 3, pytest.approx(100 / 3), False)


async def test_order_is_completed_oldest_first_then_incomplete_in_creation_order(
    api: Api, clock: TestClock
) -> None:
    for key in ("a1", "a2", "a3", "a4", "a5"):
        await api.achievement(key, {"api": True})
    await api.data('mutation { identifyUser(input: {id: "u1"}) { id } }')
    assert await order(api, "u1") == ["a1", "a2", "a3", "a4", "a5"]
    with clock.moved(timedelta(seconds=-1)):
        await complete(api, "a4", "u1")
    await complete(api, "a2", "u1")
    assert await order(api, "u1") == ["a4", "a2", "a1", "a3", "a5"]
    completed_only = await api.data(
        '{ user(id: "u1") { achievements { achievement { ... on Achievement { key } } } } }'
    )
    keys = [r["achievement"]["key"] for r in completed_only["user"]["achievements"]]
    assert keys == ["a4", "a2"]


async def test_incomplete_list_leaves_out_what_the_user_cannot_complete(api: Api) -> None:
    await api.achievement("pro", {"api": True}, userAttributes=[{"key": "plan", "value": "pro"}])
    await api.achievement("all", {"api": True})
    await api.data('mutation { identifyUser(input: {id: "u1"}) { id } }')
    assert await order(api, "u1") == ["all"]
    await api.data(
        'mutation { identifyUser(input: {id: "u1", attributes: [{key: "plan", value: "pro"}]}) '
        "{ id } }"
    )
    assert await order(api, "u1") == ["pro", "all"]


async def test_metric_total_of_an_unknown_metric_is_not_found(api: Api) -> None:
    await api.metric()
    await track(api, "u1", 1)
    query = '{ user(id: "u1") { metricTotal(metricKey: "nope") } }'
    assert await api.error_code(query) == "NOT_FOUND"
    assert (await api.data('{ user(id: "u1") { metricTotal(metricKey: "lessons") } }')) == {
        "user": {"metricTotal": 1}
    }


async def test_completions_and_rarity_over_several_users(api: Api) -> None:
    await api.metric()
    await api.achievement("one", {"metric": {"metricKey": "lessons", "value": 1}})
    await api.achievement("five", {"metric": {"metricKey": "lessons", "value": 5}})
    await api.achievement("manual", {"api": True})
    await api.achievement("both", {"composite": {"prerequisiteKeys": ["five", "manual"]}})
    assert await stats(api) == {
        "one": (0, 0),
        "five": (0, 0),
        "manual": (0, 0),
        "both": (0, 0),
    }
    for user, value in (("u1", 6), ("u2", 1), ("u3", 2), ("u4", 0)):
        await track(api, user, value)
    await complete(api, "manual", "u1")
    await complete(api, "manual", "u2")
    await complete(api, "manual", "u1")  # a repeat awards nothing
    await track(api, "u1", 10)  # past thresholds already reached: nothing new
    assert await stats(api) == {
        "one": (3, 75.0),
        "five": (1, 25.0),
        "manual": (2, 50.0),
        "both": (1, 25.0),
    }
    await api.data('mutation { identifyUser(input: {id: "u5"}) { id } }')
    await api.data('mutation { identifyUser(input: {id: "u5", name: "again"}) { id } }')
    assert await stats(api) == {
        "one": (3, 60.0),
        "five": (1, 20.0),
        "manual": (2, 40.0),
        "both": (1, 20.0),
    }
    single = await api.data(
        '{ achievement(key: "one") { ... on Achievement { completions rarity } } }'
    )
    assert single == {"achievement": {"completions": 3, "rarity": 60.0}}


async def test_idempotent_replay_counts_once(api: Api) -> None:
    await api.metric()
    await api.achievement("one", {"metric": {"metricKey": "lessons", "value": 1}})
    for _ in range(3):
        await track(api, "u1", 1, idempotencyKey="same")
    assert await stats(api) == {"one": (1, 100.0)}


async def test_backdated_completions_are_counted(api: Api) -> None:
    await api.metric()
    await api.achievement("late", {"metric": {"metricKey": "lessons", "value": 2}}, active=False)
    for user, value in (("u1", 5), ("u2", 1), ("u3", 2), ("u4", 3)):
        await track(api, user, value)
    assert await stats(api) == {"late": (0, 0.0)}
    await api.activate("late")

    async def counted() -> bool:
        return await stats(api) == {"late": (3, 75.0)}

    await eventually(counted, what="backdating")
    assert (await progress(api, "u3"))["late"] == (2, 2, 100, True)
    assert (await progress(api, "u2"))["late"] == (1, 2, 50, False)


async def test_completions_are_counted_per_day(api: Api, clock: TestClock) -> None:
    await api.achievement("feedback", {"api": True})
    complete = (
        'mutation($u: String!) { completeAchievement(input: {achievementKey: "feedback", '
        "user: {id: $u}}) { newlyCompleted } }"
    )
    with clock.moved(timedelta(days=-3)):
        await api.data(complete, {"u": "early"})
    for user in ("a", "b"):
        await api.data(complete, {"u": user})
    chart = await api.data(
        '{ achievement(key: "feedback") { ... on Achievement { completionsByDay(days: 7) '
        "{ day completions } } } }"
    )
    series = chart["achievement"]["completionsByDay"]
    today = datetime.now(UTC).date()
    assert [s["day"] for s in series] == [str(today - timedelta(days=n)) for n in range(6, -1, -1)]
    assert [s["completions"] for s in series] == [0, 0, 0, 1, 0, 0, 2]
    for days in (0, 367):
        code = await api.error_code(
            'query($d: Int!) { achievement(key: "feedback") { ... on Achievement { '
            "completionsByDay(days: $d) { day } } } }",
            {"d": days},
        )
        assert code == "BAD_USER_INPUT"
