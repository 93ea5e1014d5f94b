from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from app.api.common import StreakFrequency
from app.api.context import Info
from app.api.metrics.types import Metric
from app.domain import queries
from app.domain.streak_ledger import FreezeRules
from app.domain.streaks import StreakView


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
    freezes: int | None = strawberry.field(
        description="Freezes the user holds now; null when freezes are off."
    )
    user_id: strawberry.Private[str]

    @strawberry.field(description="The current period first, then earlier ones.")
    async def history(
        self, info: Info, periods: Annotated[int, strawberry.argument(description="1 to 100.")] = 7
    ) -> list[StreakPeriod]:
        standing = await info.context.loaders.standing_by_user_id.load(self.user_id)
        settings = await info.context.loaders.streak_settings.load(info.context.caller.tenant_id)
        if standing is None or settings is None:
            return []
        user, reads = standing.user, info.context.services.reads
        days = await reads.streak_days(user.pk, settings.metric_ids)
        grants = await reads.freeze_grants(user.pk)
        now = info.context.services.clock()
        found = queries.streak_history(settings, user, days, grants, now, periods)
        return [
            StreakPeriod(
                period_start=p.start, period_end=p.end, length=p.length, used_freeze=p.used_freeze
            )
            for p in found
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
            freezes=view.freezes,
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


@strawberry.type(description="The tenant's streak freeze rules.")
class StreakFreezeSettings:
    start_count: int = strawberry.field(
        description="Freezes a user holds on creation, 0 to maxCount; users who exist when "
        "freezes are first turned on get them then."
    )
    max_count: int = strawberry.field(
        description="Most freezes a user can hold, 1 to 100; no grant goes above it."
    )
    auto_earn_interval: int | None = strawberry.field(
        description="Days between automatic grants, counted from the user's creation date; "
        "null: none."
    )
    auto_earn_amount: int | None = strawberry.field(
        description="Freezes per automatic grant; null exactly when autoEarnInterval is."
    )

    @classmethod
    def of(cls, rules: FreezeRules) -> StreakFreezeSettings:
        return cls(
            start_count=rules.start_count,
            max_count=rules.max_count,
            auto_earn_interval=rules.auto_interval,
            auto_earn_amount=rules.auto_amount,
        )


@strawberry.type
class StreakSettings:
    frequency: StreakFrequency
    metrics: list[Metric]
    freezes: StreakFreezeSettings | None = strawberry.field(
        description="Null when freezes are off."
    )


@strawberry.input(
    description="Streak freeze rules. Set autoEarnInterval and autoEarnAmount together or neither."
)
class StreakFreezeSettingsInput:
    start_count: int = strawberry.field(default=0, description="0 to maxCount.")
    max_count: int = strawberry.field(description="1 to 100.")
    auto_earn_interval: int | None = strawberry.field(default=None, description="Days, 1 to 365.")
    auto_earn_amount: int | None = strawberry.field(default=None, description="1 to maxCount.")

    def rules(self) -> FreezeRules:
        return FreezeRules(
            start_count=self.start_count,
            max_count=self.max_count,
            auto_interval=self.auto_earn_interval,
            auto_amount=self.auto_earn_amount,
        )


@strawberry.input
class ConfigureStreakInput:
    frequency: StreakFrequency
    metric_keys: list[str] = strawberry.field(
        description="Events with a positive value on any of these metrics extend the streak."
    )
    freezes: StreakFreezeSettingsInput | None = strawberry.field(
        default=None,
        description="Absent or null: freezes off (balances are kept, unused, until freezes are "
        "turned back on).",
    )
