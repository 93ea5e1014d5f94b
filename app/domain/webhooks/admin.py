"""Managing endpoints, reading the delivery log, redelivering and testing (ADMIN keys only;
the API layer checks the role)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.domain.errors import BadUserInput, NotFound
from app.domain.validation import check_text
from app.domain.webhooks.delivery import Deliverer, secret_context
from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.model import (
    AttemptTrigger,
    Delivery,
    DeliveryStatus,
    DisabledReason,
    Endpoint,
    EndpointStatus,
    NewDelivery,
    PayloadFormat,
)
from app.domain.webhooks.payloads import body, probe_data
from app.domain.webhooks.ports import Due, EndpointDraft, SecretBox, WebhookStore
from app.domain.webhooks.signing import message_id, new_secret
from app.domain.webhooks.urls import DestinationPolicy, check_url

MAX_ENDPOINTS = 50
MAX_DESCRIPTION = 255
MAX_OVERLAP = timedelta(days=7)
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Created:
    endpoint: Endpoint
    secret: str


@dataclass(frozen=True, slots=True)
class Rotated:
    endpoint: Endpoint
    secret: str
    previous_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """None leaves a field as it is; `clear_description` sets it to null."""

    url: str | None = None
    event_types: tuple[WebhookEventType, ...] | None = None
    description: str | None = None
    clear_description: bool = False
    payload_format: PayloadFormat | None = None


class WebhookAdmin:
    def __init__(
        self,
        store: WebhookStore,
        box: SecretBox,
        deliverer: Deliverer,
        destinations: DestinationPolicy,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._box = box
        self._deliverer = deliverer
        self._destinations = destinations
        self._clock = clock

    async def create(self, tenant_id: int, draft: EndpointDraft) -> Created:
        draft = self._checked(draft)
        if await self._store.count_endpoints(tenant_id) >= MAX_ENDPOINTS:
            raise BadUserInput(f"a tenant may have at most {MAX_ENDPOINTS} webhook endpoints")
        secret = new_secret()
        endpoint = await self._store.create_endpoint(
            tenant_id,
            draft,
            lambda endpoint_id: self._box.seal(secret, secret_context(tenant_id, endpoint_id)),
            self._clock(),
        )
        return Created(endpoint, secret)

    async def update(self, tenant_id: int, endpoint_id: int, changes: EndpointChanges) -> Endpoint:
        endpoint = await self.endpoint(tenant_id, endpoint_id)
        description = endpoint.description if changes.description is None else changes.description
        draft = self._checked(
            EndpointDraft(
                url=endpoint.url if changes.url is None else changes.url,
                description=None if changes.clear_description else description,
                event_types=(
                    endpoint.event_types if changes.event_types is None else changes.event_types
                ),
                payload_format=changes.payload_format or endpoint.payload_format,
            )
        )
        changed = replace(
            endpoint,
            url=draft.url,
            description=draft.description,
            event_types=draft.event_types,
            payload_format=draft.payload_format,
        )
        await self._store.update_endpoint(tenant_id, changed)
        return changed

    async def set_status(
        self, tenant_id: int, endpoint_id: int, status: EndpointStatus
    ) -> Endpoint:
        await self.endpoint(tenant_id, endpoint_id)
        reason = DisabledReason.MANUAL if status is EndpointStatus.DISABLED else None
        await self._store.set_status(tenant_id, endpoint_id, status, reason, self._clock())
        return await self.endpoint(tenant_id, endpoint_id)

    async def rotate(self, tenant_id: int, endpoint_id: int, overlap_seconds: int) -> Rotated:
        if not 0 <= overlap_seconds <= MAX_OVERLAP.total_seconds():
            raise BadUserInput(
                "overlapSeconds must be between 0 and 604800 (7 days)", field="overlapSeconds"
            )
        await self.endpoint(tenant_id, endpoint_id)
        secret = new_secret()
        context = secret_context(tenant_id, endpoint_id)
        await self._store.rotate_secret(
            tenant_id,
            endpoint_id,
            lambda _: self._box.seal(secret, context),
            self._clock(),
            timedelta(seconds=overlap_seconds),
        )
        endpoint = await self.endpoint(tenant_id, endpoint_id)
        return Rotated(endpoint, secret, endpoint.previous_secret_expires_at)

    async def delete(self, tenant_id: int, endpoint_id: int) -> bool:
        if not await self._store.delete_endpoint(tenant_id, endpoint_id):
            raise NotFound(f"no webhook endpoint with id {endpoint_id}", field="id")
        return True

    async def endpoints(self, tenant_id: int) -> list[Endpoint]:
        return await self._store.endpoints(tenant_id)

    async def endpoint(self, tenant_id: int, endpoint_id: int) -> Endpoint:
        found = await self._store.endpoint(tenant_id, endpoint_id)
        if found is None:
            raise NotFound(f"no webhook endpoint with id {endpoint_id}", field="id")
        return found

    async def deliveries(
        self,
        tenant_id: int,
        endpoint_id: int,
        status: DeliveryStatus | None,
        limit: int,
        before: int | None,
    ) -> tuple[Endpoint, list[Delivery]]:
        """Newest first, after `before` (the previous page's last id)."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadUserInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
        endpoint = await self.endpoint(tenant_id, endpoint_id)
        found = await self._store.deliveries(tenant_id, endpoint_id, status, limit, before)
        return endpoint, found

    async def redeliver(self, tenant_id: int, delivery_id: int) -> Delivery:
        due = await self._store.delivery(tenant_id, delivery_id)
        if due is None:
            raise NotFound(f"no webhook delivery with id {delivery_id}", field="deliveryId")
        if not due.endpoint.enabled:
            raise BadUserInput("the endpoint is disabled: enable it to redeliver")
        await self._deliverer.attempt(due, AttemptTrigger.REDELIVERY)
        return await self._reread(tenant_id, delivery_id)

    async def send_test(self, tenant_id: int, endpoint_id: int) -> Delivery:
        endpoint = await self.endpoint(tenant_id, endpoint_id)
        now = self._clock()
        webhook_id = message_id(now)
        kind = WebhookEventType.WEBHOOK_TEST
        payload = body(webhook_id, kind, now, probe_data(endpoint_id))
        delivery = await self._store.add_delivery(
            NewDelivery(tenant_id, endpoint_id, None, webhook_id, kind, payload, now)
        )
        secrets = await self._store.secrets(tenant_id, endpoint_id)
        await self._deliverer.attempt(Due(delivery, endpoint, secrets), AttemptTrigger.TEST)
        return await self._reread(tenant_id, delivery.id)

    async def _reread(self, tenant_id: int, delivery_id: int) -> Delivery:
        """The delivery as its attempt left it."""
        due = await self._store.delivery(tenant_id, delivery_id)
        if due is None:
            raise NotFound(f"webhook delivery {delivery_id} is gone", field="deliveryId")
        return due.delivery

    def _checked(self, draft: EndpointDraft) -> EndpointDraft:
        check_url(draft.url, self._destinations)
        if not draft.event_types:
            raise BadUserInput("eventTypes must list at least one type", field="eventTypes")
        check_text(draft.description, "description", MAX_DESCRIPTION)
        if (
            draft.payload_format is PayloadFormat.TROPHY
            and WebhookEventType.USER_CREATED in draft.event_types
        ):
            raise BadUserInput(
                "Trophy has no user.created event: TROPHY-format endpoints cannot receive it",
                field="eventTypes",
            )
        return replace(draft, event_types=tuple(dict.fromkeys(draft.event_types)))
