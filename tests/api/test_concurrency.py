"""Exactly-once under real concurrency: many requests at once against a live uvicorn process.

Runs on whichever backend the session uses; exactly-once must hold on both.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from conftest import Api

COMPLETE = """
mutation($i: CompleteAchievementInput!) {
  completeAchievement(input: $i) { completionId newlyCompleted }
}
"""

RARITY = "{ achievements { ... on MetricAchievement { key completions rarity } } }"


def errors_of(bodies: list[Any]) -> list[Any]:
    return [b["errors"] for b in bodies if b.get("errors")]


def reported(bodies: list[Any]) -> Counter[str]:
    return Counter(
        a["achievement"]["key"] for b in bodies for a in b["data"]["trackEvent"]["achievements"]
    )


async def test_concurrent_events_complete_each_threshold_once(live_api: Api) -> None:
    await live_api.metric()
    thresholds = (10, 20, 30, 40, 50)
    for n in thresholds:
        await live_api.achievement(f"t{n}", {"metric": {"metricKey": "lessons", "value": n}})
    bodies = await asyncio.gather(*(live_api.track("u1", 1) for _ in range(50)))
    assert errors_of(bodies) == []
    totals = sorted(b["data"]["trackEvent"]["total"] for b in bodies)
    assert totals == list(range(1, 51))  # each event saw its own distinct total
    assert reported(bodies) == Counter({f"t{n}": 1 for n in thresholds})
    for body in bodies:
        got = [a["achievement"]["key"] for a in body["data"]["trackEvent"]["achievements"]]
        assert got == [f"t{int(body['data']['trackEvent']['total'])}"] or got == []
    achievements = (await live_api.data(RARITY))["achievements"]
    assert {a["key"]: a["completions"] for a in achievements} == {f"t{n}": 1 for n in thresholds}
    user = await live_api.data(
        '{ user(id: "u1") { metricTotal(metricKey: "lessons") achievements { achievedAt } } }'
    )
    assert user["user"]["metricTotal"] == 50
    assert len(user["user"]["achievements"]) == len(thresholds)


async def test_concurrent_completions_award_once(live_api: Api) -> None:
    await live_api.achievement("badge", {"api": True})
    variables = {"i": {"achievementKey": "badge", "user": {"id": "u1"}}}
    bodies = await asyncio.gather(*(live_api.gql(COMPLETE, variables) for _ in range(20)))
    assert errors_of(bodies) == []
    payloads = [b["data"]["completeAchievement"] for b in bodies]
    assert sum(p["newlyCompleted"] for p in payloads) == 1
    assert len({p["completionId"] for p in payloads}) == 1


async def test_concurrent_repeats_of_one_idempotency_key_apply_once(live_api: Api) -> None:
    await live_api.metric()
    await live_api.achievement("two", {"metric": {"metricKey": "lessons", "value": 2}})
    await live_api.track("u1", 1)
    bodies = await asyncio.gather(
        *(live_api.track("u1", 1, idempotencyKey="same") for _ in range(20))
    )
    assert errors_of(bodies) == []
    payloads = [b["data"]["trackEvent"] for b in bodies]
    assert sum(not p["idempotentReplayed"] for p in payloads) == 1
    assert len({p["eventId"] for p in payloads}) == 1
    assert {p["total"] for p in payloads} == {2}
    assert reported(bodies) == Counter({"two": 20})  # the replays repeat the first response
    user = await live_api.data('{ user(id: "u1") { metricTotal(metricKey: "lessons") } }')
    assert user["user"]["metricTotal"] == 2


async def test_many_new_users_in_parallel_keep_the_user_count(live_api: Api) -> None:
    """Many transactions completing the same achievements for different users, at once: on
    PostgreSQL this once deadlocked on the achievement rows' completion counters."""
    await live_api.metric()
    await live_api.achievement("half", {"metric": {"metricKey": "lessons", "value": 0.5}})
    await live_api.achievement("one", {"metric": {"metricKey": "lessons", "value": 1}})
    users = 80
    calls = [
        live_api.track(
            f"user-{i}", 1 if i % 2 == 0 else 0.5, attributes=[{"key": "n", "value": str(i)}]
        )
        for i in range(users)
    ]
    calls += [live_api.track(f"user-{i}", 0) for i in range(0, users, 3)]  # repeats: no new user
    bodies = await asyncio.gather(*calls)
    assert errors_of(bodies) == []
    assert reported(bodies) == Counter({"half": users, "one": users // 2})
    achievements = (await live_api.data(RARITY))["achievements"]
    assert achievements == [
        {"key": "half", "completions": users, "rarity": 100.0},
        {"key": "one", "completions": users // 2, "rarity": 50.0},
    ]
    assert await stored_user_count(live_api.tenant_id) == users


async def stored_user_count(tenant_id: int) -> int:
    from tortoise import Tortoise

    connection = Tortoise.get_connection("default")
    mark = "$1" if connection.capabilities.dialect == "postgres" else "?"
    rows = await connection.execute_query_dict(
        f"SELECT user_count FROM tenant WHERE id = {mark}", [tenant_id]
    )
    return int(rows[0]["user_count"])
