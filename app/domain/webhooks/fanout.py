"""Queueing deliveries: each committed event, once, for every endpoint subscribed to its type.

The outbox relay hands each batch over after commit; the bodies are rendered here, once, and
stored with their deliveries. A repeat of a batch (a relay that died before marking it) queues
nothing twice: the store keeps one delivery per (event, endpoint). An endpoint receives the
events committed since it was created or last enabled, not those before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from app.domain.announcements import (
    ABOUT_NO_USER,
    AchievementCompleted,
    BoostFinished,
    BoostStarted,
    PointsChanged,
    PointsLevelChanged,
    Published,
)
from app.domain.leaderboard_news import (
    LeaderboardFinished,
    LeaderboardRankChanged,
    LeaderboardStarted,
    LeaderboardTopChanged,
)
from app.domain.webhooks.model import Endpoint, NewDelivery, PayloadFormat
from app.domain.webhooks.payloads import Render, event_type
from app.domain.webhooks.ports import WebhookStore
from app.domain.webhooks.signing import message_id

ABOUT_LEADERBOARDS = (
    LeaderboardRankChanged,
    LeaderboardStarted,
    LeaderboardFinished,
    LeaderboardTopChanged,
)
# Boards name their points system by key, so their bodies need the program too.
ABOUT_POINTS = (PointsChanged, PointsLevelChanged, BoostStarted, BoostFinished, *ABOUT_LEADERBOARDS)


async def queue_deliveries(
    store: WebhookStore,
    batch: Sequence[Published],
    now: datetime,
    formats: Mapping[PayloadFormat, Render],
) -> int:
    """Returns how many deliveries it queued. Each body is rendered once per format in use."""
    endpoints = await store.subscribed({p.tenant_id for p in batch})
    by_tenant: dict[int, list[Endpoint]] = defaultdict(list)
    for endpoint in endpoints:
        by_tenant[endpoint.tenant_id].append(endpoint)
    queued: list[NewDelivery] = []
    for tenant_id, events in _grouped(batch).items():
        wanted = [
            (published, receivers)
            for published in events
            if (receivers := _receivers(published, by_tenant.get(tenant_id, [])))
        ]
        if not wanted:
            continue
        subjects = await store.subjects(
            tenant_id,
            {p.event.user_id for p, _ in wanted if not isinstance(p.event, ABOUT_NO_USER)},
            {
                p.event.achievement_id
                for p, _ in wanted
                if isinstance(p.event, AchievementCompleted)
            },
            points=any(isinstance(p.event, ABOUT_POINTS) for p, _ in wanted),
            leaderboards=any(isinstance(p.event, ABOUT_LEADERBOARDS) for p, _ in wanted),
        )
        for published, receivers in wanted:
            kind = event_type(published.event)
            assert kind is not None, "internal events have no receivers"
            webhook_id = message_id(published.created_at, published.id)
            bodies: dict[PayloadFormat, str | None] = {}
            for receiver in receivers:
                shape = receiver.payload_format
                if shape not in bodies:
                    render = formats[shape]
                    bodies[shape] = render(
                        webhook_id, published.event, published.created_at, subjects
                    )
                payload = bodies[shape]
                if payload is not None:
                    queued.append(
                        NewDelivery(
                            tenant_id, receiver.id, published.id, webhook_id, kind, payload, now
                        )
                    )
    await store.enqueue(queued, now)
    return len(queued)


def _receivers(published: Published, endpoints: list[Endpoint]) -> list[Endpoint]:
    """The endpoints subscribed to the event's type that were enabled when it was committed."""
    kind = event_type(published.event)
    if kind is None:
        return []
    return [e for e in endpoints if kind in e.event_types and e.enabled_at <= published.created_at]


def _grouped(batch: Sequence[Published]) -> dict[int, list[Published]]:
    grouped: dict[int, list[Published]] = defaultdict(list)
    for published in batch:
        grouped[published.tenant_id].append(published)
    return grouped
