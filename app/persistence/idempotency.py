"""Idempotency keys: claimed in the event's transaction, purged past their window.

A key older than the window is taken over as if new when claimed again, so purging changes no
response; it keeps the table, and its unique index on the hot path, small.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.idempotency import WINDOW
from app.domain.ports import IdempotencyClaim
from app.persistence.database import Database
from app.persistence.transaction import Statements

PURGE_BATCH = 1000


class IdempotencyRows(Statements):
    async def claim_idempotency_key(
        self, tenant_id: int, key: str, request_hash: str, now: datetime
    ) -> IdempotencyClaim:
        """Insert first; a key older than the window is taken over as if new.

        On PostgreSQL a concurrent claimant of the same key waits here for the first one to
        commit or roll back, then sees its response, or claims the key itself.
        """
        row = await self._conn.fetchrow(
            "INSERT INTO idempotency_key (tenant_id, key, request_hash, response, created_at) "
            "VALUES ($1, $2, $3, NULL, $4) "
            "ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash, "
            "response = NULL, created_at = excluded.created_at "
            "WHERE idempotency_key.created_at < $5 RETURNING id",
            tenant_id,
            key,
            request_hash,
            now,
            now - WINDOW,
        )
        if row is not None:
            return IdempotencyClaim(True, request_hash, None)
        stored = await self._conn.fetchrow(
            "SELECT request_hash, response FROM idempotency_key WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
        )
        assert stored is not None
        return IdempotencyClaim(False, stored["request_hash"], stored["response"])

    async def store_idempotent_response(self, tenant_id: int, key: str, response: str) -> None:
        await self._conn.execute(
            "UPDATE idempotency_key SET response = $3 WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
            response,
        )


class SqlRetention:
    """The `Retention` port."""

    def __init__(self, database: Database, *, batch: int = PURGE_BATCH) -> None:
        self._db = database
        self._batch = batch

    async def purge_idempotency_keys(self, older_than: datetime) -> int:
        """Delete keys created before `older_than`, in short transactions; return how many went.

        Batches keep each transaction (and, on SQLite, the write lock) short, so events keep
        flowing while a large backlog is purged. Callers pass `now - WINDOW` or earlier; a later
        cutoff would forget keys whose replays are still promised.
        """
        if older_than.tzinfo is None:
            raise ValueError("older_than needs a UTC offset")
        cutoff = older_than.astimezone(UTC)
        purged = 0
        while True:
            async with self._db.transaction() as conn:
                rows = await conn.fetch(
                    "DELETE FROM idempotency_key WHERE id IN (SELECT id FROM idempotency_key "
                    "WHERE created_at < $1 ORDER BY id LIMIT $2) RETURNING id",
                    cutoff,
                    self._batch,
                )
            purged += len(rows)
            if len(rows) < self._batch:
                return purged
