"""The `ReadStore` port in SQL: every method is one or two queries for any number of keys."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from app.domain import model
from app.domain.ports import Standing
from app.domain.streaks import StreakFrequency, StreakRun, latest_run
from app.persistence.catalogue import achievements_by_ids, achievements_where
from app.persistence.codec import (
    USER_COLUMNS,
    as_date,
    as_datetime,
    metric_from_row,
    placeholders,
    user_from_row,
)
from app.persistence.database import Connection, Database


class SqlReadStore:
    def __init__(self, database: Database) -> None:
        self._db = database

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
            return await achievements_where(conn, "tenant_id = $1 ORDER BY id", tenant_id)

    async def streak_settings(self, tenant_id: int) -> model.StreakSettings | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT frequency, metric_ids FROM streak_config WHERE tenant_id = $1", tenant_id
            )
        if row is None:
            return None
        return model.StreakSettings(
            frequency=StreakFrequency(row["frequency"]),
            metric_ids=tuple(json.loads(row["metric_ids"])),
        )

    async def streak_days(self, user_pk: int) -> list[date]:
        async with self._db.connection() as conn:
            rows = await conn.fetch("SELECT day FROM streak_day WHERE user_id = $1", user_pk)
        return [as_date(r["day"]) for r in rows]

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
            streaks = await conn.fetch(
                "SELECT s.user_id, s.frequency, s.run_start, s.run_last, s.run_length, "
                "c.frequency AS configured FROM streak_state s "
                "LEFT JOIN streak_config c ON c.tenant_id = s.tenant_id "
                f"WHERE s.user_id IN ({marks})",
                *pks,
            )
            runs = await _current_runs(conn, streaks)
        return _assemble_standings(users, completions, totals, runs)


async def _current_runs(conn: Connection, streaks: list[dict[str, Any]]) -> dict[int, StreakRun]:
    """Runs stored for a frequency the tenant has since changed are rebuilt from the days.

    The event path rewrites a user's run on their next event; until then the stored one would
    be wrong. One extra query covers every such user, so reads stay constant in queries.
    """
    runs: dict[int, StreakRun] = {}
    stale: dict[int, StreakFrequency] = {}
    for row in streaks:
        if row["configured"] is not None and row["configured"] != row["frequency"]:
            stale[row["user_id"]] = StreakFrequency(row["configured"])
        elif row["run_last"] is not None:
            runs[row["user_id"]] = StreakRun(
                start=as_date(row["run_start"]),
                last=as_date(row["run_last"]),
                length=int(row["run_length"]),
            )
    if not stale:
        return runs
    rows = await conn.fetch(
        f"SELECT user_id, day FROM streak_day WHERE user_id IN ({placeholders(list(stale), 1)})",
        *stale,
    )
    days: dict[int, list[date]] = defaultdict(list)
    for row in rows:
        days[row["user_id"]].append(as_date(row["day"]))
    for user_pk, frequency in stale.items():
        run = latest_run(days[user_pk], frequency)
        if run is not None:
            runs[user_pk] = run
    return runs


def _assemble_standings(
    users: list[dict[str, Any]],
    completions: list[dict[str, Any]],
    totals: list[dict[str, Any]],
    runs: dict[int, StreakRun],
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
            streak=runs.get(user.pk),
        )
    return result
