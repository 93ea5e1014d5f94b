"""Points through the public API: systems, triggers, boosts, caps, levels and what operations
report, on whichever backend the session uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import Api, TestClock, eventually
from test_leaderboards import board, page
from tortoise import Tortoise

POINTS = """
points { added total levelChanged level { key } previousLevel { key }
  system { key }
  awards { id awarded total awardedAt multiplier
    trigger { ... on MetricPointsTrigger { key } ... on AchievementPointsTrigger { key }
              ... on UserCreationPointsTrigger { key } ... on StreakPointsTrigger { key } }
    boosts { key } } }
"""
TRACK = f"""
mutation($i: TrackEventInput!) {{
  trackEvent(input: $i) {{ total idempotentReplayed {POINTS} }}
}}
"""
USER_POINTS = """
query($u: String!, $s: String!) {
  user(id: $u) { points(systemKey: $s) {
    total level { key } nextLevel { key } boosts { key }
    awards(limit: 100) { id awarded total trigger { ... on MetricPointsTrigger { key }
      ... on AchievementPointsTrigger { key } ... on UserCreationPointsTrigger { key } } }
  } }
}
"""


async def system(api: Api, key: str = "xp", **extra: Any) -> None:
    await api.data(
        "mutation($i: CreatePointsSystemInput!) { createPointsSystem(input: $i) { id } }",
        {"i": {"key": key, "name": key.upper(), **extra}},
    )


async def trigger(
    api: Api,
    key: str,
    points: int,
    kind: dict[str, Any],
    *,
    system_key: str = "xp",
    active: bool = True,
    **extra: Any,
) -> Any:
    body = await api.gql(
        "mutation($s: String!, $i: CreatePointsTriggerInput!) {"
        " createPointsTrigger(systemKey: $s, input: $i) { __typename ... on PointsTrigger"
        " { key status } } }",
        {"s": system_key, "i": {"key": key, "points": points, "type": kind, **extra}},
    )
    if active and "errors" not in body:
        await set_status(api, key, "ACTIVE", system_key=system_key)
    return body


async def set_status(api: Api, key: str, status: str, *, system_key: str = "xp") -> Any:
    return await api.gql(
        "mutation($s: String!, $k: String!, $t: PointsTriggerStatus!) {"
        " setPointsTriggerStatus(systemKey: $s, key: $k, status: $t)"
        " { ... on PointsTrigger { status } } }",
        {"s": system_key, "k": key, "t": status},
    )


async def track(api: Api, user: str, value: float, **extra: Any) -> Any:
    body = await api.gql(
        TRACK, {"i": {"metricKey": "lessons", "user": {"id": user}, "value": value, **extra}}
    )
    assert "errors" not in body, body
    return body["data"]["trackEvent"]


async def standing(api: Api, user: str, system_key: str = "xp") -> Any:
    return (await api.data(USER_POINTS, {"u": user, "s": system_key}))["user"]["points"]


def awarded(payload: Any) -> list[int]:
    return [a["awarded"] for change in payload["points"] for a in change["awards"]]


async def test_metric_steps_award_once_each_with_a_high_water_mark(api: Api) -> None:
    await api.metric()
    await system(api)
    await trigger(api, "per-3", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 3}})
    payloads = [await track(api, "ada", v) for v in (4, 4, -6, 7)]
    assert [p["total"] for p in payloads] == [4, 8, 2, 9]
    assert [awarded(p) for p in payloads] == [[10], [10], [], [10]]
    assert payloads[2]["points"] == []
    first = payloads[0]["points"][0]
    assert first["system"]["key"] == "xp" and first["added"] == 10 and first["total"] == 10
    assert first["awards"][0]["trigger"]["key"] == "per-3"
    assert first["awards"][0]["multiplier"] == 1 and first["awards"][0]["boosts"] == []
    held = await standing(api, "ada")
    assert held["total"] == 30
    assert [a["total"] for a in held["awards"]] == [30, 20, 10]  # newest first
    assert sum(a["awarded"] for a in held["awards"]) == held["total"]


async def test_one_event_crossing_several_steps_gives_one_award(api: Api) -> None:
    await api.metric()
    await system(api)
    await trigger(api, "per-2", 5, {"metric": {"metricKey": "lessons", "metricThreshold": 2}})
    payload = await track(api, "ada", 7)
    assert awarded(payload) == [15]


async def test_activating_a_trigger_never_awards_the_past(api: Api) -> None:
    await api.metric()
    await system(api)
    await track(api, "ada", 10)
    await trigger(api, "per-3", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 3}})
    assert awarded(await track(api, "ada", 1)) == []  # 11: steps 1-3 were behind her
    assert awarded(await track(api, "ada", 1)) == [10]  # 12: step 4
    await set_status(api, "per-3", "INACTIVE")
    assert awarded(await track(api, "ada", 6)) == []  # 18, while inactive
    await set_status(api, "per-3", "ACTIVE")
    assert awarded(await track(api, "ada", 1)) == []  # 19: steps 5 and 6 passed while off
    assert awarded(await track(api, "ada", 2)) == [10]  # 21: step 7


async def test_event_attribute_triggers_follow_the_matching_events_alone(api: Api) -> None:
    await api.metric()
    await system(api)
    kind = {
        "metric": {
            "metricKey": "lessons",
            "metricThreshold": 2,
            "eventAttribute": {"key": "lang", "value": "fr"},
        }
    }
    await trigger(api, "french", 1, kind)
    french = [{"key": "lang", "value": "fr"}]
    assert awarded(await track(api, "ada", 5)) == []
    assert awarded(await track(api, "ada", 1, attributes=french)) == []
    assert awarded(await track(api, "ada", 1, attributes=french)) == [1]


async def test_user_attributes_gate_a_trigger_and_spend_its_step(api: Api) -> None:
    await api.metric()
    await system(api)
    await trigger(
        api,
        "pro-only",
        10,
        {"metric": {"metricKey": "lessons", "metricThreshold": 1}},
        userAttributes=[{"key": "plan", "value": "pro"}],
    )
    assert awarded(await track(api, "ada", 1)) == []
    pro = {"id": "ada", "attributes": [{"key": "plan", "value": "pro"}]}
    body = await api.gql(TRACK, {"i": {"metricKey": "lessons", "user": pro, "value": 1}})
    assert awarded(body["data"]["trackEvent"]) == [10]  # step 2 only: step 1 was spent


async def test_achievement_triggers_fire_once_whatever_completes(api: Api) -> None:
    await api.metric()
    await system(api)
    await api.achievement("badge", {"api": True})
    await api.achievement("five", {"metric": {"metricKey": "lessons", "value": 5}})
    await trigger(api, "on-badge", 50, {"achievement": {"achievementKey": "badge"}})
    await trigger(api, "on-five", 20, {"achievement": {"achievementKey": "five"}})
    complete = (
        'mutation { completeAchievement(input: {achievementKey: "badge", user: {id: "ada"}})'
        " { newlyCompleted points { added total } } }"
    )
    first = (await api.data(complete))["completeAchievement"]
    again = (await api.data(complete))["completeAchievement"]
    assert first == {"newlyCompleted": True, "points": [{"added": 50, "total": 50}]}
    assert again == {"newlyCompleted": False, "points": []}
    payload = await track(api, "ada", 5)
    assert awarded(payload) == [20] and payload["points"][0]["total"] == 70
    assert (await standing(api, "ada"))["total"] == 70


async def test_identify_reports_creation_awards_and_identify_user_keeps_them(api: Api) -> None:
    await system(api)
    await trigger(api, "signup", 100, {"userCreation": True})
    identify = (
        "mutation($u: UserInput!) { identify(input: $u) { created user { id } "
        "points { added total awards { trigger { ... on UserCreationPointsTrigger { key } } } }"
        " } }"
    )
    first = (await api.data(identify, {"u": {"id": "ada"}}))["identify"]
    assert first["created"] is True
    assert first["points"] == [
        {"added": 100, "total": 100, "awards": [{"trigger": {"key": "signup"}}]}
    ]
    again = (await api.data(identify, {"u": {"id": "ada", "name": "Ada"}}))["identify"]
    assert again["created"] is False and again["points"] == []
    await api.data('mutation { identifyUser(input: {id: "bob"}) { id } }')
    assert (await standing(api, "bob"))["total"] == 100


async def test_boosts_multiply_positive_awards_exactly_and_never_deductions(
    api: Api, clock: TestClock
) -> None:
    await api.metric()
    await system(api)
    await trigger(api, "per-1", 7, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    today = clock().date().isoformat()
    for key, multiplier in (("double", 1.1), ("weekend", 1.2)):
        await api.data(
            'mutation($i: CreatePointsBoostInput!) { createPointsBoost(systemKey: "xp",'
            " input: $i) { status } }",
            {"i": {"key": key, "name": key, "multiplier": multiplier, "start": today}},
        )
    payload = await track(api, "ada", 1)
    award = payload["points"][0]["awards"][0]
    assert award["awarded"] == 9  # 7 x 1.32 = 9.24, DOWN
    assert award["multiplier"] == 1.32
    assert sorted(b["key"] for b in award["boosts"]) == ["double", "weekend"]
    yesterday = (clock() - timedelta(days=2)).isoformat()
    backdated = await track(api, "ada", 1, occurredAt=yesterday)
    assert awarded(backdated) == [7]  # the event's own day had no boost
    held = await standing(api, "ada")
    assert sorted(b["key"] for b in held["boosts"]) == ["double", "weekend"]


async def test_the_cap_and_the_floor_are_recorded_on_the_award(api: Api) -> None:
    await api.metric()
    await api.metric("refunds")
    await system(api, maxPoints=25)
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    await trigger(api, "refund", -40, {"metric": {"metricKey": "refunds", "metricThreshold": 1}})
    assert [awarded(await track(api, "ada", 1)) for _ in range(4)] == [[10], [10], [5], [0]]
    body = await api.gql(TRACK, {"i": {"metricKey": "refunds", "user": {"id": "ada"}, "value": 1}})
    change = body["data"]["trackEvent"]["points"][0]
    assert change["added"] == -25 and change["total"] == 0
    held = await standing(api, "ada")
    assert held["total"] == 0 == sum(a["awarded"] for a in held["awards"])


async def earn_and_spend(api: Api, *, earn: int, cost: int) -> None:
    """An "energy" system: `earn` per lesson, `cost` per "spend" event, blocked when short."""
    await api.metric()
    await api.metric("spend")
    await system(api, key="energy")
    earning = {"metric": {"metricKey": "lessons", "metricThreshold": 1}}
    await trigger(api, "earn", earn, earning, system_key="energy")
    spending = {"metric": {"metricKey": "spend", "metricThreshold": 1, "blockIfOutOfPoints": True}}
    await trigger(api, "cost", cost, spending, system_key="energy")


async def test_an_out_of_points_deduction_refuses_the_event_and_stores_nothing(api: Api) -> None:
    await earn_and_spend(api, earn=5, cost=-8)
    await track(api, "ada", 1)
    spend = {"metricKey": "spend", "user": {"id": "ada"}, "value": 1, "idempotencyKey": "k1"}
    body = await api.gql(TRACK, {"i": spend})
    error = body["errors"][0]["extensions"]
    assert error["code"] == "CONFLICT"
    assert error["reason"] == "INSUFFICIENT_POINTS" and error["pointsSystemKey"] == "energy"
    total = '{ user(id: "ada") { metricTotal(metricKey: "spend") } }'
    assert (await api.data(total))["user"]["metricTotal"] == 0
    await track(api, "ada", 1)
    retried = await api.gql(TRACK, {"i": spend})  # the key was not stored: a first request
    assert retried["data"]["trackEvent"]["idempotentReplayed"] is False
    assert retried["data"]["trackEvent"]["points"][0]["total"] == 2


async def test_levels_follow_the_total_and_summaries_count_users(api: Api) -> None:
    await api.metric()
    await system(api)
    for key, points in (("bronze", 0), ("silver", 20), ("gold", 50)):
        await api.data(
            'mutation($i: CreatePointsLevelInput!) { createPointsLevel(systemKey: "xp",'
            " input: $i) { key } }",
            {"i": {"key": key, "name": key, "points": points}},
        )
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    first = (await track(api, "ada", 1))["points"][0]
    assert (first["levelChanged"], first["level"], first["previousLevel"]) == (False, None, None)
    second = (await track(api, "ada", 1))["points"][0]
    assert second["levelChanged"] is True
    assert (second["level"], second["previousLevel"]) == ({"key": "silver"}, {"key": "bronze"})
    await track(api, "bob", 6)
    await api.data('mutation { identifyUser(input: {id: "cy"}) { id } }')
    summary = await api.data(
        '{ pointsSystem(key: "xp") { levelSummary { level { key } users }'
        " histogram { from to users } } }"
    )
    counts = {c["level"]["key"]: c["users"] for c in summary["pointsSystem"]["levelSummary"]}
    assert counts == {"bronze": 1, "silver": 1, "gold": 1}
    bars = summary["pointsSystem"]["histogram"]
    assert bars[0] == {"from": 0, "to": 0, "users": 1}
    assert bars[1] == {"from": 1, "to": 10, "users": 0} and bars[2]["users"] == 1
    assert bars[6] == {"from": 51, "to": 60, "users": 1}
    held = await standing(api, "ada")
    assert (held["level"], held["nextLevel"]) == ({"key": "silver"}, {"key": "gold"})


async def test_a_replay_returns_the_first_awards_and_awards_nothing(api: Api) -> None:
    await api.metric()
    await system(api)
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    first = await track(api, "ada", 2, idempotencyKey="once")
    again = await track(api, "ada", 2, idempotencyKey="once")
    assert again["idempotentReplayed"] is True
    assert again["points"] == first["points"]
    assert (await standing(api, "ada"))["total"] == 20


async def test_bad_configuration_is_refused_with_a_code(api: Api) -> None:
    await api.metric()
    await system(api)
    metric = {"metric": {"metricKey": "lessons", "metricThreshold": 1}}
    refused = [
        await trigger(api, "zero", 0, metric),
        await trigger(api, "huge", 1_000_001, metric),
        await trigger(api, "t", 1, {"metric": {"metricKey": "lessons", "metricThreshold": 0}}),
        await trigger(api, "t", 1, {"metric": {"metricKey": "nope", "metricThreshold": 1}}),
        await trigger(api, "t", 1, {"time": {"timeUnit": "DAY", "timeInterval": 1}}),
        await trigger(api, "t", 1, {"streak": {"streakLength": 3}}),
        await trigger(api, "t", 1, {"achievement": {"achievementKey": "nope"}}),
        await trigger(
            api,
            "t",
            5,
            {"metric": {"metricKey": "lessons", "metricThreshold": 1, "blockIfOutOfPoints": True}},
        ),
        await trigger(api, "t", 1, {"userCreation": True, **metric}),
    ]
    assert [b["errors"][0]["extensions"]["code"] for b in refused] == ["BAD_USER_INPUT"] * 9
    assert "not supported yet" in refused[4]["errors"][0]["message"]
    await trigger(api, "t", 1, metric)
    duplicate = await trigger(api, "t", 2, metric, active=False)
    assert duplicate["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    change_type = await api.gql(
        'mutation { updatePointsTrigger(systemKey: "xp", key: "t", input: '
        "{type: {userCreation: true}}) { __typename } }"
    )
    assert change_type["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await set_status(api, "t", "ARCHIVED")
    reopened = await set_status(api, "t", "ACTIVE")
    assert reopened["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = await api.gql(
        'mutation { setPointsTriggerStatus(systemKey: "nope", key: "t", status: ACTIVE)'
        " { __typename } }"
    )
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for boost in (
        {"multiplier": 1, "start": "2026-01-01"},
        {"multiplier": 1.23456, "start": "2026-01-01"},
        {"multiplier": 2, "start": "2026-01-02", "end": "2026-01-01"},
        {"multiplier": 2, "start": "2026-01-01", "target": {"userId": "nobody"}},
        {"multiplier": 2, "start": "2026-01-01", "target": {"userAttributes": []}},
    ):
        body = await api.gql(
            'mutation($i: CreatePointsBoostInput!) { createPointsBoost(systemKey: "xp",'
            " input: $i) { key } }",
            {"i": {"key": "b", "name": "b", **boost}},
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", boost
    stored = await api.data(
        '{ pointsSystem(key: "xp") { boosts(includeFinished: true) { key }'
        " triggers(status: [ACTIVE, INACTIVE, ARCHIVED]) { ... on PointsTrigger { key } } } }"
    )
    assert stored["pointsSystem"] == {"boosts": [], "triggers": [{"key": "t"}]}


async def test_visibility_of_triggers_and_boosts_by_caller(api: Api, clock: TestClock) -> None:
    await api.metric()
    await system(api)
    metric = {"metric": {"metricKey": "lessons", "metricThreshold": 1}}
    await trigger(api, "live", 1, metric)
    await trigger(api, "draft", 1, metric, active=False)
    await api.data('mutation { identifyUser(input: {id: "ada"}) { id } }')
    today = clock().date().isoformat()
    for key, target in (("all", {"global": True}), ("hers", {"userId": "ada"})):
        await api.data(
            'mutation($i: CreatePointsBoostInput!) { createPointsBoost(systemKey: "xp",'
            " input: $i) { key } }",
            {"i": {"key": key, "name": key, "multiplier": 2, "start": today, "target": target}},
        )
    query = (
        '{ pointsSystem(key: "xp") { boosts { key } '
        "triggers(status: [ACTIVE, INACTIVE]) { ... on PointsTrigger { key } } } }"
    )
    admin = (await api.data(query))["pointsSystem"]
    server = (await api.data(query, key=await api.server_key()))["pointsSystem"]
    token = (await api.data('mutation { createUserToken(userId: "ada") { token } }'))[
        "createUserToken"
    ]["token"]
    user = (await api.data(query, token=token))["pointsSystem"]
    assert [t["key"] for t in admin["triggers"]] == ["live", "draft"]
    assert [t["key"] for t in server["triggers"]] == ["live"]
    assert [t["key"] for t in user["triggers"]] == ["live"]
    assert (
        [b["key"] for b in admin["boosts"]]
        == ["all", "hers"]
        == [b["key"] for b in server["boosts"]]
    )
    assert [b["key"] for b in user["boosts"]] == ["all"]
    forbidden = await api.gql(
        'mutation { createPointsSystem(input: {key: "gems", name: "Gems"}) { id } }',
        key=await api.server_key(),
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_backdated_completions_award_silently(api: Api) -> None:
    await api.metric()
    await system(api)
    await api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}}, active=False)
    await trigger(api, "on-ten", 30, {"achievement": {"achievementKey": "ten"}})
    await track(api, "ada", 12)
    await board(api, "xp-board", rankBy={"pointsSystemKey": "xp"})
    await api.activate("ten")

    async def awarded_silently() -> bool:
        return bool((await standing(api, "ada"))["total"] == 30)

    await eventually(awarded_silently)
    # The silent award counts on POINTS boards as any award does.
    assert [(r["user"]["id"], r["value"]) for r in (await page(api, "xp-board"))["rankings"]] == [
        ("ada", 30)
    ]


async def test_streak_triggers_award_each_multiple_once_per_streak(
    api: Api, clock: TestClock
) -> None:
    with clock.at_midday():  # the five days must not cross a sixth midnight
        await api.metric()
        await api.data(
            'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]})'
            " { frequency } }"
        )
        await system(api)
        await trigger(api, "every-2", 5, {"streak": {"streakLength": 2}})
        await trigger(api, "at-3", 100, {"streak": {"streakLength": 3, "everyMultiple": False}})
        fired = []
        for day in range(5):
            with clock.moved(timedelta(days=day)):
                payload = await track(api, "ada", 1)
            fired.append(
                sorted(a["trigger"]["key"] for c in payload["points"] for a in c["awards"])
            )
        assert fired == [[], ["every-2"], ["at-3"], ["every-2"], []]
        with clock.moved(timedelta(days=4)):
            again = await track(api, "ada", 1)  # the same day: the streak does not grow
        assert again["points"] == []
        with clock.moved(timedelta(days=7)):
            await track(api, "ada", 1)  # the streak was lost: a new one starts at 1
        with clock.moved(timedelta(days=8)):
            restarted = await track(api, "ada", 1)
        assert [a["trigger"]["key"] for c in restarted["points"] for a in c["awards"]] == [
            "every-2"
        ]
    assert (await standing(api, "ada"))["total"] == 115


async def announced(api: Api, type_name: str) -> int:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT COUNT(*) AS n FROM outbox_event "
        f"WHERE tenant_id = {api.tenant_id} AND type = '{type_name}'"
    )
    return int(rows[0]["n"])


async def announced_points(api: Api) -> tuple[int, int]:
    """The outbox rows of points.changed and of points.level_changed."""
    return await announced(api, "points.changed"), await announced(api, "points.level_changed")


async def subscribe(api: Api, receiver: Any, *types: str) -> None:
    await api.data(
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
        {"i": {"url": receiver.url, "eventTypes": list(types)}},
    )


async def xp_per_lesson_with_a_level(api: Api) -> None:
    """10 XP a lesson, and a level at 10: every user's first lesson changes both."""
    await api.metric()
    await system(api)
    await api.data(
        'mutation { createPointsLevel(systemKey: "xp", input: {key: "one", name: "One",'
        " points: 10}) { key } }"
    )
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})


async def test_points_changes_are_recorded_only_while_an_endpoint_receives_them(
    api: Api, receiver: Any
) -> None:
    """Only webhooks read points.changed and points.level_changed: with "XP per lesson", one
    outbox row per event that nobody receives would cost every event."""
    await xp_per_lesson_with_a_level(api)
    assert (await track(api, "ada", 1))["points"][0]["added"] == 10
    assert await announced_points(api) == (0, 0)
    await subscribe(api, receiver, "POINTS_LEVEL_CHANGED")
    await track(api, "bob", 1)
    assert await announced_points(api) == (0, 1)
    await subscribe(api, receiver, "POINTS_CHANGED")
    await track(api, "bob", 1)
    assert await announced_points(api) == (1, 1)


async def test_points_changes_arrive_as_webhooks(api: Api, receiver: Any) -> None:
    await xp_per_lesson_with_a_level(api)
    await subscribe(api, receiver, "POINTS_CHANGED", "POINTS_LEVEL_CHANGED")
    payload = await track(api, "ada", 1)
    [changed] = await receiver.wait_for(1, "points.changed")
    [level] = await receiver.wait_for(1, "points.level_changed")
    data = changed.json["data"]
    assert data["user"]["id"] == "ada" and (data["added"], data["total"]) == (10, 10)
    assert data["system"] == {
        "id": data["system"]["id"],
        "key": "xp",
        "name": "XP",
        "description": None,
        "badgeUrl": None,
        "maxPoints": None,
    }
    [award] = data["awards"]
    assert award["id"] == payload["points"][0]["awards"][0]["id"]
    assert (award["awarded"], award["total"], award["multiplier"], award["boosts"]) == (
        10,
        10,
        1.0,
        [],
    )
    assert award["trigger"] == {
        "id": award["trigger"]["id"],
        "key": "per-1",
        "type": "METRIC",
        "points": 10,
    }
    assert level.json["data"]["previousLevel"] is None
    assert level.json["data"]["newLevel"]["key"] == "one" and level.json["data"]["total"] == 10


async def test_boosts_announce_their_start_and_finish_once(
    api: Api, receiver: Any, clock: TestClock
) -> None:
    """Without moving the clock: a boost moving on later is the boost clock's own test."""
    await system(api)
    await api.data(
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
        {
            "i": {
                "url": receiver.url,
                "eventTypes": ["POINTS_BOOST_STARTED", "POINTS_BOOST_FINISHED"],
            }
        },
    )
    today = clock().date()
    create = (
        'mutation($i: CreatePointsBoostInput!) { createPointsBoost(systemKey: "xp",'
        " input: $i) { key status } }"
    )
    windows = {
        "now": (today, today + timedelta(days=3)),
        "past": (today - timedelta(days=9), today - timedelta(days=5)),
        "later": (today + timedelta(days=30), None),
    }
    for key, (start, end) in windows.items():
        window = {"start": start.isoformat(), "end": end.isoformat() if end else None}
        await api.data(create, {"i": {"key": key, "name": key, "multiplier": 2, **window}})
    [started] = await receiver.wait_for(1, "points.boost_started")
    [finished] = await receiver.wait_for(1, "points.boost_finished")
    boost = started.json["data"]["boost"]
    assert (boost["key"], boost["status"], boost["pointsSystemKey"]) == ("now", "ACTIVE", "xp")
    assert (boost["multiplier"], boost["scope"], boost["rounding"]) == (2.0, "GLOBAL", "DOWN")
    assert (boost["start"], boost["end"]) == (today.isoformat(), windows["now"][1].isoformat())
    assert finished.json["data"]["boost"]["key"] == "past"  # created finished: no start sent
    assert len(receiver.of_type("points.boost_started")) == 1
