"""Real-time unlocks (`achievementUnlocked`), fed by the outbox relay through the pub/sub bus."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from app.api import permissions
from app.api.achievements.types import UserAchievement
from app.api.context import Info
from app.api.users.types import User


@strawberry.type
class AchievementUnlocked:
    completion_id: strawberry.ID
    user: User
    achievement: UserAchievement


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Unlocks as they are committed. A user token sees only its own user; a key sees userId's, or every user's when userId is null."
    )
    async def achievement_unlocked(
        self, info: Info, user_id: str | None = None
    ) -> AsyncGenerator[AchievementUnlocked, None]:
        permissions.any_caller(info)
        raise NotImplementedError("subscriptions arrive with the outbox relay")
        yield  # pragma: no cover
