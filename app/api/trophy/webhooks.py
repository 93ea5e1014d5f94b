"""Webhook bodies in Trophy's format, for endpoints of payload format TROPHY: what Trophy sends
for the event types it has (`{"type", "user", ...}` with the facade's wire objects), so a
receiver written for Trophy keeps working. Laurel's own types (user.created) have none."""

from __future__ import annotations

from datetime import datetime

from app.api.trophy import wire
from app.domain.announcements import (
    ABOUT_NO_USER,
    AchievementCompleted,
    Announcement,
    StreakGrew,
)
from app.domain.queries import UserAchievementView
from app.domain.triggers import completed_progress
from app.domain.webhooks.payloads import Subjects, minified


def body(message_id: str, event: Announcement, at: datetime, subjects: Subjects) -> str | None:
    """A `Render`: Trophy's body carries no id or time (the headers do)."""
    if isinstance(event, ABOUT_NO_USER):
        return None
    user = subjects.users.get(event.user_id)
    if user is None:
        return None
    match event:
        case AchievementCompleted():
            found = subjects.achievements.get(event.achievement_id)
            if found is None:
                return None
            view = UserAchievementView(found, event.completed_at, completed_progress(found.trigger))
            achievement = wire.user_achievement(view, subjects.metric_names)
            document = {
                "type": event.type.value,
                "user": wire.user(user),
                "achievement": achievement,
            }
        case StreakGrew():
            streak = wire.streak_fields(event.streak)
            document = {"type": event.type.value, "user": wire.user(user), "streak": streak}
        case _:
            return None
    return minified(document)
