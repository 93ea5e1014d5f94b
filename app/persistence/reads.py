"""The `ReadStore` port in SQL: every method is one or two queries for any number of keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from app.domain import model
from app.domain.ports import Standing, StoredStreak
from app.domain.streak_ledger import ApiGrant
from app.persistence.catalogue import achievements_by_ids
from app.persistence.catalogue_reads import CatalogueReads
from app.persistence.codec import (
    USER_COLUMNS,
    as_date,
    as_datetime,
    metric_from_row,
    placeholders,
    prefixed,
    user_from_row,
)
from app.persistence.database import Connection, Database
from app.persistence.streaks import STATE_COLUMNS, days_condition, settings_of, state_from_row


class SqlReadStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._catalogues = CatalogueReads()

    async def achievements_by_ids(
        self, tenant_id: int, ids: Sequence[int]
    ) -> list[model.Achievement]:
        if not ids:
            return []
        async with self._db.connection() as conn:
            return await achievements_by_ids(conn, tenant_id, ids)

    async def metrics_by_ids(self, tenant_id: int, ids: Sequence[int]) -> list[model.Metric]:
        if not ids:
            return []
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                "SELECT id, key, name, unit FROM metric "
                f"WHERE tenant_id = $1 AND id IN ({placeholders(ids)})",
                tenant_id,
                *ids,
            )
        return [metric_from_row(r) for r in rows]

    async def tenant_metrics(self, tenant_id: int) -> list[model.Metric]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                "SELECT id, key, name, unit FROM metric WHERE tenant_id = $1 ORDER BY id",
                tenant_id,
            )
        return [metric_from_row(r) for r in rows]

    async def user_counts(self, tenant_ids: Sequence[int]) -> dict[int, int]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT id, user_count FROM tenant WHERE id IN ({placeholders(tenant_ids, 1)})",
                *tenant_ids,
            )
        return {r["id"]: int(r["user_count"]) for r in rows}

    async def tenant_achievements(self, tenant_id: int) -> list[model.Achievement]:
        async with self._db.connection() as conn:
            return await self._catalogues.tenant_achievements(conn, tenant_id)

    async def streak_settings(self, tenant_id: int) -> model.StreakSettings | None:
        async with self._db.connection() as conn:
            return await settings_of(conn, tenant_id)

    async def streak_days(self, user_pk: int, metric_ids: Sequence[int]) -> list[date]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                "SELECT DISTINCT day FROM metric_day "
                f"WHERE user_id = $1 AND {days_condition(metric_ids, 2)}",
                user_pk,
                *metric_ids,
            )
        return [as_date(r["day"]) for r in rows]

    async def freeze_grants(self, user_pk: int) -> list[ApiGrant]:
        async with self._db.connection() as conn:
            return (await _grants_of(conn, [user_pk])).get(user_pk, [])

    async def completions_by_day(
        self, tenant_id: int, achievement_ids: Sequence[int], since: date
    ) -> dict[int, dict[date, int]]:
        if not achievement_ids:
            return {}
        async with self._db.connection() as conn:
            day = (
                "(completed_at AT TIME ZONE 'UTC')::date"
                if conn.dialect == "postgres"
                else "substr(completed_at, 1, 10)"
            )
            rows = await conn.fetch(
                f"SELECT achievement_id, {day} AS day, COUNT(*) AS n FROM completion "
                f"WHERE tenant_id = $1 AND achievement_id IN ({placeholders(achievement_ids)}) "
                f"AND completed_at >= ${len(achievement_ids) + 2} "
                f"GROUP BY achievement_id, {day}",
                tenant_id,
                *achievement_ids,
                datetime.combine(since, time(), UTC),
            )
        found: dict[int, dict[date, int]] = defaultdict(dict)
        for row in rows:
            found[int(row["achievement_id"])][as_date(row["day"])] = int(row["n"])
        return found

    async def standings(self, tenant_id: int, user_ids: Sequence[str]) -> dict[str, Standing]:
        """Users, completions, totals, streak runs: four or five queries for any number of users."""
        if not user_ids:
            return {}
        async with self._db.connection() as conn:
            users = await conn.fetch(
                f"SELECT {USER_COLUMNS} FROM app_user "
                f"WHERE tenant_id = $1 AND external_id IN ({placeholders(user_ids)})",
                tenant_id,
                *user_ids,
            )
            if not users:
                return {}
            pks = [u["id"] for u in users]
            marks = placeholders(pks, 1)
            completions = await conn.fetch(
                f"SELECT user_id, achievement_id, completed_at FROM completion "
                f"WHERE user_id IN ({marks}) ORDER BY completed_at, id",
                *pks,
            )
            totals = await conn.fetch(
                f"SELECT user_id, metric_id, attr_key, attr_value, total FROM metric_total "
                f"WHERE user_id IN ({marks})",
                *pks,
            )
            streaks = await stored_streaks(conn, tenant_id, pks)
        return _assemble_standings(users, completions, totals, streaks)


async def stored_streaks(
    conn: Connection, tenant_id: int, pks: Sequence[int]
) -> dict[int, StoredStreak]:
    """Stored ledgers; for those evaluated under older settings (the streak clock re-evaluates
    them soon after a change), also the days and grants to evaluate them from now. Two more
    queries cover every such user, so reads stay constant in queries."""
    rows = await conn.fetch(
        f"SELECT s.user_id, {prefixed('s', STATE_COLUMNS)}, c.version AS configured "
        "FROM streak_state s JOIN streak_config c ON c.tenant_id = s.tenant_id "
        f"WHERE s.user_id IN ({placeholders(pks, 1)})",
        *pks,
    )
    states = {int(r["user_id"]): state_from_row(r) for r in rows}
    stale = [
        int(r["user_id"])
        for r in rows
        if r["settled"] is None or int(r["version"]) != int(r["configured"])
    ]
    if not stale:
        return {pk: StoredStreak(state) for pk, state in states.items()}
    settings = await settings_of(conn, tenant_id)
    assert settings is not None, "the states were joined to it"
    metric_ids = settings.metric_ids
    day_rows = await conn.fetch(
        "SELECT DISTINCT user_id, day FROM metric_day "
        f"WHERE user_id IN ({placeholders(stale, 1)}) "
        f"AND {days_condition(metric_ids, len(stale) + 1)}",
        *stale,
        *metric_ids,
    )
    days: dict[int, list[date]] = defaultdict(list)
    for row in day_rows:
        days[int(row["user_id"])].append(as_date(row["day"]))
    grants = await _grants_of(conn, stale)
    return {
        pk: StoredStreak(state, days.get(pk, []), grants.get(pk, []))
        for pk, state in states.items()
    }


async def _grants_of(conn: Connection, pks: Sequence[int]) -> dict[int, list[ApiGrant]]:
    rows = await conn.fetch(
        "SELECT user_id, day, count FROM streak_freeze_grant "
        f"WHERE user_id IN ({placeholders(pks, 1)}) ORDER BY day, id",
        *pks,
    )
    found: dict[int, list[ApiGrant]] = defaultdict(list)
    for row in rows:
        found[int(row["user_id"])].append(ApiGrant(as_date(row["day"]), int(row["count"])))
    return found


def _assemble_standings(
    users: list[dict[str, Any]],
    completions: list[dict[str, Any]],
    totals: list[dict[str, Any]],
    streaks: dict[int, StoredStreak],
) -> dict[str, Standing]:
    completed: dict[int, dict[int, Any]] = defaultdict(dict)
    for row in completions:
        completed[row["user_id"]][row["achievement_id"]] = as_datetime(row["completed_at"])
    sums: dict[int, dict[tuple[int, model.Attribute | None], float]] = defaultdict(dict)
    for row in totals:
        attribute = model.Attribute(row["attr_key"], row["attr_value"]) if row["attr_key"] else None
        sums[row["user_id"]][(row["metric_id"], attribute)] = float(row["total"])
    result: dict[str, Standing] = {}
    for row in users:
        user = user_from_row(row)
        result[user.id] = Standing(
            user=user,
            completed_at=completed.get(user.pk, {}),
            totals=sums.get(user.pk, {}),
            streak=streaks.get(user.pk),
        )
    return result
