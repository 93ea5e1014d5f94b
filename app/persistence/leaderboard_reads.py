"""Leaderboard pages and a user's own row, read outside any write transaction."""

from __future__ import annotations

from datetime import date

from app.domain.leaderboard_ports import Day, Entry, PageRows, Ranked, Standing
from app.persistence.codec import as_date, as_datetime
from app.persistence.database import Database
from app.persistence.leaderboards import group_size, in_group, order, place_of


class SqlLeaderboardReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def page(
        self, board_id: int, run_start: date, group: str, start: int, limit: int, cap: int | None
    ) -> PageRows:
        if cap is not None:
            limit = max(0, min(limit, cap - start))
        async with self._db.connection() as conn:
            rows = []
            if limit:
                rows = await conn.fetch(
                    "SELECT e.external_id, u.name, e.value, e.reached_at FROM leaderboard_entry e "
                    f"JOIN app_user u ON u.id = e.user_id WHERE {in_group('e.')} "
                    f"ORDER BY {order('e.')} LIMIT $4 OFFSET $5",
                    board_id,
                    run_start,
                    group,
                    limit,
                    start,
                )
            ranked = [
                Ranked(r["external_id"], r["name"], float(r["value"]), as_datetime(r["reached_at"]))
                for r in rows
            ]
            first = None
            if ranked:
                head = ranked[0]
                first = await place_of(
                    conn,
                    board_id,
                    run_start,
                    group,
                    Standing(head.value, head.reached_at),
                    head.user_id,
                )
            size, lowest = await group_size(conn, board_id, run_start, group, cap)
        return PageRows(ranked, first, size, lowest)

    async def position_of(
        self, board_id: int, run_start: date, group: str, user_id: str
    ) -> int | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT value, reached_at FROM leaderboard_entry "
                f"WHERE {in_group()} AND external_id = $4",
                board_id,
                run_start,
                group,
                user_id,
            )
            if row is None:
                return None
            standing = Standing(float(row["value"]), as_datetime(row["reached_at"]))
            place = await place_of(conn, board_id, run_start, group, standing, user_id)
        return place.ahead

    async def entry(self, board_id: int, run_start: date, user_pk: int) -> Entry | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT id, grp, external_id, value, reached_at, previous_value, previous_rank "
                "FROM leaderboard_entry WHERE board_id = $1 AND run_start = $2 AND user_id = $3",
                board_id,
                run_start,
                user_pk,
            )
            if row is None:
                return None
            place = None
            if row["grp"] is not None:
                standing = Standing(float(row["value"]), as_datetime(row["reached_at"]))
                place = await place_of(
                    conn, board_id, run_start, row["grp"], standing, row["external_id"]
                )
        return Entry(
            int(row["id"]),
            row["grp"],
            float(row["value"]),
            row["previous_value"],
            row["previous_rank"],
            place,
        )

    async def days(self, entry_id: int, limit: int) -> list[Day]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                "SELECT day, value, rank, previous_value, previous_rank FROM leaderboard_day "
                "WHERE entry_id = $1 ORDER BY day DESC LIMIT $2",
                entry_id,
                limit,
            )
        return [
            Day(
                as_date(r["day"]),
                float(r["value"]),
                r["rank"],
                r["previous_value"],
                r["previous_rank"],
            )
            for r in rows
        ]

    async def user_zone(self, tenant_id: int, user_id: str) -> str | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT tz FROM app_user WHERE tenant_id = $1 AND external_id = $2",
                tenant_id,
                user_id,
            )
        return str(row["tz"]) if row else None
