"""The read side of points: totals, recent awards, users per level and the histogram.

Each read is a constant number of queries whatever the number of users, levels or awards. Users
never awarded have no total row and count as 0; attribute filters match the stored attribute
list by its exact JSON pair, as every attribute is stored in one canonical form.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.domain.attributes import Attribute
from app.domain.points import PointsAward, PointsLevel
from app.persistence.database import Connection, Database
from app.persistence.points import AWARD_COLUMNS, award_from_row


class SqlPointsReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def totals(self, user_pks: Sequence[int], system_id: int) -> dict[int, int]:
        if not user_pks:
            return {}
        marks = ", ".join(f"${i + 2}" for i in range(len(user_pks)))
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                "SELECT user_id, total FROM user_points "
                f"WHERE system_id = $1 AND user_id IN ({marks})",
                system_id,
                *user_pks,
            )
        return {int(r["user_id"]): int(r["total"]) for r in rows}

    async def awards(self, user_pk: int, system_id: int, limit: int) -> list[PointsAward]:
        """Most recent first, in the order they were applied."""
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {AWARD_COLUMNS} FROM points_award WHERE user_id = $1 AND system_id = $2 "
                "ORDER BY id DESC LIMIT $3",
                user_pk,
                system_id,
                limit,
            )
        return [award_from_row(r) for r in rows]

    async def level_counts(
        self, tenant_id: int, system_id: int, levels: Sequence[PointsLevel]
    ) -> dict[int, int]:
        """Users whose total lies between a level's threshold and the next one's."""
        ordered = sorted(levels, key=lambda lv: lv.points)
        if not ordered:
            return {}
        cases: list[str] = []
        args: list[object] = [system_id]
        for i, level in enumerate(ordered):
            upper = ordered[i + 1].points if i + 1 < len(ordered) else None
            args.append(level.points)
            condition = f"total >= ${len(args)}"
            if upper is not None:
                args.append(upper)
                condition += f" AND total < ${len(args)}"
            cases.append(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS c{i}")
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT COUNT(*) AS stored, {', '.join(cases)} FROM user_points "
                "WHERE system_id = $1",
                *args,
            )
            users = await _user_count(conn, tenant_id, ())
        assert row is not None
        counts = {lv.id: int(row[f"c{i}"] or 0) for i, lv in enumerate(ordered)}
        if ordered[0].points == 0:
            counts[ordered[0].id] += users - int(row["stored"])
        return counts

    async def largest_total(self, system_id: int, user_attributes: Sequence[Attribute]) -> int:
        join, args = _matching(self._db.dialect, user_attributes, first=2)
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT MAX(p.total) AS largest FROM user_points p {join} WHERE p.system_id = $1",
                system_id,
                *args,
            )
        return int(row["largest"] or 0) if row else 0

    async def range_counts(
        self,
        tenant_id: int,
        system_id: int,
        ranges: Sequence[tuple[int, int]],
        user_attributes: Sequence[Attribute],
    ) -> list[int]:
        """Users per inclusive range; users never awarded count in a range holding 0."""
        join, args = _matching(self._db.dialect, user_attributes, first=2)
        bounds: list[object] = []
        cases = []
        for i, (low, high) in enumerate(ranges):
            n = 2 + len(args) + len(bounds)
            bounds += [low, high]
            cases.append(
                f"SUM(CASE WHEN p.total BETWEEN ${n} AND ${n + 1} THEN 1 ELSE 0 END) AS r{i}"
            )
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT COUNT(*) AS stored, {', '.join(cases)} FROM user_points p {join} "
                "WHERE p.system_id = $1",
                system_id,
                *args,
                *bounds,
            )
            users = await _user_count(conn, tenant_id, user_attributes)
        assert row is not None
        counts = [int(row[f"r{i}"] or 0) for i in range(len(ranges))]
        never = users - int(row["stored"])
        for i, (low, _) in enumerate(ranges):
            if low == 0:
                counts[i] += never
        return counts


def _pair(attribute: Attribute) -> str:
    return json.dumps([attribute.key, attribute.value], separators=(",", ":"))


def _contains(dialect: str, column: str, placeholder: str) -> str:
    function = "strpos" if dialect == "postgres" else "instr"
    return f"{function}({column}, {placeholder}) > 0"


def _matching(
    dialect: str, user_attributes: Sequence[Attribute], *, first: int
) -> tuple[str, list[object]]:
    if not user_attributes:
        return "", []
    conditions = " AND ".join(
        _contains(dialect, "u.attributes", f"${first + i}") for i in range(len(user_attributes))
    )
    return (
        f"JOIN app_user u ON u.id = p.user_id AND {conditions}",
        [_pair(a) for a in user_attributes],
    )


async def _user_count(
    conn: Connection, tenant_id: int, user_attributes: Sequence[Attribute]
) -> int:
    if not user_attributes:
        row = await conn.fetchrow("SELECT user_count FROM tenant WHERE id = $1", tenant_id)
        return int(row["user_count"]) if row else 0
    conditions = " AND ".join(
        _contains(conn.dialect, "attributes", f"${i + 2}") for i in range(len(user_attributes))
    )
    row = await conn.fetchrow(
        f"SELECT COUNT(*) AS n FROM app_user WHERE tenant_id = $1 AND {conditions}",
        tenant_id,
        *(_pair(a) for a in user_attributes),
    )
    return int(row["n"]) if row else 0
