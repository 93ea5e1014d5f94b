"""The webhook store on the real database: queueing once, claiming a bounded number per
endpoint under a lease, disabled endpoints left alone, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.model import (
    Attempt,
    AttemptTrigger,
    DeliveryStatus,
    EndpointStatus,
    NewDelivery,
    PayloadFormat,
)
from app.domain.webhooks.ports import EndpointDraft, Outcome
from app.persistence.database import Database
from app.persistence.webhooks import SqlWebhookStore

# Far enough ahead that the running app's own dispatcher never finds these due.
LATER = datetime.now(UTC) + timedelta(days=400)
LEASE = timedelta(seconds=60)
KIND = WebhookEventType.USER_CREATED


async def endpoint(store: SqlWebhookStore, tenant: int) -> int:
    draft = EndpointDraft("https://example.com/h", None, (KIND,), PayloadFormat.STANDARD)
    created = await store.create_endpoint(tenant, draft, lambda _: b"sealed", datetime.now(UTC))
    return created.id


def delivery(tenant: int, endpoint_id: int, event_id: int) -> NewDelivery:
    return NewDelivery(tenant, endpoint_id, event_id, f"msg_{event_id}", KIND, "{}", LATER)


async def mine(store: SqlWebhookStore, endpoint_id: int, now: datetime, per: int = 3) -> list[int]:
    claimed = await store.claim_due(now, LEASE, per, 10_000)
    return sorted(d.delivery.id for d in claimed if d.endpoint.id == endpoint_id)


async def test_an_event_is_queued_once_per_endpoint(database: Database, tenant: int) -> None:
    store = SqlWebhookStore(database)
    first, second = await endpoint(store, tenant), await endpoint(store, tenant)
    batch = [delivery(tenant, first, 1), delivery(tenant, second, 1)]
    await store.enqueue(batch, LATER)
    await store.enqueue(batch, LATER)  # the relay handed the batch over again
    for endpoint_id in (first, second):
        found = await store.deliveries(tenant, endpoint_id, None, 100, None)
        assert [d.webhook_id for d in found] == ["msg_1"]


async def test_claims_lease_at_most_so_many_per_endpoint(database: Database, tenant: int) -> None:
    store = SqlWebhookStore(database)
    endpoint_id = await endpoint(store, tenant)
    await store.enqueue([delivery(tenant, endpoint_id, n) for n in range(1, 8)], LATER)
    first = await mine(store, endpoint_id, LATER)
    assert len(first) == 3
    assert await mine(store, endpoint_id, LATER) == []  # three are leased already
    due = next(
        d
        for d in await store.claim_due(LATER + LEASE * 2, LEASE, 3, 10_000)
        if d.endpoint.id == endpoint_id
    )
    attempt = Attempt(LATER, AttemptTrigger.SCHEDULED, 200, "ok", None, 5)
    await store.record(due, Outcome(attempt, DeliveryStatus.SUCCEEDED, None, None, None))
    done = await store.delivery(tenant, due.delivery.id)
    assert done is not None
    assert done.delivery.status is DeliveryStatus.SUCCEEDED
    assert [a.response_status for a in done.delivery.attempts] == [200]


async def test_a_disabled_endpoints_deliveries_wait(database: Database, tenant: int) -> None:
    store = SqlWebhookStore(database)
    endpoint_id = await endpoint(store, tenant)
    await store.enqueue([delivery(tenant, endpoint_id, 1)], LATER)
    await store.set_status(tenant, endpoint_id, EndpointStatus.DISABLED, None, LATER)
    assert await mine(store, endpoint_id, LATER) == []
    [waiting] = await store.deliveries(tenant, endpoint_id, None, 10, None)
    assert (waiting.status, waiting.next_attempt_at) == (DeliveryStatus.PENDING, None)
    await store.set_status(tenant, endpoint_id, EndpointStatus.ENABLED, None, LATER)
    assert len(await mine(store, endpoint_id, LATER)) == 1


async def test_old_deliveries_and_ended_overlaps_are_purged(
    database: Database, tenant: int
) -> None:
    store = SqlWebhookStore(database)
    endpoint_id = await endpoint(store, tenant)
    now = datetime.now(UTC)
    old = NewDelivery(tenant, endpoint_id, 1, "msg_old", KIND, "{}", now - timedelta(days=31))
    await store.enqueue([old, delivery(tenant, endpoint_id, 2)], LATER)
    await store.rotate_secret(tenant, endpoint_id, lambda _: b"new", now, timedelta(seconds=1))
    assert (await store.secrets(tenant, endpoint_id)).previous == b"sealed"
    assert await store.purge(now - timedelta(days=30), now + timedelta(seconds=2)) >= 1
    found = await store.deliveries(tenant, endpoint_id, None, 10, None)
    assert [d.webhook_id for d in found] == ["msg_2"]
    secrets = await store.secrets(tenant, endpoint_id)
    assert (secrets.current, secrets.previous, secrets.previous_expires_at) == (b"new", None, None)
