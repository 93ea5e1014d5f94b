"""Domain events: what an operation announces to the world once it has committed.

An operation hands its announcements to the transaction (`Announcements.announce`), which stores
them in the outbox beside the data they describe; the relay passes them on after commit to every
consumer (subscriptions and webhooks). Silent work (backdating) announces nothing.

Each event type is one class with its own wire form (`to_data`/`from_data`, JSON-ready, ids
rather than copies, so a consumer shows the data as it is when it reads it). A new type is a class
here and an entry in `PARSERS`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from app.domain.streaks import StreakView


class EventType(enum.StrEnum):
    """Dotted names, as webhooks carry them."""

    ACHIEVEMENT_COMPLETED = "achievement.completed"
    STREAK_STARTED = "streak.started"
    STREAK_EXTENDED = "streak.extended"
    STREAK_LOST = "streak.lost"
    STREAK_FREEZE_CONSUMED = "streak.freeze_consumed"
    STREAK_FREEZE_EARNED = "streak.freeze_earned"
    USER_CREATED = "user.created"


@dataclass(frozen=True, slots=True)
class AchievementCompleted:
    completion_id: int
    user_id: str
    achievement_id: int
    completed_at: datetime
    type: ClassVar[EventType] = EventType.ACHIEVEMENT_COMPLETED

    def to_data(self) -> dict[str, Any]:
        return {
            "completionId": self.completion_id,
            "userId": self.user_id,
            "achievementId": self.achievement_id,
            "completedAt": self.completed_at.isoformat(),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AchievementCompleted:
        return cls(
            completion_id=int(data["completionId"]),
            user_id=str(data["userId"]),
            achievement_id=int(data["achievementId"]),
            completed_at=datetime.fromisoformat(str(data["completedAt"])),
        )


@dataclass(frozen=True, slots=True)
class UserCreated:
    user_id: str
    type: ClassVar[EventType] = EventType.USER_CREATED

    def to_data(self) -> dict[str, Any]:
        return {"userId": self.user_id}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> UserCreated:
        return cls(user_id=str(data["userId"]))


@dataclass(frozen=True, slots=True)
class StreakGrew:
    """An operation made the user's current streak longer: `streak.started` when it took it
    from 0 to 1, `streak.extended` otherwise. The streak is kept as it stood then."""

    user_id: str
    streak: StreakView

    @property
    def type(self) -> EventType:
        return EventType.STREAK_STARTED if self.streak.length == 1 else EventType.STREAK_EXTENDED

    def to_data(self) -> dict[str, Any]:
        return {"userId": self.user_id, **self.streak.to_data()}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> StreakGrew:
        return cls(user_id=str(data["userId"]), streak=StreakView.from_data(data))


@dataclass(frozen=True, slots=True)
class StreakLost:
    """A period ended with no qualifying event and no freeze: the streak of `length` is gone."""

    user_id: str
    length: int
    lost_at: datetime
    type: ClassVar[EventType] = EventType.STREAK_LOST

    def to_data(self) -> dict[str, Any]:
        return {"userId": self.user_id, "length": self.length, "lostAt": self.lost_at.isoformat()}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> StreakLost:
        return cls(
            user_id=str(data["userId"]),
            length=int(data["length"]),
            lost_at=datetime.fromisoformat(str(data["lostAt"])),
        )


@dataclass(frozen=True, slots=True)
class FreezesConsumed:
    """Freezes covered missed periods, `period_start` to `period_end`; `streak.freezes` is
    what is left."""

    user_id: str
    consumed: int
    period_start: date
    period_end: date
    streak: StreakView
    type: ClassVar[EventType] = EventType.STREAK_FREEZE_CONSUMED

    def to_data(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "consumed": self.consumed,
            "frozenStart": self.period_start.isoformat(),
            "frozenEnd": self.period_end.isoformat(),
            **self.streak.to_data(),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FreezesConsumed:
        return cls(
            user_id=str(data["userId"]),
            consumed=int(data["consumed"]),
            period_start=date.fromisoformat(str(data["frozenStart"])),
            period_end=date.fromisoformat(str(data["frozenEnd"])),
            streak=StreakView.from_data(data),
        )


class FreezeSource(enum.StrEnum):
    START = "START"
    AUTO_EARN = "AUTO_EARN"
    GRANT = "GRANT"


@dataclass(frozen=True, slots=True)
class FreezesEarned:
    """A grant added `earned` freezes (what the cap left of it); `freezes` is the new balance."""

    user_id: str
    earned: int
    freezes: int
    source: FreezeSource
    type: ClassVar[EventType] = EventType.STREAK_FREEZE_EARNED

    def to_data(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "earned": self.earned,
            "freezes": self.freezes,
            "source": self.source.value,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FreezesEarned:
        return cls(
            user_id=str(data["userId"]),
            earned=int(data["earned"]),
            freezes=int(data["freezes"]),
            source=FreezeSource(data["source"]),
        )


Announcement = (
    AchievementCompleted | UserCreated | StreakGrew | StreakLost | FreezesConsumed | FreezesEarned
)

PARSERS: dict[str, Callable[[Mapping[str, Any]], Announcement]] = {
    EventType.ACHIEVEMENT_COMPLETED: AchievementCompleted.from_data,
    EventType.USER_CREATED: UserCreated.from_data,
    EventType.STREAK_STARTED: StreakGrew.from_data,
    EventType.STREAK_EXTENDED: StreakGrew.from_data,
    EventType.STREAK_LOST: StreakLost.from_data,
    EventType.STREAK_FREEZE_CONSUMED: FreezesConsumed.from_data,
    EventType.STREAK_FREEZE_EARNED: FreezesEarned.from_data,
}


def parse(type_name: str, data: Mapping[str, Any]) -> Announcement:
    """Raises KeyError for a type this version does not know (written by a newer instance)."""
    return PARSERS[type_name](data)


@dataclass(frozen=True, slots=True)
class Published:
    """An announcement as the outbox holds it: its id is the event's identity for every consumer
    (subscriptions drop repeats by it; webhooks derive their `webhook-id` from it)."""

    id: int
    tenant_id: int
    event: Announcement
    created_at: datetime
