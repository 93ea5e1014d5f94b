from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from app.api.achievements.types import AchievementProgress, UserAchievement, present
from app.api.common import Attribute, AttributeInput, attributes_of
from app.api.context import Info
from app.api.inputs import planned_input
from app.api.streaks.types import Streak
from app.domain import model
from app.domain.errors import NotFound
from app.domain.ports import Standing, UserProfile
from app.domain.progress import UserStanding, progress_of
from app.domain.streaks import current_streak
from app.domain.visibility import as_seen_by, attainable, visible_to_user


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
        loaders = info.context.loaders
        caller = info.context.caller
        standing = await self._standing(info)
        catalogue = await loaders.tenant_achievements.load(caller.tenant_id)
        streak = await self.streak(info)
        progress_basis = UserStanding(
            totals=standing.totals if standing else {},
            streak_length=streak.length if streak else 0,
            completed_ids=standing.completed_at.keys() if standing else (),
        )
        completed_at = standing.completed_at if standing else {}
        done = sorted(
            (a for a in catalogue if a.id in completed_at and visible_to_user(a, True)),
            key=lambda a: (completed_at[a.id], a.id),
        )
        rows: list[tuple[model.Achievement, datetime | None]] = [
            (a, completed_at[a.id]) for a in done
        ]
        if include_incomplete:
            rows += [
                (a, None)
                for a in catalogue
                if a.id not in completed_at and attainable(a, self.model.attributes)
            ]
        return [
            UserAchievement(
                achievement=present(as_seen_by(a, caller, at is not None)),
                achieved_at=at,
                progress=AchievementProgress.of(progress_of(a, progress_basis)),
            )
            for a, at in rows
        ]

    @strawberry.field(
        description="Sum of the values of all the user's events on that metric; 0 when none."
    )
    async def metric_total(self, info: Info, metric_key: str) -> float:
        metric = await info.context.services.config.metric_by_key(
            info.context.caller.tenant_id, metric_key
        )
        if metric is None:
            raise NotFound(f"no metric with key {metric_key!r}", field="metricKey")
        standing = await self._standing(info)
        return standing.totals.get((metric.id, None), 0.0) if standing else 0.0

    @strawberry.field(description="Null when the tenant has no streak configured.")
    async def streak(self, info: Info) -> Streak | None:
        settings = await info.context.loaders.streak_settings.load(info.context.caller.tenant_id)
        if settings is None:
            return None
        standing = await self._standing(info)
        run = standing.streak if standing else None
        view = current_streak(run, settings.frequency, datetime.now(UTC), self.model.tz)
        return Streak.of(view)

    async def _standing(self, info: Info) -> Standing | None:
        standing: Standing | None = await info.context.loaders.standing_by_user_id.load(
            self.model.id
        )
        return standing


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
