"""The nouns of points: systems, their triggers, levels and boosts, and the program they form.

A tenant's `PointsProgram` is everything an operation needs to award points, read once before
its transaction (as metrics and the streak settings are) and indexed by what sets triggers off,
so an event touches only the triggers on its own metric and never scans the rest.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.domain.attributes import Attribute

MAX_TOTAL = 2_147_483_647
"""The cap of a system without `maxPoints`: the largest GraphQL Int."""


class PointsTriggerType(enum.Enum):
    METRIC = "METRIC"
    ACHIEVEMENT = "ACHIEVEMENT"
    STREAK = "STREAK"
    USER_CREATION = "USER_CREATION"
    TIME = "TIME"


class PointsTriggerStatus(enum.Enum):
    INACTIVE = "INACTIVE"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class PointsRounding(enum.Enum):
    DOWN = "DOWN"
    UP = "UP"
    NEAREST = "NEAREST"


class BoostScope(enum.Enum):
    GLOBAL = "GLOBAL"
    USER = "USER"
    USER_ATTRIBUTES = "USER_ATTRIBUTES"


class BoostStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    FINISHED = "FINISHED"
    ARCHIVED = "ARCHIVED"


class PointsTimeUnit(enum.Enum):
    HOUR = "HOUR"
    DAY = "DAY"


@dataclass(frozen=True, slots=True)
class PointsSystem:
    id: int
    key: str
    name: str
    description: str | None = None
    badge_url: str | None = None
    max_points: int | None = None

    @property
    def cap(self) -> int:
        return MAX_TOTAL if self.max_points is None else self.max_points


@dataclass(frozen=True, slots=True)
class MetricRule:
    """Fires per `threshold` step of the user's total on the metric (with `event_attribute`:
    the total of matching events alone)."""

    metric_id: int
    threshold: float
    event_attribute: Attribute | None = None
    block_if_out_of_points: bool = False


@dataclass(frozen=True, slots=True)
class AchievementRule:
    achievement_id: int


@dataclass(frozen=True, slots=True)
class StreakRule:
    length: int
    every_multiple: bool = True


@dataclass(frozen=True, slots=True)
class UserCreationRule:
    pass


@dataclass(frozen=True, slots=True)
class TimeRule:
    unit: PointsTimeUnit
    interval: int


PointsRule = MetricRule | AchievementRule | StreakRule | UserCreationRule | TimeRule

RULE_TYPES: Mapping[type, PointsTriggerType] = {
    MetricRule: PointsTriggerType.METRIC,
    AchievementRule: PointsTriggerType.ACHIEVEMENT,
    StreakRule: PointsTriggerType.STREAK,
    UserCreationRule: PointsTriggerType.USER_CREATION,
    TimeRule: PointsTriggerType.TIME,
}


@dataclass(frozen=True, slots=True)
class PointsTrigger:
    """`ever_active`: its type and settings are frozen once it has awarded under them."""

    id: int
    system_id: int
    key: str
    points: int
    status: PointsTriggerStatus
    rule: PointsRule
    user_attributes: tuple[Attribute, ...] = ()
    ever_active: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    """None until stored."""

    @property
    def type(self) -> PointsTriggerType:
        return RULE_TYPES[type(self.rule)]

    @property
    def active(self) -> bool:
        return self.status is PointsTriggerStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class PointsLevel:
    id: int
    system_id: int
    key: str
    name: str
    points: int
    description: str | None = None
    badge_url: str | None = None


@dataclass(frozen=True, slots=True)
class PointsBoost:
    """`user_pk`/`user_id` name the user of a USER boost."""

    id: int
    system_id: int
    key: str
    name: str
    multiplier: Decimal
    start: date
    end: date | None
    rounding: PointsRounding
    scope: BoostScope
    user_pk: int | None = None
    user_id: str | None = None
    user_attributes: tuple[Attribute, ...] = ()
    archived: bool = False


@dataclass(frozen=True, slots=True)
class PointsProgram:
    """A tenant's points configuration, indexed for the hot path."""

    systems: tuple[PointsSystem, ...] = ()
    triggers: tuple[PointsTrigger, ...] = ()
    levels: tuple[PointsLevel, ...] = ()
    boosts: tuple[PointsBoost, ...] = ()
    _by_metric: dict[int, tuple[PointsTrigger, ...]] = field(default_factory=dict, repr=False)
    _by_achievement: dict[int, tuple[PointsTrigger, ...]] = field(default_factory=dict, repr=False)
    _by_rule: dict[type, tuple[PointsTrigger, ...]] = field(default_factory=dict, repr=False)
    _systems: dict[int, PointsSystem] = field(default_factory=dict, repr=False)
    _triggers_by_id: dict[int, PointsTrigger] = field(default_factory=dict, repr=False)
    _levels_by_id: dict[int, PointsLevel] = field(default_factory=dict, repr=False)
    _boosts_by_id: dict[int, PointsBoost] = field(default_factory=dict, repr=False)
    _levels: dict[int, tuple[PointsLevel, ...]] = field(default_factory=dict, repr=False)
    _boosts: dict[int, tuple[PointsBoost, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Indexes built once per program, so an event's lookups are dictionary reads."""
        active = [t for t in sorted(self.triggers, key=lambda t: t.id) if t.active]
        for trigger in active:
            rule = trigger.rule
            self._by_rule[type(rule)] = (*self._by_rule.get(type(rule), ()), trigger)
            if isinstance(rule, MetricRule):
                self._by_metric[rule.metric_id] = (
                    *self._by_metric.get(rule.metric_id, ()),
                    trigger,
                )
            elif isinstance(rule, AchievementRule):
                known = self._by_achievement.get(rule.achievement_id, ())
                self._by_achievement[rule.achievement_id] = (*known, trigger)
        self._systems.update((s.id, s) for s in self.systems)
        self._triggers_by_id.update((t.id, t) for t in self.triggers)
        self._levels_by_id.update((lv.id, lv) for lv in self.levels)
        self._boosts_by_id.update((b.id, b) for b in self.boosts)
        for system in self.systems:
            levels = (lv for lv in self.levels if lv.system_id == system.id)
            self._levels[system.id] = tuple(sorted(levels, key=lambda lv: lv.points))
            boosts = (b for b in self.boosts if b.system_id == system.id and not b.archived)
            self._boosts[system.id] = tuple(boosts)

    @property
    def empty(self) -> bool:
        return not self.triggers

    def system(self, system_id: int) -> PointsSystem:
        return self._systems[system_id]

    def known_system(self, system_id: int) -> PointsSystem | None:
        """None for a system this program does not have (a stored change outliving it)."""
        return self._systems.get(system_id)

    def system_by_key(self, key: str) -> PointsSystem | None:
        return next((s for s in self.systems if s.key == key), None)

    def trigger(self, trigger_id: int) -> PointsTrigger | None:
        """Any status: archived triggers still name the awards they made."""
        return self._triggers_by_id.get(trigger_id)

    def trigger_system(self, trigger_id: int) -> int:
        return self._triggers_by_id[trigger_id].system_id

    def level(self, level_id: int | None) -> PointsLevel | None:
        return None if level_id is None else self._levels_by_id.get(level_id)

    def boost(self, boost_id: int) -> PointsBoost | None:
        """Archived ones too: past awards still name them."""
        return self._boosts_by_id.get(boost_id)

    def applied(self, boost_ids: Sequence[int]) -> list[PointsBoost]:
        """The boosts an award names, as they are now, in the program's order."""
        return [b for b in self.boosts if b.id in boost_ids]

    def on_metric(self, metric_id: int) -> tuple[PointsTrigger, ...]:
        return self._by_metric.get(metric_id, ())

    def on_achievement(self, achievement_id: int) -> tuple[PointsTrigger, ...]:
        return self._by_achievement.get(achievement_id, ())

    def active_of(self, rule_type: type) -> tuple[PointsTrigger, ...]:
        return self._by_rule.get(rule_type, ())

    def levels_of(self, system_id: int) -> tuple[PointsLevel, ...]:
        """Lowest threshold first."""
        return self._levels.get(system_id, ())

    def boosts_of(self, system_id: int) -> tuple[PointsBoost, ...]:
        """Not archived."""
        return self._boosts.get(system_id, ())


@dataclass(frozen=True, slots=True)
class PointsAward:
    """One ledger line: `awarded` after boosts, rounding, cap and floor; `total` right after."""

    id: int
    system_id: int
    trigger_id: int
    awarded: int
    total: int
    awarded_at: datetime
    multiplier: Decimal
    boost_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PointsChange:
    """What one operation did to one user's points in one system."""

    system_id: int
    added: int
    total: int
    level_id: int | None
    previous_level_id: int | None
    awards: tuple[PointsAward, ...]

    @property
    def level_changed(self) -> bool:
        return self.level_id != self.previous_level_id
