from __future__ import annotations

from datetime import date

import strawberry

from app.api.common import AttributeInput, attributes_of
from app.domain import leaderboard_runs as runs
from app.domain import leaderboards as domain
from app.domain.leaderboard_admin import BoardSpec, RankBySpec
from app.domain.points_admin import Changes


@strawberry.input(
    one_of=True, description="What a leaderboard ranks by. Exactly one field must be set."
)
class LeaderboardRankByInput:
    metric_key: strawberry.Maybe[str] = strawberry.field(
        description="Rank by this metric (METRIC)."
    )
    points_system_key: strawberry.Maybe[str] = strawberry.field(
        description="Rank by points in this system (POINTS)."
    )
    streak: strawberry.Maybe[bool] = strawberry.field(
        description="true: rank by the tenant's streak (STREAK; a streak must be configured and "
        "the board perpetual)."
    )

    def to_domain(self) -> RankBySpec:
        return RankBySpec(
            metric_key=self.metric_key.value if self.metric_key else None,
            points_system_key=self.points_system_key.value if self.points_system_key else None,
            streak=self.streak.value if self.streak else None,
        )


@strawberry.input(description="Repeating runs.")
class LeaderboardRepeatInput:
    run_unit: runs.RunUnit = strawberry.field(description="Length unit.")
    run_interval: int = strawberry.field(default=1, description="Units per run, 1 to 1000.")

    def to_domain(self) -> runs.Repeat:
        return runs.Repeat(self.run_unit, self.run_interval)


@strawberry.input(description="A new leaderboard.")
class CreateLeaderboardInput:
    key: str = strawberry.field(description="Unique in the tenant.")
    name: str = strawberry.field(description="Display name.")
    rank_by: LeaderboardRankByInput = strawberry.field(description="What it ranks by.")
    description: str | None = strawberry.field(default=None, description="Display text.")
    start: date | None = strawberry.field(
        default=None,
        description="Defaults to today (in timeZone, else UTC). Runs count what happens while "
        "the board is live: a past start is not filled from stored history.",
    )
    end: date | None = strawberry.field(
        default=None, description="On or after start; null: no end."
    )
    repeat: LeaderboardRepeatInput | None = strawberry.field(
        default=None, description="Null: perpetual."
    )
    time_zone: str | None = strawberry.field(
        default=None, description="IANA zone for run dates; null: each user's own zone."
    )
    max_participants: int | None = strawberry.field(
        default=None, description="1 or more; null: no limit."
    )
    breakdown_attribute: str | None = strawberry.field(
        default=None, description="A user attribute key (same rules as other keys)."
    )
    user_attributes: list[AttributeInput] | None = strawberry.field(
        default=None, description="Participation filter."
    )
    tie_policy: domain.TiePolicy | None = strawberry.field(
        default=domain.TiePolicy.SHARED, description="How equal values are ranked."
    )

    def to_domain(self) -> BoardSpec:
        return BoardSpec(
            key=self.key,
            name=self.name,
            rank_by=self.rank_by.to_domain(),
            description=self.description,
            start=self.start,
            end=self.end,
            repeat=self.repeat.to_domain() if self.repeat else None,
            time_zone=self.time_zone,
            max_participants=self.max_participants,
            breakdown_attribute=self.breakdown_attribute,
            user_attributes=attributes_of(self.user_attributes) or (),
            tie_policy=self.tie_policy or domain.TiePolicy.SHARED,
        )


@strawberry.input(
    description="Absent fields stay as they are; null clears description, end and "
    "maxParticipants. Fields marked so change only while the board has never been live."
)
class UpdateLeaderboardInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Display name.")
    description: strawberry.Maybe[str | None] = strawberry.field(description="Display text.")
    end: strawberry.Maybe[date | None] = strawberry.field(
        description="On a live board, not before today in the board's zone (UTC for user-zone "
        "boards)."
    )
    max_participants: strawberry.Maybe[int | None] = strawberry.field(
        description="Applies from now on; 1 or more."
    )
    rank_by: strawberry.Maybe[LeaderboardRankByInput | None] = strawberry.field(
        description="Never live only."
    )
    start: strawberry.Maybe[date | None] = strawberry.field(description="Never live only.")
    repeat: strawberry.Maybe[LeaderboardRepeatInput | None] = strawberry.field(
        description="Never live only; null makes it perpetual."
    )
    time_zone: strawberry.Maybe[str | None] = strawberry.field(
        description="Never live only; null: each user's own zone."
    )
    breakdown_attribute: strawberry.Maybe[str | None] = strawberry.field(
        description="Never live only; null: no breakdown."
    )
    user_attributes: strawberry.Maybe[list[AttributeInput] | None] = strawberry.field(
        description="Never live only."
    )
    tie_policy: strawberry.Maybe[domain.TiePolicy | None] = strawberry.field(
        description="Never live only."
    )

    def to_domain(self) -> Changes:
        """Under BoardSpec's names, in domain values; a null where null means nothing (name,
        rankBy, start, userAttributes, tiePolicy) is refused by the use case's checks."""
        given: dict[str, object] = {}
        for name in (
            "name",
            "description",
            "end",
            "max_participants",
            "start",
            "time_zone",
            "breakdown_attribute",
            "tie_policy",
        ):
            field = getattr(self, name)
            if field is not None:
                given[name] = field.value
        if self.rank_by is not None:
            given["rank_by"] = self.rank_by.value.to_domain() if self.rank_by.value else None
        if self.repeat is not None:
            given["repeat"] = self.repeat.value.to_domain() if self.repeat.value else None
        if self.user_attributes is not None:
            given["user_attributes"] = attributes_of(self.user_attributes.value)
        return Changes(given)
