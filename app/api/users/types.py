from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from app.api.achievements.types import UserAchievement, tenant_users
from app.api.common import Attribute, AttributeInput, attributes_of
from app.api.context import Info
from app.api.inputs import planned_input
from app.api.leaderboards.schema import user_leaderboard
from app.api.leaderboards.types import UserLeaderboard
from app.api.points.types import UserPoints
from app.api.streaks.types import Streak
from app.domain import model, queries
from app.domain.errors import NotFound
from app.domain.ports import Standing, UserProfile
from app.domain.streaks import StreakView


@strawberry.type
class User:
    model: strawberry.Private[model.User]

    @strawberry.field
    def id(self) -> str:
        return self.model.id

    @strawberry.field
    def name(self) -> str | None:
        return self.model.name

    @strawberry.field
    def email(self) -> str | None:
        return self.model.email

    @strawberry.field(description="IANA time zone; UTC when never given.")
    def tz(self) -> str:
        return self.model.tz

    @strawberry.field
    def attributes(self) -> list[Attribute]:
        return Attribute.many(self.model.attributes)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.model.created_at

    @strawberry.field(
        description="Completed achievements, oldest first; with includeIncomplete, also the "
        "incomplete ones the user can still see."
    )
    async def achievements(
        self, info: Info, include_incomplete: bool = False
    ) -> list[UserAchievement]:
        caller = info.context.caller
        users = tenant_users(info)
        catalogue = await info.context.loaders.tenant_achievements.load(caller.tenant_id)
        standing = await self._standing(info)
        views = queries.user_achievements(
            catalogue,
            self.model,
            standing,
            await self._streak(info, standing),
            caller,
            include_incomplete=include_incomplete,
        )
        count = await users
        return [UserAchievement.of(v, count) for v in views]

    @strawberry.field(
        description="Sum of the values of all the user's events on that metric; 0 when none."
    )
    async def metric_total(self, info: Info, metric_key: str) -> float:
        metrics = await info.context.loaders.tenant_metrics.load(info.context.caller.tenant_id)
        metric = next((m for m in metrics if m.key == metric_key), None)
        if metric is None:
            raise NotFound(f"no metric with key {metric_key!r}", field="metricKey")
        standing = await self._standing(info)
        return standing.totals.get((metric.id, None), 0.0) if standing else 0.0

    @strawberry.field(description="Null when the tenant has no streak configured.")
    async def streak(self, info: Info) -> Streak | None:
        view = await self._streak(info, await self._standing(info))
        return Streak.of(view, self.model.id) if view else None

    @strawberry.field(description="Null when there is no points system with this key.")
    async def points(self, info: Info, system_key: str) -> UserPoints | None:
        services = info.context.services
        program = await services.definitions.points_program(info.context.caller.tenant_id)
        system = program.system_by_key(system_key)
        if system is None:
            return None
        totals = await services.points_reads.totals([self.model.pk], system.id)
        return UserPoints(
            system_model=system,
            program=program,
            user_pk=self.model.pk,
            user_tz=self.model.tz,
            user_attributes=self.model.attributes,
            total=totals.get(self.model.pk, 0),
        )

    @strawberry.field(
        description="Null when no leaderboard with this key is visible to the caller."
    )
    async def leaderboard(
        self,
        info: Info,
        key: str,
        run: Annotated[
            date | None,
            strawberry.argument(
                description="Any date inside the run; defaults to the run containing the "
                "user's today."
            ),
        ] = None,
    ) -> UserLeaderboard | None:
        return await user_leaderboard(info, self.model, key, run)

    async def _standing(self, info: Info) -> Standing | None:
        standing: Standing | None = await info.context.loaders.standing_by_user_id.load(
            self.model.id
        )
        return standing

    async def _streak(self, info: Info, standing: Standing | None) -> StreakView | None:
        settings = await info.context.loaders.streak_settings.load(info.context.caller.tenant_id)
        return queries.user_streak(settings, standing, info.context.services.clock())


@planned_input
@strawberry.input
class UserInput:
    id: str
    name: str | None = None
    email: str | None = None
    tz: str | None = None
    attributes: list[AttributeInput] | None = None

    def to_domain(self) -> UserProfile:
        return UserProfile(
            id=self.id,
            name=self.name,
            email=self.email,
            tz=self.tz,
            attributes=attributes_of(self.attributes),
        )


@strawberry.type
class UserToken:
    token: str = strawberry.field(
        description="Bearer token for a browser or app: reads that one user's data and "
        "subscribes to that user's unlocks."
    )
    expires_at: datetime
