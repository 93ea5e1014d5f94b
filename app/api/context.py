"""The per-request context every resolver receives, and the services main.py wires into it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from app.domain.errors import DomainError, Unauthenticated
from app.domain.model import Caller

if TYPE_CHECKING:
    from app.api.loaders import Loaders
    from app.api.middleware import Gate
    from app.api.sockets import OpenSockets
    from app.domain.badges import BadgeStore, ImageHeaders
    from app.domain.engine import EventEngine
    from app.domain.leaderboard_admin import LeaderboardConfigStore
    from app.domain.leaderboard_ports import LeaderboardReads
    from app.domain.points_admin import PointsConfigStore
    from app.domain.ports import ConfigStore, PointsReads, ReadStore
    from app.domain.webhooks.admin import WebhookAdmin
    from app.infra.auth import Credentials
    from app.infra.definitions import CachedDefinitions
    from app.infra.metrics import Metrics
    from app.infra.pubsub import Broker


NO_CREDENTIALS = "send an X-API-Key header or an Authorization: Bearer token"


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived collaborators, built once by main.py."""

    config: ConfigStore
    definitions: CachedDefinitions
    credentials: Credentials
    gate: Gate
    engine: EventEngine
    reads: ReadStore
    broker: Broker
    wake_backdating: Callable[[], None]
    wake_streak_clock: Callable[[], None]
    wake_leaderboard_clock: Callable[[], None]
    webhooks: WebhookAdmin
    wake_webhooks: Callable[[], None]
    points: PointsConfigStore
    points_reads: PointsReads
    leaderboards: LeaderboardConfigStore
    leaderboard_reads: LeaderboardReads
    badges: BadgeStore
    image_headers: ImageHeaders
    public_url: str | None
    clock: Callable[[], datetime]
    metrics: Metrics
    sockets: OpenSockets
    max_body_bytes: int = 1024 * 1024
    credential_recheck_s: float = 5.0
    introspection_for_all: bool = False


@dataclass(slots=True)
class Context:
    services: Services
    request: Any
    response: Any
    request_id: str
    loaders: Loaders
    caller_or_error: Caller | DomainError | None = None
    connection_params: dict[str, Any] | None = None
    credentials: tuple[object, object] = (None, None)
    """The API key and token a WebSocket connection opened with, checked again later."""

    @property
    def caller(self) -> Caller:
        if isinstance(self.caller_or_error, Caller):
            return self.caller_or_error
        if isinstance(self.caller_or_error, DomainError):
            raise self.caller_or_error
        raise Unauthenticated(NO_CREDENTIALS)


Info = strawberry.Info[Context, None]
