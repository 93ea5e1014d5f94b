from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.events.types import (
    CompleteAchievementInput,
    CompleteAchievementPayload,
    TrackEventInput,
    TrackEventPayload,
    TrackEventsInput,
    TrackEventsPayload,
)
from app.domain.outcomes import CompleteAchievement


@strawberry.type
class EventMutations:
    @strawberry.mutation
    async def track_event(self, info: Info, input: TrackEventInput) -> TrackEventPayload:
        caller = permissions.key_holder(info)
        outcome = await info.context.services.engine.track_event(caller, input.to_domain())
        return TrackEventPayload.of(outcome, input.idempotency_key, input.user.id)

    @strawberry.mutation(
        description="Many events in one request, for imports and queues: each with trackEvent's "
        "semantics (its own idempotencyKey, the achievements it completed reported on it), in "
        "order, in a few transactions. An event refused while it runs stops the batch: "
        "`extensions.index` names it and `extensions.stored` says how many before it are stored."
    )
    async def track_events(self, info: Info, input: TrackEventsInput) -> TrackEventsPayload:
        caller = permissions.key_holder(info)
        outcomes = await info.context.services.engine.track_events(
            caller, [event.to_domain() for event in input.events]
        )
        return TrackEventsPayload(
            results=[
                TrackEventPayload.of(outcome, event.idempotency_key, event.user.id)
                for outcome, event in zip(outcomes, input.events, strict=True)
            ]
        )

    @strawberry.mutation
    async def complete_achievement(
        self, info: Info, input: CompleteAchievementInput
    ) -> CompleteAchievementPayload:
        caller = permissions.key_holder(info)
        outcome = await info.context.services.engine.complete_achievement(
            caller,
            CompleteAchievement(achievement_key=input.achievement_key, user=input.user.to_domain()),
        )
        return CompleteAchievementPayload.of(outcome)
