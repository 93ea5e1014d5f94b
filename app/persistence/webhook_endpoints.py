"""Webhook endpoints in SQL: their settings, status and sealed secrets."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.model import (
    DisabledReason,
    Endpoint,
    EndpointStatus,
    PayloadFormat,
)
from app.domain.webhooks.ports import EndpointDraft, SealedSecrets, SealFor
from app.persistence.codec import as_datetime, placeholders
from app.persistence.database import Connection, Database, Row

ENDPOINT_COLUMNS = (
    "id, tenant_id, url, description, event_types, payload_format, status, disabled_reason, "
    "created_at, enabled_at, secret_created_at, previous_secret_expires_at, failing_since"
)


def endpoint_from_row(row: Row, prefix: str = "") -> Endpoint:
    def col(name: str) -> Any:
        return row[prefix + name]

    expires, failing = col("previous_secret_expires_at"), col("failing_since")
    reason = col("disabled_reason")
    return Endpoint(
        id=int(col("id")),
        tenant_id=int(col("tenant_id")),
        url=col("url"),
        description=col("description"),
        event_types=tuple(WebhookEventType[t] for t in json.loads(col("event_types"))),
        payload_format=PayloadFormat(col("payload_format")),
        status=EndpointStatus(col("status")),
        disabled_reason=DisabledReason(reason) if reason else None,
        created_at=as_datetime(col("created_at")),
        enabled_at=as_datetime(col("enabled_at")),
        secret_created_at=as_datetime(col("secret_created_at")),
        previous_secret_expires_at=as_datetime(expires) if expires else None,
        failing_since=as_datetime(failing) if failing else None,
    )


def sealed_from_row(row: Row) -> SealedSecrets:
    expires = row["previous_secret_expires_at"]
    return SealedSecrets(
        current=bytes(row["secret"]),
        previous=bytes(row["previous_secret"]) if row["previous_secret"] else None,
        previous_expires_at=as_datetime(expires) if expires else None,
    )


async def disable(conn: Connection, endpoint_id: int, reason: DisabledReason) -> None:
    """Its pending deliveries wait with no time until it is enabled again. An endpoint
    disabled already keeps its reason."""
    await conn.execute(
        "UPDATE webhook_endpoint SET status = 'DISABLED', disabled_reason = $2 "
        "WHERE id = $1 AND status = 'ENABLED'",
        endpoint_id,
        reason.value,
    )
    await conn.execute(
        "UPDATE webhook_delivery SET next_attempt_at = NULL "
        "WHERE endpoint_id = $1 AND status = 'PENDING' AND leased_until IS NULL",
        endpoint_id,
    )


def _types(event_types: Collection[WebhookEventType]) -> str:
    return json.dumps([t.name for t in event_types])


class EndpointRows:
    """The endpoint half of the `WebhookStore` port."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def count_endpoints(self, tenant_id: int) -> int:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT COUNT(*) AS n FROM webhook_endpoint WHERE tenant_id = $1", tenant_id
            )
        return int(row["n"]) if row else 0

    async def create_endpoint(
        self, tenant_id: int, draft: EndpointDraft, seal: SealFor, now: datetime
    ) -> Endpoint:
        """The row first, then its sealed secret: the seal is bound to the row's id."""
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO webhook_endpoint (tenant_id, url, description, event_types, "
                "payload_format, status, created_at, enabled_at, secret, secret_created_at) "
                "VALUES ($1, $2, $3, $4, $5, 'ENABLED', $6, $6, $7, $6) "
                f"RETURNING {ENDPOINT_COLUMNS}",
                tenant_id,
                draft.url,
                draft.description,
                _types(draft.event_types),
                draft.payload_format.value,
                now,
                b"",
            )
            assert row is not None
            await conn.execute(
                "UPDATE webhook_endpoint SET secret = $2 WHERE id = $1", row["id"], seal(row["id"])
            )
        return endpoint_from_row(row)

    async def endpoints(self, tenant_id: int) -> list[Endpoint]:
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE tenant_id = $1 ORDER BY id",
                tenant_id,
            )
        return [endpoint_from_row(r) for r in rows]

    async def endpoint(self, tenant_id: int, endpoint_id: int) -> Endpoint | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE tenant_id = $1 AND id = $2",
                tenant_id,
                endpoint_id,
            )
        return endpoint_from_row(row) if row else None

    async def any_endpoint(self) -> bool:
        async with self._db.connection() as conn:
            return await conn.fetchrow("SELECT id FROM webhook_endpoint LIMIT 1") is not None

    async def subscribed(self, tenant_ids: Collection[int]) -> list[Endpoint]:
        if not tenant_ids:
            return []
        ids = sorted(tenant_ids)
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint "
                f"WHERE status = 'ENABLED' AND tenant_id IN ({placeholders(ids, 1)})",
                *ids,
            )
        return [endpoint_from_row(r) for r in rows]

    async def update_endpoint(self, tenant_id: int, endpoint: Endpoint) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE webhook_endpoint SET url = $3, description = $4, event_types = $5, "
                "payload_format = $6 WHERE tenant_id = $1 AND id = $2",
                tenant_id,
                endpoint.id,
                endpoint.url,
                endpoint.description,
                _types(endpoint.event_types),
                endpoint.payload_format.value,
            )

    async def set_status(
        self,
        tenant_id: int,
        endpoint_id: int,
        status: EndpointStatus,
        reason: DisabledReason | None,
        now: datetime,
    ) -> None:
        """Enabling (of a disabled endpoint) starts the failure count afresh, receives events
        from `now` on, and makes pending deliveries due now."""
        async with self._db.transaction() as conn:
            if status is EndpointStatus.DISABLED:
                owned = await conn.fetchrow(
                    "SELECT id FROM webhook_endpoint WHERE tenant_id = $1 AND id = $2",
                    tenant_id,
                    endpoint_id,
                )
                if owned is not None:
                    await disable(conn, endpoint_id, reason or DisabledReason.MANUAL)
            else:
                await conn.execute(
                    "UPDATE webhook_endpoint SET status = 'ENABLED', disabled_reason = NULL, "
                    "failing_since = NULL, enabled_at = $3 "
                    "WHERE tenant_id = $1 AND id = $2 AND status = 'DISABLED'",
                    tenant_id,
                    endpoint_id,
                    now,
                )
                await conn.execute(
                    "UPDATE webhook_delivery SET next_attempt_at = $2 "
                    "WHERE endpoint_id = $1 AND status = 'PENDING'",
                    endpoint_id,
                    now,
                )

    async def rotate_secret(
        self, tenant_id: int, endpoint_id: int, seal: SealFor, now: datetime, overlap: timedelta
    ) -> None:
        """The current secret becomes the previous one for `overlap` (none when it is 0)."""
        previous = "secret" if overlap else "NULL"
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE webhook_endpoint SET previous_secret = {previous}, "
                "previous_secret_expires_at = $5, secret = $3, secret_created_at = $4 "
                "WHERE tenant_id = $1 AND id = $2",
                tenant_id,
                endpoint_id,
                seal(endpoint_id),
                now,
                now + overlap if overlap else None,
            )

    async def delete_endpoint(self, tenant_id: int, endpoint_id: int) -> bool:
        """Its deliveries and their attempts go with it (foreign keys cascade)."""
        async with self._db.transaction() as conn:
            rows = await conn.fetch(
                "DELETE FROM webhook_endpoint WHERE tenant_id = $1 AND id = $2 RETURNING id",
                tenant_id,
                endpoint_id,
            )
        return bool(rows)

    async def secrets(self, tenant_id: int, endpoint_id: int) -> SealedSecrets:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "SELECT secret, previous_secret, previous_secret_expires_at FROM webhook_endpoint "
                "WHERE tenant_id = $1 AND id = $2",
                tenant_id,
                endpoint_id,
            )
        if row is None:
            raise LookupError(f"webhook endpoint {endpoint_id} is gone")
        return sealed_from_row(row)
