from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.points.inputs import (
    CreatePointsBoostInput,
    CreatePointsLevelInput,
    CreatePointsSystemInput,
    CreatePointsTriggerInput,
    UpdatePointsBoostInput,
    UpdatePointsLevelInput,
    UpdatePointsSystemInput,
    UpdatePointsTriggerInput,
)
from app.api.points.types import (
    AnyPointsTrigger,
    PointsBoost,
    PointsLevel,
    PointsSystem,
    boost_of,
    trigger_of,
)
from app.domain import points as domain
from app.domain import points_admin as admin
from app.domain.model import Caller


async def _program(info: Info, caller: Caller) -> domain.PointsProgram:
    return await info.context.services.definitions.points_program(caller.tenant_id)


def _changed(info: Info, caller: Caller) -> None:
    """This instance sees the change at once; others within the definitions' time to live."""
    info.context.services.definitions.forget_points_program(caller.tenant_id)


async def _present_system(info: Info, caller: Caller, system: domain.PointsSystem) -> PointsSystem:
    return PointsSystem.of(system, await _program(info, caller))


@strawberry.type
class PointsQueries:
    @strawberry.field(description="A points system; null when none has this key.")
    async def points_system(self, info: Info, key: str) -> PointsSystem | None:
        caller = permissions.any_caller(info)
        program = await _program(info, caller)
        found = program.system_by_key(key)
        return PointsSystem.of(found, program) if found else None

    @strawberry.field(description="All points systems, in creation order.")
    async def points_systems(self, info: Info) -> list[PointsSystem]:
        caller = permissions.any_caller(info)
        program = await _program(info, caller)
        return [PointsSystem.of(s, program) for s in program.systems]


@strawberry.type
class PointsMutations:
    @strawberry.mutation(description="A new points system.")
    async def create_points_system(
        self, info: Info, input: CreatePointsSystemInput
    ) -> PointsSystem:
        caller = permissions.admin(info)
        system = await admin.create_system(
            info.context.services.points,
            caller.tenant_id,
            input.key,
            input.name,
            input.description,
            input.badge_url,
            input.max_points,
        )
        _changed(info, caller)
        return await _present_system(info, caller, system)

    @strawberry.mutation(description="Change a points system's settings.")
    async def update_points_system(
        self, info: Info, key: str, input: UpdatePointsSystemInput
    ) -> PointsSystem:
        caller = permissions.admin(info)
        system = await admin.update_system(
            info.context.services.points, caller.tenant_id, key, input.to_domain()
        )
        _changed(info, caller)
        return await _present_system(info, caller, system)

    @strawberry.mutation(description="Created INACTIVE.")
    async def create_points_trigger(
        self, info: Info, system_key: str, input: CreatePointsTriggerInput
    ) -> AnyPointsTrigger:
        caller = permissions.admin(info)
        trigger = await admin.create_trigger(
            info.context.services.points,
            caller.tenant_id,
            system_key,
            input.key,
            input.points,
            input.type.to_domain(),
            [a.to_domain() for a in input.user_attributes or ()],
            streak_configured=await _streak_configured(info, caller),
        )
        _changed(info, caller)
        return trigger_of(trigger)

    @strawberry.mutation(description="Change a trigger (see UpdatePointsTriggerInput).")
    async def update_points_trigger(
        self, info: Info, system_key: str, key: str, input: UpdatePointsTriggerInput
    ) -> AnyPointsTrigger:
        caller = permissions.admin(info)
        trigger = await admin.update_trigger(
            info.context.services.points,
            caller.tenant_id,
            system_key,
            key,
            points=input.points,
            user_attributes=None
            if input.user_attributes is None
            else [a.to_domain() for a in input.user_attributes],
            block_if_out_of_points=input.block_if_out_of_points,
            spec=input.type.to_domain() if input.type else None,
            streak_configured=await _streak_configured(info, caller),
        )
        _changed(info, caller)
        return trigger_of(trigger)

    @strawberry.mutation(description="Transitions per PointsTriggerStatus.")
    async def set_points_trigger_status(
        self, info: Info, system_key: str, key: str, status: domain.PointsTriggerStatus
    ) -> AnyPointsTrigger:
        caller = permissions.admin(info)
        trigger = await admin.set_trigger_status(
            info.context.services.points, caller.tenant_id, system_key, key, status
        )
        _changed(info, caller)
        return trigger_of(trigger)

    @strawberry.mutation(description="A new level; users' levels follow at once, silently.")
    async def create_points_level(
        self, info: Info, system_key: str, input: CreatePointsLevelInput
    ) -> PointsLevel:
        caller = permissions.admin(info)
        level = await admin.create_level(
            info.context.services.points, caller.tenant_id, system_key, input.to_domain()
        )
        _changed(info, caller)
        return PointsLevel.of(level)

    @strawberry.mutation(description="Change a level; users' levels follow at once, silently.")
    async def update_points_level(
        self, info: Info, system_key: str, key: str, input: UpdatePointsLevelInput
    ) -> PointsLevel:
        caller = permissions.admin(info)
        level = await admin.update_level(
            info.context.services.points, caller.tenant_id, system_key, key, input.to_domain()
        )
        _changed(info, caller)
        return PointsLevel.of(level)

    @strawberry.mutation(description="Remove a level; users' levels follow at once, silently.")
    async def delete_points_level(self, info: Info, system_key: str, key: str) -> bool:
        caller = permissions.admin(info)
        await admin.delete_level(info.context.services.points, caller.tenant_id, system_key, key)
        _changed(info, caller)
        return True

    @strawberry.mutation(description="A new boost; it applies from its start date.")
    async def create_points_boost(
        self, info: Info, system_key: str, input: CreatePointsBoostInput
    ) -> PointsBoost:
        caller = permissions.admin(info)
        boost = await admin.create_boost(
            info.context.services.points, caller.tenant_id, system_key, input.key, input.to_domain()
        )
        _changed(info, caller)
        return await boost_of(info, boost)

    @strawberry.mutation(description="Change a boost; later awards only.")
    async def update_points_boost(
        self, info: Info, system_key: str, key: str, input: UpdatePointsBoostInput
    ) -> PointsBoost:
        caller = permissions.admin(info)
        boost = await admin.update_boost(
            info.context.services.points, caller.tenant_id, system_key, key, input.to_domain()
        )
        _changed(info, caller)
        return await boost_of(info, boost)

    @strawberry.mutation(description="Stop the boost applying from now on; final.")
    async def archive_points_boost(self, info: Info, system_key: str, key: str) -> PointsBoost:
        caller = permissions.admin(info)
        boost = await admin.archive_boost(
            info.context.services.points, caller.tenant_id, system_key, key
        )
        _changed(info, caller)
        return await boost_of(info, boost)


async def _streak_configured(info: Info, caller: Caller) -> bool:
    return await info.context.services.definitions.streak_settings(caller.tenant_id) is not None
