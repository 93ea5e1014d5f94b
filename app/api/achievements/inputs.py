from __future__ import annotations

import strawberry

from app.api.common import AttributeInput, attributes_of
from app.domain.configuration import AchievementChanges, MetricTriggerSpec, TriggerSpec


@strawberry.input
class MetricTriggerInput:
    metric_key: str
    value: float
    event_attribute: AttributeInput | None = None


@strawberry.input
class StreakTriggerInput:
    length: int


@strawberry.input
class CompositeTriggerInput:
    prerequisite_keys: list[str]


@strawberry.input(one_of=True, description="Exactly one field must be set.")
class AchievementTriggerInput:
    metric: strawberry.Maybe[MetricTriggerInput]
    streak: strawberry.Maybe[StreakTriggerInput]
    api: strawberry.Maybe[bool]
    composite: strawberry.Maybe[CompositeTriggerInput]

    def to_domain(self) -> TriggerSpec:
        metric = self.metric.value if self.metric else None
        return TriggerSpec(
            metric=MetricTriggerSpec(
                metric_key=metric.metric_key,
                value=metric.value,
                event_attribute=metric.event_attribute.to_domain()
                if metric.event_attribute
                else None,
            )
            if metric
            else None,
            streak_length=self.streak.value.length if self.streak else None,
            api=self.api.value if self.api else None,
            composite_keys=tuple(self.composite.value.prerequisite_keys)
            if self.composite
            else None,
        )


@strawberry.input
class CreateAchievementInput:
    key: str
    name: str
    trigger: AchievementTriggerInput
    description: str | None = None
    badge_url: str | None = None
    hidden: bool | None = False
    user_attributes: list[AttributeInput] | None = None


@strawberry.input
class UpdateAchievementInput:
    name: str | None = None
    description: str | None = None
    badge_url: str | None = None
    hidden: bool | None = None
    metric_value: float | None = strawberry.field(
        default=None, description="Metric achievements only: the new threshold."
    )
    streak_length: int | None = strawberry.field(
        default=None, description="Streak achievements only: the new length."
    )
    user_attributes: list[AttributeInput] | None = None

    def to_domain(self) -> AchievementChanges:
        return AchievementChanges(
            name=self.name,
            description=self.description,
            badge_url=self.badge_url,
            hidden=self.hidden,
            metric_value=self.metric_value,
            streak_length=self.streak_length,
            user_attributes=attributes_of(self.user_attributes),
        )
