"""Webhook deliveries and their attempts in SQL: queueing once, claiming with a lease, the log.

Queueing is one insert per batch; `(endpoint_id, event_id)` is unique, so a batch relayed twice
queues nothing twice. A claim leases due deliveries in a short transaction of its own (serialised
across instances: an advisory lock on PostgreSQL, the write lock on SQLite), at most
`per_endpoint` leased at once per endpoint. An attempt's outcome is stored in one transaction
after the request has finished; no transaction is open while it runs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from app.domain.model import CompositeTrigger, MetricTrigger
from app.domain.points import PointsProgram
from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.model import (
    Attempt,
    AttemptTrigger,
    Delivery,
    DeliveryStatus,
    NewDelivery,
)
from app.domain.webhooks.payloads import Subjects
from app.domain.webhooks.ports import Due, Outcome
from app.persistence.catalogue import achievements_by_ids
from app.persistence.codec import USER_COLUMNS, as_datetime, placeholders, user_from_row
from app.persistence.database import Connection, Database, Row
from app.persistence.leaderboards import boards_of
from app.persistence.points import program_of
from app.persistence.webhook_endpoints import (
    ENDPOINT_COLUMNS,
    disable,
    endpoint_from_row,
    sealed_from_row,
)

# An arbitrary constant naming the claim among PostgreSQL advisory locks.
CLAIM_LOCK_ID = 0x1A07E2
ROWS_PER_INSERT = 500
# Each enabled endpoint's earliest due deliveries, one index probe per endpoint: PostgreSQL
# runs a LATERAL subquery per endpoint; SQLite, which has no LATERAL, looks the rows up by the
# ids a correlated subquery gives (PostgreSQL would scan the table for that form).
_DUE = (
    "FROM webhook_delivery d WHERE d.endpoint_id = e.id AND d.status = 'PENDING' "
    "AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id LIMIT $2"
)
EARLIEST_DUE_PG = (
    "SELECT x.id, x.endpoint_id FROM webhook_endpoint e CROSS JOIN LATERAL "
    f"(SELECT d.id, d.endpoint_id, d.next_attempt_at {_DUE}) x "
    "WHERE e.status = 'ENABLED' ORDER BY x.next_attempt_at, x.id"
)
EARLIEST_DUE_SQLITE = (
    "SELECT x.id, x.endpoint_id FROM webhook_endpoint e JOIN webhook_delivery x "
    f"ON x.id IN (SELECT d.id {_DUE}) "
    "WHERE e.status = 'ENABLED' ORDER BY x.next_attempt_at, x.id"
)
PURGE_BATCH = 1000
DELIVERY_COLUMNS = (
    "d.id, d.tenant_id, d.endpoint_id, d.webhook_id, d.event_type, d.status, d.payload, "
    "d.created_at, d.attempts_made, "
    "CASE WHEN d.status = 'PENDING' AND e.status = 'ENABLED' THEN d.next_attempt_at END "
    "AS next_attempt_at"
)
ENDPOINT_ALIASED = ", ".join(f"e.{c.strip()} AS e_{c.strip()}" for c in ENDPOINT_COLUMNS.split(","))
JOINED = (
    f"SELECT {DELIVERY_COLUMNS}, {ENDPOINT_ALIASED}, "
    "e.secret, e.previous_secret, e.previous_secret_expires_at AS sealed_expires "
    "FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id"
)


def _delivery(row: Row, attempts: Sequence[Attempt] = ()) -> Delivery:
    due = row["next_attempt_at"]
    return Delivery(
        id=int(row["id"]),
        tenant_id=int(row["tenant_id"]),
        endpoint_id=int(row["endpoint_id"]),
        webhook_id=row["webhook_id"],
        event_type=WebhookEventType(row["event_type"]),
        status=DeliveryStatus(row["status"]),
        payload=row["payload"],
        created_at=as_datetime(row["created_at"]),
        attempts_made=int(row["attempts_made"]),
        next_attempt_at=as_datetime(due) if due else None,
        attempts=tuple(attempts),
    )


def _attempt(row: Row) -> Attempt:
    return Attempt(
        attempted_at=as_datetime(row["attempted_at"]),
        trigger=AttemptTrigger(row["trigger"]),
        response_status=row["response_status"],
        response_body=row["response_body"],
        error=row["error"],
        duration_ms=int(row["duration_ms"]),
    )


def _due(row: Row, attempts: Sequence[Attempt] = ()) -> Due:
    secrets = sealed_from_row(
        {
            "secret": row["secret"],
            "previous_secret": row["previous_secret"],
            "previous_secret_expires_at": row["sealed_expires"],
        }
    )
    return Due(_delivery(row, attempts), endpoint_from_row(row, "e_"), secrets)


async def _attempts_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[Attempt]]:
    found: dict[int, list[Attempt]] = defaultdict(list)
    if ids:
        rows = await conn.fetch(
            "SELECT delivery_id, attempted_at, trigger, response_status, response_body, error, "
            f"duration_ms FROM webhook_attempt WHERE delivery_id IN ({placeholders(ids, 1)}) "
            "ORDER BY id",
            *ids,
        )
        for row in rows:
            found[int(row["delivery_id"])].append(_attempt(row))
    return found


class DeliveryRows:
    """The delivery half of the `WebhookStore` port."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def subjects(
        self,
        tenant_id: int,
        user_ids: Collection[str],
        achievement_ids: Collection[int],
        *,
        points: bool = False,
        leaderboards: bool = False,
    ) -> Subjects:
        async with self._db.connection() as conn:
            users = []
            if user_ids:
                ids = sorted(user_ids)
                users = await conn.fetch(
                    f"SELECT {USER_COLUMNS} FROM app_user "
                    f"WHERE tenant_id = $1 AND external_id IN ({placeholders(ids)})",
                    tenant_id,
                    *ids,
                )
            achievements = await achievements_by_ids(conn, tenant_id, sorted(achievement_ids))
            boards = await boards_of(conn, tenant_id) if leaderboards else []
            metric_ids = sorted(
                {a.trigger.metric_id for a in achievements if isinstance(a.trigger, MetricTrigger)}
                | {b.metric_id for b in boards if b.metric_id is not None}
            )
            prerequisite_ids = sorted(
                {
                    p
                    for a in achievements
                    if isinstance(a.trigger, CompositeTrigger)
                    for p in a.trigger.prerequisite_ids
                }
            )
            metrics = await self._keys(conn, "metric", tenant_id, metric_ids)
            achievement_keys = await self._keys(conn, "achievement", tenant_id, prerequisite_ids)
            program = await program_of(conn, tenant_id) if points else PointsProgram()
        return Subjects(
            users={u["external_id"]: user_from_row(u) for u in users},
            achievements={a.id: a for a in achievements},
            metric_keys={i: key for i, (key, _) in metrics.items()},
            metric_names={i: name for i, (_, name) in metrics.items()},
            achievement_keys={i: key for i, (key, _) in achievement_keys.items()},
            points=program,
            leaderboards={b.id: b for b in boards},
        )

    @staticmethod
    async def _keys(
        conn: Connection, table: str, tenant_id: int, ids: Sequence[int]
    ) -> dict[int, tuple[str, str]]:
        """Key and name by id."""
        if not ids:
            return {}
        rows = await conn.fetch(
            f"SELECT id, key, name FROM {table} "
            f"WHERE tenant_id = $1 AND id IN ({placeholders(ids)})",
            tenant_id,
            *ids,
        )
        return {int(r["id"]): (r["key"], r["name"]) for r in rows}

    async def enqueue(self, deliveries: Sequence[NewDelivery], due: datetime) -> None:
        if not deliveries:
            return
        async with self._db.transaction() as conn:
            for start in range(0, len(deliveries), ROWS_PER_INSERT):
                chunk = deliveries[start : start + ROWS_PER_INSERT]
                values = ", ".join(
                    f"(${7 * i + 2}, ${7 * i + 3}, ${7 * i + 4}, ${7 * i + 5}, ${7 * i + 6}, "
                    f"${7 * i + 7}, 'PENDING', ${7 * i + 8}, 0, $1)"
                    for i in range(len(chunk))
                )
                await conn.execute(
                    "INSERT INTO webhook_delivery (tenant_id, endpoint_id, event_id, webhook_id, "
                    "event_type, payload, status, created_at, attempts_made, next_attempt_at) "
                    f"VALUES {values} ON CONFLICT (endpoint_id, event_id) DO NOTHING",
                    due,
                    *(
                        value
                        for d in chunk
                        for value in (
                            d.tenant_id,
                            d.endpoint_id,
                            d.event_id,
                            d.webhook_id,
                            d.event_type.value,
                            d.payload,
                            d.created_at,
                        )
                    ),
                )

    async def add_delivery(self, delivery: NewDelivery) -> Delivery:
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO webhook_delivery (tenant_id, endpoint_id, event_id, webhook_id, "
                "event_type, payload, status, created_at, attempts_made) "
                "VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, 0) RETURNING id",
                delivery.tenant_id,
                delivery.endpoint_id,
                delivery.event_id,
                delivery.webhook_id,
                delivery.event_type.value,
                delivery.payload,
                delivery.created_at,
            )
        assert row is not None
        return Delivery(
            id=int(row["id"]),
            tenant_id=delivery.tenant_id,
            endpoint_id=delivery.endpoint_id,
            webhook_id=delivery.webhook_id,
            event_type=delivery.event_type,
            status=DeliveryStatus.PENDING,
            payload=delivery.payload,
            created_at=delivery.created_at,
            attempts_made=0,
            next_attempt_at=None,
        )

    async def claim_due(
        self, now: datetime, lease: timedelta, per_endpoint: int, limit: int
    ) -> list[Due]:
        """For each enabled endpoint, its earliest due deliveries (an index probe each, however
        long any backlog is, so one slow endpoint never holds up another), less those it has in
        flight. A claimed delivery's next attempt moves to the lease's end: a crash mid-attempt
        makes it due again then, for any instance."""
        until = now + lease
        async with self._db.transaction() as conn:
            pg = conn.dialect == "postgres"
            if pg:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", CLAIM_LOCK_ID)
            candidates = await conn.fetch(
                EARLIEST_DUE_PG if pg else EARLIEST_DUE_SQLITE, now, per_endpoint
            )
            if not candidates:
                return []
            # Counted here, not grouped in SQL: the range on the lease index stays a range.
            leased = await conn.fetch(
                "SELECT endpoint_id FROM webhook_delivery WHERE leased_until > $1", now
            )
            room = Counter({int(r["endpoint_id"]): per_endpoint for r in candidates})
            room.subtract(int(r["endpoint_id"]) for r in leased)
            ids: list[int] = []
            for row in candidates:
                endpoint_id = int(row["endpoint_id"])
                if room[endpoint_id] > 0 and len(ids) < limit:
                    room[endpoint_id] -= 1
                    ids.append(int(row["id"]))
            if not ids:
                return []
            await conn.execute(
                "UPDATE webhook_delivery SET leased_until = $1, next_attempt_at = $1 "
                f"WHERE id IN ({placeholders(ids)})",
                until,
                *ids,
            )
            rows = await conn.fetch(
                f"{JOINED} WHERE d.id IN ({placeholders(ids, 1)}) ORDER BY d.id", *ids
            )
        return [_due(r) for r in rows]

    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery falls due (those of disabled endpoints wait with
        no time)."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT MIN(next_attempt_at) AS due FROM webhook_delivery WHERE status = 'PENDING'"
            )
        return as_datetime(row["due"]) if row and row["due"] else None

    async def pending(self, now: datetime) -> tuple[int, float]:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT COUNT(*) AS waiting, MIN(next_attempt_at) AS due FROM webhook_delivery "
                "WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL"
            )
        if row is None or not row["waiting"]:
            return 0, 0.0
        late = (now - as_datetime(row["due"])).total_seconds() if row["due"] else 0.0
        return int(row["waiting"]), max(0.0, late)

    async def delivery(self, tenant_id: int, delivery_id: int) -> Due | None:
        """With its attempts."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"{JOINED} WHERE d.tenant_id = $1 AND d.id = $2", tenant_id, delivery_id
            )
            attempts = await _attempts_of(conn, [delivery_id]) if row else {}
        return _due(row, attempts.get(delivery_id, ())) if row else None

    async def record(self, due: Due, outcome: Outcome) -> None:
        delivery, attempt = due.delivery, outcome.attempt
        async with self._db.transaction() as conn:
            endpoint = await conn.fetchrow(
                "SELECT status FROM webhook_endpoint WHERE id = $1", delivery.endpoint_id
            )
            enabled = endpoint is not None and endpoint["status"] == "ENABLED"
            await conn.execute(
                "INSERT INTO webhook_attempt (delivery_id, attempted_at, trigger, "
                "response_status, response_body, error, duration_ms) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                delivery.id,
                attempt.attempted_at,
                attempt.trigger.value,
                attempt.response_status,
                attempt.response_body,
                attempt.error,
                attempt.duration_ms,
            )
            await conn.execute(
                "UPDATE webhook_delivery SET status = $2, next_attempt_at = $3, "
                "attempts_made = attempts_made + 1, leased_until = NULL WHERE id = $1",
                delivery.id,
                outcome.status.value,
                outcome.next_attempt_at if enabled and outcome.disable is None else None,
            )
            await self._count_failure(conn, delivery.endpoint_id, outcome)
            if outcome.disable is not None:
                await disable(conn, delivery.endpoint_id, outcome.disable)

    @staticmethod
    async def _count_failure(conn: Connection, endpoint_id: int, outcome: Outcome) -> None:
        """Writes the endpoint row only when its failure count starts or ends, so that
        concurrent attempts do not queue on it."""
        if outcome.status is DeliveryStatus.SUCCEEDED:
            await conn.execute(
                "UPDATE webhook_endpoint SET failing_since = NULL "
                "WHERE id = $1 AND failing_since IS NOT NULL",
                endpoint_id,
            )
        else:
            await conn.execute(
                "UPDATE webhook_endpoint SET failing_since = $2 "
                "WHERE id = $1 AND failing_since IS NULL",
                endpoint_id,
                outcome.attempt.attempted_at,
            )

    async def deliveries(
        self,
        tenant_id: int,
        endpoint_id: int,
        status: DeliveryStatus | None,
        limit: int,
        before: int | None,
    ) -> list[Delivery]:
        conditions = ["d.tenant_id = $1", "d.endpoint_id = $2"]
        args: list[object] = [tenant_id, endpoint_id]
        if status is not None:
            args.append(status.value)
            conditions.append(f"d.status = ${len(args)}")
        if before is not None:
            args.append(before)
            conditions.append(f"d.id < ${len(args)}")
        args.append(limit)
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"{JOINED} WHERE {' AND '.join(conditions)} ORDER BY d.id DESC LIMIT ${len(args)}",
                *args,
            )
            attempts = await _attempts_of(conn, [int(r["id"]) for r in rows])
        return [_delivery(r, attempts.get(int(r["id"]), ())) for r in rows]

    async def purge(self, older_than: datetime, now: datetime) -> int:
        """Old deliveries go with their attempts (foreign keys cascade), in short transactions;
        previous secrets whose overlap is over are erased."""
        purged = 0
        while True:
            async with self._db.transaction() as conn:
                gone = await conn.fetch(
                    "DELETE FROM webhook_delivery WHERE id IN (SELECT id FROM webhook_delivery "
                    "WHERE created_at < $1 ORDER BY id LIMIT $2) RETURNING id",
                    older_than,
                    PURGE_BATCH,
                )
            purged += len(gone)
            if len(gone) < PURGE_BATCH:
                break
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE webhook_endpoint SET previous_secret = NULL, "
                "previous_secret_expires_at = NULL WHERE previous_secret_expires_at < $1",
                now,
            )
        return purged
