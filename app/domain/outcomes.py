"""The commands the event engine takes and the outcomes it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.leaderboards import BoardChange
from app.domain.model import Achievement, Attribute, User
from app.domain.points import PointsChange
from app.domain.ports import UserProfile
from app.domain.progress import Progress
from app.domain.streaks import StreakView

__all__ = [
    "CompleteAchievement",
    "CompletionOutcome",
    "EventOutcome",
    "IdentifyOutcome",
    "TrackEvent",
    "Unlock",
]


@dataclass(frozen=True, slots=True)
class TrackEvent:
    metric_key: str
    user: UserProfile
    value: float
    attributes: tuple[Attribute, ...] = ()
    idempotency_key: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unlock:
    """A completion as a payload reports it, and whose it is."""

    user_pk: int
    completion_id: int
    achievement: Achievement
    completed_at: datetime
    progress: Progress


@dataclass(frozen=True, slots=True)
class EventOutcome:
    event_id: int
    metric_key: str
    total: float
    unlocks: tuple[Unlock, ...]
    streak: StreakView | None
    streak_extended: bool = False
    idempotency_key: str | None = None
    replayed: bool = False
    points: tuple[PointsChange, ...] = ()
    leaderboards: tuple[BoardChange, ...] = ()


@dataclass(frozen=True, slots=True)
class CompleteAchievement:
    achievement_key: str
    user: UserProfile


@dataclass(frozen=True, slots=True)
class CompletionOutcome:
    unlock: Unlock
    newly_completed: bool
    also_completed: tuple[Unlock, ...]
    points: tuple[PointsChange, ...] = ()
    leaderboards: tuple[BoardChange, ...] = ()


@dataclass(frozen=True, slots=True)
class IdentifyOutcome:
    user: User
    created: bool
    unlocks: tuple[Unlock, ...] = ()
    points: tuple[PointsChange, ...] = ()
    leaderboards: tuple[BoardChange, ...] = ()
