"""The boost clock's transaction: the boosts whose next transition is due.

On PostgreSQL the rows are locked with `FOR UPDATE OF b SKIP LOCKED`, so instances polling at
once take disjoint boosts; SQLite has one writer at a time. `due_at` is indexed: boosts with
nothing left to announce (NULL) cost nothing per round.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.boost_clock import BoostProgress, DueBoost
from app.persistence.outbox import OutboxRows
from app.persistence.points import BOOST_COLUMNS, boost_from_row


class BoostClockRows(OutboxRows):
    async def due_boosts(self, now: datetime, limit: int) -> list[DueBoost]:
        lock = " FOR UPDATE OF b SKIP LOCKED" if self._pg else ""
        rows = await self._conn.fetch(
            f"SELECT {BOOST_COLUMNS}, b.tenant_id, b.started_sent, u.tz FROM points_boost b "
            "LEFT JOIN app_user u ON u.id = b.user_id "
            f"WHERE b.due_at <= $1 AND NOT b.archived ORDER BY b.due_at LIMIT $2{lock}",
            now,
            limit,
        )
        return [
            DueBoost(
                tenant_id=int(r["tenant_id"]),
                boost=boost_from_row(r),
                started_sent=bool(r["started_sent"]),
                user_tz=r["tz"],
            )
            for r in rows
        ]

    async def save_boost_progress(self, boost_id: int, progress: BoostProgress) -> None:
        await self._conn.execute(
            "UPDATE points_boost SET started_sent = $2, finished_sent = $3, due_at = $4 "
            "WHERE id = $1",
            boost_id,
            progress.started_sent,
            progress.finished_sent,
            progress.due_at,
        )
