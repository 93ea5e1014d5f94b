"""GraphQL shapes of points: systems, triggers, levels, boosts, awards and what operations did.

Every object carries the tenant's program it was read from, so the objects it names (a trigger's
system, an award's boosts) resolve from memory, with no query per field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from app.api.achievements.types import AnyAchievement, present, tenant_users
from app.api.common import Attribute, AttributeInput, attributes_of
from app.api.context import Info
from app.api.metrics.types import Metric
from app.domain import points as domain
from app.domain.attributes import Attribute as DomainAttribute
from app.domain.errors import BadUserInput
from app.domain.points_rules import (
    boost_status,
    boosts_today,
    histogram_ranges,
    level_at,
    next_level,
)

strawberry.enum(domain.PointsTriggerType, name="PointsTriggerType")
strawberry.enum(domain.PointsTriggerStatus, name="PointsTriggerStatus")
strawberry.enum(domain.PointsTimeUnit, name="PointsTimeUnit")
strawberry.enum(domain.PointsRounding, name="PointsRounding")
strawberry.enum(domain.BoostScope, name="PointsBoostScope")
strawberry.enum(domain.BoostStatus, name="PointsBoostStatus")


@strawberry.type(description="A named threshold on a points system.")
class PointsLevel:
    id: strawberry.ID
    key: str
    name: str
    description: str | None
    badge_url: str | None
    points: int = strawberry.field(description="Total at which a user reaches this level (>=).")

    @classmethod
    def of(cls, level: domain.PointsLevel) -> PointsLevel:
        return cls(
            id=strawberry.ID(str(level.id)),
            key=level.key,
            name=level.name,
            description=level.description,
            badge_url=level.badge_url,
            points=level.points,
        )


def level_of(level: domain.PointsLevel | None) -> PointsLevel | None:
    return PointsLevel.of(level) if level else None


@strawberry.type
class PointsLevelCount:
    level: PointsLevel
    users: int


@strawberry.type
class PointsRange:
    from_: int = strawberry.field(name="from")
    to: int
    users: int


@strawberry.interface(description="Fields every points trigger has, whatever its type.")
class PointsTrigger:
    model: strawberry.Private[domain.PointsTrigger]
    id: strawberry.ID
    key: str
    type: domain.PointsTriggerType
    points: int = strawberry.field(
        description="Points per firing before boosts: negative deducts; never 0."
    )
    status: domain.PointsTriggerStatus
    user_attributes: list[Attribute]


@strawberry.type
class MetricPointsTrigger(PointsTrigger):
    def _rule(self) -> domain.MetricRule:
        assert isinstance(self.model.rule, domain.MetricRule)
        return self.model.rule

    @strawberry.field
    async def metric(self, info: Info) -> Metric:
        found = await info.context.loaders.metric_by_id.load(self._rule().metric_id)
        assert found is not None, "metrics are never deleted"
        return Metric.of(found)

    @strawberry.field
    def metric_threshold(self) -> float:
        return self._rule().threshold

    @strawberry.field
    def event_attribute(self) -> Attribute | None:
        attribute = self._rule().event_attribute
        return Attribute(key=attribute.key, value=attribute.value) if attribute else None

    @strawberry.field
    def block_if_out_of_points(self) -> bool:
        return self._rule().block_if_out_of_points


@strawberry.type
class AchievementPointsTrigger(PointsTrigger):
    @strawberry.field
    async def achievement(self, info: Info) -> AnyAchievement:
        assert isinstance(self.model.rule, domain.AchievementRule)
        found = await info.context.loaders.achievement_by_id.load(self.model.rule.achievement_id)
        assert found is not None, "achievements are never deleted"
        return present(found, await tenant_users(info))


@strawberry.type
class StreakPointsTrigger(PointsTrigger):
    @strawberry.field
    def streak_length(self) -> int:
        assert isinstance(self.model.rule, domain.StreakRule)
        return self.model.rule.length

    @strawberry.field
    def every_multiple(self) -> bool:
        assert isinstance(self.model.rule, domain.StreakRule)
        return self.model.rule.every_multiple


@strawberry.type
class UserCreationPointsTrigger(PointsTrigger):
    pass


@strawberry.type
class TimePointsTrigger(PointsTrigger):
    @strawberry.field
    def time_unit(self) -> domain.PointsTimeUnit:
        assert isinstance(self.model.rule, domain.TimeRule)
        return self.model.rule.unit

    @strawberry.field
    def time_interval(self) -> int:
        assert isinstance(self.model.rule, domain.TimeRule)
        return self.model.rule.interval


AnyPointsTrigger = Annotated[
    MetricPointsTrigger
    | AchievementPointsTrigger
    | StreakPointsTrigger
    | UserCreationPointsTrigger
    | TimePointsTrigger,
    strawberry.union("AnyPointsTrigger", description="A points trigger, one member per type."),
]

_TRIGGER_TYPES: dict[domain.PointsTriggerType, type[PointsTrigger]] = {
    domain.PointsTriggerType.METRIC: MetricPointsTrigger,
    domain.PointsTriggerType.ACHIEVEMENT: AchievementPointsTrigger,
    domain.PointsTriggerType.STREAK: StreakPointsTrigger,
    domain.PointsTriggerType.USER_CREATION: UserCreationPointsTrigger,
    domain.PointsTriggerType.TIME: TimePointsTrigger,
}


def trigger_of(trigger: domain.PointsTrigger) -> AnyPointsTrigger:
    made = _TRIGGER_TYPES[trigger.type](
        model=trigger,
        id=strawberry.ID(str(trigger.id)),
        key=trigger.key,
        type=trigger.type,
        points=trigger.points,
        status=trigger.status,
        user_attributes=Attribute.many(trigger.user_attributes),
    )
    return made  # type: ignore[return-value]


@strawberry.type(description="A multiplier on positive awards in a date window.")
class PointsBoost:
    model: strawberry.Private[domain.PointsBoost]
    user_tz: strawberry.Private[str | None]
    id: strawberry.ID
    key: str
    name: str
    multiplier: float
    start: date
    end: date | None
    rounding: domain.PointsRounding
    scope: domain.BoostScope
    user_id: str | None
    user_attributes: list[Attribute]

    @classmethod
    def of(cls, boost: domain.PointsBoost, user_tz: str | None = None) -> PointsBoost:
        return cls(
            model=boost,
            user_tz=user_tz,
            id=strawberry.ID(str(boost.id)),
            key=boost.key,
            name=boost.name,
            multiplier=float(boost.multiplier),
            start=boost.start,
            end=boost.end,
            rounding=boost.rounding,
            scope=boost.scope,
            user_id=boost.user_id,
            user_attributes=Attribute.many(boost.user_attributes),
        )

    @strawberry.field(description="Where it is in its window (a USER boost: in its user's zone).")
    def status(self, info: Info) -> domain.BoostStatus:
        return boost_status(self.model, self.user_tz, info.context.services.clock())


async def boost_of(info: Info, boost: domain.PointsBoost) -> PointsBoost:
    """A USER boost's window is its user's days."""
    if boost.scope is not domain.BoostScope.USER or boost.user_id is None:
        return PointsBoost.of(boost)
    standing = await info.context.loaders.standing_by_user_id.load(boost.user_id)
    return PointsBoost.of(boost, standing.user.tz if standing else None)


@strawberry.type(description="A points currency: triggers award to it, levels divide it.")
class PointsSystem:
    model: strawberry.Private[domain.PointsSystem]
    program: strawberry.Private[domain.PointsProgram]

    id: strawberry.ID
    key: str
    name: str
    description: str | None
    badge_url: str | None
    max_points: int | None

    @classmethod
    def of(cls, system: domain.PointsSystem, program: domain.PointsProgram) -> PointsSystem:
        return cls(
            model=system,
            program=program,
            id=strawberry.ID(str(system.id)),
            key=system.key,
            name=system.name,
            description=system.description,
            badge_url=system.badge_url,
            max_points=system.max_points,
        )

    @strawberry.field(description="In creation order; ACTIVE ones unless status says otherwise.")
    def triggers(
        self, info: Info, status: list[domain.PointsTriggerStatus] | None = None
    ) -> list[AnyPointsTrigger]:
        wanted = set(status or [domain.PointsTriggerStatus.ACTIVE])
        if not info.context.caller.is_admin:
            wanted &= {domain.PointsTriggerStatus.ACTIVE}
        return [
            trigger_of(t)
            for t in self.program.triggers
            if t.system_id == self.model.id and t.status in wanted
        ]

    @strawberry.field(description="Lowest threshold first.")
    def levels(self) -> list[PointsLevel]:
        return [PointsLevel.of(lv) for lv in self.program.levels_of(self.model.id)]

    @strawberry.field(description="Earliest start first, never ARCHIVED ones.")
    async def boosts(self, info: Info, include_finished: bool = False) -> list[PointsBoost]:
        caller = info.context.caller
        shown = [
            await boost_of(info, b)
            for b in self.program.boosts_of(self.model.id)
            if caller.is_key or b.scope is domain.BoostScope.GLOBAL
        ]
        if include_finished:
            return shown
        now = info.context.services.clock()
        return [
            b
            for b in shown
            if boost_status(b.model, b.user_tz, now) is not domain.BoostStatus.FINISHED
        ]

    @strawberry.field(description="Users at each level now, lowest level first.")
    async def level_summary(self, info: Info) -> list[PointsLevelCount]:
        levels = self.program.levels_of(self.model.id)
        counts = await info.context.services.points_reads.level_counts(
            info.context.caller.tenant_id, self.model.id, levels
        )
        return [PointsLevelCount(level=PointsLevel.of(lv), users=counts[lv.id]) for lv in levels]

    @strawberry.field(description="Users by total in 11 ranges.")
    async def histogram(
        self, info: Info, user_attributes: list[AttributeInput] | None = None
    ) -> list[PointsRange]:
        reads = info.context.services.points_reads
        attributes = attributes_of(user_attributes) or ()
        largest = await reads.largest_total(self.model.id, attributes)
        ranges = histogram_ranges(largest)
        counts = await reads.range_counts(
            info.context.caller.tenant_id, self.model.id, ranges, attributes
        )
        return [
            PointsRange(from_=low, to=high, users=n)
            for (low, high), n in zip(ranges, counts, strict=True)
        ]


@strawberry.type(description="One firing of one trigger for one user: a ledger line.")
class PointsAward:
    model: strawberry.Private[domain.PointsAward]
    program: strawberry.Private[domain.PointsProgram]

    id: strawberry.ID
    awarded: int = strawberry.field(
        description="After boosts, rounding, the cap and the floor at 0."
    )
    total: int = strawberry.field(description="The user's total in the system right after it.")
    awarded_at: datetime
    multiplier: float

    @classmethod
    def of(cls, award: domain.PointsAward, program: domain.PointsProgram) -> PointsAward:
        return cls(
            model=award,
            program=program,
            id=strawberry.ID(str(award.id)),
            awarded=award.awarded,
            total=award.total,
            awarded_at=award.awarded_at,
            multiplier=float(award.multiplier),
        )

    @strawberry.field(description="The trigger that fired, as it is now.")
    def trigger(self) -> AnyPointsTrigger:
        found = self.program.trigger(self.model.trigger_id)
        assert found is not None, "triggers are archived, never deleted"
        return trigger_of(found)

    @strawberry.field(description="The boosts that multiplied it, as they are now.")
    async def boosts(self, info: Info) -> list[PointsBoost]:
        return [await boost_of(info, b) for b in self.program.applied(self.model.boost_ids)]


@strawberry.type(description="What one operation did to one user's points in one system.")
class PointsChange:
    model: strawberry.Private[domain.PointsChange]
    program: strawberry.Private[domain.PointsProgram]

    @strawberry.field
    def system(self) -> PointsSystem:
        return PointsSystem.of(self.program.system(self.model.system_id), self.program)

    @strawberry.field
    def added(self) -> int:
        return self.model.added

    @strawberry.field
    def total(self) -> int:
        return self.model.total

    @strawberry.field
    def level_changed(self) -> bool:
        return self.model.level_changed

    @strawberry.field(description="The new level, only when levelChanged.")
    def level(self) -> PointsLevel | None:
        return self._level(self.model.level_id) if self.model.level_changed else None

    @strawberry.field(description="The level before, when levelChanged.")
    def previous_level(self) -> PointsLevel | None:
        return self._level(self.model.previous_level_id) if self.model.level_changed else None

    @strawberry.field
    def awards(self) -> list[PointsAward]:
        return [PointsAward.of(a, self.program) for a in self.model.awards]

    def _level(self, level_id: int | None) -> PointsLevel | None:
        return level_of(self.program.level(level_id))


async def changes_of(info: Info, changes: tuple[domain.PointsChange, ...]) -> list[PointsChange]:
    """Systems are read as they are now; a change in a system gone from the program (never:
    systems are not deleted) would be left out rather than fail the payload."""
    if not changes:
        return []
    program = await info.context.services.definitions.points_program(info.context.caller.tenant_id)
    return [
        PointsChange(model=c, program=program) for c in changes if program.known_system(c.system_id)
    ]


@strawberry.type(description="A user's standing in one points system.")
class UserPoints:
    system_model: strawberry.Private[domain.PointsSystem]
    program: strawberry.Private[domain.PointsProgram]
    user_pk: strawberry.Private[int]
    user_tz: strawberry.Private[str]
    user_attributes: strawberry.Private[tuple[DomainAttribute, ...]]
    total: int

    @strawberry.field
    def system(self) -> PointsSystem:
        return PointsSystem.of(self.system_model, self.program)

    @strawberry.field
    def level(self) -> PointsLevel | None:
        return level_of(level_at(self.program.levels_of(self.system_model.id), self.total))

    @strawberry.field
    def next_level(self) -> PointsLevel | None:
        return level_of(next_level(self.program.levels_of(self.system_model.id), self.total))

    @strawberry.field(description="Most recent awards first.")
    async def awards(self, info: Info, limit: int = 10) -> list[PointsAward]:
        check_limit(limit)
        found = await info.context.services.points_reads.awards(
            self.user_pk, self.system_model.id, limit
        )
        return [PointsAward.of(a, self.program) for a in found]

    @strawberry.field(description="Boosts that apply to this user today in the user's zone.")
    async def boosts(self, info: Info) -> list[PointsBoost]:
        today = boosts_today(
            self.program.boosts_of(self.system_model.id),
            self.user_pk,
            self.user_tz,
            self.user_attributes,
            info.context.services.clock(),
        )
        return [await boost_of(info, b) for b in today]


def check_limit(limit: int) -> int:
    if not 1 <= limit <= 100:
        raise BadUserInput("limit must be 1 to 100", field="limit")
    return limit
