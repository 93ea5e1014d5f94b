"""Who sees which achievement, and how: the status and visibility rules.

| status   | completes | `achievements` (catalogue)          | a user's own list      |
|----------|-----------|-------------------------------------|------------------------|
| INACTIVE | no        | ADMIN keys only                     | no                     |
| ACTIVE   | yes       | everyone                            | yes                    |
| LOCKED   | no        | ADMIN keys only                     | only where completed   |
| ARCHIVED | no        | ADMIN keys asking for ARCHIVED only | no                     |

A user token sees what its user would see; a hidden achievement is masked for it until earned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from app.domain.attributes import Attribute, attributes_match
from app.domain.model import Achievement, AchievementStatus, Caller

HIDDEN_NAME = "Hidden achievement"

ADMIN_DEFAULT = frozenset(
    {AchievementStatus.INACTIVE, AchievementStatus.ACTIVE, AchievementStatus.LOCKED}
)


def catalogue_statuses(
    caller: Caller, requested: Collection[AchievementStatus] | None
) -> frozenset[AchievementStatus]:
    """Statuses the `achievements` query may list: ADMIN sees all but ARCHIVED unless asked."""
    if caller.is_admin:
        return ADMIN_DEFAULT if requested is None else frozenset(requested)
    allowed = {AchievementStatus.ACTIVE, AchievementStatus.LOCKED}
    wanted = allowed if requested is None else allowed & set(requested)
    return frozenset(wanted)


def visible_in_catalogue(
    achievement: Achievement,
    caller: Caller,
    statuses: frozenset[AchievementStatus],
    completed: bool,
) -> bool:
    if achievement.status not in statuses:
        return False
    if caller.is_admin:
        return True
    if caller.is_key:
        return achievement.status is AchievementStatus.ACTIVE
    return visible_to_user(achievement, completed)


def visible_to_user(achievement: Achievement, completed: bool) -> bool:
    """A user's own list: ACTIVE ones, and LOCKED ones only where completed."""
    if achievement.status is AchievementStatus.ACTIVE:
        return True
    return achievement.status is AchievementStatus.LOCKED and completed


def attainable(achievement: Achievement, user_attributes: Collection[Attribute]) -> bool:
    """Completable by this user: ACTIVE, and every required attribute matches."""
    return achievement.status is AchievementStatus.ACTIVE and attributes_match(
        achievement.user_attributes, user_attributes
    )


def as_seen_by(achievement: Achievement, caller: Caller, completed: bool) -> Achievement:
    """A user token must not learn a hidden achievement's name, text or badge before earning it."""
    if caller.is_key or not achievement.hidden or completed:
        return achievement
    return dataclasses.replace(achievement, name=HIDDEN_NAME, description=None, badge_url=None)
