"""The transactional outbox: announcements written in the operation's transaction, handed on
after commit.

Writing (`OutboxRows.announce`) gathers what an operation announces and inserts it all in one
statement of the operation's own transaction, just before it commits, so a rolled-back
operation announces nothing. Relaying (`SqlOutboxStore`) claims a batch with a lease in a short
transaction of its own and commits it *before* anything is sent: no lock (on SQLite, not the
single write lock) is held while a consumer talks to Redis or a webhook receiver. Rows are
marked published after every consumer took them; a relay that dies meanwhile leaves rows whose
lease expires, and they are claimed again (at least once).

* PostgreSQL: the claim skips rows other relays have locked (`FOR UPDATE SKIP LOCKED`), so relays
  of several instances claim disjoint batches and never wait for each other.
* SQLite: the claim runs under `BEGIN IMMEDIATE`, the single writer, so it is exclusive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import orjson

from app.domain.announcements import Announcement, Published, parse
from app.persistence.codec import as_datetime, placeholders
from app.persistence.database import Database, Row
from app.persistence.transaction import Statements

log = logging.getLogger("laurel.outbox")

# Rows per insert: 4 parameters each, well within both databases' limits.
INSERT_ROWS = 1000


class OutboxRows(Statements):
    async def announce(self, tenant_id: int, events: Sequence[Announcement], now: datetime) -> None:
        """Kept until just before commit, then written with the transaction's other
        announcements in one insert, in the order announced (ids follow that order)."""
        self._announced += [
            (tenant_id, e.type.value, orjson.dumps(e.to_data()).decode(), now) for e in events
        ]

    async def before_commit(self) -> None:
        rows, self._announced = self._announced, []
        for start in range(0, len(rows), INSERT_ROWS):
            chunk = rows[start : start + INSERT_ROWS]
            values = ", ".join(
                f"(${4 * i + 1}, ${4 * i + 2}, ${4 * i + 3}, ${4 * i + 4})"
                for i in range(len(chunk))
            )
            await self._conn.execute(
                f"INSERT INTO outbox_event (tenant_id, type, data, created_at) VALUES {values}",
                *(part for row in chunk for part in row),
            )
        await super().before_commit()


class SqlOutboxStore:
    """The `OutboxStore` port."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(
        self,
        limit: int,
        now: datetime,
        lease: timedelta,
        *,
        created_before: datetime | None = None,
    ) -> list[Published]:
        """Up to `limit` unpublished, unleased rows, oldest first, leased until `now + lease`.

        `created_before` leaves recent rows to the instance that wrote them (it was woken to
        pass them on itself), so a polling relay only takes what was left behind: rows older
        than that, and rows whose lease expired (their relay failed or deferred them)."""
        async with self._db.transaction() as conn:
            pg = conn.dialect == "postgres"
            lock = " FOR UPDATE SKIP LOCKED" if pg else ""
            args: list[object] = [now + lease, now, limit]
            if created_before is None:
                due = "(claimed_until IS NULL OR claimed_until < $2)"
            else:
                due = "(claimed_until < $2 OR (claimed_until IS NULL AND created_at < $4))"
                args.append(created_before)
            rows = await conn.fetch(
                "UPDATE outbox_event SET claimed_until = $1 WHERE id IN (SELECT id FROM "
                f"outbox_event WHERE published_at IS NULL AND {due} ORDER BY id LIMIT $3{lock}) "
                "RETURNING id, tenant_id, type, data, created_at",
                *args,
            )
        return sorted((p for p in map(_published, rows) if p is not None), key=lambda p: p.id)

    async def mark_published(self, ids: Sequence[int], now: datetime) -> None:
        if not ids:
            return
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE outbox_event SET published_at = $1 WHERE id IN ({placeholders(ids)})",
                now,
                *ids,
            )

    async def backlog(self, now: datetime) -> tuple[int, float]:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT COUNT(*) AS waiting, MIN(created_at) AS oldest FROM outbox_event "
                "WHERE published_at IS NULL"
            )
        assert row is not None
        if not row["waiting"]:
            return 0, 0.0
        return int(row["waiting"]), max(0.0, (now - as_datetime(row["oldest"])).total_seconds())


def _published(row: Row) -> Published | None:
    """None for a type this version does not know: a newer instance wrote it, and passes it on."""
    try:
        event = parse(str(row["type"]), orjson.loads(str(row["data"])))
    except (KeyError, ValueError, TypeError):
        log.warning("leaving outbox row %s of unknown type %r", row["id"], row["type"])
        return None
    return Published(
        id=int(row["id"]),
        tenant_id=int(row["tenant_id"]),
        event=event,
        created_at=as_datetime(row["created_at"]),
    )
