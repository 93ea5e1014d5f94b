"""GraphQL shapes shared by several domains: enums, attributes."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry

from app.domain import model
from app.domain.streaks import StreakFrequency as _StreakFrequency

AchievementStatus = strawberry.enum(model.AchievementStatus, name="AchievementStatus")
AchievementTrigger = strawberry.enum(model.TriggerKind, name="AchievementTrigger")
StreakFrequency = strawberry.enum(_StreakFrequency, name="StreakFrequency")
ApiKeyRole = strawberry.enum(model.ApiKeyRole, name="ApiKeyRole")


@strawberry.type
class Attribute:
    key: str
    value: str

    @classmethod
    def many(cls, attributes: Iterable[model.Attribute]) -> list[Attribute]:
        return [cls(key=a.key, value=a.value) for a in attributes]


@strawberry.input
class AttributeInput:
    key: str
    value: str

    def to_domain(self) -> model.Attribute:
        return model.Attribute(self.key, self.value)


def attributes_of(inputs: Iterable[AttributeInput] | None) -> tuple[model.Attribute, ...] | None:
    return None if inputs is None else tuple(i.to_domain() for i in inputs)
