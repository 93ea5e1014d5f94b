"""The `ReadStore` port in SQL: every method is one or two queries for any number of keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import orjson

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
        """Users with their completions, totals and streak ledgers in one statement for any
        number of users (a round trip each was most of a profile read on PostgreSQL); two more
        only for ledgers evaluated under older settings."""
        if not user_ids:
            return {}
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                _standings_sql(conn.dialect, placeholders(user_ids)), tenant_id, *user_ids
            )
            streaks = await _streaks_from(
                conn, tenant_id, [r for r in rows if r["configured"] is not None]
            )
        return {
            standing.user.id: standing
            for standing in (_standing_from(row, streaks.get(row["id"])) for row in rows)
        }


# Completions (in completion order) and totals of each user as JSON arrays in its row; the
# completion instants in UTC without an offset, whatever the session's time zone.
_AGGREGATES = {
    "postgres": (
        "(SELECT json_agg(json_build_array(c.achievement_id, c.completed_at AT TIME ZONE 'UTC') "
        "ORDER BY c.completed_at, c.id)::text FROM completion c WHERE c.user_id = u.id)",
        "(SELECT json_agg(json_build_array(t.metric_id, t.attr_key, t.attr_value, t.total))::text "
        "FROM metric_total t WHERE t.user_id = u.id)",
    ),
    "sqlite": (
        "(SELECT json_group_array(json_array(achievement_id, completed_at)) FROM (SELECT "
        "c.achievement_id, c.completed_at FROM completion c WHERE c.user_id = u.id "
        "ORDER BY c.completed_at, c.id))",
        "(SELECT json_group_array(json_array(t.metric_id, t.attr_key, t.attr_value, t.total)) "
        "FROM metric_total t WHERE t.user_id = u.id)",
    ),
}


def _standings_sql(dialect: str, user_marks: str) -> str:
    completions, totals = _AGGREGATES[dialect]
    return (
        f"SELECT {prefixed('u', USER_COLUMNS)}, {completions} AS completions, "
        f"{totals} AS totals, s.user_id AS streak_user, {prefixed('s', STATE_COLUMNS)}, "
        "c.version AS configured FROM app_user u "
        "LEFT JOIN streak_state s ON s.user_id = u.id "
        "LEFT JOIN streak_config c ON c.tenant_id = s.tenant_id "
        f"WHERE u.tenant_id = $1 AND u.external_id IN ({user_marks})"
    )


def _standing_from(row: Mapping[str, Any], streak: StoredStreak | None) -> Standing:
    completed = {
        int(achievement_id): as_datetime(completed_at)
        for achievement_id, completed_at in orjson.loads(row["completions"] or "[]")
    }
    totals: dict[tuple[int, model.Attribute | None], float] = {}
    for metric_id, attr_key, attr_value, total in orjson.loads(row["totals"] or "[]"):
        attribute = model.Attribute(attr_key, attr_value) if attr_key else None
        totals[(int(metric_id), attribute)] = float(total)
    return Standing(user=user_from_row(row), completed_at=completed, totals=totals, streak=streak)


async def stored_streaks(
    conn: Connection, tenant_id: int, pks: Sequence[int]
) -> dict[int, StoredStreak]:
    """The ledgers of these users, by user pk."""
    rows = await conn.fetch(
        f"SELECT s.user_id AS streak_user, {prefixed('s', STATE_COLUMNS)}, "
        "c.version AS configured FROM streak_state s "
        "JOIN streak_config c ON c.tenant_id = s.tenant_id "
        f"WHERE s.user_id IN ({placeholders(pks, 1)})",
        *pks,
    )
    return await _streaks_from(conn, tenant_id, rows)


async def _streaks_from(
    conn: Connection, tenant_id: int, rows: Sequence[Mapping[str, Any]]
) -> dict[int, StoredStreak]:
    """Stored ledgers, from rows that carry a state, its user (`streak_user`) and the settings'
    version (`configured`); for those evaluated under older settings (the streak clock
    re-evaluates them soon after a change), also the days and grants to evaluate them from now.
    Two more queries cover every such user, so reads stay constant in queries."""
    states = {int(r["streak_user"]): state_from_row(r) for r in rows}
    stale = [
        int(r["streak_user"])
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
