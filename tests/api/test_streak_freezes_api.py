"""Streak freezes through GraphQL, on both backends: gaps covered with `occurredAt` in the past,
late events returning freezes, the cap, grants by API and by the clock, and the webhooks the
streak clock sends (the in-process app's clock is moved forward for those)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Api, TestClock

CONFIGURE = """
mutation($i: ConfigureStreakInput!) {
  configureStreak(input: $i) {
    frequency freezes { startCount maxCount autoEarnInterval autoEarnAmount }
  }
}
"""
STREAK = """
query($id: String!, $n: Int!) {
  user(id: $id) {
    streak { length freezes expires history(periods: $n) { periodStart length usedFreeze } }
  }
}
"""
GRANT = """
mutation($u: String!, $c: Int!) { grantStreakFreezes(userId: $u, count: $c) { length freezes } }
"""
ENDPOINT = """
mutation($u: String!) {
  createWebhookEndpoint(input: {url: $u, eventTypes: [STREAK_FREEZE_EARNED, STREAK_FREEZE_CONSUMED,
    STREAK_LOST]}) { endpoint { id } }
}
"""


TRACK = """
mutation($i: TrackEventInput!) {
  trackEvent(input: $i) { streakExtended currentStreak { length freezes } }
}
"""


async def track(
    api: Api, user: str, at: datetime | None = None, *, metric: str = "lessons"
) -> dict[str, Any]:
    event: dict[str, Any] = {"metricKey": metric, "user": {"id": user}, "value": 1}
    if at is not None:
        event["occurredAt"] = at.isoformat()
    data = await api.data(TRACK, {"i": event})
    return dict(data["trackEvent"])


def days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def configure(api: Api, **freezes: Any) -> dict[str, Any]:
    await api.metric()
    data = await api.data(
        CONFIGURE,
        {"i": {"frequency": "DAILY", "metricKeys": ["lessons"], "freezes": freezes or None}},
    )
    return dict(data["configureStreak"])


async def streak(api: Api, user: str, periods: int = 5) -> dict[str, Any]:
    data = await api.data(STREAK, {"id": user, "n": periods})
    return dict(data["user"]["streak"])


def history(view: dict[str, Any]) -> list[tuple[int, bool]]:
    return [(p["length"], p["usedFreeze"]) for p in view["history"]]


async def test_settings_round_trip_and_bad_settings_change_nothing(api: Api) -> None:
    settings = await configure(api, startCount=1, maxCount=3, autoEarnInterval=7, autoEarnAmount=2)
    assert settings["freezes"] == {
        "startCount": 1,
        "maxCount": 3,
        "autoEarnInterval": 7,
        "autoEarnAmount": 2,
    }
    for bad in (
        {"maxCount": 0},
        {"maxCount": 101},
        {"startCount": 4, "maxCount": 3},
        {"maxCount": 3, "autoEarnInterval": 7},
        {"maxCount": 3, "autoEarnInterval": 366, "autoEarnAmount": 1},
        {"maxCount": 3, "autoEarnInterval": 7, "autoEarnAmount": 4},
    ):
        code = await api.error_code(
            CONFIGURE, {"i": {"frequency": "WEEKLY", "metricKeys": ["lessons"], "freezes": bad}}
        )
        assert code == "BAD_USER_INPUT", bad
    data = await api.data("{ streakSettings { frequency freezes { maxCount } } }")
    assert data["streakSettings"] == {"frequency": "DAILY", "freezes": {"maxCount": 3}}


async def test_freezes_are_null_while_off(api: Api) -> None:
    await configure(api)
    await track(api, "u")
    assert (await streak(api, "u"))["freezes"] is None
    assert await api.error_code(GRANT, {"u": "u", "c": 1}) == "BAD_USER_INPUT"


async def test_a_gap_covered_by_a_freeze(api: Api) -> None:
    await configure(api, startCount=1, maxCount=2)
    await track(api, "u", days_ago(2))
    payload = await track(api, "u")
    assert payload["streakExtended"] is True
    assert (payload["currentStreak"]["length"], payload["currentStreak"]["freezes"]) == (2, 0)
    view = await streak(api, "u", 4)
    assert history(view) == [(2, False), (1, True), (1, False), (0, False)]


async def test_two_gaps_and_one_freeze(api: Api) -> None:
    await configure(api, startCount=1, maxCount=2)
    for days in (4, 2, 0):
        await track(api, "u", days_ago(days))
    view = await streak(api, "u", 5)
    assert (view["length"], view["freezes"]) == (1, 0)
    assert history(view) == [(1, False), (0, False), (2, False), (1, True), (1, False)]


async def test_a_late_event_returns_the_freeze(api: Api) -> None:
    await configure(api, startCount=1, maxCount=2)
    await track(api, "u", days_ago(2))
    await track(api, "u")
    late = await track(api, "u", days_ago(1))
    assert late["streakExtended"] is True
    assert (late["currentStreak"]["length"], late["currentStreak"]["freezes"]) == (3, 1)
    assert history(await streak(api, "u", 3)) == [(3, False), (2, False), (1, False)]


async def test_grants_by_api_stop_at_the_cap(api: Api, receiver: Any) -> None:
    await configure(api, startCount=1, maxCount=3)
    await api.data(ENDPOINT, {"u": receiver.url})
    await track(api, "u")
    granted = await api.data(GRANT, {"u": "u", "c": 5})
    assert granted["grantStreakFreezes"] == {"length": 1, "freezes": 3}
    again = await api.data(GRANT, {"u": "u", "c": 1})
    assert again["grantStreakFreezes"]["freezes"] == 3
    earned = [r.json["data"] for r in await receiver.wait_for(2, "streak.freeze_earned")]
    # The user's START freezes when the event created them, then what the cap left of 5.
    assert [(e["earned"], e["freezes"], e["source"]) for e in earned] == [
        (1, 1, "START"),
        (2, 3, "GRANT"),
    ]
    assert earned[1]["user"]["id"] == "u"
    for variables, code in (
        ({"u": "nobody", "c": 1}, "NOT_FOUND"),
        ({"u": "u", "c": 0}, "BAD_USER_INPUT"),
        ({"u": "u", "c": 101}, "BAD_USER_INPUT"),
    ):
        assert await api.error_code(GRANT, variables) == code
    server = Api(api.client, await api.server_key(), api.tenant_id)
    assert (await server.data(GRANT, {"u": "u", "c": 1}))["grantStreakFreezes"]["freezes"] == 3


async def test_automatic_grants_and_the_clocks_webhooks(
    api: Api, receiver: Any, clock: TestClock
) -> None:
    with clock.at_midday():
        await configure(api, startCount=1, maxCount=3, autoEarnInterval=2, autoEarnAmount=1)
        await api.data(ENDPOINT, {"u": receiver.url})
        await track(api, "u")
        with clock.moved(timedelta(days=5, hours=1)):
            # Day 1 takes the START freeze, days 2 and 3 the ones granted at 00:00 on days 2 and 4
            # (a grant counts before that moment's consumption); day 4 has none left.
            view = await streak(api, "u", 6)
            assert (view["length"], view["freezes"]) == (0, 0)
            assert history(view) == [
                (0, False),
                (0, False),
                (1, True),
                (1, True),
                (1, True),
                (1, False),
            ]
            lost = (await receiver.wait_for(1, "streak.lost"))[0].json["data"]
            consumed = (await receiver.wait_for(1, "streak.freeze_consumed"))[0].json["data"]
            arrived = await receiver.wait_for(2, "streak.freeze_earned", distinct=True)
            earned = [r.json["data"] for r in arrived]
    assert lost["length"] == 1
    assert (consumed["consumed"], consumed["freezes"], consumed["streak"]["length"]) == (3, 0, 0)
    assert (earned[0]["source"], earned[1]["source"], earned[1]["earned"]) == (
        "START",
        "AUTO_EARN",
        2,
    )
    assert len({r.webhook_id for r in receiver.of_type("streak.lost")}) == 1  # announced once


async def test_a_metric_added_later_counts_its_past_days(api: Api) -> None:
    await api.metric("lessons")
    await api.metric("quizzes")
    await api.data(CONFIGURE, {"i": {"frequency": "DAILY", "metricKeys": ["lessons"]}})
    await track(api, "u", days_ago(2), metric="quizzes")
    await track(api, "u", days_ago(1), metric="quizzes")
    assert (await streak(api, "u"))["length"] == 0
    await api.data(CONFIGURE, {"i": {"frequency": "DAILY", "metricKeys": ["lessons", "quizzes"]}})
    assert (await streak(api, "u"))["length"] == 2
    assert (await track(api, "u"))["currentStreak"]["length"] == 3


async def test_attribute_changes_see_the_length_under_a_new_frequency(api: Api) -> None:
    await api.metric()
    await api.data(CONFIGURE, {"i": {"frequency": "MONTHLY", "metricKeys": ["lessons"]}})
    await api.achievement(
        "three-days",
        {"streak": {"length": 3}},
        userAttributes=[{"key": "plan", "value": "pro"}],
    )
    for days in (2, 1, 0):
        await track(api, "u", days_ago(days))
    await api.data(CONFIGURE, {"i": {"frequency": "DAILY", "metricKeys": ["lessons"]}})
    data = await api.data(
        'mutation { identifyUser(input: {id: "u", attributes: [{key: "plan", value: "pro"}]}) '
        "{ id } }"
    )
    assert data["identifyUser"]["id"] == "u"
    done = await api.data(
        '{ user(id: "u") { achievements { achievement { ... on StreakAchievement { key } } } } }'
    )
    assert [a["achievement"]["key"] for a in done["user"]["achievements"]] == ["three-days"]
