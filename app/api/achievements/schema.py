from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.achievements.inputs import CreateAchievementInput, UpdateAchievementInput
from app.api.achievements.types import AnyAchievement, present
from app.api.common import AchievementStatus, attributes_of
from app.api.context import Info
from app.domain import configuration, model
from app.domain.visibility import as_seen_by, catalogue_statuses, visible_in_catalogue


@strawberry.type
class AchievementQueries:
    @strawberry.field(
        description="Achievements visible to the caller (SPEC.md: visibility), in creation order."
    )
    async def achievements(
        self, info: Info, status: list[AchievementStatus] | None = None
    ) -> list[AnyAchievement]:
        caller = permissions.any_caller(info)
        statuses = catalogue_statuses(caller, status)
        found = await info.context.loaders.tenant_achievements.load(caller.tenant_id)
        completed = await _completed_by_caller(info, caller)
        return [
            present(as_seen_by(a, caller, a.id in completed))
            for a in found
            if visible_in_catalogue(a, caller, statuses, a.id in completed)
        ]

    @strawberry.field
    async def achievement(self, info: Info, key: str) -> AnyAchievement | None:
        caller = permissions.any_caller(info)
        catalogue = await info.context.loaders.tenant_achievements.load(caller.tenant_id)
        found = next((a for a in catalogue if a.key == key), None)
        if found is None:
            return None
        explicit = [found.status] if found.status is model.AchievementStatus.ARCHIVED else None
        statuses = catalogue_statuses(caller, explicit)
        completed = await _completed_by_caller(info, caller)
        if not visible_in_catalogue(found, caller, statuses, found.id in completed):
            return None
        return present(as_seen_by(found, caller, found.id in completed))


async def _completed_by_caller(info: Info, caller: model.Caller) -> frozenset[int]:
    """What a user token's own user has completed; keys see everything unmasked anyway."""
    if caller.is_key or caller.user_id is None:
        return frozenset()
    standing = await info.context.loaders.standing_by_user_id.load(caller.user_id)
    return frozenset(standing.completed_at) if standing else frozenset()


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
        return present(created)

    @strawberry.mutation
    async def update_achievement(
        self, info: Info, key: str, input: UpdateAchievementInput
    ) -> AnyAchievement:
        caller = permissions.admin(info)
        updated = await configuration.update_achievement(
            info.context.services.config, caller.tenant_id, key, input.to_domain()
        )
        info.context.services.wake_backdating()
        return present(updated)

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
        return present(updated)
