"""The configuration API (ADMIN keys): metrics, the four triggers, updates, the status workflow."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

CREATE = """
mutation($i: CreateAchievementInput!) {
  createAchievement(input: $i) {
    __typename
    ... on Achievement { key name description badgeUrl status trigger hidden userAttributes { key value } completions rarity }
    ... on MetricAchievement { metricValue metric { key } eventAttribute { key value } }
    ... on StreakAchievement { streakLength }
    ... on CompositeAchievement { prerequisites { ... on Achievement { key } } }
  }
}
"""


async def create(api: Api, key: str, trigger: dict[str, Any], **extra: Any) -> Any:
    return await api.gql(
        CREATE, {"i": {"key": key, "name": f"Name {key}", "trigger": trigger, **extra}}
    )


async def test_metrics_are_created_listed_and_unique(api: Api) -> None:
    created = await api.data(
        'mutation { createMetric(input: {key: "lessons", name: "Lessons", unit: "lesson"}) { id key name unit } }'
    )
    assert created["createMetric"]["unit"] == "lesson"
    assert (
        await api.error_code(
            'mutation { createMetric(input: {key: "lessons", name: "Again"}) { id } }'
        )
        == "BAD_USER_INPUT"
    )
    assert [m["key"] for m in (await api.data("{ metrics { key } }"))["metrics"]] == ["lessons"]


async def test_all_four_triggers_are_created_inactive(api: Api) -> None:
    await api.metric()
    metric = await create(
        api,
        "m1",
        {
            "metric": {
                "metricKey": "lessons",
                "value": 10,
                "eventAttribute": {"key": "lang", "value": "fr"},
            }
        },
        description="d",
        badgeUrl="https://b/1.png",
        hidden=True,
        userAttributes=[{"key": "plan", "value": "pro"}],
    )
    achievement = metric["data"]["createAchievement"]
    assert achievement["__typename"] == "MetricAchievement"
    assert achievement["status"] == "INACTIVE" and achievement["trigger"] == "METRIC"
    assert achievement["metricValue"] == 10 and achievement["metric"] == {"key": "lessons"}
    assert achievement["eventAttribute"] == {"key": "lang", "value": "fr"}
    assert achievement["userAttributes"] == [{"key": "plan", "value": "pro"}]
    assert (achievement["completions"], achievement["rarity"], achievement["hidden"]) == (
        0,
        0.0,
        True,
    )
    streak = (await create(api, "s1", {"streak": {"length": 7}}))["data"]["createAchievement"]
    assert (streak["__typename"], streak["streakLength"]) == ("StreakAchievement", 7)
    api_one = (await create(api, "a1", {"api": True}))["data"]["createAchievement"]
    assert api_one["__typename"] == "ApiAchievement"
    composite = (await create(api, "c1", {"composite": {"prerequisiteKeys": ["m1", "a1"]}}))[
        "data"
    ]["createAchievement"]
    assert composite["prerequisites"] == [{"key": "m1"}, {"key": "a1"}]


@pytest.mark.parametrize(
    ("key", "trigger"),
    [
        ("x1", {"metric": {"metricKey": "nope", "value": 1}}),
        ("x2", {"metric": {"metricKey": "lessons", "value": 0}}),
        ("x3", {"metric": {"metricKey": "lessons", "value": -5}}),
        ("x4", {"streak": {"length": 0}}),
        ("x5", {"composite": {"prerequisiteKeys": ["missing"]}}),
        ("x6", {"composite": {"prerequisiteKeys": ["x6"]}}),
        ("x7", {"composite": {"prerequisiteKeys": []}}),
        ("bad key!", {"api": True}),
        ("", {"api": True}),
        ("k" * 101, {"api": True}),
        ("x8", {"api": True, "streak": {"length": 2}}),
        ("x9", {}),
    ],
)
async def test_invalid_achievements_are_refused_and_nothing_is_stored(
    api: Api, key: str, trigger: dict[str, Any]
) -> None:
    await api.metric()
    body = await create(api, key, trigger)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    listed = await api.data(
        "{ achievements(status: [INACTIVE, ACTIVE, LOCKED, ARCHIVED]) { __typename } }"
    )
    assert listed["achievements"] == []


async def test_duplicate_key_is_refused(api: Api) -> None:
    await create(api, "a1", {"api": True})
    body = await create(api, "a1", {"api": True})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_update_changes_fields_and_checks_the_trigger_kind(api: Api) -> None:
    await api.metric()
    await create(api, "m1", {"metric": {"metricKey": "lessons", "value": 10}})
    updated = await api.data(
        'mutation { updateAchievement(key: "m1", input: {name: "New", metricValue: 20, hidden: true}) '
        "{ ... on MetricAchievement { name metricValue hidden } } }"
    )
    assert updated["updateAchievement"] == {"name": "New", "metricValue": 20.0, "hidden": True}
    wrong = 'mutation { updateAchievement(key: "m1", input: {streakLength: 3}) { __typename } }'
    assert await api.error_code(wrong) == "BAD_USER_INPUT"
    missing = 'mutation { updateAchievement(key: "nope", input: {name: "x"}) { __typename } }'
    assert await api.error_code(missing) == "NOT_FOUND"


async def test_status_workflow_and_archived_is_final(api: Api) -> None:
    await create(api, "a1", {"api": True})
    for status in ("ACTIVE", "LOCKED", "INACTIVE", "LOCKED", "ACTIVE", "ARCHIVED"):
        await api.activate("a1", status)
    for status in ("ACTIVE", "INACTIVE", "LOCKED"):
        code = await api.error_code(
            'mutation($s: AchievementStatus!) { setAchievementStatus(key: "a1", status: $s) { __typename } }',
            {"s": status},
        )
        assert code == "BAD_USER_INPUT"
    assert (
        await api.error_code(
            'mutation { setAchievementStatus(key: "zz", status: ACTIVE) { __typename } }'
        )
        == "NOT_FOUND"
    )
    archived = await api.data(
        "{ achievements(status: [ARCHIVED]) { ... on Achievement { key status } } }"
    )
    assert archived["achievements"] == [{"key": "a1", "status": "ARCHIVED"}]
