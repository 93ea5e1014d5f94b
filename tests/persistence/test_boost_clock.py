"""The boost clock against the real database: clocks side by side announce each boost's start
and finish once, never an archived boost's, and an open-ended boost is done once started."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from app.domain import points_admin as admin
from app.domain.boost_clock import run_boost_clock
from app.persistence.boost_clock import BoostClockRows
from app.persistence.database import Database
from app.persistence.points_config import SqlPointsStore
from app.persistence.transaction import Transactions


async def test_clocks_side_by_side_announce_each_transition_once(
    database: Database, tenant: int
) -> None:
    store = SqlPointsStore(database)
    await admin.create_system(store, tenant, "xp", "XP")
    today = datetime.now(UTC).date()
    start = today + timedelta(days=3)  # beyond the app's own clock, which runs meanwhile
    for key, end in (("soon", start + timedelta(days=1)), ("open", None), ("gone", None)):
        spec = admin.BoostSpec(name=key, multiplier=2, start=start, end=end)
        await admin.create_boost(store, tenant, "xp", key, spec)
    await admin.archive_boost(store, tenant, "xp", "gone")
    clocks = Transactions(database, BoostClockRows)
    now = datetime.now(UTC)
    for days in (3, 6, 9):
        at = now + timedelta(days=days)
        await asyncio.gather(*(run_boost_clock(clocks, at) for _ in range(4)))
    async with database.connection() as conn:
        rows = await conn.fetch(
            "SELECT type, data FROM outbox_event WHERE tenant_id = $1 ORDER BY id", tenant
        )
        left = await conn.fetch(
            "SELECT key, due_at FROM points_boost WHERE tenant_id = $1 ORDER BY key", tenant
        )
    program = await store.points_program(tenant)
    keys = {b.id: b.key for b in program.boosts}
    sent = Counter((r["type"], keys[int(json.loads(r["data"])["boostId"])]) for r in rows)
    assert sent == Counter(
        {
            ("points.boost_started", "soon"): 1,
            ("points.boost_finished", "soon"): 1,
            ("points.boost_started", "open"): 1,
        }
    )
    assert {r["key"]: r["due_at"] for r in left if r["key"] != "gone"} == {
        "open": None,
        "soon": None,
    }
