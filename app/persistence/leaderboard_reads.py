"""Leaderboard pages and a user's own row, read outside any write transaction: a page starts
at a key found through the group's blocks, so a deep page reads no rows above it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from app.domain.leaderboard_ports import Day, Entry, PageRows, Ranked, Standing
from app.domain.leaderboard_ranks import Counting, Place
from app.persistence import leaderboard_blocks as blocks
from app.persistence import leaderboard_places as places
from app.persistence.codec import as_date, as_datetime
from app.persistence.database import Database


class SqlLeaderboardReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def page(
        self,
        board_id: int,
        run_start: date,
        group: str,
        start: int,
        limit: int,
        counting: Counting,
    ) -> PageRows:
        """From the row `start` rows from the top, found through the group's blocks."""
        cap = counting.cap
        if cap is not None:
            limit = max(0, min(limit, cap - start))
        async with self._db.connection() as conn:
            found = await blocks.find_group(conn, board_id, run_start, group)
            if found is None:
                return PageRows([], None, 0, None)
            # The top page starts below every key: none to look up for it.
            first_key = blocks.FIRST if start == 0 else None
            if start > 0 and limit:
                first_key = await places.key_at(conn, found, start)
            rows = []
            if first_key is not None and limit:
                rows = await conn.fetch(
                    "SELECT e.external_id, u.name, e.value, e.reached_at FROM leaderboard_entry e "
                    "JOIN app_user u ON u.id = e.user_id WHERE e.board_id = $1 "
                    "AND e.run_start = $2 AND e.grp = $3 "
                    "AND (e.sort_value, e.reached_at, e.external_id) >= ($4, $5, $6) "
                    "ORDER BY e.sort_value, e.reached_at, e.external_id LIMIT $7",
                    *found.entries(),
                    *first_key.args(),
                    limit,
                )
            ranked = [
                Ranked(r["external_id"], r["name"], float(r["value"]), as_datetime(r["reached_at"]))
                for r in rows
            ]
            first = None
            if first_key is not None and ranked:
                first = Place(0, 0, 0)
                if start > 0:
                    above = await places.place(conn, found, first_key, replace(counting, cap=None))
                    first = replace(above, ahead=start)
            lowest = await places.lowest_ranked(conn, found, cap)
        return PageRows(ranked, first, found.rows, lowest)

    async def position_of(
        self, board_id: int, run_start: date, group: str, user_id: str
    ) -> int | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT e.value, e.reached_at FROM leaderboard b "
                "JOIN app_user u ON u.tenant_id = b.tenant_id AND u.external_id = $4 "
                "JOIN leaderboard_entry e ON e.board_id = b.id AND e.run_start = $2 "
                "AND e.user_id = u.id WHERE b.id = $1 AND e.grp = $3",
                board_id,
                run_start,
                group,
                user_id,
            )
            found = await blocks.find_group(conn, board_id, run_start, group)
            if row is None or found is None:
                return None
            standing = Standing(float(row["value"]), as_datetime(row["reached_at"]))
            return await places.ahead_of(conn, found, blocks.Key.of(standing, user_id))

    async def entry(
        self, board_id: int, run_start: date, user_pk: int, counting: Counting
    ) -> Entry | None:
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
            found = None
            if row["grp"] is not None:
                found = await blocks.find_group(conn, board_id, run_start, row["grp"])
            if found is not None:
                standing = Standing(float(row["value"]), as_datetime(row["reached_at"]))
                key = blocks.Key.of(standing, row["external_id"])
                place = await places.place(conn, found, key, counting)
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
