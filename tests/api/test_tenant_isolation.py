"""Two tenants with the same metric, achievement, user and idempotency keys never meet."""

from __future__ import annotations

from conftest import Api, new_tenant

SNAPSHOT = """
{ metrics { key name }
  achievements(status: [INACTIVE, ACTIVE, LOCKED, ARCHIVED]) { ... on Achievement { key name status completions rarity } }
  user(id: "u1") { name attributes { key value } metricTotal(metricKey: "lessons")
                   achievements(includeIncomplete: true) { achievedAt achievement { ... on Achievement { key } } } }
}
"""


async def seed(tenant: Api, name: str) -> None:
    await tenant.data(
        'mutation($n: String!) { createMetric(input: {key: "lessons", name: $n}) { id } }',
        {"n": name},
    )
    await tenant.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}}, name=name)
    await tenant.achievement("api", {"api": True})


async def test_tenants_do_not_see_or_change_each_other(api: Api) -> None:
    other = await new_tenant(api.client)
    await seed(api, "Tenant A")
    await seed(other, "Tenant B")
    await other.data(
        "mutation($i: TrackEventInput!) { trackEvent(input: $i) { total } }",
        {
            "i": {
                "metricKey": "lessons",
                "value": 2,
                "idempotencyKey": "shared-key",
                "user": {"id": "u1", "name": "B's user"},
            }
        },
    )
    before = await other.data(SNAPSHOT)

    first = await api.track("u1", 5, idempotencyKey="shared-key")
    assert first["data"]["trackEvent"]["idempotentReplayed"] is False
    assert first["data"]["trackEvent"]["total"] == 5
    await api.data(
        'mutation { completeAchievement(input: {achievementKey: "api", user: {id: "u1"}}) { newlyCompleted } }'
    )
    await api.data(
        'mutation { updateAchievement(key: "first", input: {name: "Changed"}) { __typename } }'
    )
    await api.activate("first", "ARCHIVED")

    assert await other.data(SNAPSHOT) == before
    mine = await api.data(SNAPSHOT)
    assert mine["user"]["metricTotal"] == 5
    assert mine["metrics"] == [{"key": "lessons", "name": "Tenant A"}]


async def test_keys_of_one_tenant_cannot_reach_anothers_objects(api: Api) -> None:
    other = await new_tenant(api.client)
    await seed(other, "B")
    assert (
        await api.error_code(
            'mutation { setAchievementStatus(key: "first", status: LOCKED) { __typename } }'
        )
        == "NOT_FOUND"
    )
    assert (await api.track("u1", 1))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await api.data('{ achievement(key: "first") { __typename } }')) == {"achievement": None}
    assert (await api.data('{ user(id: "u1") { id } }')) == {"user": None}
