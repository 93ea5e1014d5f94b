from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.api.common import StreakFrequency
from app.api.metrics.types import Metric
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

    @classmethod
    def of(cls, view: StreakView) -> Streak:
        return cls(
            length=view.length,
            frequency=view.frequency,
            started=view.started,
            period_start=view.period_start,
            period_end=view.period_end,
            expires=view.expires,
        )


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
