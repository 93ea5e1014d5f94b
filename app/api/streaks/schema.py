from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.metrics.types import Metric
from app.api.streaks.types import (
    ConfigureStreakInput,
    Streak,
    StreakFreezeSettings,
    StreakSettings,
)
from app.domain import configuration, model


async def _present(info: Info, settings: model.StreakSettings) -> StreakSettings:
    metrics = await info.context.loaders.metric_by_id.load_many(list(settings.metric_ids))
    return StreakSettings(
        frequency=settings.frequency,
        metrics=[Metric.of(m) for m in metrics if m is not None],
        freezes=StreakFreezeSettings.of(settings.freezes) if settings.freezes else None,
    )


@strawberry.type
class StreakQueries:
    @strawberry.field
    async def streak_settings(self, info: Info) -> StreakSettings | None:
        caller = permissions.any_caller(info)
        settings = await info.context.loaders.streak_settings.load(caller.tenant_id)
        return await _present(info, settings) if settings else None


@strawberry.type
class StreakMutations:
    @strawberry.mutation
    async def configure_streak(self, info: Info, input: ConfigureStreakInput) -> StreakSettings:
        caller = permissions.admin(info)
        settings = await configuration.configure_streak(
            info.context.services.config,
            caller.tenant_id,
            frequency=input.frequency,
            metric_keys=input.metric_keys,
            freezes=input.freezes.rules() if input.freezes else None,
        )
        info.context.services.definitions.forget_streak_settings(caller.tenant_id)
        info.context.services.wake_streak_clock()
        return await _present(info, settings)

    @strawberry.mutation(
        description="Give an existing user count freezes (1 to 100), never above maxCount; "
        "BAD_USER_INPUT when freezes are off."
    )
    async def grant_streak_freezes(self, info: Info, user_id: str, count: int = 1) -> Streak:
        caller = permissions.key_holder(info)
        view = await info.context.services.engine.grant_streak_freezes(caller, user_id, count)
        return Streak.of(view, user_id)
