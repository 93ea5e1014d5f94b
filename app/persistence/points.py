"""Points on the write path: the program an operation reads, the marks and totals it moves.

`PointsRows.lock_points_totals` makes each (user, system) total row if missing and locks it
(`ON CONFLICT DO UPDATE` locks on PostgreSQL; SQLite has one writer), so the operation that
holds it computes the running totals of its awards from a value nobody else can move, and
concurrent awards to one user queue in one order. Marks are read and written under the lock of
the total they follow (the metric total, or the user's row for streaks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.domain.attributes import Attribute
from app.domain.points import (
    AchievementRule,
    BoostScope,
    MetricRule,
    PointsAward,
    PointsBoost,
    PointsLevel,
    PointsProgram,
    PointsRounding,
    PointsRule,
    PointsSystem,
    PointsTimeUnit,
    PointsTrigger,
    PointsTriggerStatus,
    PointsTriggerType,
    StreakRule,
    TimeRule,
    UserCreationRule,
)
from app.domain.ports import NewAward, PointsMark
from app.persistence.codec import as_date, as_datetime, load_attributes, placeholders
from app.persistence.database import Connection, Row
from app.persistence.transaction import Statements

SYSTEM_COLUMNS = "id, key, name, description, badge_url, max_points"
TRIGGER_COLUMNS = (
    "id, system_id, key, type, points, status, ever_active, user_attributes, metric_id, "
    "metric_threshold, event_attr_key, event_attr_value, block_if_out_of_points, "
    "achievement_id, streak_length, every_multiple, time_unit, time_interval"
)
LEVEL_COLUMNS = "id, system_id, key, name, description, badge_url, points"
BOOST_COLUMNS = (
    'b.id, b.system_id, b.key, b.name, b.multiplier, b.start, b."end", b.rounding, b.scope, '
    "b.user_id, u.external_id, b.user_attributes, b.archived"
)
AWARD_COLUMNS = "id, system_id, trigger_id, awarded, total, awarded_at, multiplier, boost_ids"


async def program_of(conn: Connection, tenant_id: int) -> PointsProgram:
    """Four indexed queries; a tenant without points systems costs one."""
    systems = await conn.fetch(
        f"SELECT {SYSTEM_COLUMNS} FROM points_system WHERE tenant_id = $1 ORDER BY id", tenant_id
    )
    if not systems:
        return PointsProgram()
    triggers = await conn.fetch(
        f"SELECT {TRIGGER_COLUMNS} FROM points_trigger WHERE tenant_id = $1 ORDER BY id",
        tenant_id,
    )
    levels = await conn.fetch(
        f"SELECT {LEVEL_COLUMNS} FROM points_level WHERE tenant_id = $1 ORDER BY points",
        tenant_id,
    )
    boosts = await conn.fetch(
        f"SELECT {BOOST_COLUMNS} FROM points_boost b LEFT JOIN app_user u ON u.id = b.user_id "
        "WHERE b.tenant_id = $1 ORDER BY b.start, b.id",
        tenant_id,
    )
    return PointsProgram(
        systems=tuple(system_from_row(r) for r in systems),
        triggers=tuple(trigger_from_row(r) for r in triggers),
        levels=tuple(level_from_row(r) for r in levels),
        boosts=tuple(boost_from_row(r) for r in boosts),
    )


def system_from_row(row: Row) -> PointsSystem:
    return PointsSystem(
        id=int(row["id"]),
        key=row["key"],
        name=row["name"],
        description=row["description"],
        badge_url=row["badge_url"],
        max_points=row["max_points"],
    )


def trigger_from_row(row: Row) -> PointsTrigger:
    return PointsTrigger(
        id=int(row["id"]),
        system_id=int(row["system_id"]),
        key=row["key"],
        points=int(row["points"]),
        status=PointsTriggerStatus(row["status"]),
        rule=_rule_from_row(row),
        user_attributes=load_attributes(row["user_attributes"]),
        ever_active=bool(row["ever_active"]),
    )


def _rule_from_row(row: Row) -> PointsRule:
    kind = PointsTriggerType(row["type"])
    if kind is PointsTriggerType.METRIC:
        key = row["event_attr_key"]
        return MetricRule(
            metric_id=int(row["metric_id"]),
            threshold=float(row["metric_threshold"]),
            event_attribute=Attribute(key, row["event_attr_value"]) if key else None,
            block_if_out_of_points=bool(row["block_if_out_of_points"]),
        )
    if kind is PointsTriggerType.ACHIEVEMENT:
        return AchievementRule(int(row["achievement_id"]))
    if kind is PointsTriggerType.STREAK:
        return StreakRule(int(row["streak_length"]), bool(row["every_multiple"]))
    if kind is PointsTriggerType.TIME:
        return TimeRule(PointsTimeUnit(row["time_unit"]), int(row["time_interval"]))
    return UserCreationRule()


def rule_columns(rule: PointsRule) -> dict[str, Any]:
    """Every rule column, None where the rule has none: what a trigger row stores."""
    columns: dict[str, Any] = {
        "type": PointsTriggerType.USER_CREATION.value,
        "metric_id": None,
        "metric_threshold": None,
        "event_attr_key": None,
        "event_attr_value": None,
        "block_if_out_of_points": False,
        "achievement_id": None,
        "streak_length": None,
        "every_multiple": True,
        "time_unit": None,
        "time_interval": None,
    }
    match rule:
        case MetricRule():
            attribute = rule.event_attribute
            columns.update(
                type=PointsTriggerType.METRIC.value,
                metric_id=rule.metric_id,
                metric_threshold=rule.threshold,
                event_attr_key=attribute.key if attribute else None,
                event_attr_value=attribute.value if attribute else None,
                block_if_out_of_points=rule.block_if_out_of_points,
            )
        case AchievementRule():
            columns.update(
                type=PointsTriggerType.ACHIEVEMENT.value, achievement_id=rule.achievement_id
            )
        case StreakRule():
            columns.update(
                type=PointsTriggerType.STREAK.value,
                streak_length=rule.length,
                every_multiple=rule.every_multiple,
            )
        case TimeRule():
            columns.update(
                type=PointsTriggerType.TIME.value,
                time_unit=rule.unit.value,
                time_interval=rule.interval,
            )
    return columns


def level_from_row(row: Row) -> PointsLevel:
    return PointsLevel(
        id=int(row["id"]),
        system_id=int(row["system_id"]),
        key=row["key"],
        name=row["name"],
        points=int(row["points"]),
        description=row["description"],
        badge_url=row["badge_url"],
    )


def boost_from_row(row: Row) -> PointsBoost:
    end = row["end"]
    return PointsBoost(
        id=int(row["id"]),
        system_id=int(row["system_id"]),
        key=row["key"],
        name=row["name"],
        multiplier=Decimal(row["multiplier"]),
        start=as_date(row["start"]),
        end=as_date(end) if end is not None else None,
        rounding=PointsRounding(row["rounding"]),
        scope=BoostScope(row["scope"]),
        user_pk=row["user_id"],
        user_id=row["external_id"],
        user_attributes=load_attributes(row["user_attributes"]),
        archived=bool(row["archived"]),
    )


def award_from_row(row: Row) -> PointsAward:
    return PointsAward(
        id=int(row["id"]),
        system_id=int(row["system_id"]),
        trigger_id=int(row["trigger_id"]),
        awarded=int(row["awarded"]),
        total=int(row["total"]),
        awarded_at=as_datetime(row["awarded_at"]),
        multiplier=Decimal(row["multiplier"]),
        boost_ids=tuple(json.loads(row["boost_ids"])),
    )


class PointsRows(Statements):
    async def points_program(self, tenant_id: int) -> PointsProgram:
        return await program_of(self._conn, tenant_id)

    async def points_marks(self, user_pk: int, trigger_ids: Sequence[int]) -> dict[int, PointsMark]:
        rows = await self._conn.fetch(
            "SELECT trigger_id, mark, since FROM points_mark "
            f"WHERE user_id = $1 AND trigger_id IN ({placeholders(trigger_ids)})",
            user_pk,
            *trigger_ids,
        )
        return {
            int(r["trigger_id"]): PointsMark(
                int(r["mark"]), as_date(r["since"]) if r["since"] is not None else None
            )
            for r in rows
        }

    async def save_points_marks(
        self, tenant_id: int, user_pk: int, marks: Mapping[int, PointsMark]
    ) -> None:
        items = sorted(marks.items())
        values = ", ".join(
            f"($1, $2, ${3 * i + 3}, ${3 * i + 4}, ${3 * i + 5})" for i in range(len(items))
        )
        await self._conn.execute(
            f"INSERT INTO points_mark (tenant_id, user_id, trigger_id, mark, since) "
            f"VALUES {values} ON CONFLICT (user_id, trigger_id) DO UPDATE SET "
            "mark = excluded.mark, since = excluded.since",
            tenant_id,
            user_pk,
            *(v for trigger_id, m in items for v in (trigger_id, m.mark, m.since)),
        )

    async def lock_points_totals(
        self, tenant_id: int, user_pk: int, system_ids: Sequence[int]
    ) -> dict[int, int]:
        values = ", ".join(f"($1, $2, ${i + 3}, 0)" for i in range(len(system_ids)))
        rows = await self._conn.fetch(
            f"INSERT INTO user_points (tenant_id, user_id, system_id, total) VALUES {values} "
            "ON CONFLICT (user_id, system_id) DO UPDATE SET total = user_points.total "
            "RETURNING system_id, total",
            tenant_id,
            user_pk,
            *sorted(system_ids),
        )
        return {int(r["system_id"]): int(r["total"]) for r in rows}

    async def save_points(
        self,
        tenant_id: int,
        user_pk: int,
        totals: Mapping[int, int],
        awards: Sequence[NewAward],
        now: datetime,
        *,
        silent: bool,
    ) -> list[PointsAward]:
        for system_id, total in sorted(totals.items()):
            await self._conn.execute(
                "UPDATE user_points SET total = $3 WHERE user_id = $1 AND system_id = $2",
                user_pk,
                system_id,
                total,
            )
        width = 8
        values = ", ".join(
            "($1, $2, $3, " + ", ".join(f"${width * i + 4 + j}" for j in range(width)) + ")"
            for i in range(len(awards))
        )
        rows = await self._conn.fetch(
            "INSERT INTO points_award (tenant_id, user_id, silent, system_id, trigger_id, "
            "awarded, total, awarded_at, multiplier, boost_ids, created_at) "
            f"VALUES {values} RETURNING {AWARD_COLUMNS}",
            tenant_id,
            user_pk,
            silent,
            *(
                v
                for a in awards
                for v in (
                    a.system_id,
                    a.trigger_id,
                    a.awarded,
                    a.total,
                    a.awarded_at,
                    str(a.multiplier),
                    json.dumps(list(a.boost_ids)),
                    now,
                )
            ),
        )
        return sorted((award_from_row(r) for r in rows), key=lambda a: a.id)
