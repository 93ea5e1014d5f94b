"""Reading points costs a constant number of SQL statements whatever the number of users,
levels, boosts and awards (docs/points.md): counted at the driver as test_query_counts does."""

from __future__ import annotations

from typing import Any

import pytest_asyncio
from conftest import Api, new_tenant
from test_points import system, trigger
from test_query_counts import _count

from app.infra.cache import TtlCache

SYSTEM = """
{ pointsSystem(key: "xp") { key levels { key } levelSummary { level { key } users }
  histogram { from to users } boosts { key status } } }
"""
STANDING = """
query($u: String!) { user(id: $u) { points(systemKey: "xp") {
  total level { key } nextLevel { key } boosts { key }
  awards(limit: 100) { awarded total trigger { ... on PointsTrigger { key } } boosts { key } }
} } }
"""


async def _seed(tenant: Api, scale: int) -> None:
    await tenant.metric()
    await system(tenant)
    for i in range(scale):
        await tenant.data(
            'mutation($i: CreatePointsLevelInput!) { createPointsLevel(systemKey: "xp",'
            " input: $i) { key } }",
            {"i": {"key": f"l{i}", "name": f"L{i}", "points": i * 10}},
        )
        await tenant.data(
            'mutation($i: CreatePointsBoostInput!) { createPointsBoost(systemKey: "xp",'
            " input: $i) { key } }",
            {"i": {"key": f"b{i}", "name": f"B{i}", "multiplier": 1.5, "start": "2020-01-01"}},
        )
        await trigger(
            tenant, f"t{i}", 3, {"metric": {"metricKey": "lessons", "metricThreshold": i + 1}}
        )
    for u in range(scale):
        for _ in range(3):
            body = await tenant.track(f"u{u}", 2)
            assert "errors" not in body, body


@pytest_asyncio.fixture(scope="module")
async def few(http: Any) -> Api:
    tenant = await new_tenant(http, "p2")
    await _seed(tenant, 2)
    return tenant


@pytest_asyncio.fixture(scope="module")
async def many(http: Any) -> Api:
    tenant = await new_tenant(http, "p20")
    await _seed(tenant, 20)
    return tenant


async def _counted(app: Any, tenant: Api, query: str, variables: dict[str, Any]) -> int:
    """The program cache is kept for the whole count, as the credential caches are."""
    definitions = app.state.services.definitions
    kept = definitions._points
    definitions._points = TtlCache(600.0)
    try:
        return await _count(app, tenant, query, variables)
    finally:
        definitions._points = kept


async def test_a_systems_summaries_cost_the_same_for_2_and_20(
    app: Any, few: Api, many: Api
) -> None:
    listed = (await many.data(SYSTEM))["pointsSystem"]
    assert len(listed["levels"]) == 20 and len(listed["histogram"]) == 11
    assert sum(c["users"] for c in listed["levelSummary"]) == 20
    assert await _counted(app, few, SYSTEM, {}) == await _counted(app, many, SYSTEM, {})


async def test_a_users_standing_costs_the_same_for_2_and_20(app: Any, few: Api, many: Api) -> None:
    held = (await many.data(STANDING, {"u": "u1"}))["user"]["points"]
    assert len(held["awards"]) > 3 and len(held["boosts"]) == 20
    variables = {"u": "u1"}
    assert await _counted(app, few, STANDING, variables) == await _counted(
        app, many, STANDING, variables
    )
