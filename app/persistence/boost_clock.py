"""The boost clock's transaction: the boosts whose start or finish is not announced yet.

On PostgreSQL the rows are locked with `FOR UPDATE OF b SKIP LOCKED`, so instances polling at
once take disjoint boosts; SQLite has one writer at a time.
"""

from __future__ import annotations

from app.domain.boost_clock import UnsentBoost
from app.persistence.outbox import OutboxRows
from app.persistence.points import BOOST_COLUMNS, boost_from_row


class BoostClockRows(OutboxRows):
    async def unsent_boosts(self, limit: int) -> list[UnsentBoost]:
        lock = " FOR UPDATE OF b SKIP LOCKED" if self._pg else ""
        rows = await self._conn.fetch(
            f"SELECT {BOOST_COLUMNS}, b.tenant_id, b.started_sent, u.tz FROM points_boost b "
            "LEFT JOIN app_user u ON u.id = b.user_id "
            f"WHERE NOT b.archived AND NOT b.finished_sent ORDER BY b.id LIMIT $1{lock}",
            limit,
        )
        return [
            UnsentBoost(
                tenant_id=int(r["tenant_id"]),
                boost=boost_from_row(r),
                started_sent=bool(r["started_sent"]),
                user_tz=r["tz"],
            )
            for r in rows
        ]

    async def mark_boost_sent(self, boost_id: int, *, finished: bool) -> None:
        await self._conn.execute(
            "UPDATE points_boost SET started_sent = TRUE, finished_sent = $2 WHERE id = $1",
            boost_id,
            finished,
        )
