"""Completions: the `CompletionWrites` port, the one writer of completion rows.

A completion exists when `INSERT .. ON CONFLICT DO NOTHING RETURNING` returned its row; the
achievements' counters move by the rows actually inserted, just before commit
(`Statements.before_commit`). Who has reached what is asked with the per-kind SQL of
`app/persistence/triggers.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.domain import model
from app.domain.ports import Completion
from app.persistence.catalogue import with_prerequisites
from app.persistence.codec import (
    ACHIEVEMENT_COLUMNS,
    as_datetime,
    placeholders,
    prefixed,
)
from app.persistence.database import Row
from app.persistence.transaction import Statements
from app.persistence.triggers import STORAGE, reached_any

NOT_COMPLETED = (
    "NOT EXISTS (SELECT 1 FROM completion c WHERE c.user_id = {user} AND c.achievement_id = a.id)"
)


class CompletionRows(Statements):
    async def insert_completions(
        self,
        tenant_id: int,
        grants: Sequence[tuple[int, int]],
        now: datetime,
        *,
        backdated: bool,
    ) -> list[Completion]:
        if not grants:
            return []
        values = ", ".join(f"($1, ${2 * i + 4}, ${2 * i + 5}, $2, $3)" for i in range(len(grants)))
        rows = await self._conn.fetch(
            "INSERT INTO completion (tenant_id, user_id, achievement_id, completed_at, backdated) "
            f"VALUES {values} ON CONFLICT (user_id, achievement_id) DO NOTHING "
            "RETURNING id, user_id, achievement_id, completed_at, EXISTS (SELECT 1 FROM "
            "achievement_prerequisite p WHERE p.prerequisite_id = achievement_id) AS depended_on",
            tenant_id,
            now,
            backdated,
            *(value for grant in grants for value in grant),
        )
        new = sorted((_completion(r) for r in rows), key=lambda c: (c.user_pk, c.achievement_id))
        self._completions.update(c.achievement_id for c in new)
        self._no_dependents.update(int(r["achievement_id"]) for r in rows if not r["depended_on"])
        return new

    async def completion_of(self, user_pk: int, achievement_id: int) -> Completion | None:
        row = await self._conn.fetchrow(
            "SELECT id, user_id, achievement_id, completed_at FROM completion "
            "WHERE user_id = $1 AND achievement_id = $2",
            user_pk,
            achievement_id,
        )
        return _completion(row) if row is not None else None

    async def composites_completed_by(
        self, tenant_id: int, completed: Sequence[tuple[int, int]]
    ) -> list[tuple[int, model.Achievement]]:
        """The dependents are looked up first, through the prerequisite index: in one statement,
        PostgreSQL planned it the other way round and walked every achievement of the tenant
        (35 ms with 10,000 of them), while holding the locks of the completions just made.
        Achievements their insert found no composite depending on are not looked up again:
        most are nobody's prerequisite, and on PostgreSQL each look is a round trip."""
        completed = [pair for pair in completed if pair[1] not in self._no_dependents]
        if not completed:
            return []
        prerequisite_ids = sorted({achievement_id for _, achievement_id in completed})
        links = await self._conn.fetch(
            "SELECT DISTINCT prerequisite_id, composite_id FROM achievement_prerequisite "
            f"WHERE prerequisite_id IN ({placeholders(prerequisite_ids, 1)})",
            *prerequisite_ids,
        )
        dependents: dict[int, list[int]] = {}
        for link in links:
            dependents.setdefault(int(link["prerequisite_id"]), []).append(
                int(link["composite_id"])
            )
        pairs = sorted({(user_pk, c) for user_pk, p in completed for c in dependents.get(p, ())})
        if not pairs:
            return []
        values = ", ".join(
            f"(CAST(${2 * i + 2} AS INTEGER), CAST(${2 * i + 3} AS INTEGER))"
            for i in range(len(pairs))
        )
        composite = STORAGE[model.TriggerKind.COMPOSITE].reached("a", "f.u")
        rows = await self._conn.fetch(
            f"WITH f(u, c) AS (VALUES {values}) "
            f"SELECT f.u AS completing_user, {prefixed('a', ACHIEVEMENT_COLUMNS)} "
            "FROM f JOIN achievement a ON a.id = f.c "
            "WHERE a.tenant_id = $1 AND a.status = 'ACTIVE' "
            f"AND {NOT_COMPLETED.format(user='f.u')} AND {composite} "
            "ORDER BY f.u, a.id",
            tenant_id,
            *(value for pair in pairs for value in pair),
        )
        achievements = await with_prerequisites(self._conn, rows)
        return [(int(r["completing_user"]), a) for r, a in zip(rows, achievements, strict=True)]

    async def qualifying_achievements(
        self, tenant_id: int, user_pk: int
    ) -> list[model.Achievement]:
        rows = await self._conn.fetch(
            f"SELECT {prefixed('a', ACHIEVEMENT_COLUMNS)} FROM achievement a "
            "WHERE a.tenant_id = $1 AND a.status = 'ACTIVE' AND a.user_attributes <> '[]' "
            f"AND {NOT_COMPLETED.format(user='$2')} AND {reached_any('a', '$2')} ORDER BY a.id",
            tenant_id,
            user_pk,
        )
        return await with_prerequisites(self._conn, rows)


def _completion(row: Row) -> Completion:
    return Completion(
        id=int(row["id"]),
        user_pk=int(row["user_id"]),
        achievement_id=int(row["achievement_id"]),
        completed_at=as_datetime(row["completed_at"]),
    )
