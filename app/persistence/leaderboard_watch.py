"""The watches behind `leaderboard.changed`: marked by an upsert per group moved, read by their
due instant (indexed, so settled watches cost nothing per round), settled at the version read."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from app.domain.leaderboard_watch import Watch, WatchKey
from app.persistence.codec import as_date
from app.persistence.leaderboard_reads import SqlLeaderboardReads
from app.persistence.leaderboards import BOARD_COLUMNS, board_from_row
from app.persistence.outbox import OutboxRows

WATCH_BOARD_COLUMNS = ", ".join(f"b.{c.strip()}" for c in BOARD_COLUMNS.split(","))


class SqlStandingsWatchStore(SqlLeaderboardReads):
    async def mark(self, keys: Collection[WatchKey], now: datetime) -> None:
        """In key order, so that instances marking the same groups take their rows in one
        order. A watch already due keeps its instant; else it is due now, or when its quiet
        interval ends."""
        async with self._db.transaction() as conn:
            for key in sorted(keys):
                await conn.execute(
                    "INSERT INTO leaderboard_watch (board_id, run_start, grp, due_at, version) "
                    "VALUES ($1, $2, $3, $4, 1) ON CONFLICT (board_id, run_start, grp) DO UPDATE "
                    "SET version = leaderboard_watch.version + 1, due_at = COALESCE("
                    "leaderboard_watch.due_at, CASE WHEN leaderboard_watch.quiet_until IS NULL "
                    "OR leaderboard_watch.quiet_until < $4 THEN $4 "
                    "ELSE leaderboard_watch.quiet_until END)",
                    key.board_id,
                    key.run_start,
                    key.group,
                    now,
                )

    async def due_watches(self, now: datetime, limit: int) -> list[Watch]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {WATCH_BOARD_COLUMNS}, b.tenant_id, w.run_start, "
                "w.grp, w.version, w.sent FROM leaderboard_watch w "
                "JOIN leaderboard b ON b.id = w.board_id "
                "WHERE w.due_at <= $1 ORDER BY w.due_at LIMIT $2",
                now,
                limit,
            )
        return [
            Watch(
                int(row["tenant_id"]),
                WatchKey(int(row["id"]), as_date(row["run_start"]), str(row["grp"])),
                board_from_row(row),
                int(row["version"]),
                row["sent"],
            )
            for row in rows
        ]


class StandingsRows(OutboxRows):
    """Settles a watch only while it is still due at the version read: two instances that read
    the same due watch both compute its news, and only the first to settle announces it."""

    async def settle(self, watch: Watch, sent: str | None, quiet_until: datetime | None) -> bool:
        key = watch.key
        row = await self._conn.fetchrow(
            "UPDATE leaderboard_watch SET due_at = NULL, sent = COALESCE($5, sent), "
            "quiet_until = COALESCE($6, quiet_until) WHERE board_id = $1 AND run_start = $2 "
            "AND grp = $3 AND version = $4 AND due_at IS NOT NULL RETURNING id",
            key.board_id,
            key.run_start,
            key.group,
            watch.version,
            sent,
            quiet_until,
        )
        return row is not None
