"""The leaderboard configuration store: boards, and the definitions they are checked against."""

from __future__ import annotations

from collections.abc import Sequence

from app.domain.errors import BadUserInput
from app.domain.leaderboard_clock import ClockWake
from app.domain.leaderboards import Leaderboard
from app.persistence.codec import dump_attributes
from app.persistence.database import Database, IntegrityViolation
from app.persistence.leaderboards import BOARD_COLUMNS, board_from_row, boards_of

COLUMNS = (
    "name",
    "description",
    "status",
    "ever_live",
    "finished_at",
    "rank_by",
    "metric_id",
    "system_id",
    "start",
    '"end"',
    "run_unit",
    "run_interval",
    "time_zone",
    "max_participants",
    "breakdown_attribute",
    "user_attributes",
    "tie_policy",
    "live_since",
)


class SqlLeaderboardStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def leaderboards(self, tenant_id: int) -> Sequence[Leaderboard]:
        async with self._db.connection() as conn:
            return await boards_of(conn, tenant_id)

    async def metric_id(self, tenant_id: int, key: str) -> int | None:
        return await self._id(
            "SELECT id FROM metric WHERE tenant_id = $1 AND key = $2", tenant_id, key
        )

    async def system_id(self, tenant_id: int, key: str) -> int | None:
        return await self._id(
            "SELECT id FROM points_system WHERE tenant_id = $1 AND key = $2", tenant_id, key
        )

    async def streak_configured(self, tenant_id: int) -> bool:
        found = await self._id(
            "SELECT tenant_id AS id FROM streak_config WHERE tenant_id = $1", tenant_id
        )
        return found is not None

    async def _id(self, sql: str, *args: object) -> int | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(sql, *args)
        return int(row["id"]) if row else None

    async def save_board(
        self, tenant_id: int, board: Leaderboard, wake: ClockWake | None = None
    ) -> Leaderboard:
        values = _values(board)
        try:
            async with self._db.transaction() as conn:
                if board.id:
                    sets = ", ".join(f"{c} = ${i + 3}" for i, c in enumerate(COLUMNS))
                    if wake is not None:
                        sets += _woken(wake, len(COLUMNS) + 3)
                        values += (wake.due_at,)
                    row = await conn.fetchrow(
                        f"UPDATE leaderboard SET {sets} WHERE tenant_id = $1 AND id = $2 "
                        f"RETURNING {BOARD_COLUMNS}",
                        tenant_id,
                        board.id,
                        *values,
                    )
                else:
                    marks = ", ".join(f"${i + 4}" for i in range(len(COLUMNS)))
                    row = await conn.fetchrow(
                        "INSERT INTO leaderboard (tenant_id, key, created_at, "
                        f"{', '.join(COLUMNS)}) "
                        f"VALUES ($1, $2, $3, {marks}) RETURNING {BOARD_COLUMNS}",
                        tenant_id,
                        board.key,
                        board.created_at,
                        *values,
                    )
        except IntegrityViolation as exc:
            raise BadUserInput("the leaderboard key is taken", field="key") from exc
        assert row is not None
        return board_from_row(row)


def _woken(wake: ClockWake, due_mark: int) -> str:
    """The clock's columns set by a wake; a new turn makes a clock round in flight void. A
    board going live is backfilled from the first user; one that stops stops its backfill."""
    sets = f", clock_due = ${due_mark}, clock_turn = clock_turn + 1"
    if wake.restart:
        sets += ", clock_started = NULL, clock_finished = NULL, backfill_after = 0"
    elif wake.due_at is None:
        sets += ", backfill_after = NULL"
    return sets


def _values(board: Leaderboard) -> tuple[object, ...]:
    calendar = board.calendar
    repeat = calendar.repeat
    return (
        board.name,
        board.description,
        board.stored_status.value,
        board.ever_live,
        board.finished_at,
        board.rank_by.value,
        board.metric_id,
        board.system_id,
        calendar.start,
        calendar.end,
        repeat.unit.value if repeat else None,
        repeat.interval if repeat else None,
        calendar.time_zone,
        board.max_participants,
        board.breakdown_attribute,
        dump_attributes(board.user_attributes),
        board.tie_policy.value,
        board.live_since,
    )
