"""What an endpoint can subscribe to, and the dotted names the bodies carry."""

from __future__ import annotations

import enum


class WebhookEventType(enum.Enum):
    """Member names are the GraphQL enum's; values are the wire names (`type` in a body): the
    name in lower case with its first underscore turned into a dot."""

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
    LEADERBOARD_STARTED = "leaderboard.started"
    LEADERBOARD_CHANGED = "leaderboard.changed"
    LEADERBOARD_FINISHED = "leaderboard.finished"
    LEADERBOARD_RANK_CHANGED = "leaderboard.rank_changed"
    USER_CREATED = "user.created"
    WEBHOOK_TEST = "webhook.test"
