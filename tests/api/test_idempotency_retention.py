"""Idempotency keys expire after 24 hours, and old ones can be purged.

Aging a key is done in SQL: waiting a day is not an option, and the engine's clock is real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Api, eventually

from app.domain.idempotency import WINDOW as IDEMPOTENCY_WINDOW
from app.persistence.database import Database
from app.persistence.idempotency import SqlRetention
from app.persistence.webhooks import SqlWebhookStore
from app.workers.housekeeping import Housekeeping


async def age_key(database: Database, api: Api, key: str, hours: float) -> None:
    created = datetime.now(UTC) - timedelta(hours=hours)
    async with database.transaction() as conn:
        await conn.execute(
            "UPDATE idempotency_key SET created_at = $3 WHERE tenant_id = $1 AND key = $2",
            api.tenant_id,
            key,
            created,
        )


async def stored_keys(database: Database, api: Api) -> set[str]:
    async with database.connection() as conn:
        rows = await conn.fetch(
            "SELECT key FROM idempotency_key WHERE tenant_id = $1", api.tenant_id
        )
    return {r["key"] for r in rows}


def payload(body: Any) -> Any:
    assert "errors" not in body, body
    return body["data"]["trackEvent"]


async def test_a_key_older_than_the_window_is_new_again(api: Api, database: Database) -> None:
    await api.metric()
    first = payload(await api.track("u1", 1, idempotencyKey="old"))
    await age_key(database, api, "old", hours=23)
    assert payload(await api.track("u1", 1, idempotencyKey="old"))["idempotentReplayed"] is True
    assert (await api.track("u1", 2, idempotencyKey="old"))["errors"][0]["extensions"][
        "code"
    ] == "CONFLICT"

    await age_key(database, api, "old", hours=25)
    again = payload(await api.track("u1", 2, idempotencyKey="old"))
    assert again["idempotentReplayed"] is False
    assert again["eventId"] != first["eventId"]
    assert again["total"] == 3
    replay = payload(await api.track("u1", 2, idempotencyKey="old"))
    assert (replay["idempotentReplayed"], replay["eventId"]) == (True, again["eventId"])


async def test_purge_removes_only_keys_past_the_cutoff(api: Api, database: Database) -> None:
    await api.metric()
    for key in ("stale-1", "stale-2", "fresh"):
        payload(await api.track("u1", 1, idempotencyKey=key))
    await age_key(database, api, "stale-1", hours=25)
    await age_key(database, api, "stale-2", hours=48)
    await age_key(database, api, "fresh", hours=23)

    purged = await SqlRetention(database, batch=1).purge_idempotency_keys(
        datetime.now(UTC) - IDEMPOTENCY_WINDOW
    )
    assert purged >= 2  # other tests' tenants hold no aged keys, but never assume it
    assert await stored_keys(database, api) == {"fresh"}
    assert payload(await api.track("u1", 1, idempotencyKey="fresh"))["idempotentReplayed"] is True
    assert (
        payload(await api.track("u1", 5, idempotencyKey="stale-1"))["idempotentReplayed"] is False
    )
    retention = SqlRetention(database)
    assert await retention.purge_idempotency_keys(datetime.now(UTC) - IDEMPOTENCY_WINDOW) == 0


async def test_housekeeping_purges_expired_keys_on_its_own(api: Api, database: Database) -> None:
    await api.metric()
    await api.track("u1", 1, idempotencyKey="old-key")
    later = datetime.now(UTC) + timedelta(hours=25)
    housekeeping = Housekeeping(
        SqlRetention(database),
        SqlWebhookStore(database),
        webhook_retention=timedelta(days=30),
        interval=3600,
        clock=lambda: later,
    )

    async def purged() -> bool:
        return "old-key" not in await stored_keys(database, api)

    housekeeping.start()
    try:
        await eventually(purged, what="the purge")
    finally:
        await housekeeping.stop()
    replay = await api.track("u1", 1, idempotencyKey="old-key")
    assert replay["data"]["trackEvent"]["idempotentReplayed"] is False
    assert replay["data"]["trackEvent"]["total"] == 2
