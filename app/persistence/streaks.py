"""Metric days, freeze grants and each user's streak ledger: the `StreakWrites` port.

Days are stored once per user, metric and day (a unique key); the ledger is kept beside them, so
an in-order event updates it in O(1) and only a late event re-reads the user's days.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from app.domain import model
from app.domain.ports import StreakState
from app.domain.streak_ledger import ApiGrant, FreezeRules, Ledger
from app.domain.streaks import StreakFrequency
from app.persistence.catalogue import achievements_where
from app.persistence.codec import USER_COLUMNS, as_date, placeholders, user_from_row
from app.persistence.database import Connection
from app.persistence.transaction import Statements

STATE_COLUMNS = (
    "version, settled, earned_through, balance, chain_start, chain_last, chain_active, longest"
)


def state_from_row(row: Mapping[str, Any]) -> StreakState:
    """A state whose ledger was never evaluated (`settled` null) has no ledger."""
    if row["settled"] is None:
        return StreakState(None, int(row["version"]))
    chain_last = row["chain_last"]
    ledger = Ledger(
        settled=as_date(row["settled"]),
        earned_through=as_date(row["earned_through"]),
        balance=int(row["balance"]),
        chain_start=as_date(row["chain_start"]) if chain_last is not None else None,
        chain_last=as_date(chain_last) if chain_last is not None else None,
        chain_active=int(row["chain_active"]),
        longest=int(row["longest"]),
    )
    return StreakState(ledger, int(row["version"]))


CONFIG_COLUMNS = (
    "frequency, metric_ids, version, freeze_start, freeze_max, freeze_auto_interval, "
    "freeze_auto_amount"
)


def settings_from_row(row: Mapping[str, Any]) -> model.StreakSettings:
    freezes = None
    if row["freeze_max"] is not None:
        freezes = FreezeRules(
            start_count=int(row["freeze_start"]),
            max_count=int(row["freeze_max"]),
            auto_interval=row["freeze_auto_interval"],
            auto_amount=row["freeze_auto_amount"],
        )
    return model.StreakSettings(
        frequency=StreakFrequency(row["frequency"]),
        metric_ids=tuple(json.loads(row["metric_ids"])),
        freezes=freezes,
        version=int(row["version"]),
    )


def settings_columns(settings: model.StreakSettings) -> dict[str, Any]:
    rules = settings.freezes
    return {
        "frequency": settings.frequency.value,
        "metric_ids": json.dumps(list(settings.metric_ids)),
        "freeze_start": rules.start_count if rules else None,
        "freeze_max": rules.max_count if rules else None,
        "freeze_auto_interval": rules.auto_interval if rules else None,
        "freeze_auto_amount": rules.auto_amount if rules else None,
    }


async def settings_of(conn: Connection, tenant_id: int) -> model.StreakSettings | None:
    row = await conn.fetchrow(
        f"SELECT {CONFIG_COLUMNS} FROM streak_config WHERE tenant_id = $1", tenant_id
    )
    return None if row is None else settings_from_row(row)


def days_condition(metric_ids: Sequence[int], start: int) -> str:
    """Days of these metrics, and days stored before days had a metric."""
    if not metric_ids:
        return "metric_id IS NULL"
    return f"(metric_id IS NULL OR metric_id IN ({placeholders(metric_ids, start)}))"


class StreakRows(Statements):
    async def streak_state(self, user_pk: int) -> StreakState | None:
        row = await self._conn.fetchrow(
            f"SELECT {STATE_COLUMNS} FROM streak_state WHERE user_id = $1", user_pk
        )
        return None if row is None else state_from_row(row)

    async def add_streak_day(self, tenant_id: int, user_pk: int, metric_id: int, day: date) -> bool:
        row = await self._conn.fetchrow(
            "INSERT INTO metric_day (tenant_id, user_id, metric_id, day) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (user_id, day, metric_id) DO NOTHING RETURNING id",
            tenant_id,
            user_pk,
            metric_id,
            day,
        )
        return row is not None

    async def streak_days(self, user_pk: int, metric_ids: Sequence[int]) -> list[date]:
        rows = await self._conn.fetch(
            "SELECT DISTINCT day FROM metric_day "
            f"WHERE user_id = $1 AND {days_condition(metric_ids, 2)}",
            user_pk,
            *metric_ids,
        )
        return [as_date(r["day"]) for r in rows]

    async def freeze_grants(self, user_pk: int) -> list[ApiGrant]:
        rows = await self._conn.fetch(
            "SELECT day, count FROM streak_freeze_grant WHERE user_id = $1 ORDER BY day, id",
            user_pk,
        )
        return [ApiGrant(as_date(r["day"]), int(r["count"])) for r in rows]

    async def add_freeze_grant(self, tenant_id: int, user_pk: int, grant: ApiGrant) -> None:
        await self._conn.execute(
            "INSERT INTO streak_freeze_grant (tenant_id, user_id, day, count) "
            "VALUES ($1, $2, $3, $4)",
            tenant_id,
            user_pk,
            grant.day,
            grant.count,
        )

    async def save_streak_state(
        self, tenant_id: int, user_pk: int, state: StreakState, due_at: datetime | None
    ) -> None:
        ledger = state.ledger
        assert ledger is not None, "only evaluated ledgers are saved"
        await self._conn.execute(
            f"INSERT INTO streak_state (tenant_id, user_id, {STATE_COLUMNS}, due_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, "
            "settled = excluded.settled, earned_through = excluded.earned_through, "
            "balance = excluded.balance, chain_start = excluded.chain_start, "
            "chain_last = excluded.chain_last, chain_active = excluded.chain_active, "
            "longest = excluded.longest, due_at = excluded.due_at",
            tenant_id,
            user_pk,
            state.version,
            ledger.settled,
            ledger.earned_through,
            ledger.balance,
            ledger.chain_start,
            ledger.chain_last,
            ledger.chain_active,
            ledger.longest,
            due_at,
        )

    async def lock_user(self, tenant_id: int, user_id: str) -> model.User | None:
        return await self._locked_user("tenant_id = $1 AND external_id = $2", tenant_id, user_id)

    async def lock_user_pk(self, user_pk: int) -> model.User | None:
        return await self._locked_user("id = $1", user_pk)

    async def _locked_user(self, where: str, *args: object) -> model.User | None:
        """The user's row, locked as an event's upsert locks it (SQLite has one writer)."""
        lock = " FOR UPDATE" if self._pg else ""
        row = await self._conn.fetchrow(
            f"SELECT {USER_COLUMNS} FROM app_user WHERE {where}{lock}", *args
        )
        return None if row is None else user_from_row(row)

    async def due_streaks(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        rows = await self._conn.fetch(
            "SELECT tenant_id, user_id FROM streak_state WHERE due_at <= $1 "
            "ORDER BY due_at LIMIT $2",
            now,
            limit,
        )
        return [(int(r["tenant_id"]), int(r["user_id"])) for r in rows]

    async def current_streak_settings(self, tenant_id: int) -> model.StreakSettings | None:
        return await settings_of(self._conn, tenant_id)

    async def clear_streak_due(self, user_pk: int) -> None:
        await self._conn.execute(
            "UPDATE streak_state SET due_at = NULL WHERE user_id = $1", user_pk
        )

    async def streak_achievements_between(
        self, tenant_id: int, above: int, up_to: int
    ) -> list[model.Achievement]:
        """STREAK achievements whose length a longest streak growing from `above` to `up_to`
        reached: the streak's counterpart of a metric threshold crossing."""
        return await achievements_where(
            self._conn,
            "tenant_id = $1 AND trigger_kind = 'STREAK' AND status = 'ACTIVE' "
            "AND streak_length > $2 AND streak_length <= $3",
            tenant_id,
            above,
            up_to,
        )
