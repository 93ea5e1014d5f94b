"""Idempotency keys: claimed in the event's transaction, purged past their window; and the
retention of raw events.

A key older than the window is taken over as if new when claimed again, so purging changes no
response; it keeps the table, and its unique index on the hot path, small. Raw events are kept
for the record only (totals, streak days, points and completions live in rows of their own), so
pruning them changes no answer either.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.idempotency import WINDOW
from app.domain.ports import IdempotencyClaim
from app.persistence.codec import as_datetime
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

    async def prune_events(self, stored_before: datetime) -> int:
        """Delete raw events stored before `stored_before`, oldest first, in short transactions;
        return how many went.

        Ids follow storage order, so the walk reads the oldest rows by primary key (no index on
        time, none to keep up on the hot path) and stops at a batch with nothing old left. A row
        newer than the cutoff among older ones is stepped over, not waited for.
        """
        if stored_before.tzinfo is None:
            raise ValueError("stored_before needs a UTC offset")
        cutoff = stored_before.astimezone(UTC)
        pruned, after = 0, 0
        while True:
            async with self._db.transaction() as conn:
                rows = await conn.fetch(
                    "SELECT id, created_at FROM event WHERE id > $1 ORDER BY id LIMIT $2",
                    after,
                    self._batch,
                )
                old = sum(1 for r in rows if as_datetime(r["created_at"]) < cutoff)
                if old:
                    await conn.execute(
                        "DELETE FROM event WHERE id > $1 AND id <= $2 AND created_at < $3",
                        after,
                        int(rows[-1]["id"]),
                        cutoff,
                    )
            pruned += old
            if not old or len(rows) < self._batch:
                return pruned
            after = int(rows[-1]["id"])
