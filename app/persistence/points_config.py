"""The points configuration store: systems, triggers, levels and boosts, and the program read.

Levels are not stored per user: a user's level is read from their total against the levels of
the moment, so creating, changing or deleting a level moves every user at once, silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from app.domain.boost_clock import first_due
from app.domain.errors import BadUserInput
from app.domain.points import PointsBoost, PointsLevel, PointsProgram, PointsSystem, PointsTrigger
from app.persistence.codec import dump_attributes
from app.persistence.database import Connection, Database, IntegrityViolation
from app.persistence.points import (
    LEVEL_COLUMNS,
    SYSTEM_COLUMNS,
    TRIGGER_COLUMNS,
    level_from_row,
    program_of,
    rule_columns,
    system_from_row,
    trigger_from_row,
)

DUPLICATE = "the key (or the level's threshold) is taken"


class SqlPointsStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def points_program(self, tenant_id: int) -> PointsProgram:
        async with self._db.connection() as conn:
            return await program_of(conn, tenant_id)

    async def metric_id(self, tenant_id: int, key: str) -> int | None:
        return await self._id(
            "SELECT id FROM metric WHERE tenant_id = $1 AND key = $2", tenant_id, key
        )

    async def achievement_id(self, tenant_id: int, key: str) -> int | None:
        return await self._id(
            "SELECT id FROM achievement WHERE tenant_id = $1 AND key = $2", tenant_id, key
        )

    async def user_pk(self, tenant_id: int, user_id: str) -> int | None:
        return await self._id(
            "SELECT id FROM app_user WHERE tenant_id = $1 AND external_id = $2", tenant_id, user_id
        )

    async def _id(self, sql: str, *args: object) -> int | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(sql, *args)
        return int(row["id"]) if row else None

    async def save_system(self, tenant_id: int, system: PointsSystem) -> PointsSystem:
        values = (system.name, system.description, system.badge_url, system.max_points)
        async with self._write() as conn:
            if system.id:
                row = await conn.fetchrow(
                    "UPDATE points_system SET name = $3, description = $4, badge_url = $5, "
                    f"max_points = $6 WHERE tenant_id = $1 AND id = $2 RETURNING {SYSTEM_COLUMNS}",
                    tenant_id,
                    system.id,
                    *values,
                )
            else:
                row = await conn.fetchrow(
                    "INSERT INTO points_system (tenant_id, key, name, description, badge_url, "
                    f"max_points, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                    f"RETURNING {SYSTEM_COLUMNS}",
                    tenant_id,
                    system.key,
                    *values,
                    datetime.now(UTC),
                )
        assert row is not None
        return system_from_row(row)

    async def save_trigger(self, tenant_id: int, trigger: PointsTrigger) -> PointsTrigger:
        columns = {
            "points": trigger.points,
            "status": trigger.status.value,
            "ever_active": trigger.ever_active,
            "user_attributes": dump_attributes(trigger.user_attributes),
            "updated_at": datetime.now(UTC),
            **rule_columns(trigger.rule),
        }
        names = list(columns)
        async with self._write() as conn:
            if trigger.id:
                sets = ", ".join(f"{n} = ${i + 3}" for i, n in enumerate(names))
                row = await conn.fetchrow(
                    f"UPDATE points_trigger SET {sets} WHERE tenant_id = $1 AND id = $2 "
                    f"RETURNING {TRIGGER_COLUMNS}",
                    tenant_id,
                    trigger.id,
                    *columns.values(),
                )
            else:
                marks = ", ".join(f"${i + 5}" for i in range(len(names)))
                row = await conn.fetchrow(
                    f"INSERT INTO points_trigger (tenant_id, system_id, key, created_at, "
                    f"{', '.join(names)}) VALUES ($1, $2, $3, $4, {marks}) "
                    f"RETURNING {TRIGGER_COLUMNS}",
                    tenant_id,
                    trigger.system_id,
                    trigger.key,
                    columns["updated_at"],
                    *columns.values(),
                )
        assert row is not None
        return trigger_from_row(row)

    async def save_level(self, tenant_id: int, level: PointsLevel) -> PointsLevel:
        values = (level.name, level.description, level.badge_url, level.points)
        async with self._write() as conn:
            if level.id:
                row = await conn.fetchrow(
                    "UPDATE points_level SET name = $3, description = $4, badge_url = $5, "
                    f"points = $6 WHERE tenant_id = $1 AND id = $2 RETURNING {LEVEL_COLUMNS}",
                    tenant_id,
                    level.id,
                    *values,
                )
            else:
                row = await conn.fetchrow(
                    "INSERT INTO points_level (tenant_id, system_id, key, name, description, "
                    f"badge_url, points) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                    f"RETURNING {LEVEL_COLUMNS}",
                    tenant_id,
                    level.system_id,
                    level.key,
                    *values,
                )
        assert row is not None
        return level_from_row(row)

    async def delete_level(self, tenant_id: int, level_id: int) -> None:
        async with self._write() as conn:
            await conn.execute(
                "DELETE FROM points_level WHERE tenant_id = $1 AND id = $2", tenant_id, level_id
            )

    async def save_boost(self, tenant_id: int, boost: PointsBoost) -> PointsBoost:
        """The boost clock's next look follows the dates: a change of dates moves it, and a
        transition already announced is not announced again."""
        values = (
            boost.name,
            str(boost.multiplier),
            boost.start,
            boost.end,
            boost.rounding.value,
            boost.scope.value,
            boost.user_pk,
            dump_attributes(boost.user_attributes),
            boost.archived,
            first_due(boost),
        )
        instant = "::timestamptz" if self._db.dialect == "postgres" else ""
        async with self._write() as conn:
            if boost.id:
                row = await conn.fetchrow(
                    'UPDATE points_boost SET name = $3, multiplier = $4, start = $5, "end" = $6, '
                    "rounding = $7, scope = $8, user_id = $9, user_attributes = $10, "
                    "archived = $11, due_at = CASE WHEN finished_sent THEN NULL "
                    f"WHEN started_sent THEN $13{instant} ELSE $12{instant} END "
                    "WHERE tenant_id = $1 AND id = $2 RETURNING id",
                    tenant_id,
                    boost.id,
                    *values,
                    first_due(boost, started_sent=True),
                )
            else:
                row = await conn.fetchrow(
                    "INSERT INTO points_boost (tenant_id, system_id, key, name, multiplier, "
                    'start, "end", rounding, scope, user_id, user_attributes, archived, '
                    "due_at, created_at, started_sent, finished_sent) VALUES ($1, $2, $3, $4, "
                    "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, FALSE, FALSE) RETURNING id",
                    tenant_id,
                    boost.system_id,
                    boost.key,
                    *values,
                    datetime.now(UTC),
                )
            assert row is not None
            stored = await program_of(conn, tenant_id)
        return next(b for b in stored.boosts if b.id == int(row["id"]))

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Connection]:
        """A write transaction whose unique-key refusals read as BAD_USER_INPUT: the checks
        before it lost a race to a concurrent request with the same key."""
        try:
            async with self._db.transaction() as conn:
                yield conn
        except IntegrityViolation as exc:
            raise BadUserInput(DUPLICATE) from exc
