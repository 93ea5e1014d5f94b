"""The webhook area's GraphQL shapes; the domain's values pass through as they are."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry

from app.domain.webhooks import events, model

strawberry.enum(
    events.WebhookEventType,
    name="WebhookEventType",
    description="What an endpoint can receive. A value's wire name (a body's `type`) is its name "
    "in lower case with the first underscore turned into a dot: ACHIEVEMENT_COMPLETED is "
    "`achievement.completed`. docs/webhooks.md gives each body.",
)
strawberry.enum(model.PayloadFormat, name="WebhookPayloadFormat")
strawberry.enum(model.EndpointStatus, name="WebhookEndpointStatus")
strawberry.enum(model.DisabledReason, name="WebhookDisabledReason")
strawberry.enum(model.DeliveryStatus, name="WebhookDeliveryStatus")
strawberry.enum(model.AttemptTrigger, name="WebhookAttemptTrigger")

WebhookEventType: TypeAlias = events.WebhookEventType
WebhookPayloadFormat: TypeAlias = model.PayloadFormat
WebhookEndpointStatus: TypeAlias = model.EndpointStatus
WebhookDisabledReason: TypeAlias = model.DisabledReason
WebhookDeliveryStatus: TypeAlias = model.DeliveryStatus
WebhookAttemptTrigger: TypeAlias = model.AttemptTrigger


@strawberry.type(description="A URL that receives signed event deliveries.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str | None
    event_types: list[WebhookEventType]
    payload_format: WebhookPayloadFormat
    status: WebhookEndpointStatus
    disabled_reason: WebhookDisabledReason | None = strawberry.field(
        description="Null when ENABLED."
    )
    created_at: datetime
    secret_created_at: datetime = strawberry.field(
        description="When the current signing secret was created."
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="During a rotation overlap: when the previous secret stops signing."
    )

    @classmethod
    def of(cls, endpoint: model.Endpoint) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(endpoint.id)),
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            payload_format=endpoint.payload_format,
            status=endpoint.status,
            disabled_reason=endpoint.disabled_reason,
            created_at=endpoint.created_at,
            secret_created_at=endpoint.secret_created_at,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
        )


@strawberry.type(description="A new endpoint and its signing secret.")
class CreatedWebhookEndpoint:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(
        description="whsec_ followed by base64 of 32 random bytes; shown this once."
    )


@strawberry.type(description="An endpoint's new signing secret.")
class RotatedWebhookSecret:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="The new secret, shown this once.")
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until then deliveries also carry a signature made with the old secret."
    )


@strawberry.type(description="One HTTP request of a delivery.")
class WebhookAttempt:
    attempted_at: datetime = strawberry.field(description="Its webhook-timestamp.")
    trigger: WebhookAttemptTrigger
    response_status: int | None
    response_body: str | None = strawberry.field(
        description="The first 1 KiB of the response body, invalid UTF-8 replaced."
    )
    error: str | None = strawberry.field(description="Why there was no usable response.")
    duration_ms: int


@strawberry.type(description="One event sent to one endpoint, with every attempt.")
class WebhookDelivery:
    id: strawberry.ID
    webhook_id: str = strawberry.field(
        description="The webhook-id header: the same on every attempt, redelivery and endpoint."
    )
    event_type: WebhookEventType
    status: WebhookDeliveryStatus
    payload: str = strawberry.field(description="The exact body sent: what the signature covers.")
    created_at: datetime
    attempts: list[WebhookAttempt] = strawberry.field(description="Oldest first.")
    next_attempt_at: datetime | None = strawberry.field(
        description="Null unless PENDING on an enabled endpoint."
    )
    endpoint: WebhookEndpoint

    @classmethod
    def of(cls, delivery: model.Delivery, endpoint: model.Endpoint) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(delivery.id)),
            endpoint=WebhookEndpoint.of(endpoint),
            webhook_id=delivery.webhook_id,
            event_type=delivery.event_type,
            status=delivery.status,
            payload=delivery.payload,
            created_at=delivery.created_at,
            attempts=[
                WebhookAttempt(
                    attempted_at=a.attempted_at,
                    trigger=a.trigger,
                    response_status=a.response_status,
                    response_body=a.response_body,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in delivery.attempts
            ],
            next_attempt_at=delivery.next_attempt_at,
        )


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Absolute URL, at most 2048 characters, no user:password part; https "
        "unless LAUREL_WEBHOOK_ALLOW_HTTP is on."
    )
    event_types: list[WebhookEventType] = strawberry.field(description="One or more.")
    description: str | None = strawberry.field(default=None, description="At most 255 characters.")
    payload_format: WebhookPayloadFormat | None = model.PayloadFormat.STANDARD


@strawberry.input(
    description="Absent fields stay as they are; null clears description. The secret changes "
    "only with rotateWebhookSecret."
)
class UpdateWebhookEndpointInput:
    url: str | None = strawberry.field(
        default=None, description="Pending deliveries go to the new URL."
    )
    event_types: list[WebhookEventType] | None = strawberry.field(
        default=None, description="Applies to events from now on."
    )
    description: strawberry.Maybe[str | None]
    payload_format: WebhookPayloadFormat | None = strawberry.field(
        default=None, description="Applies to events from now on."
    )
