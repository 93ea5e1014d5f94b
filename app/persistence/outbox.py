"""The transactional outbox, read side: claim unpublished unlocks, mark them published.

A claim is one transaction that stays open while its caller publishes, so a row is marked
published only once its message went out; a failure rolls the claim back and the row is tried
again (at least once; subscribers drop repeats by completion id).

* PostgreSQL: `FOR UPDATE SKIP LOCKED`, so relays of several instances claim disjoint rows and
  never wait for each other.
* SQLite: the transaction is `BEGIN IMMEDIATE`, the single writer, so a claim is exclusive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from app.persistence.codec import as_datetime
from app.persistence.database import Database
from app.persistence.reads import _in


@dataclass(frozen=True, slots=True)
class PendingUnlock:
    outbox_id: int
    tenant_id: int
    completion_id: int
    user_id: str
    achievement_id: int
    completed_at: datetime


class OutboxStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    @asynccontextmanager
    async def claim(
        self, limit: int, now: datetime, *, created_before: datetime | None = None
    ) -> AsyncIterator[list[PendingUnlock]]:
        """Up to `limit` unpublished rows, oldest first; marked published if the block succeeds.

        `created_before` leaves recent rows to the instance that wrote them (it was woken to
        publish them itself), so a polling relay only picks up what was left behind.
        """
        async with self._db.transaction() as conn:
            cutoff = "AND o.created_at < $2 " if created_before is not None else ""
            lock = " FOR UPDATE OF o SKIP LOCKED" if conn.dialect == "postgres" else ""
            args: list[object] = [limit] + ([created_before] if created_before else [])
            rows = await conn.fetch(
                "SELECT o.id AS outbox_id, o.tenant_id, c.id AS completion_id, "
                "u.external_id AS user_id, c.achievement_id, c.completed_at "
                "FROM outbox o JOIN completion c ON c.id = o.completion_id "
                "JOIN app_user u ON u.id = c.user_id "
                f"WHERE o.published_at IS NULL {cutoff}ORDER BY o.id LIMIT $1{lock}",
                *args,
            )
            batch = [_pending(r) for r in rows]
            yield batch
            if batch:
                ids = [p.outbox_id for p in batch]
                await conn.execute(
                    f"UPDATE outbox SET published_at = $1 WHERE id IN ({_in(ids)})", now, *ids
                )


def _pending(row: dict[str, object]) -> PendingUnlock:
    return PendingUnlock(
        outbox_id=int(str(row["outbox_id"])),
        tenant_id=int(str(row["tenant_id"])),
        completion_id=int(str(row["completion_id"])),
        user_id=str(row["user_id"]),
        achievement_id=int(str(row["achievement_id"])),
        completed_at=as_datetime(row["completed_at"]),
    )
