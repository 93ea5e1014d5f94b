"""The nouns of Laurel, as immutable values the rules reason about.

Storage rows and GraphQL types are translated to and from these at the layer edges, so the rules
never see an ORM object or a resolver.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from app.domain.attributes import Attribute
from app.domain.streak_ledger import FreezeRules
from app.domain.streaks import StreakFrequency
from app.domain.triggers import (
    ApiTrigger,
    CompositeTrigger,
    MetricTrigger,
    StreakTrigger,
    Trigger,
    TriggerKind,
)

__all__ = [
    "Achievement",
    "AchievementStatus",
    "ApiKeyRole",
    "ApiTrigger",
    "Attribute",
    "Caller",
    "CallerKind",
    "CompositeTrigger",
    "FreezeRules",
    "Metric",
    "MetricTrigger",
    "StreakFrequency",
    "StreakSettings",
    "StreakTrigger",
    "Trigger",
    "TriggerKind",
    "User",
]


class AchievementStatus(enum.Enum):
    INACTIVE = "INACTIVE"
    ACTIVE = "ACTIVE"
    LOCKED = "LOCKED"
    ARCHIVED = "ARCHIVED"


class ApiKeyRole(enum.Enum):
    ADMIN = "ADMIN"
    SERVER = "SERVER"


class CallerKind(enum.Enum):
    ADMIN = "ADMIN"
    SERVER = "SERVER"
    USER = "USER"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: an API key of a role, or a user token bound to one user."""

    tenant_id: int
    kind: CallerKind
    user_id: str | None = None
    credential_id: str = ""
    expires_at: datetime | None = None
    """When a user token stops being valid; None for API keys (valid until revoked)."""

    @property
    def is_admin(self) -> bool:
        return self.kind is CallerKind.ADMIN

    @property
    def is_key(self) -> bool:
        return self.kind is not CallerKind.USER

    @property
    def credential(self) -> str:
        """What limits count by: a key by its prefix, a user token by its tenant and user (all
        of a user's tokens together)."""
        if self.is_key:
            return f"key:{self.credential_id}"
        return f"user:{self.tenant_id}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Metric:
    id: int
    key: str
    name: str
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Achievement:
    id: int
    key: str
    name: str
    status: AchievementStatus
    trigger: Trigger
    description: str | None = None
    badge_url: str | None = None
    hidden: bool = False
    user_attributes: tuple[Attribute, ...] = ()
    completions: int = 0

    @property
    def kind(self) -> TriggerKind:
        return self.trigger.kind


@dataclass(frozen=True, slots=True)
class User:
    """A tenant's end user, known by the id the application gave it."""

    pk: int
    id: str
    tz: str
    attributes: tuple[Attribute, ...]
    created_at: datetime
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class StreakSettings:
    """`version` grows with every configureStreak: a user's stored streak evaluated under an
    older one is evaluated again, so that changes to metrics, frequency and freezes apply to the
    whole history."""

    frequency: StreakFrequency
    metric_ids: tuple[int, ...]
    freezes: FreezeRules | None = None
    version: int = 0
