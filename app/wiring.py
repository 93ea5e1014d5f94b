"""Wiring of webhooks and badge storage from the settings: the parts of start-up that choose
implementations, kept out of main.py so that it reads as the app's outline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import version

from app.api.trophy import webhooks as trophy_webhooks
from app.domain.badges import BadgeFiles
from app.domain.webhooks.admin import WebhookAdmin
from app.domain.webhooks.delivery import Deliverer
from app.domain.webhooks.model import PayloadFormat
from app.domain.webhooks.payloads import Render
from app.domain.webhooks.payloads import standard as standard_body
from app.domain.webhooks.retries import RetryPolicy
from app.domain.webhooks.urls import DestinationPolicy
from app.infra.badge_files import BucketFiles, DirectoryFiles
from app.infra.metrics import Metrics
from app.infra.secret_box import AesGcmBox, SecretKey
from app.infra.settings import Settings
from app.infra.webhook_sender import HttpSender
from app.persistence.webhooks import SqlWebhookStore
from app.workers.webhooks import WebhookDispatcher, WebhookFanout

log = logging.getLogger("laurel")

# Webhook bodies by payload format: Laurel's own, and Trophy's for receivers moving from it.
FORMATS: dict[PayloadFormat, Render] = {
    PayloadFormat.STANDARD: standard_body,
    PayloadFormat.TROPHY: trophy_webhooks.body,
}

# How long past an attempt's time limit its lease lasts: a crash mid-attempt delays that
# delivery by at most the limit and this margin, after which another instance retries it.
LEASE_MARGIN_S = 10.0


def badge_files(settings: Settings) -> BadgeFiles | None:
    """None: the bytes stay in the database rows."""
    if settings.badge_storage == "directory":
        return DirectoryFiles(settings.badge_directory)
    if settings.badge_storage == "s3":
        if not settings.badge_bucket:
            raise RuntimeError("LAUREL_BADGE_STORAGE=s3 needs LAUREL_BADGE_S3_BUCKET")
        return BucketFiles(
            settings.badge_bucket,
            endpoint_url=settings.badge_s3_endpoint,
            region=settings.badge_s3_region,
        )
    return None


@dataclass(frozen=True, slots=True)
class Webhooks:
    admin: WebhookAdmin
    fanout: WebhookFanout
    dispatcher: WebhookDispatcher
    sender: HttpSender


async def webhooks(
    settings: Settings, store: SqlWebhookStore, metrics: Metrics, clock: Callable[[], datetime]
) -> Webhooks:
    """Refuses to start when endpoints exist and their secrets could not be opened."""
    key = SecretKey(settings.secret_key, settings.secret_key_file)
    if not key.available and await store.any_endpoint():
        raise RuntimeError(
            "webhook endpoints exist but there is no secret key to open their secrets: set "
            f"LAUREL_SECRET_KEY, or restore {settings.secret_key_file}"
        )
    destinations = DestinationPolicy(
        allow_http=settings.webhook_allow_http, allow_private=settings.webhook_allow_private
    )
    if destinations.allow_http:
        log.warning("LAUREL_WEBHOOK_ALLOW_HTTP is on: webhooks may be sent over plain http")
    if destinations.allow_private:
        log.warning(
            "LAUREL_WEBHOOK_ALLOW_PRIVATE is on: webhooks may go to loopback, private and "
            "link-local addresses"
        )
    box = AesGcmBox(key)
    sender = HttpSender(destinations, settings.webhook_timeout_s)
    policy = RetryPolicy(
        schedule=settings.retry_schedule,
        jitter=settings.webhook_retry_jitter,
        disable_after=timedelta(days=settings.webhook_disable_after_days),
    )
    deliverer = Deliverer(
        store,
        sender,
        box,
        policy,
        user_agent=f"Laurel-Webhooks/{version('laurel-server')}",
        clock=clock,
        on_attempt=lambda result: metrics.count_webhook_attempt(result.status),
    )
    dispatcher = WebhookDispatcher(
        store,
        deliverer,
        lease=timedelta(seconds=settings.webhook_timeout_s + LEASE_MARGIN_S),
        poll_interval=settings.webhook_poll_s,
        clock=clock,
    )
    return Webhooks(
        admin=WebhookAdmin(store, box, deliverer, destinations, clock=clock),
        fanout=WebhookFanout(store, FORMATS, on_queued=dispatcher.wake, clock=clock),
        dispatcher=dispatcher,
        sender=sender,
    )
