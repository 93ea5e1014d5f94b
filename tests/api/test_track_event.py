"""trackEvent, completeAchievement and identifyUser through the GraphQL API (docs/concepts.md).

Every refusal is checked twice: the error code, and that nothing was stored afterwards.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api, new_tenant

USER = """
query($id: String!, $m: String!) {
  user(id: $id) {
    id name email tz attributes { key value } metricTotal(metricKey: $m)
    achievements { achievement { ... on MetricAchievement { key } ... on ApiAchievement { key }
                                 ... on CompositeAchievement { key } } }
  }
}
"""

COMPLETE = """
mutation($i: CompleteAchievementInput!) {
  completeAchievement(input: $i) {
    completionId newlyCompleted
    achievement { achievedAt progress { current target percent }
                  achievement { ... on ApiAchievement { key } } }
    alsoCompleted { progress { percent } achievement { ... on CompositeAchievement { key } } }
  }
}
"""

TRACK = """
mutation($i: TrackEventInput!) {
  trackEvent(input: $i) {
    eventId total idempotencyKey idempotentReplayed
    achievements { progress { percent } achievement { ... on MetricAchievement { key } } }
  }
}
"""


IDENTIFY = """
mutation($i: UserInput!) { identifyUser(input: $i) { id attributes { key value } } }
"""


async def user(api: Api, user_id: str, metric: str = "lessons") -> Any:
    return (await api.data(USER, {"id": user_id, "m": metric}))["user"]


async def total(api: Api, user_id: str, metric: str = "lessons") -> float | None:
    found = await user(api, user_id, metric)
    return None if found is None else float(found["metricTotal"])


async def completed(api: Api, user_id: str) -> set[str]:
    found = await user(api, user_id)
    return set() if found is None else {a["achievement"]["key"] for a in found["achievements"]}


def keys(body: Any) -> list[str]:
    assert "errors" not in body, body
    return [a["achievement"]["key"] for a in body["data"]["trackEvent"]["achievements"]]


def threshold(value: float, metric: str = "lessons", **extra: Any) -> dict[str, Any]:
    return {"metric": {"metricKey": metric, "value": value, **extra}}


# --- totals and users -----------------------------------------------------------------------


async def test_totals_add_negative_and_fractional_values(api: Api) -> None:
    await api.metric()
    totals = []
    for value in (2.5, -4, 0.25, 10):
        body = await api.track("u1", value)
        assert "errors" not in body, body
        totals.append(body["data"]["trackEvent"]["total"])
    assert totals == [2.5, -1.5, -1.25, 8.75]
    assert await total(api, "u1") == 8.75
    assert await total(api, "u2") is None


async def test_user_is_created_on_first_sight_and_profile_overwritten(api: Api) -> None:
    await api.metric()
    first = {
        "id": "u1",
        "name": "Ann",
        "email": "a@x.io",
        "tz": "Europe/Paris",
        "attributes": [{"key": "plan", "value": "free"}, {"key": "os", "value": "ios"}],
    }
    body = await api.gql(TRACK_USER, {"i": {"metricKey": "lessons", "user": first, "value": 1}})
    assert "errors" not in body, body
    stored = await user(api, "u1")
    assert (stored["name"], stored["email"], stored["tz"]) == ("Ann", "a@x.io", "Europe/Paris")
    assert {(a["key"], a["value"]) for a in stored["attributes"]} == {
        ("plan", "free"),
        ("os", "ios"),
    }

    second = {
        "id": "u1",
        "name": "Bea",
        "tz": "Asia/Tokyo",
        "attributes": [{"key": "plan", "value": "pro"}],
    }
    body = await api.gql(TRACK_USER, {"i": {"metricKey": "lessons", "user": second, "value": 1}})
    assert "errors" not in body, body
    stored = await user(api, "u1")
    assert (stored["name"], stored["email"], stored["tz"]) == ("Bea", "a@x.io", "Asia/Tokyo")
    assert [(a["key"], a["value"]) for a in stored["attributes"]] == [("plan", "pro")]
    assert stored["metricTotal"] == 2

    await api.track("u1", 1)
    assert (await user(api, "u1"))["name"] == "Bea"


TRACK_USER = """
mutation($i: TrackEventInput!) {
  trackEvent(input: $i) { total achievements { achievement { ... on MetricAchievement { key } } } }
}
"""


# --- metric achievements --------------------------------------------------------------------


async def test_thresholds_complete_once_and_stay_completed(api: Api) -> None:
    await api.metric()
    await api.achievement("five", threshold(5))
    await api.achievement("ten", threshold(10))
    assert keys(await api.track("u1", 4)) == []
    body = await api.track("u1", 1.5)
    assert keys(body) == ["five"]
    progress = body["data"]["trackEvent"]["achievements"][0]["progress"]
    assert progress == {"current": 5, "target": 5, "percent": 100}
    assert keys(await api.track("u1", -10)) == []
    assert keys(await api.track("u1", 10)) == []  # back above 5: not reported again
    assert await completed(api, "u1") == {"five"}
    assert keys(await api.track("u1", 20)) == ["ten"]
    assert await total(api, "u1") == 25.5


async def test_one_event_crossing_several_thresholds_reports_all(api: Api) -> None:
    await api.metric()
    for n in (1, 2, 3):
        await api.achievement(f"a{n}", threshold(n))
    await api.achievement("later", threshold(100))
    assert sorted(keys(await api.track("u1", 3))) == ["a1", "a2", "a3"]


async def test_event_attribute_counts_only_matching_events(api: Api) -> None:
    await api.metric()
    await api.achievement("fr", threshold(3, eventAttribute={"key": "lang", "value": "fr"}))
    fr = [{"key": "lang", "value": "fr"}]
    de = [{"key": "lang", "value": "de"}]
    assert keys(await api.track("u1", 2, attributes=fr)) == []
    assert keys(await api.track("u1", 5, attributes=de)) == []
    assert keys(await api.track("u1", 5)) == []
    body = await api.track("u1", 1, attributes=[*fr, {"key": "x", "value": "y"}])
    assert keys(body) == ["fr"]
    assert body["data"]["trackEvent"]["total"] == 13


async def test_user_attribute_filter_blocks_until_attributes_match(api: Api) -> None:
    await api.metric()
    await api.achievement("pro3", threshold(3), userAttributes=[{"key": "plan", "value": "pro"}])
    assert keys(await api.track("u1", 5)) == []
    assert await completed(api, "u1") == set()
    free = {"id": "u1", "attributes": [{"key": "plan", "value": "free"}]}
    body = await api.gql(TRACK, {"i": {"metricKey": "lessons", "user": free, "value": 1}})
    assert keys(body) == []
    pro = {"id": "u1", "attributes": [{"key": "plan", "value": "pro"}]}
    body = await api.gql(TRACK, {"i": {"metricKey": "lessons", "user": pro, "value": 0}})
    assert keys(body) == ["pro3"]
    assert await completed(api, "u1") == {"pro3"}
    body = await api.gql(TRACK, {"i": {"metricKey": "lessons", "user": pro, "value": 1}})
    assert keys(body) == []


async def test_identify_user_completes_what_new_attributes_unlock(api: Api) -> None:
    await api.metric()
    await api.achievement("pro3", threshold(3), userAttributes=[{"key": "plan", "value": "pro"}])
    await api.achievement("both", {"composite": {"prerequisiteKeys": ["pro3"]}})
    await api.track("u1", 5)
    data = await api.data(
        IDENTIFY, {"i": {"id": "u1", "attributes": [{"key": "plan", "value": "pro"}]}}
    )
    assert data["identifyUser"]["attributes"] == [{"key": "plan", "value": "pro"}]
    assert await completed(api, "u1") == {"pro3", "both"}


async def test_composite_cascades_in_the_same_request(api: Api) -> None:
    await api.metric()
    await api.achievement("a", threshold(1))
    await api.achievement("b", threshold(2))
    await api.achievement("ab", {"composite": {"prerequisiteKeys": ["a", "b"]}})
    await api.achievement("top", {"composite": {"prerequisiteKeys": ["ab"]}})
    assert keys(await api.track("u1", 1)) == ["a"]
    body = await api.track("u1", 1)
    assert keys(body) == ["b", "ab", "top"]
    assert all(a["progress"]["percent"] == 100 for a in body["data"]["trackEvent"]["achievements"])
    assert await completed(api, "u1") == {"a", "b", "ab", "top"}


# --- completeAchievement --------------------------------------------------------------------


async def test_complete_api_achievement_once(api: Api) -> None:
    await api.metric()
    await api.achievement("badge", {"api": True})
    await api.achievement("m1", threshold(1))
    await api.achievement("combo", {"composite": {"prerequisiteKeys": ["badge", "m1"]}})
    await api.track("u1", 1)
    first = await api.data(COMPLETE, {"i": {"achievementKey": "badge", "user": {"id": "u1"}}})
    first = first["completeAchievement"]
    assert first["newlyCompleted"] is True
    assert first["achievement"]["achievement"]["key"] == "badge"
    assert first["achievement"]["progress"]["percent"] == 100
    assert [a["achievement"]["key"] for a in first["alsoCompleted"]] == ["combo"]
    second = await api.data(COMPLETE, {"i": {"achievementKey": "badge", "user": {"id": "u1"}}})
    second = second["completeAchievement"]
    assert second["newlyCompleted"] is False
    assert second["completionId"] == first["completionId"]
    assert second["alsoCompleted"] == []
    assert await completed(api, "u1") == {"badge", "m1", "combo"}


@pytest.mark.parametrize("status", ["INACTIVE", "LOCKED", "ARCHIVED"])
async def test_complete_refuses_inactive_api_achievement(api: Api, status: str) -> None:
    await api.achievement("badge", {"api": True}, active=False)
    if status != "INACTIVE":
        await api.activate("badge", status)
    code = await api.error_code(COMPLETE, {"i": {"achievementKey": "badge", "user": {"id": "new"}}})
    assert code == "BAD_USER_INPUT"
    assert await user(api, "new") is None


async def test_complete_refuses_non_api_and_unknown(api: Api) -> None:
    await api.metric()
    await api.achievement("m1", threshold(1))
    code = await api.error_code(COMPLETE, {"i": {"achievementKey": "m1", "user": {"id": "new"}}})
    assert code == "BAD_USER_INPUT"
    code = await api.error_code(COMPLETE, {"i": {"achievementKey": "nope", "user": {"id": "new"}}})
    assert code == "NOT_FOUND"
    assert await user(api, "new") is None


async def test_complete_refused_by_user_attributes_stores_nothing(api: Api) -> None:
    await api.achievement("pro", {"api": True}, userAttributes=[{"key": "plan", "value": "pro"}])
    variables = {"i": {"achievementKey": "pro", "user": {"id": "new", "name": "N"}}}
    assert await api.error_code(COMPLETE, variables) == "BAD_USER_INPUT"
    assert await user(api, "new") is None


# --- idempotency ----------------------------------------------------------------------------


async def test_idempotent_replay_returns_first_response(api: Api) -> None:
    await api.metric()
    await api.achievement("two", threshold(2))
    await api.track("u1", 1)
    first = (await api.track("u1", 1, idempotencyKey="k1"))["data"]["trackEvent"]
    assert first["idempotentReplayed"] is False
    assert [a["achievement"]["key"] for a in first["achievements"]] == ["two"]
    await api.track("u1", 5)
    replay = (await api.track("u1", 1, idempotencyKey="k1"))["data"]["trackEvent"]
    assert replay["idempotentReplayed"] is True
    for field in ("eventId", "total", "achievements", "idempotencyKey"):
        assert replay[field] == first[field], field
    assert await total(api, "u1") == 7


async def test_idempotency_conflict_and_key_scope(api: Api) -> None:
    await api.metric()
    assert "errors" not in await api.track("u1", 1, idempotencyKey="k1")
    body = await api.track("u1", 2, idempotencyKey="k1")
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    body = await api.track("u2", 1, idempotencyKey="k1")
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await total(api, "u1") == 1
    assert await user(api, "u2") is None

    other = await new_tenant(api.client)
    await other.metric()
    body = await other.track("u1", 1, idempotencyKey="k1")
    assert body["data"]["trackEvent"]["idempotentReplayed"] is False
    assert await total(other, "u1") == 1


async def test_idempotency_key_length(api: Api) -> None:
    await api.metric()
    assert "errors" not in await api.track("u1", 1, idempotencyKey="k" * 255)
    for bad in ("", "k" * 256):
        body = await api.track("u1", 1, idempotencyKey=bad)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await total(api, "u1") == 1


# --- occurredAt -----------------------------------------------------------------------------


async def test_occurred_at_from_admin_and_server_keys(api: Api) -> None:
    await api.metric()
    server = await api.server_key()
    past = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    late = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    variables = {"i": {"metricKey": "lessons", "user": {"id": "u1"}, "value": 1}}
    for key in (api.key, server):
        for when in (past, soon):
            body = await api.gql(TRACK, {"i": {**variables["i"], "occurredAt": when}}, key=key)
            assert "errors" not in body, body
        code = await api.error_code(TRACK, {"i": {**variables["i"], "occurredAt": late}}, key=key)
        assert code == "BAD_USER_INPUT"
    assert await total(api, "u1") == 4


# --- refused input --------------------------------------------------------------------------


async def test_unknown_metric_is_not_found(api: Api) -> None:
    await api.metric()
    body = await api.track("u1", 1, metric="nope")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await user(api, "u1") is None


@pytest.mark.parametrize("literal", ["1e999", "-1e999", "1e16", "-1000000000000001"])
async def test_out_of_range_literal_values(api: Api, literal: str) -> None:
    await api.metric()
    await api.track("u1", 1)
    query = (
        'mutation { trackEvent(input: {metricKey: "lessons", user: {id: "u1"}, value: VALUE}) '
        "{ total } }"
    ).replace("VALUE", literal)
    assert await api.error_code(query) == "BAD_USER_INPUT"
    assert await total(api, "u1") == 1


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        1e15 + 2,
        -2e15,
    ],
)
async def test_out_of_range_variable_values(api: Api, value: float) -> None:
    await api.metric()
    await api.track("u1", 1)
    response = await api.client.post(
        "/graphql",
        content=_json_with_specials(value),
        headers={"X-API-Key": api.key, "Content-Type": "application/json"},
    )
    body = response.json()
    assert body.get("errors"), body
    # NaN and Infinity are not JSON at all; the rest is JSON with a value out of range.
    expected = "BAD_USER_INPUT" if math.isfinite(value) else "BAD_REQUEST"
    assert body["errors"][0]["extensions"]["code"] == expected
    assert await total(api, "u1") == 1


def _json_with_specials(value: float) -> str:
    """Python's json writes NaN/Infinity tokens, as a sloppy client would."""
    import json

    return json.dumps(
        {
            "query": TRACK,
            "variables": {"i": {"metricKey": "lessons", "user": {"id": "u1"}, "value": value}},
        }
    )


async def test_accepts_the_largest_magnitude(api: Api) -> None:
    await api.metric()
    body = await api.track("u1", -1e15)
    assert body["data"]["trackEvent"]["total"] == -1e15


@pytest.mark.parametrize(
    "change",
    [
        {"user": {"id": ""}},
        {"user": {"id": "x" * 256}},
        {"user": {"id": "u1", "tz": "Mars/Olympus"}},
        {"user": {"id": "u1", "attributes": [{"key": "k", "value": "v" * 256}]}},
        {"attributes": [{"key": "k", "value": "v" * 256}]},
    ],
)
async def test_bad_input_stores_nothing(api: Api, change: dict[str, Any]) -> None:
    await api.metric()
    await api.achievement("one", threshold(1))
    await api.track("u1", 0.5)
    variables = {"i": {"metricKey": "lessons", "user": {"id": "u1"}, "value": 1, **change}}
    assert await api.error_code(TRACK, variables) == "BAD_USER_INPUT"
    stored = await user(api, "u1")
    assert stored["metricTotal"] == 0.5
    assert stored["tz"] == "UTC"
    assert stored["attributes"] == []
    assert stored["achievements"] == []
    assert await user(api, "x" * 255) is None


async def test_longest_user_id_and_attribute_value_are_accepted(api: Api) -> None:
    await api.metric()
    long_id = "x" * 255
    profile = {"id": long_id, "attributes": [{"key": "k", "value": "v" * 255}]}
    body = await api.gql(TRACK, {"i": {"metricKey": "lessons", "user": profile, "value": 1}})
    assert "errors" not in body, body
    assert await total(api, long_id) == 1


async def test_a_repeated_attribute_counts_once(api: Api) -> None:
    await api.metric()
    await api.achievement("fr", threshold(3, eventAttribute={"key": "lang", "value": "fr"}))
    fr = {"key": "lang", "value": "fr"}
    assert keys(await api.track("u1", 2, attributes=[fr, fr])) == []
    assert keys(await api.track("u1", 1, attributes=[fr])) == ["fr"]


async def test_a_repeated_user_attribute_keeps_the_last_value(api: Api) -> None:
    attributes = [{"key": "plan", "value": "free"}, {"key": "plan", "value": "pro"}]
    data = await api.data(IDENTIFY, {"i": {"id": "u1", "attributes": attributes}})
    assert data["identifyUser"]["attributes"] == [{"key": "plan", "value": "pro"}]


async def test_a_threshold_between_rounded_totals_is_crossed(api: Api) -> None:
    """0.1 + 0.7 is 0.7999999999999999; adding 0.2 must cross 0.8 even though, in floating
    point, the new total minus 0.2 is not below 0.8."""
    await api.metric()
    await api.achievement("eight_tenths", threshold(0.8))
    assert keys(await api.track("u1", 0.1)) == []
    assert keys(await api.track("u1", 0.7)) == []
    assert keys(await api.track("u1", 0.2)) == ["eight_tenths"]
