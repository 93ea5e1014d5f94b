"""What an event or a completion awarded, in Trophy's wire format: `points` maps each points
system's key to its `MetricEventPointsResponse` (the system, `total`, `added`, `awards`, and
`level` only when the operation changed it), with triggers and boosts as Trophy spells them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.api.trophy.endpoint import Call
from app.domain.points import (
    AchievementRule,
    MetricRule,
    PointsAward,
    PointsBoost,
    PointsChange,
    PointsLevel,
    PointsProgram,
    PointsTrigger,
    StreakRule,
    TimeRule,
)
from app.domain.points_rules import boost_status

Json = dict[str, object]


async def points_map(call: Call, changes: Iterable[PointsChange]) -> Json:
    """Names of the metrics and achievements the triggers follow are read only when one does."""
    changes = list(changes)
    if not changes:
        return {}
    program = await call.services.definitions.points_program(call.tenant_id)
    rules = [
        t.rule
        for c in changes
        for a in c.awards
        if (t := program.trigger(a.trigger_id)) is not None
    ]
    metrics: dict[int, str] = {}
    if any(isinstance(r, MetricRule) for r in rules):
        metrics = {m.id: m.name for m in await call.loaders.tenant_metrics.load(call.tenant_id)}
    ids = sorted({r.achievement_id for r in rules if isinstance(r, AchievementRule)})
    found = await call.loaders.achievement_by_id.load_many(ids)
    names = Names(metrics, {a.id: a.name for a in found if a is not None})
    now = call.services.clock()
    return {
        program.system(c.system_id).key: _change(c, program, names, now)
        for c in changes
        if program.known_system(c.system_id)
    }


@dataclass(frozen=True, slots=True)
class Names:
    """Display names of the metrics and achievements that triggers name, by id."""

    metrics: Mapping[int, str]
    achievements: Mapping[int, str]


def _change(change: PointsChange, program: PointsProgram, names: Names, now: datetime) -> Json:
    system = program.system(change.system_id)
    level = program.level(change.level_id)
    body: Json = {
        "id": str(system.id),
        "key": system.key,
        "name": system.name,
        "description": system.description,
        "badgeUrl": system.badge_url,
        "maxPoints": system.max_points,
        "total": change.total,
        "added": change.added,
        "awards": [_award(a, program, names, now) for a in change.awards],
    }
    if change.level_changed and level is not None:
        body["level"] = _level(level)
    return body


def _award(award: PointsAward, program: PointsProgram, names: Names, now: datetime) -> Json:
    trigger = program.trigger(award.trigger_id)
    assert trigger is not None, "triggers are archived, never deleted"
    return {
        "id": str(award.id),
        "awarded": award.awarded,
        "date": _instant(award.awarded_at),
        "total": award.total,
        "trigger": _trigger(trigger, names),
        "boosts": [_boost(b, now) for b in program.applied(award.boost_ids)],
    }


def _trigger(trigger: PointsTrigger, names: Names) -> Json:
    rule = trigger.rule
    body: Json = {
        "id": str(trigger.id),
        "type": trigger.type.value.lower(),
        "points": trigger.points,
        "status": trigger.status.value.lower(),
        "userAttributes": [{"key": a.key, "value": a.value} for a in trigger.user_attributes],
        "created": _instant(trigger.created_at),
        "updated": _instant(trigger.updated_at),
    }
    if isinstance(rule, MetricRule):
        body |= {
            "metricId": str(rule.metric_id),
            "metricName": names.metrics.get(rule.metric_id),
            "metricThreshold": rule.threshold,
        }
        if rule.event_attribute is not None:
            attribute = {"key": rule.event_attribute.key, "value": rule.event_attribute.value}
            body["eventAttributes"] = [attribute]
    elif isinstance(rule, AchievementRule):
        body |= {
            "achievementId": str(rule.achievement_id),
            "achievementName": names.achievements.get(rule.achievement_id),
        }
    elif isinstance(rule, StreakRule):
        body["streakLengthThreshold"] = rule.length
    elif isinstance(rule, TimeRule):
        body |= {"timeUnit": rule.unit.value.lower(), "timeInterval": rule.interval}
    return body


def _boost(boost: PointsBoost, now: datetime) -> Json:
    """Status by the widest window (a USER boost's own zone is not at hand here)."""
    return {
        "id": str(boost.id),
        "name": boost.name,
        "status": boost_status(boost, None, now).value.lower(),
        "start": boost.start.isoformat(),
        "end": boost.end.isoformat() if boost.end else None,
        "multiplier": float(boost.multiplier),
        "rounding": boost.rounding.value.lower(),
        "userId": boost.user_id,
    }


def _level(level: PointsLevel) -> Json:
    return {
        "id": str(level.id),
        "key": level.key,
        "name": level.name,
        "description": level.description or "",
        "badgeUrl": level.badge_url,
        "points": level.points,
    }


def _instant(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None
