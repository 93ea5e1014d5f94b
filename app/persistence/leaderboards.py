"""Leaderboards on the write path: the boards an operation reads, and the rows it moves.

A user's row in a run is read, placed in its group, upserted and placed again inside the
operation's transaction, under the user's row lock (no other transaction moves the same row
meanwhile) and a shared lock on the group's (leaderboard_blocks): moves on one board run side
by side. Placing a row (leaderboard_places) reads the group's shelves and blocks, never the
rows above it, so its cost does not grow with its rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from app.domain.leaderboard_ports import Left, Move, Moved, Regrouped, Standing
from app.domain.leaderboard_ranks import Counting, Place, rank_at
from app.domain.leaderboard_runs import Calendar, Repeat, RunUnit
from app.domain.leaderboards import Leaderboard, RankBy, StoredStatus, TiePolicy
from app.persistence import leaderboard_blocks as blocks
from app.persistence import leaderboard_places as places
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

    async def move_on_board(self, move: Move, counting: Counting, *, noted: bool) -> Moved:
        conn, pending = self._conn, self._board_counts
        group, current = await blocks.join_group_with_row(
            conn, move.board_id, move.run_start, move.group, move.user_pk
        )
        before = _standing(current)
        stayed = current is not None and current["grp"] == move.group
        before_key = blocks.Key.of(before, move.user_id) if before is not None else None
        after = move.applied_to(before)
        after_key = blocks.Key.of(after, move.user_id)
        before_place: Place | None = None
        after_place: Place | None = None
        one_block = False
        if stayed and before_key is not None and not counting.wants_distinct:
            # Surveyed before the row moves, in one statement: it then still stands at its old
            # key, where the new key's counts see it.
            surveyed = await places.survey(conn, group, before_key, after_key, counting, pending)
            before_place, one_block = surveyed.before, surveyed.one_block
            after_place = _without_itself(surveyed.after_seen, before_key, after_key)
        elif stayed and before_key is not None:
            before_place = await places.place(conn, group, before_key, counting, pending)
        previous = _Previous.of(before, before_place, counting)
        day_noted = False
        if stayed and before_key is not None:
            if before_key != after_key:
                if noted and self._pg and current is not None and after_place is not None:
                    rank = rank_at(counting.policy, after_place, counting.cap)
                    await self._store_noting_day(current, move, after, previous, rank)
                    day_noted = True
                else:
                    await self._store(move, after, current, previous)
                if not one_block:
                    await blocks.shifted(conn, group, before_key, after_key, counting, pending)
            elif current is not None:
                await self._keep_previous(current, previous)
        else:
            if current is not None and current["grp"] is not None and before_key is not None:
                left = await blocks.join_group(conn, move.board_id, move.run_start, current["grp"])
                await blocks.removed(conn, left, before_key, counting, pending)
            await self._store(move, after, current, previous)
            await blocks.added(conn, group, after_key, counting, pending)
        if after_place is None:
            after_place = await places.place(conn, group, after_key, counting, pending)
        lowest = await places.lowest_ranked(conn, group, counting.cap, pending)
        if noted and not day_noted:
            rank = rank_at(counting.policy, after_place, counting.cap)
            await self._note_day(move, rank, previous)
        return Moved(before, before_place, after, after_place, pending.rows(group), lowest)

    async def _store(
        self, move: Move, after: Standing, current: Row | None, previous: _Previous
    ) -> None:
        """The row's new standing, and what it was before this change (User.leaderboard)."""
        if current is None:
            await self._conn.execute(
                "INSERT INTO leaderboard_entry (board_id, run_start, grp, user_id, external_id, "
                "value, sort_value, reached_at, previous_value, previous_rank) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                move.board_id,
                move.run_start,
                move.group,
                move.user_pk,
                move.user_id,
                after.value,
                -after.value,
                after.reached_at,
                previous.value,
                previous.rank,
            )
            return
        await self._conn.execute(_UPDATE_ENTRY, *_update_args(current, move, after, previous))

    async def _keep_previous(self, current: Row, previous: _Previous) -> None:
        """A change that left the standing as it was is still the latest change."""
        await self._conn.execute(
            "UPDATE leaderboard_entry SET previous_value = $2, previous_rank = $3 WHERE id = $1",
            current["id"],
            previous.value,
            previous.rank,
        )

    async def _store_noting_day(
        self, current: Row, move: Move, after: Standing, previous: _Previous, rank: int | None
    ) -> None:
        """`_store` of a stored row and `_note_day`, in one statement (one round trip on
        PostgreSQL, where a statement costs the client more than its work here)."""
        await self._conn.execute(
            f"WITH moved AS ({_UPDATE_ENTRY} RETURNING id, value) {_NOTE_DAY} "
            f"SELECT id, $8, value, $9, $6, $7 FROM moved {_NOTED_AGAIN}",
            *_update_args(current, move, after, previous),
            move.day,
            rank,
        )

    async def _note_day(self, move: Move, rank: int | None, previous: _Previous) -> None:
        """The move's day in the row's history (User.leaderboard): the rank after it, and the
        rank and value before it (a day's line keeps those of its first move)."""
        await self._conn.execute(
            f"{_NOTE_DAY} SELECT id, $4, value, $5, $6, $7 FROM leaderboard_entry "
            f"WHERE board_id = $1 AND run_start = $2 AND user_id = $3 {_NOTED_AGAIN}",
            move.board_id,
            move.run_start,
            move.user_pk,
            move.day,
            rank,
            previous.value,
            previous.rank,
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
        before_place = await places.place(conn, group, key, counting, self._board_counts)
        await blocks.removed(conn, group, key, counting, self._board_counts)
        await conn.execute(
            "UPDATE leaderboard_entry SET grp = NULL, value = 0, sort_value = 0 WHERE id = $1",
            row["id"],
        )
        return Left(before, before_place, str(row["grp"]))

    async def regroup(
        self, user_pk: int, board_id: int, group: str | None, since: date, counting: Counting
    ) -> list[Regrouped]:
        """Each of the user's rows leaves its group's counts and joins the new group's."""
        conn, pending = self._conn, self._board_counts
        regrouped = []
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
            left_place = joined_place = None
            if row["grp"] is not None:
                left = await blocks.join_group(conn, board_id, run_start, row["grp"])
                left_place = await places.place(conn, left, key, counting, pending)
                await blocks.removed(conn, left, key, counting, pending)
            await conn.execute(
                "UPDATE leaderboard_entry SET grp = $2 WHERE id = $1", row["id"], group
            )
            if group is not None:
                joined = await blocks.join_group(conn, board_id, run_start, group)
                await blocks.added(conn, joined, key, counting, pending)
                joined_place = await places.place(conn, joined, key, counting, pending)
            standing = Standing(float(row["value"]), as_datetime(row["reached_at"]))
            regrouped.append(
                Regrouped(run_start, standing, row["grp"], left_place, group, joined_place)
            )
        return regrouped


@dataclass(frozen=True, slots=True)
class _Previous:
    """A row's value and rank before a change, kept on the row for User.leaderboard."""

    value: float | None
    rank: int | None

    @classmethod
    def of(cls, before: Standing | None, place: Place | None, counting: Counting) -> _Previous:
        rank = rank_at(counting.policy, place, counting.cap) if place is not None else None
        return cls(before.value if before else None, rank)


# A stored row's new standing and what it was before ($1 to $7: `_update_args`).
_UPDATE_ENTRY = (
    "UPDATE leaderboard_entry SET value = $2, sort_value = $3, reached_at = $4, grp = $5, "
    "previous_value = $6, previous_rank = $7 WHERE id = $1"
)


def _update_args(
    current: Row, move: Move, after: Standing, previous: _Previous
) -> tuple[object, ...]:
    return (
        current["id"],
        after.value,
        -after.value,
        after.reached_at,
        move.group,
        previous.value,
        previous.rank,
    )


_NOTE_DAY = (
    "INSERT INTO leaderboard_day (entry_id, day, value, rank, previous_value, previous_rank)"
)
_NOTED_AGAIN = (
    "ON CONFLICT (entry_id, day) DO UPDATE SET value = excluded.value, rank = excluded.rank"
)


def _without_itself(seen: Place, before: blocks.Key, after: blocks.Key) -> Place:
    """A place counted while the row stood at `before`, as it is once the row is at `after`:
    the row was ahead of its new key (and of greater value) exactly when it moved down."""
    moved_down = before.args() < after.args()
    lower = before.sort_value < after.sort_value
    return replace(
        seen,
        ahead=None if seen.ahead is None else seen.ahead - moved_down,
        greater=None if seen.greater is None else seen.greater - lower,
    )


def _standing(row: Row | None) -> Standing | None:
    if row is None:
        return None
    return Standing(float(row["value"]), as_datetime(row["reached_at"]))
