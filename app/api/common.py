"""GraphQL shapes shared by several domains: enums, attributes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import strawberry

from app.api.inputs import planned_input
from app.domain import model, streaks

# The domain's enums are the GraphQL enums: registering them here keeps the domain free of
# Strawberry while resolvers pass domain values straight through.
strawberry.enum(model.AchievementStatus, name="AchievementStatus")
strawberry.enum(model.TriggerKind, name="AchievementTrigger")
strawberry.enum(streaks.StreakFrequency, name="StreakFrequency")
strawberry.enum(model.ApiKeyRole, name="ApiKeyRole")

AchievementStatus: TypeAlias = model.AchievementStatus
AchievementTrigger: TypeAlias = model.TriggerKind
StreakFrequency: TypeAlias = streaks.StreakFrequency
ApiKeyRole: TypeAlias = model.ApiKeyRole


@strawberry.type
class Attribute:
    key: str
    value: str

    @classmethod
    def many(cls, attributes: Iterable[model.Attribute]) -> list[Attribute]:
        return [cls(key=a.key, value=a.value) for a in attributes]


@planned_input
@strawberry.input
class AttributeInput:
    key: str
    value: str

    def to_domain(self) -> model.Attribute:
        return model.Attribute(self.key, self.value)


def attributes_of(inputs: Iterable[AttributeInput] | None) -> tuple[model.Attribute, ...] | None:
    return None if inputs is None else tuple(i.to_domain() for i in inputs)
