"""Points on the write path: the program an operation reads, the marks and totals it moves.

An operation reads its user's row of each system it may award in (the total, and what each of
the system's triggers has spent) in one statement, and writes back the rows it moved and its
awards with one more (two on SQLite, whose statements cost no round trip). What it read
stays true until it writes because every operation awarding to a user holds that user's row
lock (PostgreSQL; SQLite has one writer at a time), so concurrent awards to one user queue in
one order and each sees the totals the previous one left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
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
from app.domain.ports import NewAward, PointsMark, SystemPoints
from app.persistence.codec import as_date, as_datetime, load_attributes, placeholders
from app.persistence.database import Connection, Row
from app.persistence.transaction import Statements

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


def load_marks(text: str | None) -> dict[int, PointsMark]:
    """`{"<trigger id>": [mark, "since" or null]}`."""
    if not text:
        return {}
    return {
        int(trigger_id): PointsMark(int(mark), date.fromisoformat(since) if since else None)
        for trigger_id, (mark, since) in orjson.loads(text).items()
    }


def dump_marks(marks: Mapping[int, PointsMark]) -> str:
    return orjson.dumps(
        {str(t): [m.mark, m.since.isoformat() if m.since else None] for t, m in marks.items()}
    ).decode()


def _totals_upsert(
    tenant_id: int, user_pk: int, systems: Mapping[int, SystemPoints]
) -> tuple[str, list[object]]:
    items = sorted(systems.items())
    values = ", ".join(
        f"($1, $2, ${3 * i + 3}, ${3 * i + 4}, ${3 * i + 5})" for i in range(len(items))
    )
    sql = (
        f"INSERT INTO user_points (tenant_id, user_id, system_id, total, marks) "
        f"VALUES {values} ON CONFLICT (user_id, system_id) DO UPDATE SET "
        "total = excluded.total, marks = excluded.marks"
    )
    args: list[object] = [tenant_id, user_pk]
    args += [v for system_id, row in items for v in (system_id, row.total, dump_marks(row.marks))]
    return sql, args


def _awards_insert(
    tenant_id: int,
    user_pk: int,
    awards: Sequence[NewAward],
    now: datetime,
    silent: bool,
    after: int,
) -> tuple[str, list[object]]:
    """Placeholders numbered from `after + 1`, so that it can follow another statement's."""
    width = 8
    first = after + 1
    values = ", ".join(
        f"(${first}, ${first + 1}, ${first + 2}, "
        + ", ".join(f"${first + 3 + width * i + j}" for j in range(width))
        + ")"
        for i in range(len(awards))
    )
    sql = (
        "INSERT INTO points_award (tenant_id, user_id, silent, system_id, trigger_id, "
        "awarded, total, awarded_at, multiplier, boost_ids, created_at) "
        f"VALUES {values} RETURNING id"
    )
    args: list[object] = [tenant_id, user_pk, silent]
    for a in awards:
        args += [
            a.system_id,
            a.trigger_id,
            a.awarded,
            a.total,
            a.awarded_at,
            str(a.multiplier),
            orjson.dumps(a.boost_ids).decode(),
            now,
        ]
    return sql, args


class PointsRows(Statements):
    async def points_program(self, tenant_id: int) -> PointsProgram:
        return await program_of(self._conn, tenant_id)

    async def expect_points(self, user_pks: Sequence[int], system_ids: Sequence[int]) -> None:
        unread = sorted(set(user_pks) - self._points_known.keys())
        if not unread or not system_ids:
            return
        rows = await self._conn.fetch(
            "SELECT user_id, system_id, total, marks FROM user_points "
            f"WHERE user_id IN ({placeholders(unread, 1)}) "
            f"AND system_id IN ({placeholders(system_ids, len(unread) + 1)})",
            *unread,
            *system_ids,
        )
        systems = frozenset(system_ids)
        for user_pk in unread:
            self._points_known[user_pk] = (systems, {})
        for r in rows:
            self._points_known[int(r["user_id"])][1][int(r["system_id"])] = SystemPoints(
                int(r["total"]), load_marks(r["marks"])
            )

    async def points_state(
        self, user_pk: int, system_ids: Sequence[int]
    ) -> dict[int, SystemPoints]:
        known = self._points_known.get(user_pk)
        if known is not None and known[0].issuperset(system_ids):
            return {s: known[1][s] for s in system_ids if s in known[1]}
        rows = await self._conn.fetch(
            "SELECT system_id, total, marks FROM user_points "
            f"WHERE user_id = $1 AND system_id IN ({placeholders(system_ids)})",
            user_pk,
            *system_ids,
        )
        return {
            int(r["system_id"]): SystemPoints(int(r["total"]), load_marks(r["marks"])) for r in rows
        }

    async def save_points(
        self,
        tenant_id: int,
        user_pk: int,
        systems: Mapping[int, SystemPoints],
        awards: Sequence[NewAward],
        now: datetime,
        *,
        silent: bool,
    ) -> list[PointsAward]:
        known = self._points_known.get(user_pk)
        if known is not None:
            known[1].update(systems)
        totals_sql, args = _totals_upsert(tenant_id, user_pk, systems)
        if not awards:
            await self._conn.execute(totals_sql, *args)
            return []
        if self._pg:
            awards_sql, award_args = _awards_insert(
                tenant_id, user_pk, awards, now, silent, len(args)
            )
            rows = await self._conn.fetch(
                f"WITH t AS ({totals_sql}), a AS ({awards_sql}) SELECT id FROM a",
                *args,
                *award_args,
            )
        else:
            await self._conn.execute(totals_sql, *args)
            awards_sql, award_args = _awards_insert(tenant_id, user_pk, awards, now, silent, 0)
            rows = await self._conn.fetch(awards_sql, *award_args)
        ids = sorted(int(r["id"]) for r in rows)
        return [a.stored(award_id) for award_id, a in zip(ids, awards, strict=True)]

    async def lock_users(self, user_pks: Sequence[int]) -> None:
        """SQLite has one writer at a time: only PostgreSQL needs the row locks."""
        if self._pg and user_pks:
            ordered = sorted(user_pks)
            await self._conn.execute(
                f"SELECT id FROM app_user WHERE id IN ({placeholders(ordered, 1)}) "
                "ORDER BY id FOR UPDATE",
                *ordered,
            )
