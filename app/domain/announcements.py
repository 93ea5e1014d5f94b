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
from decimal import Decimal
from typing import Any, ClassVar

from app.domain.event_types import EventType
from app.domain.leaderboard_news import (
    LeaderboardFinished,
    LeaderboardMoved,
    LeaderboardRankChanged,
    LeaderboardStarted,
    LeaderboardTopChanged,
)
from app.domain.points import PointsAward, PointsChange
from app.domain.streaks import StreakView


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


def award_to_data(award: PointsAward) -> dict[str, Any]:
    """A ledger line, JSON-ready (announcements and stored idempotent responses)."""
    return {
        "id": award.id,
        "systemId": award.system_id,
        "triggerId": award.trigger_id,
        "awarded": award.awarded,
        "total": award.total,
        "awardedAt": award.awarded_at.isoformat(),
        "multiplier": str(award.multiplier),
        "boostIds": list(award.boost_ids),
    }


def award_from_data(data: Mapping[str, Any]) -> PointsAward:
    return PointsAward(
        id=int(data["id"]),
        system_id=int(data["systemId"]),
        trigger_id=int(data["triggerId"]),
        awarded=int(data["awarded"]),
        total=int(data["total"]),
        awarded_at=datetime.fromisoformat(str(data["awardedAt"])),
        multiplier=Decimal(str(data["multiplier"])),
        boost_ids=tuple(int(i) for i in data["boostIds"]),
    )


def change_to_data(change: PointsChange) -> dict[str, Any]:
    return {
        "systemId": change.system_id,
        "added": change.added,
        "total": change.total,
        "levelId": change.level_id,
        "previousLevelId": change.previous_level_id,
        "awards": [award_to_data(a) for a in change.awards],
    }


def change_from_data(data: Mapping[str, Any]) -> PointsChange:
    return PointsChange(
        system_id=int(data["systemId"]),
        added=int(data["added"]),
        total=int(data["total"]),
        level_id=data["levelId"],
        previous_level_id=data["previousLevelId"],
        awards=tuple(award_from_data(a) for a in data["awards"]),
    )


@dataclass(frozen=True, slots=True)
class PointsChanged:
    """An operation's awards changed a user's total in one system: one per operation and
    system, the awards themselves included."""

    user_id: str
    change: PointsChange
    type: ClassVar[EventType] = EventType.POINTS_CHANGED

    @classmethod
    def of(cls, user_id: str, change: PointsChange) -> PointsChanged:
        return cls(user_id, change)

    def to_data(self) -> dict[str, Any]:
        return {"userId": self.user_id, **change_to_data(self.change)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PointsChanged:
        return cls(str(data["userId"]), change_from_data(data))


@dataclass(frozen=True, slots=True)
class PointsLevelChanged:
    """An operation moved a user to another level (or below every level) in one system."""

    user_id: str
    system_id: int
    total: int
    level_id: int | None
    previous_level_id: int | None
    type: ClassVar[EventType] = EventType.POINTS_LEVEL_CHANGED

    @classmethod
    def of(cls, user_id: str, change: PointsChange) -> PointsLevelChanged:
        return cls(
            user_id, change.system_id, change.total, change.level_id, change.previous_level_id
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "systemId": self.system_id,
            "total": self.total,
            "levelId": self.level_id,
            "previousLevelId": self.previous_level_id,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PointsLevelChanged:
        return cls(
            user_id=str(data["userId"]),
            system_id=int(data["systemId"]),
            total=int(data["total"]),
            level_id=data["levelId"],
            previous_level_id=data["previousLevelId"],
        )


@dataclass(frozen=True, slots=True)
class BoostStarted:
    """A boost became ACTIVE (its first day began in the earliest zone, or its user's)."""

    boost_id: int
    type: ClassVar[EventType] = EventType.POINTS_BOOST_STARTED

    def to_data(self) -> dict[str, Any]:
        return {"boostId": self.boost_id}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BoostStarted:
        return cls(int(data["boostId"]))


@dataclass(frozen=True, slots=True)
class BoostFinished:
    """A boost became FINISHED (its last day ended in the latest zone, or its user's)."""

    boost_id: int
    type: ClassVar[EventType] = EventType.POINTS_BOOST_FINISHED

    def to_data(self) -> dict[str, Any]:
        return {"boostId": self.boost_id}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BoostFinished:
        return cls(int(data["boostId"]))


Announcement = (
    AchievementCompleted
    | UserCreated
    | StreakGrew
    | StreakLost
    | FreezesConsumed
    | FreezesEarned
    | PointsChanged
    | PointsLevelChanged
    | BoostStarted
    | BoostFinished
    | LeaderboardMoved
    | LeaderboardRankChanged
    | LeaderboardStarted
    | LeaderboardFinished
    | LeaderboardTopChanged
)

# Events that name no user: their bodies need no user read.
ABOUT_NO_USER = (
    BoostStarted,
    BoostFinished,
    LeaderboardMoved,
    LeaderboardStarted,
    LeaderboardFinished,
    LeaderboardTopChanged,
)

PARSERS: dict[str, Callable[[Mapping[str, Any]], Announcement]] = {
    EventType.ACHIEVEMENT_COMPLETED: AchievementCompleted.from_data,
    EventType.USER_CREATED: UserCreated.from_data,
    EventType.STREAK_STARTED: StreakGrew.from_data,
    EventType.STREAK_EXTENDED: StreakGrew.from_data,
    EventType.STREAK_LOST: StreakLost.from_data,
    EventType.STREAK_FREEZE_CONSUMED: FreezesConsumed.from_data,
    EventType.STREAK_FREEZE_EARNED: FreezesEarned.from_data,
    EventType.POINTS_CHANGED: PointsChanged.from_data,
    EventType.POINTS_LEVEL_CHANGED: PointsLevelChanged.from_data,
    EventType.POINTS_BOOST_STARTED: BoostStarted.from_data,
    EventType.POINTS_BOOST_FINISHED: BoostFinished.from_data,
    EventType.LEADERBOARD_MOVED: LeaderboardMoved.from_data,
    EventType.LEADERBOARD_RANK_CHANGED: LeaderboardRankChanged.from_data,
    EventType.LEADERBOARD_STARTED: LeaderboardStarted.from_data,
    EventType.LEADERBOARD_FINISHED: LeaderboardFinished.from_data,
    EventType.LEADERBOARD_CHANGED: LeaderboardTopChanged.from_data,
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
