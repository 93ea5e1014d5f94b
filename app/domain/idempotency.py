"""Idempotent events: a key names one request for a day; its repeat gets the first answer.

The first response is stored in the event's own transaction, so a replay returns exactly what
the first request returned (same event id, total, unlocks and points awards) and changes
nothing. The key is
bound to the request's fingerprint: the same key with another input is a conflict.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from app.domain.announcements import change_from_data, change_to_data
from app.domain.errors import Conflict
from app.domain.leaderboards import BoardChange
from app.domain.outcomes import EventOutcome, TrackEvent, Unlock
from app.domain.ports import CatalogueReads, IdempotencyClaim
from app.domain.progress import Progress
from app.domain.streaks import StreakView
from app.domain.validation import check_idempotency_key

WINDOW = timedelta(hours=24)


def per_user_and_metric(key: str, metric_key: str, user_id: str) -> str:
    """A key that names one request only for one user and metric, as Trophy scopes its
    `Idempotency-Key` (the same lesson id may key events on two metrics): a digest of the three,
    so the stored key stays short whatever their lengths."""
    check_idempotency_key(key)
    scope = json.dumps([metric_key, user_id, key], separators=(",", ":"))
    return "scoped:" + hashlib.sha256(scope.encode()).hexdigest()


def fingerprint(command: TrackEvent) -> str:
    """Canonical JSON of the resolved input, so a literal and a variable form hash the same."""
    profile = command.user
    canonical = {
        "metricKey": command.metric_key,
        "user": [
            profile.id,
            profile.name,
            profile.email,
            profile.tz,
            None
            if profile.attributes is None
            else sorted((a.key, a.value) for a in profile.attributes),
        ],
        "value": command.value,
        "attributes": sorted((a.key, a.value) for a in command.attributes),
        "occurredAt": command.occurred_at.astimezone(UTC).isoformat()
        if command.occurred_at
        else None,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


async def replay(
    reads: CatalogueReads, tenant_id: int, claim: IdempotencyClaim, request_hash: str
) -> EventOutcome:
    """The first response, or CONFLICT for another input or a first request still running."""
    if claim.request_hash != request_hash:
        raise Conflict(
            "this idempotencyKey was used with a different input", field="idempotencyKey"
        )
    if claim.response is None:
        raise Conflict("a request with this idempotencyKey is still in progress")
    return await load_outcome(reads, tenant_id, claim.response)


def dump_outcome(outcome: EventOutcome) -> str:
    streak = outcome.streak
    return json.dumps(
        {
            "eventId": outcome.event_id,
            "metricKey": outcome.metric_key,
            "total": outcome.total,
            "unlocks": [
                {
                    "userPk": u.user_pk,
                    "completionId": u.completion_id,
                    "achievementId": u.achievement.id,
                    "completedAt": u.completed_at.isoformat(),
                    "current": u.progress.current,
                    "target": u.progress.target,
                }
                for u in outcome.unlocks
            ],
            "streakExtended": outcome.streak_extended,
            "streak": None if streak is None else streak.to_data(),
            "points": [change_to_data(c) for c in outcome.points],
            "leaderboards": [c.to_data() for c in outcome.leaderboards],
        },
        separators=(",", ":"),
    )


async def load_outcome(reads: CatalogueReads, tenant_id: int, response: str) -> EventOutcome:
    """Achievements are read as they are now; the rest is the first response's."""
    data = json.loads(response)
    ids = [u["achievementId"] for u in data["unlocks"]]
    achievements = {a.id: a for a in await reads.achievements_by_ids(tenant_id, ids)}
    unlocks = tuple(
        Unlock(
            user_pk=int(u.get("userPk", 0)),
            completion_id=u["completionId"],
            achievement=achievements[u["achievementId"]],
            completed_at=datetime.fromisoformat(u["completedAt"]),
            progress=Progress(u["current"], u["target"]),
        )
        for u in data["unlocks"]
        if u["achievementId"] in achievements
    )
    return EventOutcome(
        event_id=data["eventId"],
        metric_key=data["metricKey"],
        total=data["total"],
        unlocks=unlocks,
        streak=StreakView.from_data(data["streak"]) if data["streak"] else None,
        streak_extended=bool(data.get("streakExtended", False)),
        idempotency_key=None,
        replayed=True,
        points=tuple(change_from_data(c) for c in data.get("points", ())),
        leaderboards=tuple(BoardChange.from_data(c) for c in data.get("leaderboards", ())),
    )
