"""Leaderboards on the write path: the boards an operation reads, and the rows it moves.

A user's row in a run is read, placed in its group, upserted and placed again inside the
operation's transaction, under the user's row lock (no other transaction moves the same row
meanwhile) and a shared lock on the group's (leaderboard_blocks): moves on one board run side
by side. Placing a row reads the group's blocks, never the rows above it, so its cost does not
grow with its rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from app.domain.leaderboard_ports import Left, Move, Moved, Noted, Standing
from app.domain.leaderboard_ranks import Counting
from app.domain.leaderboard_runs import Calendar, Repeat, RunUnit
from app.domain.leaderboards import Leaderboard, RankBy, StoredStatus, TiePolicy
from app.persistence import leaderboard_blocks as blocks
from app.persistence.codec import as_date, as_datetime, load_attributes
from app.persistence.database import Connection, Row
from app.persistence.transaction import Statements

BOARD_COLUMNS = (
    "id, key, name, description, status, ever_live, finished_at, rank_by, metric_id, system_id, "
    'start, "end", run_unit, run_interval, time_zone, max_participants, breakdown_attribute, '
    "user_attributes, tie_policy, created_at, live_since"
)


async def boards_of(conn: Connection, tenant_id: int) -> list[Leaderboard]:
    rows = await conn.fetch(
        f"SELECT {BOARD_COLUMNS} FROM leaderboard WHERE tenant_id = $1 ORDER BY id", tenant_id
    )
    return [board_from_row(row) for row in rows]


def board_from_row(row: Row) -> Leaderboard:
    repeat = Repeat(RunUnit(row["run_unit"]), int(row["run_interval"])) if row["run_unit"] else None
    return Leaderboard(
        id=int(row["id"]),
        key=row["key"],
        name=row["name"],
        description=row["description"],
        rank_by=RankBy(row["rank_by"]),
        calendar=Calendar(
            as_date(row["start"]),
            as_date(row["end"]) if row["end"] is not None else None,
            repeat,
            row["time_zone"],
        ),
        tie_policy=TiePolicy(row["tie_policy"]),
        metric_id=row["metric_id"],
        system_id=row["system_id"],
        max_participants=row["max_participants"],
        breakdown_attribute=row["breakdown_attribute"],
        user_attributes=load_attributes(row["user_attributes"]),
        stored_status=StoredStatus(row["status"]),
        ever_live=bool(row["ever_live"]),
        finished_at=as_datetime(row["finished_at"]) if row["finished_at"] is not None else None,
        created_at=as_datetime(row["created_at"]),
        live_since=as_datetime(row["live_since"]) if row["live_since"] is not None else None,
    )


class LeaderboardRows(Statements):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._board_counts = blocks.Pending()

    async def before_commit(self) -> None:
        await self._board_counts.write(self._conn)
        await super().before_commit()

    async def move_on_board(self, move: Move, counting: Counting) -> Moved:
        conn, pending = self._conn, self._board_counts
        current = await conn.fetchrow(
            "SELECT id, value, reached_at, grp FROM leaderboard_entry "
            "WHERE board_id = $1 AND run_start = $2 AND user_id = $3",
            move.board_id,
            move.run_start,
            move.user_pk,
        )
        before = _standing(current)
        group = await blocks.join_group(conn, move.board_id, move.run_start, move.group)
        stayed = current is not None and current["grp"] == move.group
        before_key = blocks.Key.of(before, move.user_id) if before is not None else None
        before_place = None
        if stayed and before_key is not None:
            before_place = await blocks.place(conn, group, before_key, counting, pending)
        after = move.applied_to(before)
        after_key = blocks.Key.of(after, move.user_id)
        if stayed and before_key is not None:
            if before_key != after_key:
                await self._store(move, after, current)
                await blocks.shifted(conn, group, before_key, after_key, counting, pending)
        else:
            if current is not None and current["grp"] is not None and before_key is not None:
                left = await blocks.join_group(conn, move.board_id, move.run_start, current["grp"])
                await blocks.removed(conn, left, before_key, counting, pending)
            await self._store(move, after, current)
            await blocks.added(conn, group, after_key, counting, pending)
        after_place = await blocks.place(conn, group, after_key, counting, pending)
        lowest = await blocks.lowest_ranked(conn, group, counting.cap, pending)
        return Moved(before, before_place, after, after_place, pending.rows(group), lowest)

    async def _store(self, move: Move, after: Standing, current: Row | None) -> None:
        if current is None:
            await self._conn.execute(
                "INSERT INTO leaderboard_entry (board_id, run_start, grp, user_id, external_id, "
                "value, sort_value, reached_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                move.board_id,
                move.run_start,
                move.group,
                move.user_pk,
                move.user_id,
                after.value,
                -after.value,
                after.reached_at,
            )
            return
        await self._conn.execute(
            "UPDATE leaderboard_entry SET value = $2, sort_value = $3, reached_at = $4, grp = $5 "
            "WHERE id = $1",
            current["id"],
            after.value,
            -after.value,
            after.reached_at,
            move.group,
        )

    async def note_move(self, noted: Noted) -> None:
        move = noted.move
        entry = await self._conn.fetchrow(
            "UPDATE leaderboard_entry SET previous_value = $4, previous_rank = $5 "
            "WHERE board_id = $1 AND run_start = $2 AND user_id = $3 RETURNING id, value",
            move.board_id,
            move.run_start,
            move.user_pk,
            noted.previous_value,
            noted.previous_rank,
        )
        assert entry is not None, "the move stored this row"
        await self._conn.execute(
            "INSERT INTO leaderboard_day (entry_id, day, value, rank, previous_value, "
            "previous_rank) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (entry_id, day) "
            "DO UPDATE SET value = excluded.value, rank = excluded.rank",
            entry["id"],
            move.day,
            entry["value"],
            noted.rank,
            noted.previous_value,
            noted.previous_rank,
        )

    async def leaderboards(self, tenant_id: int) -> Sequence[Leaderboard]:
        """Read in the transaction, for background work that has no cached definitions."""
        return await boards_of(self._conn, tenant_id)

    async def leave_board(
        self, board_id: int, run_start: date, user_pk: int, counting: Counting
    ) -> Left | None:
        conn = self._conn
        row = await conn.fetchrow(
            "SELECT id, grp, external_id, value, reached_at FROM leaderboard_entry "
            "WHERE board_id = $1 AND run_start = $2 AND user_id = $3",
            board_id,
            run_start,
            user_pk,
        )
        if row is None or row["grp"] is None:
            return None
        before = Standing(float(row["value"]), as_datetime(row["reached_at"]))
        key = blocks.Key.of(before, row["external_id"])
        group = await blocks.join_group(conn, board_id, run_start, row["grp"])
        before_place = await blocks.place(conn, group, key, counting, self._board_counts)
        await blocks.removed(conn, group, key, counting, self._board_counts)
        await conn.execute(
            "UPDATE leaderboard_entry SET grp = NULL, value = 0, sort_value = 0 WHERE id = $1",
            row["id"],
        )
        return Left(before, before_place, str(row["grp"]))

    async def regroup(
        self, user_pk: int, board_id: int, group: str | None, since: date, counting: Counting
    ) -> None:
        """Each of the user's rows leaves its group's counts and joins the new group's."""
        conn = self._conn
        rows = await conn.fetch(
            "SELECT id, run_start, grp, external_id, value, reached_at FROM leaderboard_entry "
            "WHERE user_id = $1 AND board_id = $2 AND run_start >= $3 ORDER BY run_start",
            user_pk,
            board_id,
            since,
        )
        for row in rows:
            if row["grp"] == group:
                continue
            run_start = as_date(row["run_start"])
            key = blocks.Key(
                -float(row["value"]), as_datetime(row["reached_at"]), row["external_id"]
            )
            if row["grp"] is not None:
                left = await blocks.join_group(conn, board_id, run_start, row["grp"])
                await blocks.removed(conn, left, key, counting, self._board_counts)
            await conn.execute(
                "UPDATE leaderboard_entry SET grp = $2 WHERE id = $1", row["id"], group
            )
            if group is not None:
                joined = await blocks.join_group(conn, board_id, run_start, group)
                await blocks.added(conn, joined, key, counting, self._board_counts)


def _standing(row: Row | None) -> Standing | None:
    if row is None:
        return None
    return Standing(float(row["value"]), as_datetime(row["reached_at"]))
