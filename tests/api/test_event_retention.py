"""Raw events past LAUREL_EVENT_RETENTION_DAYS are pruned, and nothing Laurel answers changes.

Aging events is done in SQL: `created_at` is when an event was stored. Storage order is id
order, and pruning relies on it, so aging an event ages every event stored before it too
(earlier tests' included: nothing reads raw events back).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Api, eventually
from test_points import system, trigger

from app.persistence.database import Database
from app.persistence.idempotency import SqlRetention
from app.persistence.webhooks import SqlWebhookStore
from app.workers.housekeeping import Housekeeping

STANDING = """
query($u: String!) { user(id: $u) {
  metricTotal(metricKey: "lessons")
  achievements { achievement { ... on MetricAchievement { key } } }
  points(systemKey: "xp") { total }
  streak { length }
} }
"""


async def stored_events(database: Database, api: Api) -> list[int]:
    async with database.connection() as conn:
        rows = await conn.fetch(
            "SELECT id FROM event WHERE tenant_id = $1 ORDER BY id", api.tenant_id
        )
    return [int(r["id"]) for r in rows]


async def age_events(
    database: Database, up_to: int, days: float, *, except_id: int | None = None
) -> None:
    """Every event up to id `up_to` (but `except_id`) stored `days` ago."""
    stored = datetime.now(UTC) - timedelta(days=days)
    async with database.transaction() as conn:
        await conn.execute(
            "UPDATE event SET created_at = $2 WHERE id <= $1 AND id <> $3",
            up_to,
            stored,
            except_id or 0,
        )


async def programme(api: Api) -> None:
    await api.metric()
    await api.achievement("three", {"metric": {"metricKey": "lessons", "value": 3}})
    await system(api)
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]})'
        " { frequency } }"
    )


async def standing(api: Api, user: str) -> Any:
    return (await api.data(STANDING, {"u": user}))["user"]


async def test_pruning_old_events_changes_no_total_streak_completion_or_points(
    api: Api, database: Database
) -> None:
    await programme(api)
    for _ in range(4):
        assert "errors" not in await api.track("ada", 1)
    ids = await stored_events(database, api)
    before = await standing(api, "ada")
    # The first, third and fourth are old; the second, newer, sits among them and stays.
    await age_events(database, ids[3], days=40, except_id=ids[1])
    pruned = await SqlRetention(database, batch=2).prune_events(
        datetime.now(UTC) - timedelta(days=30)
    )
    assert pruned >= 3  # other tests' events are recent, but never assume it
    assert await stored_events(database, api) == [ids[1]]
    assert await standing(api, "ada") == before
    assert before["metricTotal"] == 4 and before["points"]["total"] == 40
    after = (await api.track("ada", 1))["data"]["trackEvent"]
    assert after["total"] == 5
    assert (await standing(api, "ada"))["points"]["total"] == 50


async def test_housekeeping_prunes_events_past_the_retention_on_its_own(
    api: Api, database: Database
) -> None:
    await api.metric()
    for user in ("old", "new"):
        assert "errors" not in await api.track(user, 1)
    old, new = await stored_events(database, api)
    await age_events(database, old, days=8)
    housekeeping = Housekeeping(
        SqlRetention(database),
        SqlWebhookStore(database),
        webhook_retention=timedelta(days=30),
        event_retention=timedelta(days=7),
        interval=3600,
    )

    async def pruned() -> bool:
        return await stored_events(database, api) == [new]

    housekeeping.start()
    try:
        await eventually(pruned, what="the pruning")
    finally:
        await housekeeping.stop()
    assert (await standing(api, "old"))["metricTotal"] == 1
