"""Endpoints, deliveries and attempts as the rules see them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from app.domain.webhooks.events import WebhookEventType


class EndpointStatus(enum.Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class DisabledReason(enum.Enum):
    MANUAL = "MANUAL"
    GONE = "GONE"
    FAILING = "FAILING"


class PayloadFormat(enum.Enum):
    STANDARD = "STANDARD"
    TROPHY = "TROPHY"


class DeliveryStatus(enum.Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class AttemptTrigger(enum.Enum):
    SCHEDULED = "SCHEDULED"
    REDELIVERY = "REDELIVERY"
    TEST = "TEST"


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    tenant_id: int
    url: str
    description: str | None
    event_types: tuple[WebhookEventType, ...]
    payload_format: PayloadFormat
    status: EndpointStatus
    disabled_reason: DisabledReason | None
    created_at: datetime
    enabled_at: datetime
    secret_created_at: datetime
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.status is EndpointStatus.ENABLED


@dataclass(frozen=True, slots=True)
class Signing:
    """An endpoint's secrets as signing needs them: the current one first."""

    current: str
    previous: str | None = None
    previous_expires_at: datetime | None = None

    def active(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign at `now`: the previous one only until its overlap ends."""
        keep = self.previous and self.previous_expires_at and now < self.previous_expires_at
        return (self.current, self.previous) if keep and self.previous else (self.current,)


@dataclass(frozen=True, slots=True)
class Attempt:
    attempted_at: datetime
    trigger: AttemptTrigger
    response_status: int | None
    response_body: str | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    tenant_id: int
    endpoint_id: int
    webhook_id: str
    event_type: WebhookEventType
    status: DeliveryStatus
    payload: str
    created_at: datetime
    attempts_made: int
    next_attempt_at: datetime | None
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery to store: one event for one endpoint."""

    tenant_id: int
    endpoint_id: int
    event_id: int | None
    webhook_id: str
    event_type: WebhookEventType
    payload: str
    created_at: datetime
