"""The `BackdateStore` port in SQL: one batch of a backdating job per transaction.

On PostgreSQL the job row is claimed with `FOR UPDATE SKIP LOCKED`, so when several instances
poll, each batch is worked by exactly one of them and the others move on to other jobs. SQLite
transactions are serialised (`BEGIN IMMEDIATE`), which gives the same guarantee.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from app.domain import model
from app.domain.ports import BackdateJob
from app.persistence.events import USER_COLUMNS, SqlTransaction, prefixed
from app.persistence.reads import _in, user_from_row

_USER = prefixed("u", USER_COLUMNS)
_NOT_DONE = (
    "NOT EXISTS (SELECT 1 FROM completion c WHERE c.user_id = u.id AND c.achievement_id = $3)"
)


class SqlBackdateStore(SqlTransaction):
    async def claim_backdate_job(
        self, skip: Collection[int], *, settled_before: datetime
    ) -> BackdateJob | None:
        skipped = list(skip)
        exclude = f"AND id NOT IN ({_in(skipped, 2)}) " if skipped else ""
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
        """Users after the cursor, in pk order, who meet the trigger and lack the completion."""
        join, condition, extra = _qualification(achievement.trigger)
        rows = await self._conn.fetch(
            f"SELECT {_USER} FROM app_user u {join} WHERE u.tenant_id = $1 AND u.id > $2 "
            f"AND {_NOT_DONE} AND {condition} ORDER BY u.id LIMIT $4",
            tenant_id,
            after_user_pk,
            achievement.id,
            limit,
            *extra,
        )
        return [user_from_row(r) for r in rows]

    async def complete_silently(
        self, tenant_id: int, achievement_id: int, user_pks: Sequence[int], now: datetime
    ) -> list[int]:
        """Backdated rows and no outbox row; the counter moves by the rows actually inserted."""
        if not user_pks:
            return []
        values = ", ".join(f"($1, ${i + 5}, $2, $3, $4)" for i in range(len(user_pks)))
        rows = await self._conn.fetch(
            "INSERT INTO completion (tenant_id, user_id, achievement_id, completed_at, backdated) "
            f"VALUES {values} ON CONFLICT (user_id, achievement_id) DO NOTHING RETURNING user_id",
            tenant_id,
            achievement_id,
            now,
            True,
            *user_pks,
        )
        new = sorted(int(r["user_id"]) for r in rows)
        if new:
            await self._conn.execute(
                "UPDATE achievement SET completions = completions + $2 WHERE id = $1",
                achievement_id,
                len(new),
            )
        return new

    async def has_dependents(self, achievement_id: int) -> bool:
        row = await self._conn.fetchrow(
            "SELECT 1 AS found FROM achievement_prerequisite WHERE prerequisite_id = $1 LIMIT 1",
            achievement_id,
        )
        return row is not None

    async def advance_backdate_job(
        self, job_id: int, cursor: int, finished_at: datetime | None
    ) -> None:
        await self._conn.execute(
            'UPDATE backdate_job SET "cursor" = $2, finished_at = $3 WHERE id = $1',
            job_id,
            cursor,
            finished_at,
        )


def _qualification(trigger: model.Trigger) -> tuple[str, str, list[Any]]:
    """The join and condition (parameters from $5) under which a user meets this trigger."""
    if isinstance(trigger, model.MetricTrigger):
        attribute = trigger.event_attribute
        return (
            "JOIN metric_total t ON t.user_id = u.id",
            "t.metric_id = $5 AND t.attr_key = $6 AND t.attr_value = $7 AND t.total >= $8",
            [
                trigger.metric_id,
                attribute.key if attribute else "",
                attribute.value if attribute else "",
                trigger.threshold,
            ],
        )
    if isinstance(trigger, model.StreakTrigger):
        return "JOIN streak_state s ON s.user_id = u.id", "s.longest >= $5", [trigger.length]
    if isinstance(trigger, model.CompositeTrigger):
        return (
            "",
            "NOT EXISTS (SELECT 1 FROM achievement_prerequisite p WHERE p.composite_id = $3 "
            "AND NOT EXISTS (SELECT 1 FROM completion c2 WHERE c2.user_id = u.id "
            "AND c2.achievement_id = p.prerequisite_id))",
            [],
        )
    return "", "FALSE", []
