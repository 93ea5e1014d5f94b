"""Domain events: what an operation announces to the world once it has committed.

An operation hands its announcements to the transaction (`Announcements.announce`), which stores
them in the outbox beside the data they describe; the relay passes them on after commit to every
consumer (subscriptions today, webhooks next). Silent work (backdating) announces nothing.

Each event type is one class with its own wire form (`to_data`/`from_data`, JSON-ready, ids
rather than copies, so a consumer shows the data as it is when it reads it). A new type is a class
here and an entry in `PARSERS`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar


class EventType(enum.StrEnum):
    """Dotted names, as webhooks will carry them."""

    ACHIEVEMENT_COMPLETED = "achievement.completed"


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


Announcement = AchievementCompleted

PARSERS: dict[str, Callable[[Mapping[str, Any]], Announcement]] = {
    EventType.ACHIEVEMENT_COMPLETED: AchievementCompleted.from_data,
}


def parse(type_name: str, data: Mapping[str, Any]) -> Announcement:
    """Raises KeyError for a type this version does not know (written by a newer instance)."""
    return PARSERS[type_name](data)


@dataclass(frozen=True, slots=True)
class Published:
    """An announcement as the outbox holds it: its id is the event's identity for every consumer
    (subscriptions drop repeats by it; webhooks will send it as `webhook-id`)."""

    id: int
    tenant_id: int
    event: Announcement
    created_at: datetime
