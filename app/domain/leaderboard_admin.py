"""Use cases of the leaderboard configuration: create, update, and move through the lifecycle.

Each validates its input whole before storing anything. What defines a rank (what is ranked,
the runs, the zone, the groups, the filter, the tie policy) is fixed once a board has been
live: users have seen ranks made by those rules, and changing them would rewrite history.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from app.domain.attributes import Attribute
from app.domain.errors import BadUserInput, NotFound
from app.domain.leaderboard_clock import ClockWake
from app.domain.leaderboard_ports import LeaderboardBoards
from app.domain.leaderboard_runs import Calendar, Repeat
from app.domain.leaderboards import BoardStatus, Leaderboard, RankBy, StoredStatus, TiePolicy
from app.domain.points_admin import Changes
from app.domain.streaks import local_date
from app.domain.validation import (
    check_attributes,
    check_key,
    check_name,
    check_text,
    check_time_zone,
)

MAX_RUN_INTERVAL = 1000
MAX_PARTICIPANTS = 1_000_000_000
NOT_NULL = {"name": "name", "rank_by": "rankBy", "start": "start", "tie_policy": "tiePolicy"}
# Fields fixed once a board has been live, with their names in the API.
RANK_DEFINING = {
    "rank_by": "rankBy",
    "start": "start",
    "repeat": "repeat",
    "time_zone": "timeZone",
    "breakdown_attribute": "breakdownAttribute",
    "user_attributes": "userAttributes",
    "tie_policy": "tiePolicy",
}

__all__ = [
    "BoardSpec",
    "LeaderboardConfigStore",
    "RankBySpec",
    "create_board",
    "set_status",
    "update_board",
]


class LeaderboardConfigStore(LeaderboardBoards, Protocol):
    """Writes of boards; a duplicate key raises BadUserInput."""

    async def metric_id(self, tenant_id: int, key: str) -> int | None: ...
    async def system_id(self, tenant_id: int, key: str) -> int | None: ...
    async def streak_configured(self, tenant_id: int) -> bool: ...
    async def save_board(
        self, tenant_id: int, board: Leaderboard, wake: ClockWake | None = None
    ) -> Leaderboard:
        """Inserts when `board.id` is 0, else updates (and, with `wake`, the board's run
        clock in the same transaction); returns what is stored."""
        ...


@dataclass(frozen=True, slots=True)
class RankBySpec:
    """The @oneOf input: exactly one field is set."""

    metric_key: str | None = None
    points_system_key: str | None = None
    streak: bool | None = None


@dataclass(frozen=True, slots=True)
class BoardSpec:
    key: str
    name: str
    rank_by: RankBySpec
    description: str | None = None
    start: date | None = None
    end: date | None = None
    repeat: Repeat | None = None
    time_zone: str | None = None
    max_participants: int | None = None
    breakdown_attribute: str | None = None
    user_attributes: tuple[Attribute, ...] = ()
    tie_policy: TiePolicy = TiePolicy.SHARED


async def create_board(
    store: LeaderboardConfigStore, tenant_id: int, spec: BoardSpec, now: datetime
) -> Leaderboard:
    check_key(spec.key)
    zone = _zone(spec.time_zone)
    board = Leaderboard(
        id=0,
        key=spec.key,
        name=check_name(spec.name),
        description=check_text(spec.description, "description"),
        rank_by=RankBy.METRIC,
        calendar=Calendar(
            spec.start or local_date(now, zone or "UTC"), spec.end, spec.repeat, zone
        ),
        tie_policy=spec.tie_policy,
        max_participants=spec.max_participants,
        breakdown_attribute=spec.breakdown_attribute,
        user_attributes=check_attributes(spec.user_attributes, "userAttributes"),
        created_at=now,
    )
    board = await _ranked_by(store, tenant_id, board, spec.rank_by)
    _check(board)
    if any(b.key == spec.key for b in await store.leaderboards(tenant_id)):
        raise BadUserInput(f"a leaderboard with key {spec.key!r} exists already", field="key")
    return await store.save_board(tenant_id, board)


async def update_board(
    store: LeaderboardConfigStore, tenant_id: int, key: str, changes: Changes, now: datetime
) -> Leaderboard:
    """`changes` holds domain values under BoardSpec's field names (`rank_by` a RankBySpec)."""
    board = await _board(store, tenant_id, key)
    _check_changeable(board, changes, now)
    for name, api_name in NOT_NULL.items():
        if name in changes.values and changes.values[name] is None:
            raise BadUserInput(f"{api_name} may not be null", field=api_name)
    calendar = board.calendar
    calendar = dataclasses.replace(
        calendar,
        start=changes.get("start", calendar.start),
        end=changes.get("end", calendar.end),
        repeat=changes.get("repeat", calendar.repeat),
        time_zone=_zone(changes.get("time_zone", calendar.time_zone)),
    )
    updated = dataclasses.replace(
        board,
        name=check_name(changes.get("name", board.name)),
        description=check_text(changes.get("description", board.description), "description"),
        calendar=calendar,
        max_participants=changes.get("max_participants", board.max_participants),
        breakdown_attribute=changes.get("breakdown_attribute", board.breakdown_attribute),
        user_attributes=check_attributes(
            changes.get("user_attributes", board.user_attributes) or (), "userAttributes"
        ),
        tie_policy=changes.get("tie_policy", board.tie_policy),
    )
    rank_by: RankBySpec | None = changes.get("rank_by", None)
    if rank_by is not None:
        updated = await _ranked_by(store, tenant_id, updated, rank_by)
    _check(updated)
    # A new `end` moves the last run's close: the clock looks again.
    live = board.status(now) in (BoardStatus.SCHEDULED, BoardStatus.ACTIVE)
    return await store.save_board(tenant_id, updated, ClockWake(now) if live else None)


async def set_status(
    store: LeaderboardConfigStore, tenant_id: int, key: str, wanted: BoardStatus, now: datetime
) -> Leaderboard:
    """INACTIVE to live (ACTIVE or SCHEDULED: the dates decide which), live to INACTIVE or
    FINISHED (which closes the open run at once), anything but ARCHIVED to ARCHIVED."""
    board = await _board(store, tenant_id, key)
    current = board.status(now)
    live = current in (BoardStatus.SCHEDULED, BoardStatus.ACTIVE)
    wake = ClockWake(None)
    if wanted is BoardStatus.ARCHIVED and current is not BoardStatus.ARCHIVED:
        changed = dataclasses.replace(board, stored_status=StoredStatus.ARCHIVED)
    elif wanted in (BoardStatus.ACTIVE, BoardStatus.SCHEDULED) and current is BoardStatus.INACTIVE:
        if board.rank_by is RankBy.STREAK and not await store.streak_configured(tenant_id):
            raise BadUserInput("a STREAK leaderboard needs a configured streak", field="status")
        changed = dataclasses.replace(
            board, stored_status=StoredStatus.LIVE, ever_live=True, live_since=now
        )
        wake = ClockWake(now, restart=True)
    elif wanted is BoardStatus.INACTIVE and live:
        changed = dataclasses.replace(board, stored_status=StoredStatus.INACTIVE)
    elif wanted is BoardStatus.FINISHED and live:
        changed = dataclasses.replace(board, stored_status=StoredStatus.FINISHED, finished_at=now)
        wake = ClockWake(now)  # the open run closes now: it is finalised at once
    else:
        raise BadUserInput(
            f"a {current.value} leaderboard cannot become {wanted.value}", field="status"
        )
    return await store.save_board(tenant_id, changed, wake)


async def _board(store: LeaderboardConfigStore, tenant_id: int, key: str) -> Leaderboard:
    for board in await store.leaderboards(tenant_id):
        if board.key == key:
            return board
    raise NotFound(f"no leaderboard with key {key!r}", field="key")


async def _ranked_by(
    store: LeaderboardConfigStore, tenant_id: int, board: Leaderboard, spec: RankBySpec
) -> Leaderboard:
    if spec.metric_key is not None:
        metric_id = await store.metric_id(tenant_id, spec.metric_key)
        if metric_id is None:
            raise NotFound(f"no metric with key {spec.metric_key!r}", field="rankBy.metricKey")
        return dataclasses.replace(
            board, rank_by=RankBy.METRIC, metric_id=metric_id, system_id=None
        )
    if spec.points_system_key is not None:
        system_id = await store.system_id(tenant_id, spec.points_system_key)
        if system_id is None:
            raise NotFound(
                f"no points system with key {spec.points_system_key!r}",
                field="rankBy.pointsSystemKey",
            )
        return dataclasses.replace(
            board, rank_by=RankBy.POINTS, metric_id=None, system_id=system_id
        )
    if spec.streak is not True:
        raise BadUserInput(
            "rankBy needs a metricKey, a pointsSystemKey or streak: true", field="rankBy"
        )
    if not await store.streak_configured(tenant_id):
        raise BadUserInput("a STREAK leaderboard needs a configured streak", field="rankBy.streak")
    return dataclasses.replace(board, rank_by=RankBy.STREAK, metric_id=None, system_id=None)


def _check(board: Leaderboard) -> None:
    calendar = board.calendar
    if calendar.end is not None and calendar.end < calendar.start:
        raise BadUserInput("end may not be before start", field="end")
    if calendar.repeat is not None and not 1 <= calendar.repeat.interval <= MAX_RUN_INTERVAL:
        raise BadUserInput(
            f"repeat.runInterval must be 1-{MAX_RUN_INTERVAL}", field="repeat.runInterval"
        )
    if board.rank_by is RankBy.STREAK and calendar.repeat is not None:
        raise BadUserInput("STREAK leaderboards cannot repeat", field="repeat")
    if board.max_participants is not None and not 1 <= board.max_participants <= MAX_PARTICIPANTS:
        raise BadUserInput("maxParticipants must be 1 or more", field="maxParticipants")
    if board.breakdown_attribute is not None:
        check_key(board.breakdown_attribute, "breakdownAttribute")


def _check_changeable(board: Leaderboard, changes: Changes, now: datetime) -> None:
    status = board.status(now)
    given = set(changes.values)
    if status is BoardStatus.ARCHIVED and given:
        raise BadUserInput("an ARCHIVED leaderboard cannot change", field="key")
    if status is BoardStatus.FINISHED and given - {"name", "description"}:
        raise BadUserInput("a FINISHED leaderboard changes only its name and description")
    fixed = sorted(RANK_DEFINING[name] for name in given & RANK_DEFINING.keys())
    if board.ever_live and fixed:
        raise BadUserInput(
            f"{fixed[0]} cannot change once the leaderboard has been live", field=fixed[0]
        )
    if board.ever_live and "end" in given:
        end: date | None = changes.get("end", board.calendar.end)
        today = local_date(now, board.calendar.time_zone or "UTC")
        if end is not None and end < today:
            raise BadUserInput("end may not be before today on a live leaderboard", field="end")


def _zone(zone: str | None) -> str | None:
    if zone is None:
        return None
    try:
        return check_time_zone(zone)
    except BadUserInput as error:
        raise BadUserInput(str(error), field="timeZone") from error
