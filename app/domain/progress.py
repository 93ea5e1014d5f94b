"""Progress and rarity: how far a user is, and how rare an achievement is (SPEC.md section 8)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from app.domain.model import (
    Achievement,
    ApiTrigger,
    Attribute,
    CompositeTrigger,
    MetricTrigger,
    StreakTrigger,
)


@dataclass(frozen=True, slots=True)
class Progress:
    current: float
    target: float

    @property
    def percent(self) -> float:
        if self.target <= 0:
            return 100.0
        return max(0.0, min(100.0, self.current / self.target * 100.0))


@dataclass(frozen=True, slots=True)
class UserStanding:
    """What progress depends on: the user's totals, streak and completions."""

    totals: Mapping[tuple[int, Attribute | None], float]
    streak_length: int
    completed_ids: Collection[int]


def progress_of(achievement: Achievement, standing: UserStanding) -> Progress:
    trigger = achievement.trigger
    if isinstance(trigger, MetricTrigger):
        target = trigger.threshold
        if achievement.id in standing.completed_ids:
            return Progress(target, target)
        total = standing.totals.get((trigger.metric_id, trigger.event_attribute), 0.0)
        return Progress(max(0.0, min(total, target)), target)
    if isinstance(trigger, StreakTrigger):
        target = float(trigger.length)
        if achievement.id in standing.completed_ids:
            return Progress(target, target)
        return Progress(float(min(standing.streak_length, trigger.length)), target)
    if isinstance(trigger, ApiTrigger):
        return Progress(1.0 if achievement.id in standing.completed_ids else 0.0, 1.0)
    assert isinstance(trigger, CompositeTrigger)
    target = float(len(trigger.prerequisite_ids))
    if achievement.id in standing.completed_ids:
        return Progress(target, target)
    done = sum(1 for p in trigger.prerequisite_ids if p in standing.completed_ids)
    return Progress(float(done), target)


def completed_progress(achievement: Achievement) -> Progress:
    trigger = achievement.trigger
    if isinstance(trigger, MetricTrigger):
        return Progress(trigger.threshold, trigger.threshold)
    if isinstance(trigger, StreakTrigger):
        return Progress(float(trigger.length), float(trigger.length))
    if isinstance(trigger, CompositeTrigger):
        n = float(len(trigger.prerequisite_ids))
        return Progress(n, n)
    return Progress(1.0, 1.0)


def rarity(completions: int, users: int) -> float:
    """Percentage of the tenant's users who completed it; 0 for a tenant with no users."""
    if users <= 0:
        return 0.0
    return min(100.0, completions / users * 100.0)
