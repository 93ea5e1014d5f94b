from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.api.common import Attribute
from app.api.context import Info
from app.api.metrics.types import Metric
from app.api.points.types import PointsSystem
from app.domain import leaderboard_runs as runs
from app.domain import leaderboard_views as views
from app.domain import leaderboards as domain

strawberry.enum(domain.RankBy, name="LeaderboardRankBy")
strawberry.enum(runs.RunUnit, name="LeaderboardRunUnit")
strawberry.enum(domain.TiePolicy, name="LeaderboardTiePolicy")
strawberry.enum(domain.BoardStatus, name="LeaderboardStatus")
strawberry.enum(domain.RunStatus, name="LeaderboardRunStatus")


@strawberry.type(description="One repetition of a leaderboard, identified by its start date.")
class LeaderboardRun:
    start: date = strawberry.field(description="First date of the run.")
    end: date | None = strawberry.field(
        description="Last date of the run (inclusive); null for an endless perpetual run."
    )
    status: domain.RunStatus
    opens_at: datetime = strawberry.field(
        description="When the first time zone reaches the start date."
    )
    closes_at: datetime | None = strawberry.field(
        description="When the last time zone leaves the end date and the run is finalised; "
        "null when it has no end."
    )

    @classmethod
    def of(cls, board: domain.Leaderboard, run: runs.Run, now: datetime) -> LeaderboardRun:
        return cls(
            start=run.start,
            end=run.end,
            status=board.run_status(run, now),
            opens_at=run.opens_at,
            closes_at=run.closes_at,
        )


@strawberry.type(
    description="A competition that ranks users by a metric, points or their streak, "
    "perpetually or in repeating runs."
)
class Leaderboard:
    model: strawberry.Private[domain.Leaderboard]
    now: strawberry.Private[datetime]

    @classmethod
    def of(cls, board: domain.Leaderboard, now: datetime) -> Leaderboard:
        return cls(model=board, now=now)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field(description="Unique in the tenant.")
    def key(self) -> str:
        return self.model.key

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field
    def status(self) -> domain.BoardStatus:
        return self.model.status(self.now)

    @strawberry.field
    def rank_by(self) -> domain.RankBy:
        return self.model.rank_by

    @strawberry.field(description="The metric, when rankBy is METRIC; null otherwise.")
    async def metric(self, info: Info) -> Metric | None:
        if self.model.metric_id is None:
            return None
        metrics = await info.context.loaders.tenant_metrics.load(info.context.caller.tenant_id)
        found = next((m for m in metrics if m.id == self.model.metric_id), None)
        return Metric.of(found) if found else None

    @strawberry.field(description="The points system, when rankBy is POINTS; null otherwise.")
    async def points_system(self, info: Info) -> PointsSystem | None:
        if self.model.system_id is None:
            return None
        tenant = info.context.caller.tenant_id
        program = await info.context.services.definitions.points_program(tenant)
        found = program.known_system(self.model.system_id)
        return PointsSystem.of(found, program) if found else None

    @strawberry.field(description="First date of the first run.")
    def start(self) -> date:
        return self.model.calendar.start

    @strawberry.field(description="Last date counted (inclusive); null: no end.")
    def end(self) -> date | None:
        return self.model.calendar.end

    @strawberry.field(description="Null: perpetual, one run from start to end.")
    def run_unit(self) -> runs.RunUnit | None:
        repeat = self.model.calendar.repeat
        return repeat.unit if repeat else None

    @strawberry.field(description="Units per run (1 or more); null when perpetual.")
    def run_interval(self) -> int | None:
        repeat = self.model.calendar.repeat
        return repeat.interval if repeat else None

    @strawberry.field(description="IANA zone in which run dates fall; null: each user's own zone.")
    def time_zone(self) -> str | None:
        return self.model.calendar.time_zone

    @strawberry.field(description="Most users ranked per run and breakdown group; null: no limit.")
    def max_participants(self) -> int | None:
        return self.model.max_participants

    @strawberry.field(
        description="User attribute key whose value splits each run into separately ranked "
        "groups; null: one group."
    )
    def breakdown_attribute(self) -> str | None:
        return self.model.breakdown_attribute

    @strawberry.field(description="Only users matching all of these take part.")
    def user_attributes(self) -> list[Attribute]:
        return Attribute.many(self.model.user_attributes)

    @strawberry.field
    def tie_policy(self) -> domain.TiePolicy:
        return self.model.tie_policy

    @strawberry.field(
        description="The run containing today (UTC on boards read in each user's zone); null "
        "before the first run opens and after the last closes."
    )
    def current_run(self) -> LeaderboardRun | None:
        run = self.model.run_for(self.model.calendar.today(self.now, None))
        if run is None or self.now < run.opens_at:
            return None
        if run.closes_at is not None and self.now >= run.closes_at:
            return None
        return LeaderboardRun.of(self.model, run, self.now)

    @strawberry.field(description="Runs that have opened, newest first.")
    def runs(self, limit: int = 10) -> list[LeaderboardRun]:
        limit = views.check_page_limit(limit)
        opened = self.model.calendar.opened_runs(self.now, limit)
        cut = [self.model.run(r.index) for r in opened]
        return [LeaderboardRun.of(self.model, r, self.now) for r in cut if r is not None]


@strawberry.type(
    description="The public face of a ranked user: rankings never show another user's email "
    "or attributes."
)
class RankedUser:
    id: str
    name: str | None


@strawberry.type(description="One row of a leaderboard.")
class LeaderboardRanking:
    rank: int = strawberry.field(description="1-based, per the board's tiePolicy.")
    user: RankedUser
    value: float = strawberry.field(description="The user's value in the run.")
    reached_at: datetime = strawberry.field(
        description="When the user's value last changed in this run (event time): the "
        "FIRST_COME tiebreak."
    )


@strawberry.type(description="One page of one run of a leaderboard, for one breakdown group.")
class LeaderboardStandings:
    leaderboard: Leaderboard
    run: LeaderboardRun
    breakdown_value: str | None
    participants: int = strawberry.field(description="Users ranked in this run and group.")
    threshold: float | None = strawberry.field(
        description="When the group is full (maxParticipants ranked): the lowest value ranked, "
        "which a newcomer must beat; null otherwise."
    )
    rankings: list[LeaderboardRanking]

    @classmethod
    def of(cls, standings: views.Standings, now: datetime) -> LeaderboardStandings:
        board = standings.board
        return cls(
            leaderboard=Leaderboard.of(board, now),
            run=LeaderboardRun.of(board, standings.run, now),
            breakdown_value=standings.breakdown_value,
            participants=standings.participants,
            threshold=standings.threshold,
            rankings=[
                LeaderboardRanking(
                    rank=r.rank,
                    user=RankedUser(id=r.user_id, name=r.name),
                    value=r.value,
                    reached_at=r.reached_at,
                )
                for r in standings.rankings
            ],
        )


@strawberry.type(
    description="How one operation moved one user on one leaderboard: reported for every board "
    "where the user's value changed."
)
class LeaderboardChange:
    leaderboard: Leaderboard
    run: LeaderboardRun
    breakdown_value: str | None
    value: float = strawberry.field(description="The user's value in the run after the operation.")
    previous_value: float | None = strawberry.field(
        description="Before the operation; null when the user had no value in this run yet."
    )
    rank: int | None = strawberry.field(
        description="After the operation; null when not ranked (maxParticipants)."
    )
    previous_rank: int | None = strawberry.field(
        description="Before the operation; null when not ranked then."
    )
    threshold: float | None = strawberry.field(
        description="As in LeaderboardStandings, after the operation."
    )


async def changes_of(
    info: Info, changes: tuple[domain.BoardChange, ...]
) -> list[LeaderboardChange]:
    """Boards as they are now (a replay shows today's names); a board since removed is left
    out."""
    if not changes:
        return []
    services = info.context.services
    boards = {
        b.id: b for b in await services.definitions.leaderboards(info.context.caller.tenant_id)
    }
    now = services.clock()
    found: list[LeaderboardChange] = []
    for change in changes:
        board = boards.get(change.board_id)
        run = board.run(change.run_index) if board else None
        if board is None or run is None:
            continue
        found.append(
            LeaderboardChange(
                leaderboard=Leaderboard.of(board, now),
                run=LeaderboardRun.of(board, run, now),
                breakdown_value=board.breakdown_value(change.group),
                value=change.value,
                previous_value=change.previous_value,
                rank=change.rank,
                previous_rank=change.previous_rank,
                threshold=change.threshold,
            )
        )
    return found


@strawberry.type(
    description="One day of a user's history on a leaderboard run: a day on which the user's "
    "own value changed."
)
class LeaderboardHistoryEntry:
    day: date = strawberry.field(name="date", description="Run date of the change.")
    value: float = strawberry.field(description="Value after that day's last change.")
    rank: int | None = strawberry.field(
        description="Rank right after that day's last change; null when not ranked."
    )
    previous_value: float | None = strawberry.field(
        description="Value before that day's first change; null when the user had no value yet."
    )
    previous_rank: int | None = strawberry.field(
        description="Rank before that day's first change; null when not ranked then."
    )


@strawberry.type(description="A user's place on a leaderboard run.")
class UserLeaderboard:
    place: strawberry.Private[views.UserPlace]
    now: strawberry.Private[datetime]

    @strawberry.field
    def leaderboard(self) -> Leaderboard:
        return Leaderboard.of(self.place.board, self.now)

    @strawberry.field
    def run(self) -> LeaderboardRun:
        return LeaderboardRun.of(self.place.board, self.place.run, self.now)

    @strawberry.field(
        description="The user's breakdown group; null without breakdownAttribute or when the "
        "user lacks the attribute."
    )
    def breakdown_value(self) -> str | None:
        return self.place.breakdown_value

    @strawberry.field(
        description="Null when not ranked (no value yet, filtered out, or below the "
        "maxParticipants cut)."
    )
    def rank(self) -> int | None:
        return self.place.rank

    @strawberry.field(description="Null when the user has no value in this run.")
    def value(self) -> float | None:
        return self.place.value

    @strawberry.field(
        description="Rank before the user's latest change in the run; null when not ranked then."
    )
    def previous_rank(self) -> int | None:
        return self.place.previous_rank

    @strawberry.field(
        description="Value before the user's latest change in the run; null when none."
    )
    def previous_value(self) -> float | None:
        return self.place.previous_value

    @strawberry.field(
        description="When the run stops counting this user's changes (end of its last date in "
        "the user's or the board's zone); null when endless."
    )
    def ends_at(self) -> datetime | None:
        return self.place.ends_at

    @strawberry.field(description="Days with a change, newest first.")
    async def history(self, info: Info, days: int = 10) -> list[LeaderboardHistoryEntry]:
        days = views.check_history_days(days)
        if self.place.entry_id is None or days == 0:
            return []
        found = await info.context.services.leaderboard_reads.days(self.place.entry_id, days)
        return [
            LeaderboardHistoryEntry(
                day=d.day,
                value=d.value,
                rank=d.rank,
                previous_value=d.previous_value,
                previous_rank=d.previous_rank,
            )
            for d in found
        ]
