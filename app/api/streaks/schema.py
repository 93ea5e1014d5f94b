from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.metrics.types import Metric
from app.api.streaks.types import ConfigureStreakInput, StreakSettings
from app.domain import configuration, model


async def _present(info: Info, settings: model.StreakSettings) -> StreakSettings:
    metrics = await info.context.loaders.metric_by_id.load_many(list(settings.metric_ids))
    return StreakSettings(
        frequency=settings.frequency, metrics=[Metric.of(m) for m in metrics if m is not None]
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
        )
        info.context.services.definitions.forget_streak_settings(caller.tenant_id)
        return await _present(info, settings)
