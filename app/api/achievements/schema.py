from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.achievements.inputs import CreateAchievementInput, UpdateAchievementInput
from app.api.achievements.types import (
    AnyAchievement,
    completions_seen_by_caller,
    present,
    tenant_users,
)
from app.api.common import AchievementStatus, attributes_of
from app.api.context import Info
from app.domain import configuration, model, queries


@strawberry.type
class AchievementQueries:
    @strawberry.field(description="Achievements visible to the caller, in creation order.")
    async def achievements(
        self, info: Info, status: list[AchievementStatus] | None = None
    ) -> list[AnyAchievement]:
        caller = permissions.any_caller(info)
        users = tenant_users(info)
        found = await info.context.loaders.tenant_achievements.load(caller.tenant_id)
        completed = await completions_seen_by_caller(info)
        count = await users
        return [present(a, count) for a in queries.catalogue(found, caller, status, completed)]

    @strawberry.field
    async def achievement(self, info: Info, key: str) -> AnyAchievement | None:
        caller = permissions.any_caller(info)
        found = await info.context.loaders.tenant_achievements.load(caller.tenant_id)
        completed = await completions_seen_by_caller(info)
        shown = queries.achievement_by_key(found, key, caller, completed)
        return present(shown, await tenant_users(info)) if shown else None


@strawberry.type
class AchievementMutations:
    @strawberry.mutation(description="Created INACTIVE.")
    async def create_achievement(self, info: Info, input: CreateAchievementInput) -> AnyAchievement:
        caller = permissions.admin(info)
        created = await configuration.create_achievement(
            info.context.services.config,
            caller.tenant_id,
            key=input.key,
            name=input.name,
            description=input.description,
            badge_url=input.badge_url,
            hidden=bool(input.hidden),
            trigger=input.trigger.to_domain(),
            user_attributes=attributes_of(input.user_attributes) or (),
        )
        return present(created, await tenant_users(info))

    @strawberry.mutation
    async def update_achievement(
        self, info: Info, key: str, input: UpdateAchievementInput
    ) -> AnyAchievement:
        caller = permissions.admin(info)
        updated = await configuration.update_achievement(
            info.context.services.config, caller.tenant_id, key, input.to_domain()
        )
        info.context.services.wake_backdating()
        return present(updated, await tenant_users(info))

    @strawberry.mutation
    async def set_achievement_status(
        self, info: Info, key: str, status: AchievementStatus
    ) -> AnyAchievement:
        caller = permissions.admin(info)
        updated = await configuration.set_achievement_status(
            info.context.services.config,
            caller.tenant_id,
            key,
            model.AchievementStatus(status.value),
        )
        info.context.services.wake_backdating()
        return present(updated, await tenant_users(info))
