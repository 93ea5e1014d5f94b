"""The streak clock against the real database: instances running it side by side judge each
period end once (the user's row lock on PostgreSQL, one writer at a time on SQLite)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from app.domain.model import StreakSettings
from app.domain.ports import UserProfile
from app.domain.streak_clock import run_streak_clock
from app.domain.streak_ledger import FreezeRules
from app.domain.streak_tracking import advance_streak
from app.domain.streaks import StreakFrequency
from app.persistence.configuration import TortoiseConfigStore
from app.persistence.database import Database
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.transaction import Transactions


async def test_clocks_side_by_side_announce_each_period_end_once(
    transactions: Transactions[SqlTransaction], database: Database, tenant: int
) -> None:
    config = TortoiseConfigStore()
    metric = await config.create_metric(tenant, "lessons", "Lessons", None)
    settings = await config.configure_streak(
        tenant, StreakSettings(StreakFrequency.DAILY, (metric.id,), FreezeRules(1, 3))
    )
    now = datetime.now(UTC)
    async with transactions() as tx:
        user = (await tx.upsert_user(tenant, UserProfile("u", tz="UTC"), now)).user
        await advance_streak(tx, tenant, user, settings, metric.id, 1, now, now)
    # Three days on, tomorrow is frozen and the day after loses the streak: once, whichever of
    # the four clocks gets there.
    later = now + timedelta(days=3)
    await asyncio.gather(*(run_streak_clock(transactions, later) for _ in range(4)))
    async with database.connection() as conn:
        rows = await conn.fetch("SELECT type FROM outbox_event WHERE tenant_id = $1", tenant)
        state = await conn.fetchrow(
            "SELECT balance, chain_last, due_at FROM streak_state WHERE user_id = $1", user.pk
        )
    kinds = Counter(r["type"] for r in rows)
    assert (kinds["streak.freeze_consumed"], kinds["streak.lost"]) == (1, 1)
    assert state is not None and (state["balance"], state["chain_last"]) == (0, None)
    assert state["due_at"] is None  # no streak and no automatic grants: nothing left to judge
