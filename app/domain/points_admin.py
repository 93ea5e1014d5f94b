"""Use cases of the points configuration: systems, triggers and their status, levels, boosts.

Each validates its input whole before it stores anything (a refused request changes nothing),
looks keys up in the tenant's current program, and leaves the rest to the store's unique keys:
two concurrent creations of one key cannot both succeed. Nothing here awards: activating a
trigger never awards for the past, and changing a level or a boost changes no past award.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol, TypeVar, cast

from app.domain.attributes import Attribute
from app.domain.badges import check_badge_url
from app.domain.errors import BadUserInput, NotFound
from app.domain.points import (
    MAX_TOTAL,
    AchievementRule,
    BoostScope,
    MetricRule,
    PointsBoost,
    PointsLevel,
    PointsProgram,
    PointsRounding,
    PointsRule,
    PointsSystem,
    PointsTrigger,
    PointsTriggerStatus,
    StreakRule,
    UserCreationRule,
)
from app.domain.ports import PointsPrograms
from app.domain.validation import check_attributes, check_key, check_name, check_text

T = TypeVar("T")

MAX_TRIGGER_POINTS = 1_000_000
MAX_THRESHOLD = 1e15


class PointsConfigStore(PointsPrograms, Protocol):
    """Writes of the points configuration; a duplicate key raises BadUserInput."""

    async def metric_id(self, tenant_id: int, key: str) -> int | None: ...
    async def achievement_id(self, tenant_id: int, key: str) -> int | None: ...
    async def user_pk(self, tenant_id: int, user_id: str) -> int | None: ...
    async def save_system(self, tenant_id: int, system: PointsSystem) -> PointsSystem:
        """Inserts when `system.id` is 0, else updates; returns what is stored."""
        ...

    async def save_trigger(self, tenant_id: int, trigger: PointsTrigger) -> PointsTrigger: ...
    async def save_level(self, tenant_id: int, level: PointsLevel) -> PointsLevel: ...
    async def delete_level(self, tenant_id: int, level_id: int) -> None: ...
    async def save_boost(self, tenant_id: int, boost: PointsBoost) -> PointsBoost: ...


@dataclass(frozen=True, slots=True)
class MetricSpec:
    metric_key: str
    threshold: float
    event_attribute: Attribute | None = None
    block_if_out_of_points: bool = False


@dataclass(frozen=True, slots=True)
class TriggerTypeSpec:
    """The @oneOf trigger type input: exactly one field is set."""

    metric: MetricSpec | None = None
    achievement_key: str | None = None
    streak: StreakRule | None = None
    user_creation: bool | None = None
    time: bool = False


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """The @oneOf boost target input."""

    global_: bool | None = None
    user_id: str | None = None
    user_attributes: tuple[Attribute, ...] | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """A partial update: `values` holds the fields given (None in it clears the field)."""

    values: dict[str, object]

    def get(self, name: str, current: T) -> T:
        """The API layer put a value of the field's own type there, or None to clear it."""
        return cast(T, self.values.get(name, current))


# ---------------------------------------------------------------------------------------------
# Systems


async def create_system(
    store: PointsConfigStore,
    tenant_id: int,
    key: str,
    name: str,
    description: str | None = None,
    badge_url: str | None = None,
    max_points: int | None = None,
) -> PointsSystem:
    system = _checked_system(
        PointsSystem(0, check_key(key), name, description, badge_url, max_points)
    )
    program = await store.points_program(tenant_id)
    if any(s.key == key for s in program.systems):
        raise BadUserInput(f"a points system with key {key!r} exists already", field="key")
    return await store.save_system(tenant_id, system)


async def update_system(
    store: PointsConfigStore, tenant_id: int, key: str, changes: Changes
) -> PointsSystem:
    current = _system(await store.points_program(tenant_id), key)
    updated = dataclasses.replace(
        current,
        name=changes.get("name", current.name),
        description=changes.get("description", current.description),
        badge_url=changes.get("badge_url", current.badge_url),
        max_points=changes.get("max_points", current.max_points),
    )
    if not updated.name:
        raise BadUserInput("name may not be null", field="name")
    return await store.save_system(tenant_id, _checked_system(updated))


def _checked_system(system: PointsSystem) -> PointsSystem:
    check_name(system.name)
    check_text(system.description, "description")
    check_badge_url(system.badge_url)
    if system.max_points is not None and not 1 <= system.max_points <= MAX_TOTAL:
        raise BadUserInput(f"maxPoints must be 1 to {MAX_TOTAL}", field="maxPoints")
    return system


def _system(program: PointsProgram, key: str) -> PointsSystem:
    found = program.system_by_key(key)
    if found is None:
        raise NotFound(f"no points system with key {key!r}", field="systemKey")
    return found


# ---------------------------------------------------------------------------------------------
# Triggers


async def create_trigger(
    store: PointsConfigStore,
    tenant_id: int,
    system_key: str,
    key: str,
    points: int,
    spec: TriggerTypeSpec,
    user_attributes: Iterable[Attribute] = (),
    *,
    streak_configured: bool,
) -> PointsTrigger:
    program = await store.points_program(tenant_id)
    system = _system(program, system_key)
    check_key(key)
    _check_points(points)
    rule = await _rule(store, tenant_id, spec, streak_configured=streak_configured)
    _check_block(rule, points)
    if any(t.key == key and t.system_id == system.id for t in program.triggers):
        raise BadUserInput(f"a trigger with key {key!r} exists in {system_key!r}", field="key")
    trigger = PointsTrigger(
        id=0,
        system_id=system.id,
        key=key,
        points=points,
        status=PointsTriggerStatus.INACTIVE,
        rule=rule,
        user_attributes=check_attributes(user_attributes, "userAttributes"),
    )
    return await store.save_trigger(tenant_id, trigger)


async def update_trigger(
    store: PointsConfigStore,
    tenant_id: int,
    system_key: str,
    key: str,
    *,
    points: int | None = None,
    user_attributes: Sequence[Attribute] | None = None,
    block_if_out_of_points: bool | None = None,
    spec: TriggerTypeSpec | None = None,
    streak_configured: bool,
) -> PointsTrigger:
    """points, userAttributes and blockIfOutOfPoints may change at any time (later firings);
    the type and its settings only while the trigger has never been ACTIVE."""
    current = _trigger(await store.points_program(tenant_id), system_key, key)
    rule = current.rule
    if spec is not None:
        if current.ever_active:
            raise BadUserInput(
                "a trigger's type cannot change once it has been ACTIVE", field="type"
            )
        rule = await _rule(store, tenant_id, spec, streak_configured=streak_configured)
    if block_if_out_of_points is not None:
        if not isinstance(rule, MetricRule):
            raise BadUserInput(
                "blockIfOutOfPoints applies to METRIC triggers only", field="blockIfOutOfPoints"
            )
        rule = dataclasses.replace(rule, block_if_out_of_points=block_if_out_of_points)
    new_points = current.points if points is None else _check_points(points)
    _check_block(rule, new_points)
    updated = dataclasses.replace(
        current,
        points=new_points,
        rule=rule,
        user_attributes=current.user_attributes
        if user_attributes is None
        else check_attributes(user_attributes, "userAttributes"),
    )
    return await store.save_trigger(tenant_id, updated)


async def set_trigger_status(
    store: PointsConfigStore,
    tenant_id: int,
    system_key: str,
    key: str,
    status: PointsTriggerStatus,
) -> PointsTrigger:
    """INACTIVE and ACTIVE move freely; either may become ARCHIVED, which is final."""
    current = _trigger(await store.points_program(tenant_id), system_key, key)
    if current.status is PointsTriggerStatus.ARCHIVED:
        raise BadUserInput("an archived trigger cannot change status", field="status")
    if current.status is status:
        return current
    updated = dataclasses.replace(
        current,
        status=status,
        ever_active=current.ever_active or status is PointsTriggerStatus.ACTIVE,
    )
    return await store.save_trigger(tenant_id, updated)


def _trigger(program: PointsProgram, system_key: str, key: str) -> PointsTrigger:
    system = _system(program, system_key)
    found = next((t for t in program.triggers if t.system_id == system.id and t.key == key), None)
    if found is None:
        raise NotFound(f"no trigger with key {key!r} in {system_key!r}", field="key")
    return found


def _check_points(points: int) -> int:
    if points == 0 or abs(points) > MAX_TRIGGER_POINTS:
        raise BadUserInput("points must be non-zero, -1000000 to 1000000", field="points")
    return points


def _check_block(rule: PointsRule, points: int) -> None:
    if isinstance(rule, MetricRule) and rule.block_if_out_of_points and points > 0:
        raise BadUserInput("blockIfOutOfPoints needs negative points", field="blockIfOutOfPoints")


async def _rule(
    store: PointsConfigStore, tenant_id: int, spec: TriggerTypeSpec, *, streak_configured: bool
) -> PointsRule:
    given = [
        spec.metric is not None,
        spec.achievement_key is not None,
        spec.streak is not None,
        spec.user_creation is not None,
        spec.time,
    ]
    if sum(given) != 1:
        raise BadUserInput("type must set exactly one field", field="type")
    if spec.time:
        raise BadUserInput("TIME triggers are not supported yet", field="type.time")
    if spec.metric is not None:
        return await _metric_rule(store, tenant_id, spec.metric)
    if spec.achievement_key is not None:
        achievement_id = await store.achievement_id(tenant_id, check_key(spec.achievement_key))
        if achievement_id is None:
            raise BadUserInput(
                f"no achievement with key {spec.achievement_key!r}",
                field="type.achievement.achievementKey",
            )
        return AchievementRule(achievement_id)
    if spec.streak is not None:
        if spec.streak.length < 1:
            raise BadUserInput("streakLength must be 1 or more", field="type.streak.streakLength")
        if not streak_configured:
            raise BadUserInput("STREAK triggers need a streak configured", field="type.streak")
        return spec.streak
    if spec.user_creation is not True:
        raise BadUserInput("userCreation must be true", field="type.userCreation")
    return UserCreationRule()


async def _metric_rule(store: PointsConfigStore, tenant_id: int, spec: MetricSpec) -> MetricRule:
    metric_id = await store.metric_id(tenant_id, check_key(spec.metric_key, "metricKey"))
    if metric_id is None:
        raise BadUserInput(f"no metric with key {spec.metric_key!r}", field="type.metric.metricKey")
    threshold = spec.threshold
    if not math.isfinite(threshold) or not 0 < threshold <= MAX_THRESHOLD:
        raise BadUserInput(
            "metricThreshold must be greater than 0 and at most 1e15",
            field="type.metric.metricThreshold",
        )
    attribute = spec.event_attribute
    if attribute is not None:
        attribute = check_attributes([attribute], "type.metric.eventAttribute")[0]
    return MetricRule(metric_id, threshold, attribute, spec.block_if_out_of_points)


# ---------------------------------------------------------------------------------------------
# Levels


async def create_level(
    store: PointsConfigStore,
    tenant_id: int,
    system_key: str,
    level: PointsLevel,
) -> PointsLevel:
    """`level` arrives with id and system_id 0."""
    program = await store.points_program(tenant_id)
    system = _system(program, system_key)
    check_key(level.key)
    if any(lv.key == level.key for lv in program.levels_of(system.id)):
        raise BadUserInput(f"a level with key {level.key!r} exists in {system_key!r}", field="key")
    candidate = dataclasses.replace(level, system_id=system.id)
    return await store.save_level(tenant_id, _checked_level(program, candidate))


async def update_level(
    store: PointsConfigStore, tenant_id: int, system_key: str, key: str, changes: Changes
) -> PointsLevel:
    program = await store.points_program(tenant_id)
    current = _level(program, system_key, key)
    updated = dataclasses.replace(
        current,
        name=changes.get("name", current.name),
        description=changes.get("description", current.description),
        badge_url=changes.get("badge_url", current.badge_url),
        points=changes.get("points", current.points),
    )
    if not updated.name or not isinstance(updated.points, int):
        raise BadUserInput("name and points may not be null", field="input")
    return await store.save_level(tenant_id, _checked_level(program, updated))


async def delete_level(store: PointsConfigStore, tenant_id: int, system_key: str, key: str) -> None:
    current = _level(await store.points_program(tenant_id), system_key, key)
    await store.delete_level(tenant_id, current.id)


def _level(program: PointsProgram, system_key: str, key: str) -> PointsLevel:
    system = _system(program, system_key)
    found = next((lv for lv in program.levels_of(system.id) if lv.key == key), None)
    if found is None:
        raise NotFound(f"no level with key {key!r} in {system_key!r}", field="key")
    return found


def _checked_level(program: PointsProgram, level: PointsLevel) -> PointsLevel:
    check_name(level.name)
    check_text(level.description, "description")
    check_badge_url(level.badge_url)
    if not 0 <= level.points <= MAX_TOTAL:
        raise BadUserInput(f"points must be 0 to {MAX_TOTAL}", field="points")
    if any(
        lv.points == level.points and lv.id != level.id for lv in program.levels_of(level.system_id)
    ):
        raise BadUserInput(f"another level has the threshold {level.points}", field="points")
    return level


# ---------------------------------------------------------------------------------------------
# Boosts


@dataclass(frozen=True, slots=True)
class BoostSpec:
    name: str
    multiplier: float | Decimal
    start: date
    end: date | None = None
    rounding: PointsRounding = PointsRounding.DOWN
    target: TargetSpec = TargetSpec(global_=True)


async def create_boost(
    store: PointsConfigStore, tenant_id: int, system_key: str, key: str, spec: BoostSpec
) -> PointsBoost:
    program = await store.points_program(tenant_id)
    system = _system(program, system_key)
    check_key(key)
    if any(b.key == key and b.system_id == system.id for b in program.boosts):
        raise BadUserInput(f"a boost with key {key!r} exists in {system_key!r}", field="key")
    boost = await _boost(store, tenant_id, system.id, key, spec)
    return await store.save_boost(tenant_id, boost)


async def update_boost(
    store: PointsConfigStore, tenant_id: int, system_key: str, key: str, changes: Changes
) -> PointsBoost:
    current = _boost_of(await store.points_program(tenant_id), system_key, key)
    if current.archived:
        raise BadUserInput("an archived boost cannot change", field="key")
    spec = BoostSpec(
        name=changes.get("name", current.name),
        multiplier=changes.get("multiplier", current.multiplier),
        start=changes.get("start", current.start),
        end=changes.get("end", current.end),
        rounding=changes.get("rounding", current.rounding),
        target=changes.get("target", _target_of(current)),
    )
    boost = await _boost(store, tenant_id, current.system_id, key, spec)
    return await store.save_boost(tenant_id, dataclasses.replace(boost, id=current.id))


async def archive_boost(
    store: PointsConfigStore, tenant_id: int, system_key: str, key: str
) -> PointsBoost:
    current = _boost_of(await store.points_program(tenant_id), system_key, key)
    if current.archived:
        return current
    return await store.save_boost(tenant_id, dataclasses.replace(current, archived=True))


def _boost_of(program: PointsProgram, system_key: str, key: str) -> PointsBoost:
    system = _system(program, system_key)
    found = next((b for b in program.boosts if b.system_id == system.id and b.key == key), None)
    if found is None:
        raise NotFound(f"no boost with key {key!r} in {system_key!r}", field="key")
    return found


def _target_of(boost: PointsBoost) -> TargetSpec:
    if boost.scope is BoostScope.USER:
        return TargetSpec(user_id=boost.user_id)
    if boost.scope is BoostScope.USER_ATTRIBUTES:
        return TargetSpec(user_attributes=boost.user_attributes)
    return TargetSpec(global_=True)


async def _boost(
    store: PointsConfigStore, tenant_id: int, system_id: int, key: str, spec: BoostSpec
) -> PointsBoost:
    check_name(spec.name)
    multiplier = check_multiplier(spec.multiplier)
    if spec.end is not None and spec.end < spec.start:
        raise BadUserInput("end may not be before start", field="end")
    target = spec.target
    given = [
        target.global_ is not None,
        target.user_id is not None,
        target.user_attributes is not None,
    ]
    if sum(given) != 1:
        raise BadUserInput("target must set exactly one field", field="target")
    boost = PointsBoost(
        id=0,
        system_id=system_id,
        key=key,
        name=spec.name,
        multiplier=multiplier,
        start=spec.start,
        end=spec.end,
        rounding=spec.rounding,
        scope=BoostScope.GLOBAL,
    )
    if target.user_id is not None:
        user_pk = await store.user_pk(tenant_id, target.user_id)
        if user_pk is None:
            raise BadUserInput(f"no user with id {target.user_id!r}", field="target.userId")
        return dataclasses.replace(
            boost, scope=BoostScope.USER, user_pk=user_pk, user_id=target.user_id
        )
    if target.user_attributes is not None:
        attributes = check_attributes(target.user_attributes, "target.userAttributes")
        if not attributes:
            raise BadUserInput(
                "userAttributes needs at least one attribute", field="target.userAttributes"
            )
        return dataclasses.replace(
            boost, scope=BoostScope.USER_ATTRIBUTES, user_attributes=attributes
        )
    if target.global_ is not True:
        raise BadUserInput("global must be true", field="target.global")
    return boost


def check_multiplier(value: float | Decimal) -> Decimal:
    """Greater than 0, not 1, below 100, at most 4 decimal places: a float is read from its
    shortest decimal form, so 1.1 is exactly 1.1."""
    try:
        exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    except (InvalidOperation, ValueError, OverflowError) as exc:
        raise BadUserInput("multiplier must be a number", field="multiplier") from exc
    if (
        not exact.is_finite()
        or not Decimal(0) < exact < Decimal(100)
        or exact == 1
        or exact.as_tuple().exponent < -4  # type: ignore[operator]
    ):
        raise BadUserInput(
            "multiplier must be greater than 0, not 1, below 100, with at most 4 decimal places",
            field="multiplier",
        )
    return exact.normalize()
