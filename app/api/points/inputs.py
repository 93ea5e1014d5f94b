"""Inputs of the points configuration, each turned into what the use cases take."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from app.api.common import AttributeInput, attributes_of
from app.domain import points as domain
from app.domain.points_admin import BoostSpec, Changes, MetricSpec, TargetSpec, TriggerTypeSpec


def given(**fields: strawberry.Maybe[Any]) -> Changes:
    """The fields a partial update gave, null ones included (they clear)."""
    return Changes({name: field.value for name, field in fields.items() if field is not None})


@strawberry.input
class MetricPointsTriggerInput:
    metric_key: str = strawberry.field(description="An existing metric.")
    metric_threshold: float = strawberry.field(description="Step size: (0, 1e15].")
    event_attribute: AttributeInput | None = strawberry.field(
        default=None, description="Only events carrying this attribute count."
    )
    block_if_out_of_points: bool | None = strawberry.field(
        default=False,
        description="Only with negative points: refuse an event whose deduction would take the "
        "total below 0.",
    )


@strawberry.input
class AchievementPointsTriggerInput:
    achievement_key: str = strawberry.field(description="An existing achievement.")


@strawberry.input
class StreakPointsTriggerInput:
    streak_length: int = strawberry.field(description="1 or more periods.")
    every_multiple: bool | None = strawberry.field(
        default=True, description="False: award at streakLength only, not at its multiples."
    )


@strawberry.input
class TimePointsTriggerInput:
    time_unit: domain.PointsTimeUnit
    time_interval: int = strawberry.field(description="1-8760 hours or 1-3650 days.")


@strawberry.input(one_of=True, description="The trigger's type and its settings: exactly one.")
class PointsTriggerTypeInput:
    metric: strawberry.Maybe[MetricPointsTriggerInput]
    achievement: strawberry.Maybe[AchievementPointsTriggerInput]
    streak: strawberry.Maybe[StreakPointsTriggerInput]
    user_creation: strawberry.Maybe[bool] = strawberry.field(
        description="true: a USER_CREATION trigger."
    )
    time: strawberry.Maybe[TimePointsTriggerInput]

    def to_domain(self) -> TriggerTypeSpec:
        metric = self.metric.value if self.metric else None
        streak = self.streak.value if self.streak else None
        return TriggerTypeSpec(
            metric=MetricSpec(
                metric_key=metric.metric_key,
                threshold=metric.metric_threshold,
                event_attribute=metric.event_attribute.to_domain()
                if metric.event_attribute
                else None,
                block_if_out_of_points=bool(metric.block_if_out_of_points),
            )
            if metric
            else None,
            achievement_key=self.achievement.value.achievement_key if self.achievement else None,
            streak=domain.StreakRule(streak.streak_length, streak.every_multiple is not False)
            if streak
            else None,
            user_creation=self.user_creation.value if self.user_creation else None,
            time=self.time is not None,
        )


@strawberry.input(one_of=True, description="Who a boost applies to: exactly one.")
class PointsBoostTargetInput:
    global_: strawberry.Maybe[bool] = strawberry.field(name="global", description="true: all.")
    user_id: strawberry.Maybe[str] = strawberry.field(description="One existing user.")
    user_attributes: strawberry.Maybe[list[AttributeInput]] = strawberry.field(
        description="Users whose attributes match all of these (one or more)."
    )

    def to_domain(self) -> TargetSpec:
        return TargetSpec(
            global_=self.global_.value if self.global_ else None,
            user_id=self.user_id.value if self.user_id else None,
            user_attributes=attributes_of(self.user_attributes.value)
            if self.user_attributes
            else None,
        )


@strawberry.input
class CreatePointsSystemInput:
    key: str
    name: str
    description: str | None = None
    badge_url: str | None = strawberry.field(
        default=None, description="Absolute http(s) URL, at most 2048 chars."
    )
    max_points: int | None = strawberry.field(
        default=None, description="1 to 2147483647; null: no cap."
    )


@strawberry.input(
    description="Absent fields stay as they are; null clears description, badgeUrl and "
    "maxPoints. The key never changes."
)
class UpdatePointsSystemInput:
    name: strawberry.Maybe[str | None]
    description: strawberry.Maybe[str | None]
    badge_url: strawberry.Maybe[str | None]
    max_points: strawberry.Maybe[int | None] = strawberry.field(
        description="Applies to later awards only: totals above a lowered cap stay."
    )

    def to_domain(self) -> Changes:
        return given(
            name=self.name,
            description=self.description,
            badge_url=self.badge_url,
            max_points=self.max_points,
        )


@strawberry.input
class CreatePointsTriggerInput:
    key: str
    points: int = strawberry.field(description="Non-zero, -1000000 to 1000000; negative deducts.")
    type: PointsTriggerTypeInput
    user_attributes: list[AttributeInput] | None = None


@strawberry.input(
    description="Absent fields stay as they are. points, userAttributes and "
    "blockIfOutOfPoints may change at any time (later firings only); type only while the "
    "trigger has never been ACTIVE."
)
class UpdatePointsTriggerInput:
    points: int | None = None
    user_attributes: list[AttributeInput] | None = None
    block_if_out_of_points: bool | None = None
    type: PointsTriggerTypeInput | None = None


@strawberry.input
class CreatePointsLevelInput:
    key: str
    name: str
    points: int = strawberry.field(description="Threshold, 0 to 2147483647, unique.")
    description: str | None = None
    badge_url: str | None = None

    def to_domain(self) -> domain.PointsLevel:
        return domain.PointsLevel(
            id=0,
            system_id=0,
            key=self.key,
            name=self.name,
            points=self.points,
            description=self.description,
            badge_url=self.badge_url,
        )


@strawberry.input(
    description="Absent fields stay as they are; null clears description and badgeUrl. "
    "Users' levels follow at once, silently."
)
class UpdatePointsLevelInput:
    name: strawberry.Maybe[str | None]
    description: strawberry.Maybe[str | None]
    badge_url: strawberry.Maybe[str | None]
    points: strawberry.Maybe[int | None]

    def to_domain(self) -> Changes:
        return given(
            name=self.name,
            description=self.description,
            badge_url=self.badge_url,
            points=self.points,
        )


@strawberry.input
class CreatePointsBoostInput:
    key: str
    name: str
    multiplier: float = strawberry.field(
        description="Greater than 0, not 1, below 100, at most 4 decimal places."
    )
    start: date = strawberry.field(description="First day, in each user's time zone.")
    end: date | None = strawberry.field(default=None, description="Last day (inclusive).")
    rounding: domain.PointsRounding | None = domain.PointsRounding.DOWN
    target: PointsBoostTargetInput | None = strawberry.field(
        default_factory=lambda: PointsBoostTargetInput(
            global_=strawberry.Some(True), user_id=None, user_attributes=None
        )
    )

    def to_domain(self) -> BoostSpec:
        return BoostSpec(
            name=self.name,
            multiplier=self.multiplier,
            start=self.start,
            end=self.end,
            rounding=self.rounding or domain.PointsRounding.DOWN,
            target=self.target.to_domain() if self.target else TargetSpec(global_=True),
        )


@strawberry.input(
    description="Absent fields stay as they are; null clears end. Changes apply to later "
    "awards only."
)
class UpdatePointsBoostInput:
    name: strawberry.Maybe[str | None]
    multiplier: strawberry.Maybe[float | None]
    start: strawberry.Maybe[date | None]
    end: strawberry.Maybe[date | None]
    rounding: strawberry.Maybe[domain.PointsRounding | None]
    target: strawberry.Maybe[PointsBoostTargetInput | None]

    def to_domain(self) -> Changes:
        given: dict[str, object] = {}
        for name in ("name", "multiplier", "start", "rounding"):
            field = getattr(self, name)
            if field is not None and field.value is not None:
                given[name] = field.value
        if self.end is not None:
            given["end"] = self.end.value
        if self.target is not None and self.target.value is not None:
            given["target"] = self.target.value.to_domain()
        return Changes(given)
