"""Webhook bodies: `{"id", "type", "timestamp", "data"}`, minified UTF-8 JSON.

Data objects use the GraphQL field names, every key present (null where empty), enums as their
GraphQL names, instants in UTC with milliseconds and `Z`, days as `YYYY-MM-DD`. A body is
rendered once, when its delivery is queued, and stored: retries and redeliveries send the same
bytes, so what a receiver verified once stays what the log shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from app.domain.announcements import (
    AchievementCompleted,
    Announcement,
    BoostFinished,
    BoostStarted,
    FreezesConsumed,
    FreezesEarned,
    PointsChanged,
    PointsLevelChanged,
    StreakGrew,
    StreakLost,
    UserCreated,
)
from app.domain.leaderboard_news import (
    LeaderboardFinished,
    LeaderboardMoved,
    LeaderboardRankChanged,
    LeaderboardStarted,
    LeaderboardTopChanged,
    RunDates,
)
from app.domain.leaderboard_views import Ranking
from app.domain.leaderboards import Leaderboard
from app.domain.model import (
    Achievement,
    CompositeTrigger,
    MetricTrigger,
    StreakTrigger,
    User,
)
from app.domain.points import PointsAward, PointsBoost, PointsLevel, PointsProgram, PointsSystem
from app.domain.streaks import StreakView
from app.domain.webhooks.events import WebhookEventType

Json = dict[str, Any]
TEST_MESSAGE = "A test event from Laurel: this endpoint receives and verifies deliveries."


@dataclass(frozen=True, slots=True)
class Subjects:
    """What the events of a batch refer to, read once for the batch."""

    users: Mapping[str, User] = field(default_factory=dict)
    achievements: Mapping[int, Achievement] = field(default_factory=dict)
    metric_keys: Mapping[int, str] = field(default_factory=dict)
    metric_names: Mapping[int, str] = field(default_factory=dict)
    achievement_keys: Mapping[int, str] = field(default_factory=dict)
    points: PointsProgram = field(default_factory=PointsProgram)
    leaderboards: Mapping[int, Leaderboard] = field(default_factory=dict)


class Render(Protocol):
    """A body format: the body of `event` for an endpoint, or None when the format has no
    body for that event (or what it names is gone)."""

    def __call__(
        self, message_id: str, event: Announcement, at: datetime, subjects: Subjects
    ) -> str | None: ...


def standard(message_id: str, event: Announcement, at: datetime, subjects: Subjects) -> str | None:
    """The STANDARD format: `{"id", "type", "timestamp", "data"}`."""
    data = data_of(event, subjects, at)
    kind = event_type(event)
    return None if data is None or kind is None else body(message_id, kind, at, data)


def event_type(event: Announcement) -> WebhookEventType | None:
    """None for an internal event, which no endpoint receives."""
    if isinstance(event, LeaderboardMoved):
        return None
    return WebhookEventType(event.type.value)


def body(message_id: str, kind: WebhookEventType, at: datetime, data: Json) -> str:
    return minified({"id": message_id, "type": kind.value, "timestamp": instant(at), "data": data})


def minified(document: Json) -> str:
    """How every body format is encoded: UTF-8 as it is (no \\u escapes), no spaces."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def data_of(event: Announcement, subjects: Subjects, at: datetime) -> Json | None:
    """None when what the event names is gone (a user or achievement deleted since); `at` is
    when it happened, the moment a board's status is read at."""
    match event:
        case AchievementCompleted():
            user = subjects.users.get(event.user_id)
            found = subjects.achievements.get(event.achievement_id)
            if user is None or found is None:
                return None
            return {
                "completionId": str(event.completion_id),
                "user": user_object(user),
                "achievement": achievement_object(found, subjects),
                "achievedAt": instant(event.completed_at),
            }
        case UserCreated():
            user = subjects.users.get(event.user_id)
            return None if user is None else {"user": user_object(user)}
        case StreakGrew():
            return _about_user(event.user_id, subjects, {"streak": streak_object(event.streak)})
        case StreakLost():
            data = {"length": event.length, "lostAt": instant(event.lost_at)}
            return _about_user(event.user_id, subjects, data)
        case FreezesConsumed():
            data = {
                "consumed": event.consumed,
                "freezes": event.streak.freezes,
                "periodStart": day(event.period_start),
                "periodEnd": day(event.period_end),
                "streak": streak_object(event.streak),
            }
            return _about_user(event.user_id, subjects, data)
        case FreezesEarned():
            data = {"earned": event.earned, "freezes": event.freezes, "source": event.source.value}
            return _about_user(event.user_id, subjects, data)
        case PointsChanged():
            change = event.change
            system = subjects.points.known_system(change.system_id)
            if system is None:
                return None
            data = {
                "system": system_object(system),
                "added": change.added,
                "total": change.total,
                "awards": [award_object(a, subjects.points) for a in change.awards],
            }
            return _about_user(event.user_id, subjects, data)
        case PointsLevelChanged():
            system = subjects.points.known_system(event.system_id)
            if system is None:
                return None
            data = {
                "system": system_object(system),
                "total": event.total,
                "previousLevel": _level_object(subjects.points, event.previous_level_id),
                "newLevel": _level_object(subjects.points, event.level_id),
            }
            return _about_user(event.user_id, subjects, data)
        case BoostStarted() | BoostFinished():
            status = "ACTIVE" if isinstance(event, BoostStarted) else "FINISHED"
            boost = subjects.points.boost(event.boost_id)
            if boost is None:
                return None
            return {"boost": boost_object(boost, subjects.points, status)}
        case LeaderboardRankChanged():
            data = {
                "rank": event.rank,
                "previousRank": event.previous_rank,
                "value": event.value,
                "previousValue": event.previous_value,
            }
            about = _about_group(event.board_id, event.run, event.group, subjects, at, data)
            return None if about is None else _about_user(event.user_id, subjects, about)
        case LeaderboardStarted():
            return _about_board(event.board_id, event.run, subjects, at)
        case LeaderboardFinished():
            data = {
                "participants": event.participants,
                "rankings": [ranking_object(r) for r in event.rankings],
            }
            return _about_group(event.board_id, event.run, event.group, subjects, at, data)
        case LeaderboardTopChanged():
            data = {"rankings": [ranking_object(r) for r in event.rankings]}
            return _about_group(event.board_id, event.run, event.group, subjects, at, data)
        case LeaderboardMoved():
            return None


def _about_board(board_id: int, run: RunDates, subjects: Subjects, at: datetime) -> Json | None:
    """`{"leaderboard": ..., "run": ...}`, or None when the board is gone."""
    board = subjects.leaderboards.get(board_id)
    if board is None:
        return None
    return {
        "leaderboard": leaderboard_object(board, subjects, at),
        "run": {"start": day(run.start), "end": day(run.end)},
    }


def _about_group(
    board_id: int, run: RunDates, group: str, subjects: Subjects, at: datetime, data: Json
) -> Json | None:
    """`{"leaderboard", "run", "breakdownValue", **data}`, or None when the board is gone."""
    about = _about_board(board_id, run, subjects, at)
    if about is None:
        return None
    board = subjects.leaderboards[board_id]
    return about | {"breakdownValue": board.breakdown_value(group), **data}


def leaderboard_object(board: Leaderboard, subjects: Subjects, at: datetime) -> Json:
    repeat = board.calendar.repeat
    system = subjects.points.known_system(board.system_id) if board.system_id else None
    return {
        "id": str(board.id),
        "key": board.key,
        "name": board.name,
        "description": board.description,
        "rankBy": board.rank_by.value,
        "metricKey": subjects.metric_keys.get(board.metric_id) if board.metric_id else None,
        "pointsSystemKey": system.key if system else None,
        "runUnit": repeat.unit.value if repeat else None,
        "runInterval": repeat.interval if repeat else None,
        "timeZone": board.calendar.time_zone,
        "breakdownAttribute": board.breakdown_attribute,
        "tiePolicy": board.tie_policy.value,
        "status": board.status(at).value,
    }


def ranking_object(ranking: Ranking) -> Json:
    return {
        "rank": ranking.rank,
        "value": ranking.value,
        "reachedAt": instant(ranking.reached_at),
        "user": {"id": ranking.user_id, "name": ranking.name},
    }


def _about_user(user_id: str, subjects: Subjects, data: Json) -> Json | None:
    """`{"user": ..., **data}`, or None when the user is gone."""
    user = subjects.users.get(user_id)
    return None if user is None else {"user": user_object(user), **data}


def system_object(system: PointsSystem) -> Json:
    return {
        "id": str(system.id),
        "key": system.key,
        "name": system.name,
        "description": system.description,
        "badgeUrl": system.badge_url,
        "maxPoints": system.max_points,
    }


def _level_object(program: PointsProgram, level_id: int | None) -> Json | None:
    level = program.level(level_id)
    return None if level is None else level_object(level)


def level_object(level: PointsLevel) -> Json:
    return {
        "id": str(level.id),
        "key": level.key,
        "name": level.name,
        "description": level.description,
        "badgeUrl": level.badge_url,
        "points": level.points,
    }


def award_object(award: PointsAward, program: PointsProgram) -> Json:
    """The trigger and boosts as they are now; a trigger is never deleted, only archived."""
    trigger = program.trigger(award.trigger_id)
    boosts = program.applied(award.boost_ids)
    return {
        "id": str(award.id),
        "awarded": award.awarded,
        "total": award.total,
        "awardedAt": instant(award.awarded_at),
        "multiplier": float(award.multiplier),
        "trigger": None
        if trigger is None
        else {
            "id": str(trigger.id),
            "key": trigger.key,
            "type": trigger.type.value,
            "points": trigger.points,
        },
        "boosts": [
            {"id": str(b.id), "key": b.key, "name": b.name, "multiplier": float(b.multiplier)}
            for b in boosts
        ],
    }


def boost_object(boost: PointsBoost, program: PointsProgram, status: str) -> Json:
    """`status` is the one the event announces: what the boost became."""
    return {
        "id": str(boost.id),
        "key": boost.key,
        "name": boost.name,
        "pointsSystemKey": program.system(boost.system_id).key,
        "multiplier": float(boost.multiplier),
        "start": day(boost.start),
        "end": day(boost.end),
        "rounding": boost.rounding.value,
        "scope": boost.scope.value,
        "userId": boost.user_id,
        "userAttributes": [{"key": a.key, "value": a.value} for a in boost.user_attributes],
        "status": status,
    }


def probe_data(endpoint_id: int) -> Json:
    """The data of a `webhook.test` event."""
    return {"endpointId": str(endpoint_id), "message": TEST_MESSAGE}


def user_object(user: User) -> Json:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "tz": user.tz,
        "attributes": [{"key": a.key, "value": a.value} for a in user.attributes],
        "createdAt": instant(user.created_at),
    }


def achievement_object(found: Achievement, subjects: Subjects) -> Json:
    data: Json = {
        "id": str(found.id),
        "key": found.key,
        "name": found.name,
        "description": found.description,
        "badgeUrl": found.badge_url,
        "status": found.status.value,
        "trigger": found.kind.value,
        "hidden": found.hidden,
    }
    match found.trigger:
        case MetricTrigger(metric_id=metric_id, threshold=threshold, event_attribute=attribute):
            data["metricKey"] = subjects.metric_keys.get(metric_id)
            data["metricValue"] = float(threshold)
            data["eventAttribute"] = (
                None if attribute is None else {"key": attribute.key, "value": attribute.value}
            )
        case StreakTrigger(length=length):
            data["streakLength"] = length
        case CompositeTrigger(prerequisite_ids=ids):
            data["prerequisiteKeys"] = [subjects.achievement_keys.get(i) for i in ids]
    return data


def streak_object(view: StreakView) -> Json:
    return {
        "length": view.length,
        "frequency": view.frequency.value,
        "started": day(view.started),
        "periodStart": day(view.period_start),
        "periodEnd": day(view.period_end),
        "expires": instant(view.expires) if view.expires else None,
        "freezes": view.freezes,
    }


def instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None
