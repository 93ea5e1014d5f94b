"""The run clock's storage: boards due (indexed by `clock_due`, so boards with nothing ahead
cost nothing per round), the groups of a run, and moving a clock on at the turn it was read."""

from __future__ import annotations

from datetime import date, datetime

from app.domain.leaderboard_clock import DueBoard, RunClock
from app.persistence.leaderboard_reads import SqlLeaderboardReads
from app.persistence.leaderboards import BOARD_COLUMNS, board_from_row
from app.persistence.outbox import OutboxRows


class SqlLeaderboardClockStore(SqlLeaderboardReads):
    async def due_boards(self, now: datetime, limit: int) -> list[DueBoard]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {BOARD_COLUMNS}, tenant_id, clock_started, clock_finished, clock_turn, "
                "backfill_after FROM leaderboard WHERE clock_due <= $1 ORDER BY clock_due LIMIT $2",
                now,
                limit,
            )
        return [
            DueBoard(
                int(row["tenant_id"]),
                board_from_row(row),
                None
                if row["clock_started"] is None
                else RunClock(int(row["clock_started"]), int(row["clock_finished"])),
                int(row["clock_turn"]),
                row["backfill_after"] is not None,
            )
            for row in rows
        ]

    async def groups(self, board_id: int, run_start: date) -> list[str]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                "SELECT grp FROM leaderboard_group WHERE board_id = $1 AND run_start = $2 "
                "AND rows > 0 ORDER BY grp",
                board_id,
                run_start,
            )
        return [str(row["grp"]) for row in rows]


class LeaderboardClockRows(OutboxRows):
    async def advance(
        self, board_id: int, turn: int, clock: RunClock, due_at: datetime | None
    ) -> bool:
        row = await self._conn.fetchrow(
            "UPDATE leaderboard SET clock_started = $3, clock_finished = $4, clock_due = $5, "
            "clock_turn = clock_turn + 1 WHERE id = $1 AND clock_turn = $2 RETURNING id",
            board_id,
            turn,
            clock.started,
            clock.finished,
            due_at,
        )
        return row is not None
