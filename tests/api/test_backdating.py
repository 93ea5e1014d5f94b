"""Backdating (docs/concepts.md): users who already meet an achievement get it in the background.

Everything goes through GraphQL except two observations the API does not expose: whether the
tenant's backdating job is still pending, and how many outbox rows (publications) it has.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import TRACK, Api, eventually
from tortoise import Tortoise

from app.domain.backdating import BATCH_SIZE

COUNTS = """
query($k: String!) { achievement(key: $k) { ... on Achievement { completions rarity } } }
"""

USER_ACHIEVEMENTS = """
query($id: String!) {
  user(id: $id) {
    achievements {
      achievedAt
      achievement { ... on MetricAchievement { key } ... on StreakAchievement { key }
                    ... on CompositeAchievement { key } }
    }
  }
}
"""

UPDATE = """
mutation($k: String!, $i: UpdateAchievementInput!) {
  updateAchievement(key: $k, input: $i) { __typename }
}
"""


async def sql_value(sql: str) -> int:
    rows = await Tortoise.get_connection("default").execute_query_dict(sql)
    return int(rows[0]["n"])


async def pending_jobs(api: Api) -> int:
    return await sql_value(
        f"SELECT COUNT(*) AS n FROM backdate_job WHERE tenant_id = {api.tenant_id} "
        "AND finished_at IS NULL"
    )


async def outbox_rows(api: Api) -> int:
    """Completions announced (users created are announced too, and are not counted here)."""
    return await sql_value(
        "SELECT COUNT(*) AS n FROM outbox_event "
        f"WHERE tenant_id = {api.tenant_id} AND type = 'achievement.completed'"
    )


async def counts(api: Api, key: str) -> dict[str, Any]:
    data = await api.data(COUNTS, {"k": key})
    achievement: dict[str, Any] = data["achievement"]
    return achievement


async def settled(api: Api, key: str, within: float = 10.0) -> dict[str, Any]:
    """The achievement's counts once no backdating job of the tenant is pending."""

    async def none_pending() -> bool:
        return await pending_jobs(api) == 0

    await eventually(none_pending, within=within, what="backdating")
    return await counts(api, key)


async def track(
    api: Api, user: str, value: float, *, plan: str | None = None, **extra: Any
) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": user}
    if plan is not None:
        profile["attributes"] = [{"key": "plan", "value": plan}]
    event = {"metricKey": "lessons", "user": profile, "value": value, **extra}
    body = await api.gql(TRACK, {"i": event})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["trackEvent"]
    return payload


def unlocked(payload: dict[str, Any]) -> list[str]:
    return [u["achievement"]["key"] for u in payload["achievements"]]


async def completed_keys(api: Api, user: str) -> list[str]:
    data = await api.data(USER_ACHIEVEMENTS, {"id": user})
    return [a["achievement"]["key"] for a in data["user"]["achievements"] if a["achievedAt"]]


async def update(api: Api, key: str, **changes: Any) -> None:
    await api.data(UPDATE, {"k": key, "i": changes})


async def test_activation_completes_users_already_over_the_threshold(api: Api) -> None:
    await api.metric()
    for user, value in (("low", 5), ("exact", 10), ("high", 15)):
        await track(api, user, value)
    await api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}}, active=False)
    await api.activate("ten")

    after = await settled(api, "ten")

    assert after["completions"] == 2
    assert math.isclose(after["rarity"], 2 / 3 * 100)
    assert await completed_keys(api, "exact") == ["ten"]
    assert await completed_keys(api, "high") == ["ten"]
    assert await completed_keys(api, "low") == []


async def test_backdated_completions_are_silent(api: Api) -> None:
    await api.metric()
    await track(api, "early", 10)
    await api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}})
    assert (await settled(api, "ten"))["completions"] == 1
    assert await outbox_rows(api) == 0

    assert unlocked(await track(api, "early", 5)) == []
    assert unlocked(await track(api, "late", 10)) == ["ten"]
    assert await outbox_rows(api) == 1
    assert (await counts(api, "ten"))["completions"] == 2


async def test_changing_the_threshold_of_an_active_achievement_backdates(api: Api) -> None:
    await api.metric()
    for user, value in (("a", 10), ("b", 20), ("c", 30)):
        await track(api, user, value)
    await api.achievement("bar", {"metric": {"metricKey": "lessons", "value": 100}})
    assert (await settled(api, "bar"))["completions"] == 0

    await update(api, "bar", metricValue=20)
    assert (await settled(api, "bar"))["completions"] == 2
    assert await completed_keys(api, "a") == []

    await update(api, "bar", metricValue=5)
    assert (await settled(api, "bar"))["completions"] == 3

    await update(api, "bar", metricValue=1000)
    assert (await settled(api, "bar"))["completions"] == 3
    assert await outbox_rows(api) == 0


async def test_changing_user_attributes_backdates_the_users_who_now_match(api: Api) -> None:
    await api.metric()
    for user, plan in (("p1", "pro"), ("p2", "pro"), ("f1", "free")):
        await track(api, user, 10, plan=plan)
    await track(api, "none", 10)
    gold = [{"key": "plan", "value": "gold"}]
    await api.achievement(
        "club", {"metric": {"metricKey": "lessons", "value": 10}}, userAttributes=gold
    )
    assert (await settled(api, "club"))["completions"] == 0

    await update(api, "club", userAttributes=[{"key": "plan", "value": "pro"}])

    assert (await settled(api, "club"))["completions"] == 2
    assert await completed_keys(api, "p1") == ["club"]
    assert await completed_keys(api, "f1") == []
    assert await completed_keys(api, "none") == []


async def test_event_attribute_achievements_backdate_on_the_filtered_total(api: Api) -> None:
    await api.metric()
    web = [{"key": "source", "value": "web"}]
    app = [{"key": "source", "value": "app"}]
    await track(api, "web-only", 10, attributes=web)
    await track(api, "app-only", 10, attributes=app)
    await track(api, "mixed", 6, attributes=web)
    await track(api, "mixed", 6, attributes=app)
    trigger = {"metric": {"metricKey": "lessons", "value": 10, "eventAttribute": web[0]}}
    await api.achievement("web", trigger, active=False)

    await api.activate("web")

    assert (await settled(api, "web"))["completions"] == 1
    assert await completed_keys(api, "web-only") == ["web"]
    assert await completed_keys(api, "mixed") == []


async def test_composites_follow_backdated_prerequisites(api: Api) -> None:
    await api.metric()
    await track(api, "both", 25)
    await track(api, "one", 15)
    await api.achievement("a10", {"metric": {"metricKey": "lessons", "value": 10}}, active=False)
    await api.achievement("a20", {"metric": {"metricKey": "lessons", "value": 20}}, active=False)
    await api.achievement("combo", {"composite": {"prerequisiteKeys": ["a10", "a20"]}})

    await api.activate("a10")
    assert (await settled(api, "a10"))["completions"] == 2
    assert (await counts(api, "combo"))["completions"] == 0

    await api.activate("a20")
    assert (await settled(api, "a20"))["completions"] == 1
    assert (await counts(api, "combo"))["completions"] == 1
    assert set(await completed_keys(api, "both")) == {"a10", "a20", "combo"}

    await api.achievement("single", {"composite": {"prerequisiteKeys": ["a10"]}}, active=False)
    await api.activate("single")
    assert (await settled(api, "single"))["completions"] == 2
    assert await outbox_rows(api) == 0


async def test_streak_achievements_backdate_on_the_longest_streak(api: Api) -> None:
    await api.metric()
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    start = datetime.now(UTC) - timedelta(days=10)
    for offset in range(3):
        await track(api, "steady", 1, occurredAt=(start + timedelta(days=offset)).isoformat())
    await track(api, "once", 1, occurredAt=start.isoformat())
    await api.achievement("three", {"streak": {"length": 3}}, active=False)

    await api.activate("three")

    assert (await settled(api, "three"))["completions"] == 1
    assert await completed_keys(api, "steady") == ["three"]


async def seed_users(api: Api, count: int, value: float) -> None:
    """Users with a stored total, written directly: the API would need `count` requests."""
    connection = Tortoise.get_connection("default")
    tenant = api.tenant_id
    rows = ", ".join(
        f"({tenant}, 'user-{n}', 'UTC', '[]', '2026-01-01T00:00:00+00:00')" for n in range(count)
    )
    await connection.execute_script(
        "INSERT INTO app_user (tenant_id, external_id, tz, attributes, created_at) "
        f"VALUES {rows}; "
        "INSERT INTO metric_total (tenant_id, user_id, metric_id, attr_key, attr_value, total) "
        f"SELECT u.tenant_id, u.id, m.id, '', '', {value} FROM app_user u "
        f"JOIN metric m ON m.tenant_id = u.tenant_id WHERE u.tenant_id = {tenant}; "
        f"UPDATE tenant SET user_count = user_count + {count} WHERE id = {tenant};"
    )


async def test_a_large_tenant_is_backdated_in_batches_after_the_mutation_returns(
    api: Api,
) -> None:
    users = 1200
    await api.metric()
    await seed_users(api, users, 3)
    await api.achievement("three", {"metric": {"metricKey": "lessons", "value": 3}}, active=False)

    await api.activate("three")
    right_after = await sql_value(
        "SELECT completions AS n FROM achievement "
        f"WHERE tenant_id = {api.tenant_id} AND key = 'three'"
    )
    still_pending = await pending_jobs(api)

    assert still_pending == 1 or right_after < users
    assert (await settled(api, "three", within=30))["completions"] == users
    batches = await sql_value(
        "SELECT COUNT(DISTINCT c.completed_at) AS n FROM completion c "
        f"JOIN achievement a ON a.id = c.achievement_id WHERE a.tenant_id = {api.tenant_id} "
        "AND a.key = 'three' AND c.backdated"
    )
    assert batches >= math.ceil(users / BATCH_SIZE)
    assert await outbox_rows(api) == 0


async def test_achievements_that_are_not_active_are_not_backdated(api: Api) -> None:
    await api.metric()
    await track(api, "u", 50)
    await api.achievement("later", {"metric": {"metricKey": "lessons", "value": 10}}, active=False)
    await api.activate("later", "LOCKED")
    await update(api, "later", metricValue=5)

    assert (await settled(api, "later"))["completions"] == 0

    await api.activate("later")
    assert (await settled(api, "later"))["completions"] == 1


async def test_a_job_queued_by_another_instance_is_picked_up_by_polling(api: Api) -> None:
    await api.metric()
    await api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}})
    assert (await settled(api, "ten"))["completions"] == 0
    await seed_users(api, 3, 50)
    await Tortoise.get_connection("default").execute_script(
        "INSERT INTO backdate_job (tenant_id, achievement_id, cursor, created_at) "
        f"SELECT tenant_id, id, 0, '2026-01-01T00:00:00+00:00' FROM achievement "
        f"WHERE tenant_id = {api.tenant_id} AND key = 'ten'"
    )

    assert (await settled(api, "ten"))["completions"] == 3
