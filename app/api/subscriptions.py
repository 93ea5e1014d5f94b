"""Real-time unlocks (`achievementUnlocked`), fed by the outbox relay through the pub/sub broker.

A WebSocket context lives as long as its connection, so every message is built with fresh
loaders: nothing read for one message is served stale to the next.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncGenerator

import strawberry

from app.api import permissions
from app.api.achievements.types import UserAchievement, tenant_users
from app.api.context import Info
from app.api.lifetime import counted
from app.api.loaders import Loaders
from app.api.users.types import User
from app.domain import queries
from app.domain.announcements import AchievementCompleted, Published
from app.domain.event_types import EventType
from app.domain.model import Caller
from app.infra.pubsub import Broker

SEEN_LIMIT = 10_000
# The announcements subscriptions serve: only these are put on the broker.
SERVED = frozenset({EventType.ACHIEVEMENT_COMPLETED, EventType.LEADERBOARD_MOVED})


@strawberry.type
class AchievementUnlocked:
    completion_id: strawberry.ID
    user: User
    achievement: UserAchievement


@strawberry.type
class AchievementSubscriptions:
    @strawberry.subscription(
        description=(
            "Unlocks as they are committed. A user token sees only its own user; "
            "a key sees userId's, or every user's when userId is null."
        )
    )
    async def achievement_unlocked(
        self, info: Info, user_id: str | None = None
    ) -> AsyncGenerator[AchievementUnlocked, None]:
        caller = _subscriber(info, user_id)
        wanted = user_id if caller.is_key else caller.user_id
        broker: Broker = info.context.services.broker
        metrics = info.context.services.metrics
        seen: OrderedDict[int, None] = OrderedDict()
        async with broker.subscribe(caller.tenant_id) as subscriber:
            with counted(metrics):
                async for published in subscriber:
                    unlock = published.event
                    if not isinstance(unlock, AchievementCompleted):
                        continue
                    if wanted is not None and unlock.user_id != wanted:
                        continue
                    if not _first_sight(seen, published):
                        continue
                    message = await _message(info, caller, unlock)
                    if message is not None:
                        yield message


def _subscriber(info: Info, user_id: str | None) -> Caller:
    if user_id is None:
        return permissions.any_caller(info)
    return permissions.reader_of_user(info, user_id)


def _first_sight(seen: OrderedDict[int, None], published: Published) -> bool:
    """The relay publishes at least once; a subscriber sees each event once."""
    if published.id in seen:
        return False
    seen[published.id] = None
    if len(seen) > SEEN_LIMIT:
        seen.popitem(last=False)
    return True


async def _message(
    info: Info, caller: Caller, unlock: AchievementCompleted
) -> AchievementUnlocked | None:
    """Read now, with loaders that live for this message only; None if the data is gone."""
    reads = info.context.services.reads
    info.context.loaders = Loaders(reads, caller.tenant_id)
    standings = await reads.standings(caller.tenant_id, [unlock.user_id])
    achievements = await reads.achievements_by_ids(caller.tenant_id, [unlock.achievement_id])
    standing = standings.get(unlock.user_id)
    if standing is None or not achievements:
        return None
    info.context.loaders.prime_standing(standing)
    return AchievementUnlocked(
        completion_id=strawberry.ID(str(unlock.completion_id)),
        user=User(model=standing.user),
        achievement=UserAchievement.of(
            queries.unlocked(achievements[0], caller, unlock.completed_at),
            await tenant_users(info),
        ),
    )
