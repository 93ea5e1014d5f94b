"""Laurel's values in Trophy's wire format: camelCase JSON with every field its SDK's models
require, and Trophy's enum spellings.

Ids are Laurel's, as strings. Lines of a user's achievements also carry `progress` (current,
target, percent), which Trophy leaves its clients to derive; its SDK keeps unknown fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from app.domain.attributes import Attribute
from app.domain.model import (
    Achievement,
    CompositeTrigger,
    Metric,
    MetricTrigger,
    StreakTrigger,
    Trigger,
    TriggerKind,
    User,
)
from app.domain.outcomes import EventOutcome
from app.domain.progress import Progress, rarity
from app.domain.queries import UserAchievementView
from app.domain.streak_ledger import FreezeRules, HistoryPeriod
from app.domain.streaks import StreakView, last_day_to_extend

Json = dict[str, Any]

TRIGGER_NAMES = {
    TriggerKind.METRIC: "metric",
    TriggerKind.STREAK: "streak",
    TriggerKind.API: "api",
    TriggerKind.COMPOSITE: "achievement",
}
# What an event reports for a tenant without a streak: Trophy always has one, its SDK requires it.
NO_STREAK: Json = {
    "length": 0,
    "frequency": "daily",
    "started": None,
    "periodStart": None,
    "periodEnd": None,
    "expires": None,
    "extended": False,
}


def achievement(found: Achievement, metric_names: Mapping[int, str]) -> Json:
    body: Json = {
        "id": str(found.id),
        "key": found.key,
        "name": found.name,
        "trigger": TRIGGER_NAMES[found.kind],
        "description": found.description,
        "badgeUrl": found.badge_url,
        "userAttributes": pairs(found.user_attributes),
    }
    body.update(_trigger_fields(found.trigger, metric_names))
    return body


def user_achievement(view: UserAchievementView, metric_names: Mapping[int, str]) -> Json:
    return {
        **achievement(view.achievement, metric_names),
        "achievedAt": _instant(view.achieved_at),
        "progress": _progress(view.progress),
    }


def with_stats(body: Json, found: Achievement, users: int) -> Json:
    """`completions` and `rarity` (a percentage of the tenant's users)."""
    return {**body, "completions": found.completions, "rarity": rarity(found.completions, users)}


def user(found: User) -> Json:
    return {
        "id": found.id,
        "email": found.email,
        "name": found.name,
        "tz": found.tz,
        "signUpDate": None,
        "deviceTokens": [],
        "subscribeToEmails": False,
        "attributes": {a.key: a.value for a in found.attributes},
        "control": False,
        "created": _instant(found.created_at),
        "updated": _instant(found.created_at),
    }


def metric(
    found: Metric,
    total: float,
    views: Iterable[UserAchievementView],
    metric_names: Mapping[int, str],
) -> Json:
    return {
        "id": str(found.id),
        "key": found.key,
        "name": found.name,
        "current": total,
        "achievements": [user_achievement(v, metric_names) for v in views],
    }


def event(
    outcome: EventOutcome,
    found: Metric,
    unlocked: Iterable[UserAchievementView],
    metric_names: Mapping[int, str],
    idempotency_key: str | None,
    points: Json,
) -> Json:
    """`points`: what the event awarded, by points system key (`trophy/points.py`)."""
    streak = NO_STREAK
    if outcome.streak is not None:
        streak = {**streak_fields(outcome.streak), "extended": outcome.streak_extended}
    body: Json = {
        "eventId": str(outcome.event_id),
        "metricId": str(found.id),
        "total": outcome.total,
        "achievements": [user_achievement(v, metric_names) for v in unlocked],
        "currentStreak": streak,
        "points": points,
        "leaderboards": {},
    }
    if idempotency_key is not None:
        body["idempotencyKey"] = idempotency_key
        body["idempotentReplayed"] = outcome.replayed
    return body


def completion(
    completion_id: int, view: UserAchievementView, metric_names: Mapping[int, str], points: Json
) -> Json:
    return {
        "completionId": str(completion_id),
        "achievement": user_achievement(view, metric_names),
        "points": points,
    }


def streak(view: StreakView, history: Iterable[HistoryPeriod], rules: FreezeRules | None) -> Json:
    """`history` oldest first, as Trophy lists it."""
    body = {
        **streak_fields(view),
        "extended": None,
        "streakHistory": [
            {
                "periodStart": p.start.isoformat(),
                "periodEnd": p.end.isoformat(),
                "length": p.length,
                "usedFreeze": p.used_freeze,
                "usedPause": False,
            }
            for p in history
        ],
        "pauses": [],
    }
    if rules is not None:
        body["maxFreezes"] = rules.max_count
        if rules.auto_interval is not None:
            body["freezeAutoEarnInterval"] = rules.auto_interval
            body["freezeAutoEarnAmount"] = rules.auto_amount
    return body


def pairs(attributes: Iterable[Attribute]) -> list[Json]:
    return [{"key": a.key, "value": a.value} for a in attributes]


def _trigger_fields(trigger: Trigger, metric_names: Mapping[int, str]) -> Json:
    match trigger:
        case MetricTrigger(metric_id=metric_id, threshold=threshold, event_attribute=attribute):
            fields: Json = {
                "metricId": str(metric_id),
                "metricValue": threshold,
                "metricName": metric_names.get(metric_id),
            }
            if attribute is not None:
                fields["eventAttributes"] = pairs([attribute])
                fields["eventAttribute"] = pairs([attribute])[0]
            return fields
        case StreakTrigger(length=length):
            return {"streakLength": length}
        case CompositeTrigger(prerequisite_ids=ids):
            return {"achievementIds": [str(i) for i in ids]}
        case _:
            return {}


def streak_fields(view: StreakView) -> Json:
    """Trophy's BaseStreakResponse."""
    return {
        "length": view.length,
        "frequency": view.frequency.value.lower(),
        "started": _day(view.started),
        "periodStart": view.period_start.isoformat(),
        "periodEnd": view.period_end.isoformat(),
        "expires": _day(last_day_to_extend(view)),
        **({} if view.freezes is None else {"freezes": view.freezes}),
    }


def _progress(progress: Progress) -> Json:
    return {"current": progress.current, "target": progress.target, "percent": progress.percent}


def _instant(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None
