from __future__ import annotations

import strawberry

from app.api.achievements.types import UserAchievement, unlocked
from app.api.context import Info
from app.api.leaderboards.types import LeaderboardChange
from app.api.leaderboards.types import changes_of as board_changes_of
from app.api.points.types import PointsChange, changes_of
from app.api.users.types import User
from app.domain.outcomes import IdentifyOutcome


@strawberry.type(description="What identifying a user did.")
class IdentifyPayload:
    outcome: strawberry.Private[IdentifyOutcome]

    @strawberry.field(description="The user after the call.")
    def user(self) -> User:
        return User(model=self.outcome.user)

    @strawberry.field(description="True when this call created the user.")
    def created(self) -> bool:
        return self.outcome.created

    @strawberry.field(
        description="Achievements this call completed (attribute changes), composites included."
    )
    async def achievements(self, info: Info) -> list[UserAchievement]:
        return await unlocked(info, self.outcome.unlocks)

    @strawberry.field(
        description="Points this call awarded, one entry per system (USER_CREATION triggers, "
        "completions)."
    )
    async def points(self, info: Info) -> list[PointsChange]:
        return await changes_of(info, self.outcome.points)

    @strawberry.field(description="Leaderboards where this call changed the user's value.")
    async def leaderboards(self, info: Info) -> list[LeaderboardChange]:
        return await board_changes_of(info, self.outcome.leaderboards)
