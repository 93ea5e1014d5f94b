"""Webhook queries and mutations: ADMIN keys only, since payloads carry emails and attributes."""

from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.webhooks.types import (
    CreatedWebhookEndpoint,
    CreateWebhookEndpointInput,
    RotatedWebhookSecret,
    UpdateWebhookEndpointInput,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointStatus,
)
from app.domain.errors import NotFound
from app.domain.webhooks.admin import EndpointChanges, WebhookAdmin
from app.domain.webhooks.model import Delivery, PayloadFormat
from app.domain.webhooks.ports import EndpointDraft

DEFAULT_OVERLAP = 86400


def _id(value: strawberry.ID, field: str, what: str = "webhook endpoint") -> int:
    """Ids are numbers; anything else names nothing (NOT_FOUND, as an unknown number does)."""
    if not str(value).isdigit() or len(str(value)) > 18:
        raise NotFound(f"no {what} with id {str(value)[:40]!r}", field=field)
    return int(value)


def _subscriptions_changed(info: Info, tenant_id: int) -> None:
    """Some events are announced only while an endpoint receives their type (Rules.rank_changes):
    this instance learns of the change at once, others within the definitions' TTL."""
    info.context.services.definitions.forget_webhook_types(tenant_id)


def _admin(info: Info) -> tuple[int, WebhookAdmin]:
    caller = permissions.admin(info)
    return caller.tenant_id, info.context.services.webhooks


async def _with_endpoint(
    admin: WebhookAdmin, tenant_id: int, delivery: Delivery
) -> WebhookDelivery:
    return WebhookDelivery.of(delivery, await admin.endpoint(tenant_id, delivery.endpoint_id))


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="ADMIN key only; in creation order.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        tenant_id, admin = _admin(info)
        return [WebhookEndpoint.of(e) for e in await admin.endpoints(tenant_id)]

    @strawberry.field(description="ADMIN key only; null when none has this id.")
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint | None:
        tenant_id, admin = _admin(info)
        try:
            found = await admin.endpoint(tenant_id, _id(id, "id"))
        except NotFound:
            return None
        return WebhookEndpoint.of(found)

    @strawberry.field(
        description="ADMIN key only. Newest first; kept LAUREL_WEBHOOK_LOG_RETENTION_DAYS days."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        status: WebhookDeliveryStatus | None = None,
        limit: int = 50,
        before: strawberry.ID | None = None,
    ) -> list[WebhookDelivery]:
        tenant_id, admin = _admin(info)
        older_than = None if before is None else _id(before, "before", "webhook delivery")
        endpoint, found = await admin.deliveries(
            tenant_id, _id(endpoint_id, "endpointId"), status, limit, older_than
        )
        return [WebhookDelivery.of(d, endpoint) for d in found]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Created ENABLED; the secret is in this answer only.")
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> CreatedWebhookEndpoint:
        tenant_id, admin = _admin(info)
        draft = EndpointDraft(
            url=input.url,
            description=input.description,
            event_types=tuple(input.event_types),
            payload_format=input.payload_format or PayloadFormat.STANDARD,
        )
        created = await admin.create(tenant_id, draft)
        _subscriptions_changed(info, tenant_id)
        return CreatedWebhookEndpoint(
            endpoint=WebhookEndpoint.of(created.endpoint), secret=created.secret
        )

    @strawberry.mutation(
        description="Change an endpoint's URL, event types, description or format."
    )
    async def update_webhook_endpoint(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpoint:
        tenant_id, admin = _admin(info)
        description = input.description
        changes = EndpointChanges(
            url=input.url,
            event_types=None if input.event_types is None else tuple(input.event_types),
            description=description.value if description is not None else None,
            clear_description=description is not None and description.value is None,
            payload_format=input.payload_format,
        )
        updated = await admin.update(tenant_id, _id(id, "id"), changes)
        _subscriptions_changed(info, tenant_id)
        return WebhookEndpoint.of(updated)

    @strawberry.mutation(description="Enable or disable; enabling resumes pending deliveries.")
    async def set_webhook_endpoint_status(
        self, info: Info, id: strawberry.ID, status: WebhookEndpointStatus
    ) -> WebhookEndpoint:
        tenant_id, admin = _admin(info)
        endpoint = await admin.set_status(tenant_id, _id(id, "id"), status)
        _subscriptions_changed(info, tenant_id)
        if endpoint.enabled:
            info.context.services.wake_webhooks()
        return WebhookEndpoint.of(endpoint)

    @strawberry.mutation(
        description="A new secret; the old one keeps signing alongside for overlapSeconds "
        "(0 to 604800)."
    )
    async def rotate_webhook_secret(
        self, info: Info, id: strawberry.ID, overlap_seconds: int = DEFAULT_OVERLAP
    ) -> RotatedWebhookSecret:
        tenant_id, admin = _admin(info)
        rotated = await admin.rotate(tenant_id, _id(id, "id"), overlap_seconds)
        return RotatedWebhookSecret(
            endpoint=WebhookEndpoint.of(rotated.endpoint),
            secret=rotated.secret,
            previous_secret_expires_at=rotated.previous_expires_at,
        )

    @strawberry.mutation(description="Remove the endpoint, its secrets and its delivery log.")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> bool:
        tenant_id, admin = _admin(info)
        deleted = await admin.delete(tenant_id, _id(id, "id"))
        _subscriptions_changed(info, tenant_id)
        return deleted

    @strawberry.mutation(
        description="One more attempt now (enabled endpoints only): the same webhook-id and "
        "body, a fresh timestamp and signature; returns after it, with no automatic retries."
    )
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> WebhookDelivery:
        tenant_id, admin = _admin(info)
        delivered = await admin.redeliver(
            tenant_id, _id(delivery_id, "deliveryId", "webhook delivery")
        )
        return await _with_endpoint(admin, tenant_id, delivered)

    @strawberry.mutation(
        description="Send a webhook.test event now (enabled endpoint or not), wait for its "
        "single attempt and return it."
    )
    async def send_test_webhook(self, info: Info, endpoint_id: strawberry.ID) -> WebhookDelivery:
        tenant_id, admin = _admin(info)
        sent = await admin.send_test(tenant_id, _id(endpoint_id, "endpointId"))
        return await _with_endpoint(admin, tenant_id, sent)
