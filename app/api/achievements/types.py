"""Achievement types: the `Achievement` interface, a member per trigger, the `AnyAchievement` union.

Resolvers return these wrappers around domain values, never ORM rows, so union and interface
resolution is by Python type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import date, datetime
from typing import Annotated

import strawberry

from app.api.common import AchievementStatus, AchievementTrigger, Attribute
from app.api.context import Info
from app.api.metrics.types import Metric
from app.domain import model, queries
from app.domain.outcomes import Unlock
from app.domain.progress import Progress, rarity


@strawberry.interface(
    name="Achievement", description="Fields every achievement has, whatever its trigger."
)
class AchievementFields:
    model: strawberry.Private[model.Achievement]
    users: strawberry.Private[int]
    """The tenant's user count, read once by the resolver that presents the achievement."""

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def key(self) -> str:
        return self.model.key

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field
    def badge_url(self) -> str | None:
        return self.model.badge_url

    @strawberry.field
    def status(self) -> AchievementStatus:
        return self.model.status

    @strawberry.field
    def trigger(self) -> AchievementTrigger:
        return self.model.kind

    @strawberry.field(
        description="Secret achievement: name, description and badge are withheld from users "
        "who have not completed it."
    )
    def hidden(self) -> bool:
        return self.model.hidden

    @strawberry.field(
        description="All must match the user's attributes for the achievement to complete."
    )
    def user_attributes(self) -> list[Attribute]:
        return Attribute.many(self.model.user_attributes)

    @strawberry.field(description="Number of users who have completed it.")
    def completions(self) -> int:
        return self.model.completions

    @strawberry.field(
        description="completions / users of the tenant * 100; 0 when the tenant has no users."
    )
    def rarity(self) -> float:
        return rarity(self.model.completions, self.users)

    @strawberry.field(
        description="Completions per UTC day over the last `days` days (1 to 366), today last, "
        "0 on days without any; backdated completions count on the day they were made."
    )
    async def completions_by_day(self, info: Info, days: int = 30) -> list[DailyCompletions]:
        first, last = queries.chart_days(days, info.context.services.clock())
        counts = await info.context.loaders.completions_by_day.load((self.model.id, first))
        return [
            DailyCompletions(day=d, completions=n)
            for d, n in queries.daily_series(counts, first, last)
        ]


@strawberry.type(description="Completions of an achievement on one UTC day.")
class DailyCompletions:
    day: date
    completions: int


@strawberry.type
class MetricAchievement(AchievementFields):
    @strawberry.field
    async def metric(self, info: Info) -> Metric:
        assert isinstance(self.model.trigger, model.MetricTrigger)
        found = await info.context.loaders.metric_by_id.load(self.model.trigger.metric_id)
        assert found is not None, "a metric achievement's metric is never deleted"
        return Metric.of(found)

    @strawberry.field(description="The metric total that completes it.")
    def metric_value(self) -> float:
        assert isinstance(self.model.trigger, model.MetricTrigger)
        return self.model.trigger.threshold

    @strawberry.field(description="Only events carrying this attribute count toward it.")
    def event_attribute(self) -> Attribute | None:
        assert isinstance(self.model.trigger, model.MetricTrigger)
        attribute = self.model.trigger.event_attribute
        return Attribute(key=attribute.key, value=attribute.value) if attribute else None


@strawberry.type
class StreakAchievement(AchievementFields):
    @strawberry.field
    def streak_length(self) -> int:
        assert isinstance(self.model.trigger, model.StreakTrigger)
        return self.model.trigger.length


@strawberry.type
class ApiAchievement(AchievementFields):
    pass


@strawberry.type
class CompositeAchievement(AchievementFields):
    @strawberry.field(description="Completes when the user has completed all of these.")
    async def prerequisites(self, info: Info) -> list[AnyAchievement]:
        assert isinstance(self.model.trigger, model.CompositeTrigger)
        found = await info.context.loaders.achievement_by_id.load_many(
            list(self.model.trigger.prerequisite_ids)
        )
        completed = await completions_seen_by_caller(info)
        shown = queries.prerequisites(
            (a for a in found if a is not None), info.context.caller, completed
        )
        return [present(a, self.users) for a in shown]


def tenant_users(info: Info) -> Awaitable[int]:
    """What rarity divides by; one read per request, however many achievements it presents.
    The read starts at the call, so a resolver that calls this first reads it beside the rest."""
    users: Awaitable[int] = info.context.loaders.user_count.load(info.context.caller.tenant_id)
    return users


async def completions_seen_by_caller(info: Info) -> frozenset[int]:
    return await info.context.loaders.completions_seen_by(info.context.caller)


AnyAchievement = Annotated[
    MetricAchievement | StreakAchievement | ApiAchievement | CompositeAchievement,
    strawberry.union("AnyAchievement", description="An achievement, one member per trigger type."),
]

_BY_KIND: dict[model.TriggerKind, type[AchievementFields]] = {
    model.TriggerKind.METRIC: MetricAchievement,
    model.TriggerKind.STREAK: StreakAchievement,
    model.TriggerKind.API: ApiAchievement,
    model.TriggerKind.COMPOSITE: CompositeAchievement,
}


def present(achievement: model.Achievement, users: int) -> AnyAchievement:
    return _BY_KIND[achievement.kind](model=achievement, users=users)  # type: ignore[return-value]


@strawberry.type
class AchievementProgress:
    current: float
    target: float
    percent: float = strawberry.field(description="0 to 100")

    @classmethod
    def of(cls, progress: Progress) -> AchievementProgress:
        return cls(current=progress.current, target=progress.target, percent=progress.percent)


@strawberry.type
class UserAchievement:
    achievement: AnyAchievement
    achieved_at: datetime | None = strawberry.field(description="Null while incomplete.")
    progress: AchievementProgress

    @classmethod
    def of(cls, view: queries.UserAchievementView, users: int) -> UserAchievement:
        return cls(
            achievement=present(view.achievement, users),
            achieved_at=view.achieved_at,
            progress=AchievementProgress.of(view.progress),
        )


async def unlocked(info: Info, unlocks: Sequence[Unlock]) -> list[UserAchievement]:
    """Completions an operation reports."""
    users = await tenant_users(info) if unlocks else 0
    return [_unlocked(unlock, users) for unlock in unlocks]


def _unlocked(unlock: Unlock, users: int) -> UserAchievement:
    return UserAchievement(
        achievement=present(unlock.achievement, users),
        achieved_at=unlock.completed_at,
        progress=AchievementProgress.of(unlock.progress),
    )
