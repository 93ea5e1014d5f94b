"""Retention: idempotency keys past their window (SPEC.md section 6) only take space.

A key older than the window is already treated as new when it is claimed again
(`SqlTransaction.claim_idempotency_key`), so deleting it changes no response; purging just keeps
the table, and its unique index on the hot path, small.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.persistence.database import Database

PURGE_BATCH = 1000


async def purge_idempotency_keys(
    database: Database, older_than: datetime, *, batch: int = PURGE_BATCH
) -> int:
    """Delete keys created before `older_than`, in short transactions; return how many went.

    Batches keep each transaction (and, on SQLite, the write lock) short, so events keep flowing
    while a large backlog is purged. Callers pass `now - IDEMPOTENCY_WINDOW` or earlier; a later
    cutoff would forget keys whose replays SPEC.md still promises.
    """
    if older_than.tzinfo is None:
        raise ValueError("older_than needs a UTC offset")
    cutoff = older_than.astimezone(UTC)
    purged = 0
    while True:
        async with database.transaction() as conn:
            rows = await conn.fetch(
                "DELETE FROM idempotency_key WHERE id IN (SELECT id FROM idempotency_key "
                "WHERE created_at < $1 ORDER BY id LIMIT $2) RETURNING id",
                cutoff,
                batch,
            )
        purged += len(rows)
        if len(rows) < batch:
            return purged
