"""Points configuration as stored: the program an operation reads (systems, triggers, levels,
boosts) in four indexed queries, and the row mappers that the admin side and the ledger's
readers share. The write path is `points_writes`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

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
from app.persistence.codec import as_date, as_datetime, load_attributes
from app.persistence.database import Connection, Row

SYSTEM_COLUMNS = "id, key, name, description, badge_url, max_points"
TRIGGER_COLUMNS = (
    "id, system_id, key, type, points, status, ever_active, user_attributes, metric_id, "
    "metric_threshold, event_attr_key, event_attr_value, block_if_out_of_points, "
    "achievement_id, streak_length, every_multiple, time_unit, time_interval, created_at, "
    "updated_at"
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
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
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
        boost_ids=tuple(orjson.loads(row["boost_ids"])),
    )
