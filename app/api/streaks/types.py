from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.api.common import StreakFrequency
from app.api.context import Info
from app.api.metrics.types import Metric
from app.domain import queries
from app.domain.errors import BadUserInput
from app.domain.streaks import StreakView

MAX_HISTORY = 100


@strawberry.type
class Streak:
    length: int
    frequency: StreakFrequency
    started: date | None = strawberry.field(
        description="First day of the current run of periods; null when length is 0."
    )
    period_start: date
    period_end: date
    expires: datetime | None = strawberry.field(
        description="When the streak is lost if no qualifying event comes first; "
        "null when length is 0."
    )
    user_id: strawberry.Private[str]

    @strawberry.field(description="Freezes the user holds now; null while freezes are off.")
    def freezes(self) -> int | None:
        return None

    @strawberry.field(description="The current period first, then earlier ones.")
    async def history(self, info: Info, periods: int = 7) -> list[StreakPeriod]:
        if not 1 <= periods <= MAX_HISTORY:
            raise BadUserInput(f"periods must be between 1 and {MAX_HISTORY}", field="periods")
        standing = await info.context.loaders.standing_by_user_id.load(self.user_id)
        if standing is None:
            return []
        user = standing.user
        days = await info.context.services.reads.streak_days(user.pk)
        now = info.context.services.clock()
        found = queries.streak_history(days, self.frequency, now, user.tz, periods)
        return [
            StreakPeriod(period_start=p.start, period_end=p.end, length=p.length, used_freeze=False)
            for p in reversed(found)
        ]

    @classmethod
    def of(cls, view: StreakView, user_id: str) -> Streak:
        return cls(
            length=view.length,
            frequency=view.frequency,
            started=view.started,
            period_start=view.period_start,
            period_end=view.period_end,
            expires=view.expires,
            user_id=user_id,
        )


@strawberry.type(description="One period of a user's streak history.")
class StreakPeriod:
    period_start: date = strawberry.field(description="First day of the period.")
    period_end: date = strawberry.field(description="Last day of the period.")
    length: int = strawberry.field(
        description="Streak length at the end of the period (now, for the current one); 0 when "
        "there was none."
    )
    used_freeze: bool = strawberry.field(description="True when a freeze covered this period.")


@strawberry.type
class StreakSettings:
    frequency: StreakFrequency
    metrics: list[Metric]


@strawberry.input
class ConfigureStreakInput:
    frequency: StreakFrequency
    metric_keys: list[str] = strawberry.field(
        description="Events with a positive value on any of these metrics extend the streak."
    )
