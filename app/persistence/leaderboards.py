"""Leaderboards on the write path: the boards an operation reads, and the rows it moves.

A user's row in a run is read, counted against its group, upserted and counted again inside
the operation's transaction; the operation holds the user's row lock, so no other transaction
moves the same row meanwhile. Counting what stands ahead of a row walks the group's index from
the top, so its cost grows with the row's rank.
"""

from __future__ import annotations

from datetime import date

from app.domain.leaderboard_ports import Move, Moved, Noted, Standing
from app.domain.leaderboard_ranks import Place
from app.domain.leaderboard_runs import Calendar, Repeat, RunUnit
from app.domain.leaderboards import Leaderboard, RankBy, StoredStatus, TiePolicy
from app.persistence.codec import as_date, as_datetime, load_attributes
from app.persistence.database import Connection, Row
from app.persistence.transaction import Statements

BOARD_COLUMNS = (
    "id, key, name, description, status, ever_live, finished_at, rank_by, metric_id, system_id, "
    'start, "end", run_unit, run_interval, time_zone, max_participants, breakdown_attribute, '
    "user_attributes, tie_policy, created_at"
)


def order(alias: str = "") -> str:
    """The total order of a group, as SQL: value, then reached_at, then the user id's bytes."""
    return f"{alias}value DESC, {alias}reached_at ASC, {alias}external_id ASC"


def in_group(alias: str = "") -> str:
    """The rows of one group of one run: $1 the board, $2 the run's start, $3 the group."""
    return f"{alias}board_id = $1 AND {alias}run_start = $2 AND {alias}grp = $3"


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
    )


async def place_of(
    conn: Connection, board_id: int, run_start: date, group: str, row: Standing, user_id: str
) -> Place:
    """One statement over the rows at or above the row's value."""
    found = await conn.fetchrow(
        "SELECT COALESCE(SUM(CASE WHEN value > $4 THEN 1 ELSE 0 END), 0) AS greater, "
        "COUNT(DISTINCT CASE WHEN value > $4 THEN value END) AS distinct_greater, "
        "COALESCE(SUM(CASE WHEN value > $4 OR reached_at < $5 "
        "OR (reached_at = $5 AND external_id < $6) THEN 1 ELSE 0 END), 0) AS ahead "
        f"FROM leaderboard_entry WHERE {in_group()} AND value >= $4",
        board_id,
        run_start,
        group,
        row.value,
        row.reached_at,
        user_id,
    )
    assert found is not None
    return Place(int(found["ahead"]), int(found["greater"]), int(found["distinct_greater"]))


async def group_size(
    conn: Connection, board_id: int, run_start: date, group: str, cap: int | None
) -> tuple[int, float | None]:
    """Rows in the group, and the value of the last row a cap keeps (when it is full)."""
    found = await conn.fetchrow(
        f"SELECT COUNT(*) AS n FROM leaderboard_entry WHERE {in_group()}",
        board_id,
        run_start,
        group,
    )
    rows = int(found["n"]) if found else 0
    if cap is None or rows < cap:
        return rows, None
    lowest = await conn.fetchrow(
        f"SELECT value FROM leaderboard_entry WHERE {in_group()} ORDER BY {order()} "
        "LIMIT 1 OFFSET $4",
        board_id,
        run_start,
        group,
        cap - 1,
    )
    return rows, float(lowest["value"]) if lowest else None


class LeaderboardRows(Statements):
    async def move_on_board(self, move: Move, max_participants: int | None) -> Moved:
        conn = self._conn
        current = await conn.fetchrow(
            "SELECT id, value, reached_at, grp FROM leaderboard_entry "
            "WHERE board_id = $1 AND run_start = $2 AND user_id = $3",
            move.board_id,
            move.run_start,
            move.user_pk,
        )
        before = _standing(current)
        before_place = None
        if before is not None and current is not None and current["grp"] == move.group:
            before_place = await place_of(
                conn, move.board_id, move.run_start, move.group, before, move.user_id
            )
        after = move.applied_to(before)
        await self._store(move, after, current)
        after_place = await place_of(
            conn, move.board_id, move.run_start, move.group, after, move.user_id
        )
        rows, lowest = await group_size(
            conn, move.board_id, move.run_start, move.group, max_participants
        )
        return Moved(before, before_place, after, after_place, rows, lowest)

    async def _store(self, move: Move, after: Standing, current: Row | None) -> None:
        if current is None:
            await self._conn.execute(
                "INSERT INTO leaderboard_entry (board_id, run_start, grp, user_id, external_id, "
                "value, reached_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                move.board_id,
                move.run_start,
                move.group,
                move.user_pk,
                move.user_id,
                after.value,
                after.reached_at,
            )
            return
        await self._conn.execute(
            "UPDATE leaderboard_entry SET value = $2, reached_at = $3, grp = $4 WHERE id = $1",
            current["id"],
            after.value,
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

    async def regroup(self, user_pk: int, board_id: int, group: str | None, since: date) -> None:
        await self._conn.execute(
            "UPDATE leaderboard_entry SET grp = $4 "
            "WHERE user_id = $1 AND board_id = $2 AND run_start >= $3",
            user_pk,
            board_id,
            since,
            group,
        )


def _standing(row: Row | None) -> Standing | None:
    if row is None:
        return None
    return Standing(float(row["value"]), as_datetime(row["reached_at"]))
