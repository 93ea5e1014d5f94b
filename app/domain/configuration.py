"""Use cases of the configuration API: metrics, achievements and their status workflow."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.badges import check_badge_url
from app.domain.errors import BadUserInput, NotFound
from app.domain.model import (
    Achievement,
    AchievementStatus,
    ApiTrigger,
    Attribute,
    CompositeTrigger,
    FreezeRules,
    Metric,
    MetricTrigger,
    StreakSettings,
    StreakTrigger,
    Trigger,
)
from app.domain.ports import AchievementDraft, ConfigStore
from app.domain.streaks import StreakFrequency
from app.domain.validation import (
    KEY_PATTERN,
    check_attributes,
    check_key,
    check_name,
    check_positive,
    check_text,
)

# Composites complete in the same transaction as their last prerequisite, level by level: the
# nesting bounds what one completion can set off.
MAX_COMPOSITE_DEPTH = 32

__all__ = [
    "AchievementChanges",
    "MetricTriggerSpec",
    "TriggerSpec",
    "configure_streak",
    "create_achievement",
    "create_metric",
    "set_achievement_status",
    "update_achievement",
]


@dataclass(frozen=True, slots=True)
class MetricTriggerSpec:
    metric_key: str
    value: float
    event_attribute: Attribute | None = None


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """The @oneOf trigger input as the rules see it: exactly one field is set."""

    metric: MetricTriggerSpec | None = None
    streak_length: int | None = None
    api: bool | None = None
    composite_keys: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class AchievementChanges:
    """A partial update: None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    badge_url: str | None = None
    hidden: bool | None = None
    metric_value: float | None = None
    streak_length: int | None = None
    user_attributes: tuple[Attribute, ...] | None = None


async def create_metric(
    store: ConfigStore, tenant_id: int, *, key: str, name: str, unit: str | None
) -> Metric:
    check_key(key)
    check_name(name)
    check_text(unit, "unit", 100)
    if await store.metric_by_key(tenant_id, key) is not None:
        raise BadUserInput(f"a metric with key {key!r} exists already", field="key")
    return await store.create_metric(tenant_id, key, name, unit)


async def create_achievement(
    store: ConfigStore,
    tenant_id: int,
    *,
    key: str,
    name: str,
    description: str | None,
    badge_url: str | None,
    hidden: bool,
    trigger: TriggerSpec,
    user_attributes: Sequence[Attribute],
) -> Achievement:
    check_key(key)
    check_name(name)
    check_text(description, "description")
    check_badge_url(badge_url)
    attributes = check_attributes(user_attributes, "userAttributes")
    if await store.achievement_by_key(tenant_id, key) is not None:
        raise BadUserInput(f"an achievement with key {key!r} exists already", field="key")
    resolved = await _resolve_trigger(store, tenant_id, key, trigger)
    draft = AchievementDraft(
        key=key,
        name=name,
        description=description,
        badge_url=badge_url,
        hidden=hidden,
        user_attributes=attributes,
        trigger=resolved,
    )
    return await store.create_achievement(tenant_id, draft)


async def _resolve_trigger(
    store: ConfigStore, tenant_id: int, own_key: str, spec: TriggerSpec
) -> Trigger:
    given = [
        f for f in (spec.metric, spec.streak_length, spec.api, spec.composite_keys) if f is not None
    ]
    if len(given) != 1:
        raise BadUserInput("trigger must set exactly one of metric, streak, api, composite")
    if spec.metric is not None:
        return await _metric_trigger(store, tenant_id, spec.metric)
    if spec.streak_length is not None:
        if spec.streak_length <= 0:
            raise BadUserInput("streak length must be greater than 0", field="trigger.streak")
        return StreakTrigger(length=spec.streak_length)
    if spec.api is not None:
        if not spec.api:
            raise BadUserInput("trigger.api must be true", field="trigger.api")
        return ApiTrigger()
    assert spec.composite_keys is not None
    return await _composite_trigger(store, tenant_id, own_key, spec.composite_keys)


async def _metric_trigger(
    store: ConfigStore, tenant_id: int, spec: MetricTriggerSpec
) -> MetricTrigger:
    check_positive(spec.value, "trigger.metric.value")
    metric = await store.metric_by_key(tenant_id, spec.metric_key)
    if metric is None:
        raise BadUserInput(f"unknown metric {spec.metric_key!r}", field="trigger.metric.metricKey")
    attribute = None
    if spec.event_attribute is not None:
        (attribute,) = check_attributes([spec.event_attribute], "trigger.metric.eventAttribute")
    return MetricTrigger(metric_id=metric.id, threshold=spec.value, event_attribute=attribute)


async def _composite_trigger(
    store: ConfigStore, tenant_id: int, own_key: str, keys: tuple[str, ...]
) -> CompositeTrigger:
    """Prerequisites are named once, at creation, and only existing achievements can be named,
    so no achievement ever depends on a later one: refusing itself is all it takes to keep
    the prerequisite graph free of cycles."""
    if not keys:
        raise BadUserInput("a composite needs at least one prerequisite", field="trigger.composite")
    if own_key in keys:
        raise BadUserInput("a composite cannot require itself", field="trigger.composite")
    well_formed = [k for k in keys if KEY_PATTERN.fullmatch(k)]
    by_key = {a.key: a for a in await store.achievements_by_keys(tenant_id, well_formed)}
    unknown = sorted(set(keys) - by_key.keys())
    if unknown:
        raise BadUserInput(
            f"unknown prerequisites: {', '.join(unknown)}", field="trigger.composite"
        )
    ids = tuple(dict.fromkeys(by_key[k].id for k in keys))
    if _depth(await store.prerequisite_graph(tenant_id), ids) >= MAX_COMPOSITE_DEPTH:
        raise BadUserInput(
            f"composites may nest at most {MAX_COMPOSITE_DEPTH} levels deep",
            field="trigger.composite",
        )
    return CompositeTrigger(prerequisite_ids=ids)


def _depth(graph: dict[int, tuple[int, ...]], roots: tuple[int, ...]) -> int:
    """How many composites deep the deepest of `roots` goes (0 for a plain achievement), walked
    with an explicit stack: the graph is acyclic (see above), so each node is finished once."""
    depth: dict[int, int] = {}
    stack = list(roots)
    while stack:
        node = stack[-1]
        pending = [p for p in graph.get(node, ()) if p not in depth]
        if pending:
            stack += pending
            continue
        stack.pop()
        depth[node] = 1 + max((depth[p] for p in graph.get(node, ())), default=-1)
    return max((depth[r] for r in roots), default=0)


async def _existing(store: ConfigStore, tenant_id: int, key: str) -> Achievement:
    achievement = await store.achievement_by_key(tenant_id, key)
    if achievement is None:
        raise NotFound(f"no achievement with key {key!r}", field="key")
    return achievement


def _requalifies(before: Achievement, after: Achievement) -> bool:
    """An ACTIVE achievement whose bar moved must backdate those who now meet it."""
    return after.status is AchievementStatus.ACTIVE and (
        before.trigger != after.trigger or before.user_attributes != after.user_attributes
    )


async def update_achievement(
    store: ConfigStore, tenant_id: int, key: str, changes: AchievementChanges
) -> Achievement:
    current = await _existing(store, tenant_id, key)
    if current.status is AchievementStatus.ARCHIVED:
        raise BadUserInput("an archived achievement cannot change", field="key")
    if changes.name is not None:
        check_name(changes.name)
    check_text(changes.description, "description")
    check_badge_url(changes.badge_url)
    trigger = _changed_trigger(current.trigger, changes)
    updated = dataclasses.replace(
        current,
        name=changes.name if changes.name is not None else current.name,
        description=changes.description if changes.description is not None else current.description,
        badge_url=changes.badge_url if changes.badge_url is not None else current.badge_url,
        hidden=changes.hidden if changes.hidden is not None else current.hidden,
        user_attributes=check_attributes(changes.user_attributes, "userAttributes")
        if changes.user_attributes is not None
        else current.user_attributes,
        trigger=trigger,
    )
    return await store.save_achievement(tenant_id, updated, backdate=_requalifies(current, updated))


def _changed_trigger(trigger: Trigger, changes: AchievementChanges) -> Trigger:
    if changes.metric_value is not None:
        if not isinstance(trigger, MetricTrigger):
            raise BadUserInput(
                "metricValue applies to metric achievements only", field="metricValue"
            )
        check_positive(changes.metric_value, "metricValue")
        return dataclasses.replace(trigger, threshold=changes.metric_value)
    if changes.streak_length is not None:
        if not isinstance(trigger, StreakTrigger):
            raise BadUserInput(
                "streakLength applies to streak achievements only", field="streakLength"
            )
        if changes.streak_length <= 0:
            raise BadUserInput("streakLength must be greater than 0", field="streakLength")
        return StreakTrigger(length=changes.streak_length)
    return trigger


async def set_achievement_status(
    store: ConfigStore, tenant_id: int, key: str, status: AchievementStatus
) -> Achievement:
    """INACTIVE, ACTIVE and LOCKED move freely; anything may be ARCHIVED; ARCHIVED is final."""
    current = await _existing(store, tenant_id, key)
    if current.status is AchievementStatus.ARCHIVED and status is not AchievementStatus.ARCHIVED:
        raise BadUserInput("an archived achievement cannot change status", field="status")
    if current.status is status:
        return current
    updated = dataclasses.replace(current, status=status)
    return await store.save_achievement(
        tenant_id, updated, backdate=status is AchievementStatus.ACTIVE
    )


MAX_FREEZES = 100
MAX_AUTO_EARN_INTERVAL = 365


async def configure_streak(
    store: ConfigStore,
    tenant_id: int,
    *,
    frequency: StreakFrequency,
    metric_keys: Sequence[str],
    freezes: FreezeRules | None = None,
) -> StreakSettings:
    """Replaces the whole streak configuration: without `freezes`, freezes are off."""
    if freezes is not None:
        check_freeze_rules(freezes)
    if not metric_keys:
        raise BadUserInput("a streak needs at least one metric", field="metricKeys")
    known = {m.key: m.id for m in await store.metrics(tenant_id)}
    unknown = sorted(set(metric_keys) - known.keys())
    if unknown:
        raise BadUserInput(f"unknown metrics: {', '.join(unknown)}", field="metricKeys")
    settings = StreakSettings(
        frequency=frequency,
        metric_ids=tuple(dict.fromkeys(known[k] for k in metric_keys)),
        freezes=freezes,
    )
    return await store.configure_streak(tenant_id, settings)


def check_freeze_rules(rules: FreezeRules) -> None:
    if not 1 <= rules.max_count <= MAX_FREEZES:
        raise BadUserInput(
            f"maxCount must be between 1 and {MAX_FREEZES}", field="freezes.maxCount"
        )
    if not 0 <= rules.start_count <= rules.max_count:
        raise BadUserInput("startCount must be between 0 and maxCount", field="freezes.startCount")
    if (rules.auto_interval is None) != (rules.auto_amount is None):
        raise BadUserInput(
            "set autoEarnInterval and autoEarnAmount together or neither",
            field="freezes.autoEarnInterval",
        )
    if rules.auto_interval is not None and not 1 <= rules.auto_interval <= MAX_AUTO_EARN_INTERVAL:
        raise BadUserInput(
            f"autoEarnInterval must be between 1 and {MAX_AUTO_EARN_INTERVAL} days",
            field="freezes.autoEarnInterval",
        )
    if rules.auto_amount is not None and not 1 <= rules.auto_amount <= rules.max_count:
        raise BadUserInput(
            "autoEarnAmount must be between 1 and maxCount", field="freezes.autoEarnAmount"
        )
