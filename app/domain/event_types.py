"""The names of domain events, as the outbox stores them and webhooks carry them.

Most are webhook types too; `leaderboard.moved` is internal: it tells live standings that a
board's top rows may have changed, and webhooks learn of it only through `leaderboard.changed`,
which is announced at most once an interval per group.
"""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    ACHIEVEMENT_COMPLETED = "achievement.completed"
    STREAK_STARTED = "streak.started"
    STREAK_EXTENDED = "streak.extended"
    STREAK_LOST = "streak.lost"
    STREAK_FREEZE_CONSUMED = "streak.freeze_consumed"
    STREAK_FREEZE_EARNED = "streak.freeze_earned"
    POINTS_CHANGED = "points.changed"
    POINTS_LEVEL_CHANGED = "points.level_changed"
    POINTS_BOOST_STARTED = "points.boost_started"
    POINTS_BOOST_FINISHED = "points.boost_finished"
    LEADERBOARD_MOVED = "leaderboard.moved"
    LEADERBOARD_STARTED = "leaderboard.started"
    LEADERBOARD_CHANGED = "leaderboard.changed"
    LEADERBOARD_FINISHED = "leaderboard.finished"
    LEADERBOARD_RANK_CHANGED = "leaderboard.rank_changed"
    USER_CREATED = "user.created"
