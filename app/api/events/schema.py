from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.events.types import (
    CompleteAchievementInput,
    CompleteAchievementPayload,
    TrackEventInput,
    TrackEventPayload,
)
from app.domain.outcomes import CompleteAchievement


@strawberry.type
class EventMutations:
    @strawberry.mutation
    async def track_event(self, info: Info, input: TrackEventInput) -> TrackEventPayload:
        caller = permissions.key_holder(info)
        outcome = await info.context.services.engine.track_event(caller, input.to_domain())
        return TrackEventPayload.of(outcome, input.idempotency_key, input.user.id)

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
