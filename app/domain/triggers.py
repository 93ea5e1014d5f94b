"""Achievement triggers, one class per kind, each holding its own rules.

A kind says what it measures in a user's standing (`current`), the bar (`target`), whether the
user's stored data already meets it (`reached`, the rule backdating and attribute changes apply),
and whether stored data can meet it at all (`backdatable`). Progress derives from those alone, so
a new kind is one class here, plus its storage in `app/persistence/triggers.py` and its GraphQL
type; nothing else branches on the kind.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from app.domain.attributes import Attribute
from app.domain.progress import Progress


class TriggerKind(enum.Enum):
    METRIC = "METRIC"
    STREAK = "STREAK"
    API = "API"
    COMPOSITE = "COMPOSITE"


@dataclass(frozen=True, slots=True)
class UserStanding:
    """What triggers are evaluated against: a user's totals, streak and completions."""

    totals: Mapping[tuple[int, Attribute | None], float] = field(default_factory=dict)
    streak_length: int = 0
    longest_streak: int = 0
    completed_ids: Collection[int] = ()


@dataclass(frozen=True, slots=True)
class MetricTrigger:
    """Completes when the user's total on the metric reaches the threshold; with an event
    attribute, the total of the events carrying it."""

    metric_id: int
    threshold: float
    event_attribute: Attribute | None = None
    kind: ClassVar[TriggerKind] = TriggerKind.METRIC
    backdatable: ClassVar[bool] = True

    @property
    def target(self) -> float:
        return self.threshold

    def current(self, standing: UserStanding) -> float:
        return standing.totals.get((self.metric_id, self.event_attribute), 0.0)

    def reached(self, standing: UserStanding) -> bool:
        return self.current(standing) >= self.threshold

    def crossed(self, before: float, after: float) -> bool:
        """An event that moved the total from `before` to `after` completes it."""
        return before < self.threshold <= after


@dataclass(frozen=True, slots=True)
class StreakTrigger:
    """Completes when the streak reaches the length; a streak that reached it once counts, even
    if it has broken since (the longest streak is what backdating looks at)."""

    length: int
    kind: ClassVar[TriggerKind] = TriggerKind.STREAK
    backdatable: ClassVar[bool] = True

    @property
    def target(self) -> float:
        return float(self.length)

    def current(self, standing: UserStanding) -> float:
        return float(standing.streak_length)

    def reached(self, standing: UserStanding) -> bool:
        return standing.longest_streak >= self.length


@dataclass(frozen=True, slots=True)
class ApiTrigger:
    """Completes only when the application says so (`completeAchievement`)."""

    kind: ClassVar[TriggerKind] = TriggerKind.API
    backdatable: ClassVar[bool] = False

    @property
    def target(self) -> float:
        return 1.0

    def current(self, standing: UserStanding) -> float:
        return 0.0

    def reached(self, standing: UserStanding) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class CompositeTrigger:
    """Completes, in the same transaction, once every prerequisite is completed."""

    prerequisite_ids: tuple[int, ...]
    kind: ClassVar[TriggerKind] = TriggerKind.COMPOSITE
    backdatable: ClassVar[bool] = True

    @property
    def target(self) -> float:
        return float(len(self.prerequisite_ids))

    def current(self, standing: UserStanding) -> float:
        return float(sum(1 for p in self.prerequisite_ids if p in standing.completed_ids))

    def reached(self, standing: UserStanding) -> bool:
        return all(p in standing.completed_ids for p in self.prerequisite_ids)


Trigger = MetricTrigger | StreakTrigger | ApiTrigger | CompositeTrigger


def progress(trigger: Trigger, standing: UserStanding, *, completed: bool) -> Progress:
    """A completed achievement shows its bar as reached, whatever the measure does later."""
    target = trigger.target
    if completed:
        return Progress(target, target)
    return Progress(max(0.0, min(trigger.current(standing), target)), target)


def completed_progress(trigger: Trigger) -> Progress:
    return Progress(trigger.target, trigger.target)
