"""What webhooks need from storage, encryption and the network."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.model import (
    Attempt,
    Delivery,
    DeliveryStatus,
    DisabledReason,
    Endpoint,
    EndpointStatus,
    NewDelivery,
    PayloadFormat,
)
from app.domain.webhooks.payloads import Subjects
from app.domain.webhooks.retries import AttemptResult


class SecretUnavailable(Exception):
    """A sealed secret cannot be opened (the key changed or is missing): the attempt fails
    with this message, and rotating the secret mends it."""


class SecretBox(Protocol):
    """Encrypts endpoint secrets at rest; `context` binds a ciphertext to its row."""

    def seal(self, secret: str, context: bytes) -> bytes: ...
    def open(self, sealed: bytes, context: bytes) -> str: ...


@dataclass(frozen=True, slots=True)
class EndpointDraft:
    url: str
    description: str | None
    event_types: tuple[WebhookEventType, ...]
    payload_format: PayloadFormat


@dataclass(frozen=True, slots=True)
class SealedSecrets:
    current: bytes
    previous: bytes | None
    previous_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery claimed for one attempt, with where it goes and how to sign it."""

    delivery: Delivery
    endpoint: Endpoint
    secrets: SealedSecrets


@dataclass(frozen=True, slots=True)
class Outcome:
    """An attempt and what it did, to store in one transaction."""

    attempt: Attempt
    status: DeliveryStatus
    next_attempt_at: datetime | None
    disable: DisabledReason | None
    failing_since: datetime | None


class Subscriptions(Protocol):
    async def subscribed(self, tenant_ids: Collection[int]) -> list[Endpoint]:
        """ENABLED endpoints of these tenants."""
        ...


class WebhookStore(Subscriptions, Protocol):
    async def count_endpoints(self, tenant_id: int) -> int: ...
    async def create_endpoint(
        self, tenant_id: int, draft: EndpointDraft, seal: SealFor, now: datetime
    ) -> Endpoint: ...
    async def endpoints(self, tenant_id: int) -> list[Endpoint]: ...
    async def endpoint(self, tenant_id: int, endpoint_id: int) -> Endpoint | None: ...
    async def any_endpoint(self) -> bool: ...
    async def update_endpoint(self, tenant_id: int, endpoint: Endpoint) -> None: ...
    async def set_status(
        self,
        tenant_id: int,
        endpoint_id: int,
        status: EndpointStatus,
        reason: DisabledReason | None,
        now: datetime,
    ) -> None:
        """Enabling also makes its pending deliveries due at `now`."""
        ...

    async def rotate_secret(
        self, tenant_id: int, endpoint_id: int, seal: SealFor, now: datetime, overlap: timedelta
    ) -> None: ...
    async def delete_endpoint(self, tenant_id: int, endpoint_id: int) -> bool: ...
    async def secrets(self, tenant_id: int, endpoint_id: int) -> SealedSecrets: ...

    async def subjects(
        self,
        tenant_id: int,
        user_ids: Collection[str],
        achievement_ids: Collection[int],
        *,
        points: bool = False,
        leaderboards: bool = False,
    ) -> Subjects:
        """`points`: the batch has points events, whose bodies need the tenant's program;
        `leaderboards`: it has leaderboard events, which need the tenant's boards."""
        ...

    async def enqueue(self, deliveries: Sequence[NewDelivery], due: datetime) -> None:
        """Once per (event, endpoint): a repeat of an event already queued adds nothing."""
        ...

    async def add_delivery(self, delivery: NewDelivery) -> Delivery:
        """A delivery outside the schedule (a test event), not due on its own."""
        ...

    async def claim_due(
        self, now: datetime, lease: timedelta, per_endpoint: int, limit: int
    ) -> list[Due]:
        """PENDING deliveries due at `now` on ENABLED endpoints, leased until `now + lease`; at
        most `per_endpoint` leased at once per endpoint, counting those already leased."""
        ...

    async def next_due(self) -> datetime | None: ...
    async def pending(self, now: datetime) -> tuple[int, float]:
        """Deliveries waiting on enabled endpoints, and how many seconds the most overdue is
        past its time (0 when none is)."""
        ...

    async def delivery(self, tenant_id: int, delivery_id: int) -> Due | None:
        """With its attempts."""
        ...

    async def record(self, due: Due, outcome: Outcome) -> None: ...
    async def deliveries(
        self,
        tenant_id: int,
        endpoint_id: int,
        status: DeliveryStatus | None,
        limit: int,
        before: int | None,
    ) -> list[Delivery]: ...
    async def purge(self, older_than: datetime, now: datetime) -> int:
        """Deletes deliveries created before `older_than` and erases secrets whose overlap
        ended before `now`."""
        ...


class SealFor(Protocol):
    """Seals a secret for the endpoint row it will be stored in (its id is known only then)."""

    def __call__(self, endpoint_id: int) -> bytes: ...


class WebhookSender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        """One POST: never raises for what the receiver or the network did."""
        ...
