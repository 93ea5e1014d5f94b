"""The stored first response of an idempotent request, and its replay (SPEC.md section 6)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from app.domain.progress import Progress
from app.domain.streaks import StreakFrequency, StreakView

if TYPE_CHECKING:
    from app.domain.engine import EventOutcome
    from app.domain.ports import Transaction


def dump_outcome(outcome: EventOutcome) -> str:
    streak = outcome.streak
    return json.dumps(
        {
            "eventId": outcome.event_id,
            "metricKey": outcome.metric_key,
            "total": outcome.total,
            "unlocks": [
                {
                    "completionId": u.completion_id,
                    "achievementId": u.achievement.id,
                    "completedAt": u.completed_at.isoformat(),
                    "current": u.progress.current,
                    "target": u.progress.target,
                }
                for u in outcome.unlocks
            ],
            "streak": None
            if streak is None
            else {
                "length": streak.length,
                "frequency": streak.frequency.value,
                "started": streak.started.isoformat() if streak.started else None,
                "periodStart": streak.period_start.isoformat(),
                "periodEnd": streak.period_end.isoformat(),
                "expires": streak.expires.isoformat() if streak.expires else None,
            },
        },
        separators=(",", ":"),
    )


async def load_outcome(tx: Transaction, tenant_id: int, response: str) -> EventOutcome:
    from app.domain.engine import EventOutcome, Unlock

    data = json.loads(response)
    ids = [u["achievementId"] for u in data["unlocks"]]
    achievements = {a.id: a for a in await tx.achievements_by_ids(tenant_id, ids)}
    unlocks = tuple(
        Unlock(
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
        streak=_streak(data["streak"]),
        idempotency_key=None,
        replayed=True,
    )


def _streak(data: dict[str, Any] | None) -> StreakView | None:
    if data is None:
        return None
    return StreakView(
        length=data["length"],
        frequency=StreakFrequency(data["frequency"]),
        started=date.fromisoformat(data["started"]) if data["started"] else None,
        period_start=date.fromisoformat(data["periodStart"]),
        period_end=date.fromisoformat(data["periodEnd"]),
        expires=datetime.fromisoformat(data["expires"]) if data["expires"] else None,
    )
