"""Completing achievements: the one path by which events, completeAchievement, attribute changes
and backdating award them.

A completion exists when the storage's insert returned its row (a unique key per user and
achievement), so it is made at most once whatever the concurrency, and only the operation whose
insert made it reports and announces it. Composites complete in the same transaction as their
last prerequisite, level by level. Silent work (backdating) passes no announcer: its completions
are stored as backdated and announced to nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.domain.announcements import AchievementCompleted
from app.domain.model import Achievement, User
from app.domain.outcomes import Unlock
from app.domain.ports import Announcements, Completion, CompletionWrites
from app.domain.triggers import completed_progress
from app.domain.visibility import attainable


@dataclass(frozen=True, slots=True)
class Grant:
    """A user who may complete an achievement, if it is attainable for them."""

    user: User
    achievement: Achievement


async def complete(
    store: CompletionWrites,
    tenant_id: int,
    grants: Iterable[Grant],
    now: datetime,
    *,
    announce_to: Announcements | None,
) -> list[Unlock]:
    """Complete what is attainable among `grants`, then the composites that follow; returns the
    new completions in the order they were made (by user, then achievement id, level by level)."""
    users: dict[int, User] = {}
    unlocks: list[Unlock] = []
    pending = list(grants)
    while pending:
        eligible = {
            (g.user.pk, g.achievement.id): g
            for g in pending
            if attainable(g.achievement, g.user.attributes)
        }
        if not eligible:
            break
        users.update((g.user.pk, g.user) for g in eligible.values())
        new = await store.insert_completions(
            tenant_id, sorted(eligible), now, backdated=announce_to is None
        )
        made = [(c, eligible[(c.user_pk, c.achievement_id)].achievement) for c in new]
        unlocks += [_unlock(c, a) for c, a in made]
        if announce_to is not None and made:
            await announce_to.announce(
                tenant_id, [_announcement(c, users[c.user_pk]) for c, _ in made], now
            )
        if not new:
            break
        found = await store.composites_completed_by(
            tenant_id, [(c.user_pk, c.achievement_id) for c in new]
        )
        pending = [Grant(users[user_pk], composite) for user_pk, composite in found]
    return unlocks


def _unlock(completion: Completion, achievement: Achievement) -> Unlock:
    return Unlock(
        user_pk=completion.user_pk,
        completion_id=completion.id,
        achievement=achievement,
        completed_at=completion.completed_at,
        progress=completed_progress(achievement.trigger),
    )


def _announcement(completion: Completion, user: User) -> AchievementCompleted:
    return AchievementCompleted(
        completion_id=completion.id,
        user_id=user.id,
        achievement_id=completion.achievement_id,
        completed_at=completion.completed_at,
    )
