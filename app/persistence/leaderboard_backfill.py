"""The backfill's storage: boards with a cursor, the next users, and their stored history.

The board's row is taken FOR NO KEY UPDATE, which serialises two instances on one board yet
lets events insert rows that reference it (their foreign keys take KEY SHARE locks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.domain.leaderboard_backfill import DueBackfill
from app.domain.model import StreakSettings, User
from app.domain.ports import StoredStreak
from app.persistence.codec import USER_COLUMNS, as_datetime, placeholders, user_from_row
from app.persistence.database import Database
from app.persistence.leaderboards import BOARD_COLUMNS, LeaderboardRows, board_from_row
from app.persistence.points_writes import PointsRows
from app.persistence.reads import stored_streaks
from app.persistence.streaks import settings_of


class SqlBackfillStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def due_backfills(self, went_live_by: datetime, limit: int) -> list[DueBackfill]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {BOARD_COLUMNS}, tenant_id FROM leaderboard "
                "WHERE backfill_after IS NOT NULL AND live_since <= $1 ORDER BY id LIMIT $2",
                went_live_by,
                limit,
            )
        return [DueBackfill(int(row["tenant_id"]), board_from_row(row)) for row in rows]


class BackfillRows(LeaderboardRows, PointsRows):
    async def claim_backfill(self, board_id: int) -> int | None:
        lock = " FOR NO KEY UPDATE" if self._pg else ""
        row = await self._conn.fetchrow(
            f"SELECT backfill_after FROM leaderboard WHERE id = $1{lock}", board_id
        )
        if row is None or row["backfill_after"] is None:
            return None
        return int(row["backfill_after"])

    async def backfill_users(self, tenant_id: int, after_pk: int, limit: int) -> list[User]:
        lock = " FOR UPDATE" if self._pg else ""
        rows = await self._conn.fetch(
            f"SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 AND id > $2 "
            f"ORDER BY id LIMIT $3{lock}",
            tenant_id,
            after_pk,
            limit,
        )
        return [user_from_row(row) for row in rows]

    async def metric_history(
        self, metric_id: int, user_pks: Sequence[int], since: datetime
    ) -> list[tuple[int, datetime, float]]:
        rows = await self._conn.fetch(
            "SELECT user_id, occurred_at, value FROM event WHERE metric_id = $1 "
            f"AND occurred_at >= $2 AND user_id IN ({placeholders(user_pks, 3)})",
            metric_id,
            since,
            *user_pks,
        )
        return [(int(r["user_id"]), as_datetime(r["occurred_at"]), float(r["value"])) for r in rows]

    async def points_history(
        self, system_id: int, user_pks: Sequence[int], since: datetime
    ) -> list[tuple[int, datetime, float]]:
        rows = await self._conn.fetch(
            "SELECT user_id, awarded_at, awarded FROM points_award WHERE system_id = $1 "
            f"AND awarded_at >= $2 AND user_id IN ({placeholders(user_pks, 3)})",
            system_id,
            since,
            *user_pks,
        )
        return [
            (int(r["user_id"]), as_datetime(r["awarded_at"]), float(r["awarded"])) for r in rows
        ]

    async def streak_settings(self, tenant_id: int) -> StreakSettings | None:
        return await settings_of(self._conn, tenant_id)

    async def stored_streaks(
        self, tenant_id: int, user_pks: Sequence[int]
    ) -> dict[int, StoredStreak]:
        return await stored_streaks(self._conn, tenant_id, user_pks) if user_pks else {}

    async def advance_backfill(self, board_id: int, cursor: int | None) -> None:
        await self._conn.execute(
            "UPDATE leaderboard SET backfill_after = $2 WHERE id = $1", board_id, cursor
        )
