from __future__ import annotations

from datetime import datetime

import strawberry

from app.api.achievements.types import UserAchievement, unlocked
from app.api.common import AttributeInput, attributes_of
from app.api.context import Info
from app.api.inputs import planned_input
from app.api.leaderboards.types import LeaderboardChange
from app.api.leaderboards.types import changes_of as board_changes_of
from app.api.points.types import PointsChange, changes_of
from app.api.streaks.types import Streak
from app.api.users.types import UserInput
from app.domain.leaderboards import BoardChange
from app.domain.outcomes import CompletionOutcome, EventOutcome, TrackEvent, Unlock
from app.domain.points import PointsChange as PointsChangeModel


@planned_input
@strawberry.input
class TrackEventInput:
    metric_key: str
    user: UserInput
    value: float
    attributes: list[AttributeInput] | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Same key and same input within 24 h: the first response is replayed and "
        "nothing is counted twice.",
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description="Defaults to now. For imports and backfills: any time in the past, at most 5 "
        "minutes ahead.",
    )

    def to_domain(self) -> TrackEvent:
        return TrackEvent(
            metric_key=self.metric_key,
            user=self.user.to_domain(),
            value=self.value,
            attributes=attributes_of(self.attributes) or (),
            idempotency_key=self.idempotency_key,
            occurred_at=self.occurred_at,
        )


async def _event_unlocks(self: TrackEventPayload, info: Info) -> list[UserAchievement]:
    return await unlocked(info, self.unlocks)


@strawberry.type
class TrackEventPayload:
    event_id: strawberry.ID
    metric_key: str
    total: float = strawberry.field(description="The user's metric total after this event.")
    achievements: list[UserAchievement] = strawberry.field(
        resolver=_event_unlocks,
        description="Achievements this event completed, composites it cascaded into included. "
        "A replay returns the first response's list.",
    )
    current_streak: Streak | None = strawberry.field(
        description="Null when the tenant has no streak configured."
    )
    idempotency_key: str | None
    idempotent_replayed: bool
    streak_extended: bool = strawberry.field(
        description="True when this event made the user's streak longer."
    )
    unlocks: strawberry.Private[tuple[Unlock, ...]] = ()
    point_changes: strawberry.Private[tuple[PointsChangeModel, ...]] = ()
    board_changes: strawberry.Private[tuple[BoardChange, ...]] = ()

    @strawberry.field(
        description="One entry per points system in which this event recorded an award, in "
        "system creation order. A replay returns the first response's entries."
    )
    async def points(self, info: Info) -> list[PointsChange]:
        return await changes_of(info, self.point_changes)

    @strawberry.field(
        description="One entry per leaderboard where this event changed the user's value, in "
        "board creation order. A replay returns the first response's entries."
    )
    async def leaderboards(self, info: Info) -> list[LeaderboardChange]:
        return await board_changes_of(info, self.board_changes)

    @classmethod
    def of(
        cls, outcome: EventOutcome, idempotency_key: str | None, user_id: str
    ) -> TrackEventPayload:
        return cls(
            event_id=strawberry.ID(str(outcome.event_id)),
            metric_key=outcome.metric_key,
            total=outcome.total,
            unlocks=tuple(outcome.unlocks),
            current_streak=Streak.of(outcome.streak, user_id) if outcome.streak else None,
            idempotency_key=idempotency_key,
            idempotent_replayed=outcome.replayed,
            streak_extended=outcome.streak_extended,
            point_changes=outcome.points,
            board_changes=outcome.leaderboards,
        )


@planned_input
@strawberry.input
class TrackEventsInput:
    events: list[TrackEventInput] = strawberry.field(
        description="1 to 1,000 events, processed in this order, each as trackEvent would take "
        "it. An invalid event refuses the batch before anything is stored: its position is "
        "`extensions.index`."
    )


@strawberry.type
class TrackEventsPayload:
    results: list[TrackEventPayload] = strawberry.field(
        description="One result per event, in the order sent."
    )


@planned_input
@strawberry.input
class CompleteAchievementInput:
    achievement_key: str
    user: UserInput


async def _completed(self: CompleteAchievementPayload, info: Info) -> UserAchievement:
    return (await unlocked(info, [self.unlock]))[0]


async def _cascade(self: CompleteAchievementPayload, info: Info) -> list[UserAchievement]:
    return await unlocked(info, self.cascade)


@strawberry.type
class CompleteAchievementPayload:
    completion_id: strawberry.ID
    unlock: strawberry.Private[Unlock]
    achievement: UserAchievement = strawberry.field(resolver=_completed)
    newly_completed: bool = strawberry.field(
        description="False when the user had already completed it: nothing was awarded again."
    )
    also_completed: list[UserAchievement] = strawberry.field(
        resolver=_cascade, description="Composite achievements this completion cascaded into."
    )
    cascade: strawberry.Private[tuple[Unlock, ...]] = ()
    point_changes: strawberry.Private[tuple[PointsChangeModel, ...]] = ()
    board_changes: strawberry.Private[tuple[BoardChange, ...]] = ()

    @strawberry.field(
        description="Points this completion and its cascade awarded; empty when "
        "newlyCompleted is false."
    )
    async def points(self, info: Info) -> list[PointsChange]:
        return await changes_of(info, self.point_changes)

    @strawberry.field(
        description="Leaderboards where those points changed the user's value; empty when "
        "newlyCompleted is false."
    )
    async def leaderboards(self, info: Info) -> list[LeaderboardChange]:
        return await board_changes_of(info, self.board_changes)

    @classmethod
    def of(cls, outcome: CompletionOutcome) -> CompleteAchievementPayload:
        return cls(
            completion_id=strawberry.ID(str(outcome.unlock.completion_id)),
            unlock=outcome.unlock,
            newly_completed=outcome.newly_completed,
            cascade=tuple(outcome.also_completed),
            point_changes=outcome.points,
            board_changes=outcome.leaderboards,
        )
