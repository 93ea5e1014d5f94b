"""Backdating jobs: the `BackdateStore` port, one batch of a job per transaction.

On PostgreSQL the job row is claimed with `FOR UPDATE SKIP LOCKED`, so when several instances
poll, each batch is worked by exactly one of them and the others move on to other jobs. SQLite
transactions are serialised (`BEGIN IMMEDIATE`), which gives the same guarantee. Completions go
through the same writer as every other (`CompletionRows`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from app.domain import model
from app.domain.ports import BackdateJob
from app.persistence.catalogue import CatalogueRows
from app.persistence.codec import USER_COLUMNS, placeholders, prefixed, user_from_row
from app.persistence.completions import NOT_COMPLETED, CompletionRows
from app.persistence.leaderboards import LeaderboardRows
from app.persistence.points_writes import PointsRows
from app.persistence.triggers import STORAGE


class BackdateRows(CompletionRows, PointsRows, LeaderboardRows, CatalogueRows):
    async def claim_backdate_job(
        self, skip: Collection[int], *, settled_before: datetime
    ) -> BackdateJob | None:
        skipped = list(skip)
        exclude = f"AND id NOT IN ({placeholders(skipped, 2)}) " if skipped else ""
        lock = " FOR UPDATE SKIP LOCKED" if self._pg else ""
        row = await self._conn.fetchrow(
            'SELECT id, tenant_id, achievement_id, "cursor" FROM backdate_job '
            f"WHERE finished_at IS NULL AND created_at <= $1 {exclude}ORDER BY id LIMIT 1{lock}",
            settled_before,
            *skipped,
        )
        if row is None:
            return None
        return BackdateJob(
            id=int(row["id"]),
            tenant_id=int(row["tenant_id"]),
            achievement_id=int(row["achievement_id"]),
            cursor=int(row["cursor"]),
        )

    async def backdate_candidates(
        self, tenant_id: int, achievement: model.Achievement, after_user_pk: int, limit: int
    ) -> list[model.User]:
        reached = STORAGE[achievement.kind].reached("a", "u.id")
        rows = await self._conn.fetch(
            f"SELECT {prefixed('u', USER_COLUMNS)} FROM app_user u JOIN achievement a "
            "ON a.id = $3 WHERE u.tenant_id = $1 AND u.id > $2 "
            f"AND {NOT_COMPLETED.format(user='u.id')} AND {reached} ORDER BY u.id LIMIT $4",
            tenant_id,
            after_user_pk,
            achievement.id,
            limit,
        )
        return [user_from_row(r) for r in rows]

    async def advance_backdate_job(
        self, job_id: int, cursor: int, finished_at: datetime | None
    ) -> None:
        await self._conn.execute(
            'UPDATE backdate_job SET "cursor" = $2, finished_at = $3 WHERE id = $1',
            job_id,
            cursor,
            finished_at,
        )
