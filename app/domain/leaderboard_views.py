"""The read side of leaderboards: which run a reader means, a page of it, a user's own place.

Ranks on a page come from the counts of its first row (`leaderboard_ranks`), so a page costs a
constant number of statements wherever it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.domain.errors import BadUserInput
from app.domain.leaderboard_ports import Entry, LeaderboardReads
from app.domain.leaderboard_ranks import (
    Counting,
    page_ranks,
    participants,
    rank_at,
    threshold_of,
)
from app.domain.leaderboard_runs import Run
from app.domain.leaderboards import BoardStatus, Leaderboard
from app.domain.model import User
from app.domain.streaks import period_start_instant

MAX_PAGE = 100
MAX_HISTORY_DAYS = 100

__all__ = [
    "Ranking",
    "Standings",
    "UserPlace",
    "check_history_days",
    "check_page_limit",
    "counting_of",
    "group_read",
    "next_turn",
    "readable",
    "run_for_reader",
    "standings",
    "user_place",
]


@dataclass(frozen=True, slots=True)
class Ranking:
    rank: int
    user_id: str
    name: str | None
    value: float
    reached_at: datetime


@dataclass(frozen=True, slots=True)
class Standings:
    board: Leaderboard
    run: Run
    breakdown_value: str | None
    participants: int
    threshold: float | None
    rankings: tuple[Ranking, ...]


@dataclass(frozen=True, slots=True)
class UserPlace:
    """`entry_id` names the user's row for its history; None when the user has no value."""

    board: Leaderboard
    run: Run
    breakdown_value: str | None
    rank: int | None
    value: float | None
    previous_rank: int | None
    previous_value: float | None
    ends_at: datetime | None
    entry_id: int | None


def readable(board: Leaderboard, now: datetime, *, admin: bool) -> bool:
    """INACTIVE and ARCHIVED boards are for administrators only."""
    return admin or board.status(now) not in (BoardStatus.INACTIVE, BoardStatus.ARCHIVED)


def run_for_reader(
    board: Leaderboard, now: datetime, day: date | None, reader_zone: str | None
) -> Run:
    """An explicit date must fall in a run that has opened, or in the first run. Without one:
    the run holding the reader's today; before the board opens its first run, after it ends
    its last."""
    first = board.run(0)
    assert first is not None, "every board has a first run"
    if day is not None:
        run = board.run_for(day)
        if run is None or (run.index > 0 and run.opens_at > now):
            raise BadUserInput(f"no run of {board.key!r} holds {day.isoformat()}", field="run")
        return run
    run = board.run_for(board.calendar.today(now, reader_zone))
    if run is not None:
        return run
    if now < first.opens_at:
        return first
    return board.last_run() or first


async def standings(
    reads: LeaderboardReads,
    board: Leaderboard,
    run: Run,
    *,
    breakdown_value: str | None,
    offset: int,
    limit: int,
    around_user_id: str | None = None,
) -> Standings:
    """With `around_user_id` the page starts `offset` rows after that user's own row (clamped
    at the top), and is empty when the user is not ranked."""
    group = group_read(board, breakdown_value)
    check_page_limit(limit)
    cap = board.max_participants
    start = offset
    if around_user_id is None:
        if offset < 0:
            raise BadUserInput("offset may not be negative", field="offset")
    else:
        position = await reads.position_of(board.id, run.start, group, around_user_id)
        ranked = position is not None and (cap is None or position < cap)
        start = max(0, position + offset) if position is not None else 0
        limit = limit if ranked else 0
    page = await reads.page(board.id, run.start, group, start, limit, counting_of(board))
    values = [row.value for row in page.rows]
    ranks = page_ranks(board.tie_policy, page.first, values) if page.first else []
    return Standings(
        board,
        run,
        board.breakdown_value(group),
        participants(page.size, cap),
        threshold_of(page.size, cap, page.lowest_ranked),
        tuple(
            Ranking(rank, row.user_id, row.name, row.value, row.reached_at)
            for rank, row in zip(ranks, page.rows, strict=True)
        ),
    )


async def user_place(
    reads: LeaderboardReads, board: Leaderboard, user: User, run: Run
) -> UserPlace:
    entry = await reads.entry(board.id, run.start, user.pk, counting_of(board))
    group = entry.group if entry is not None else board.group_of(user.attributes)
    return UserPlace(
        board,
        run,
        board.breakdown_value(group) if group is not None else None,
        _rank(board, entry),
        entry.value if entry else None,
        entry.previous_rank if entry else None,
        entry.previous_value if entry else None,
        _ends_at(board, run, user),
        entry.id if entry else None,
    )


def check_page_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise BadUserInput(f"limit must be 1-{MAX_PAGE}", field="limit")
    return limit


def next_turn(board: Leaderboard, now: datetime, reader_zone: str | None) -> datetime | None:
    """The next instant the clock alone changes what a reader of the current run sees: the
    current run opening or closing, or the reader's today reaching the following run's first
    date (midnight where the board reads dates: its zone, else the reader's, else UTC).
    None when nothing more is due."""
    current = run_for_reader(board, now, None, reader_zone)
    zone = board.calendar.time_zone or reader_zone or "UTC"
    due: list[datetime] = [current.opens_at]
    if current.closes_at is not None:
        due.append(current.closes_at)
    for run in (current, board.run(current.index + 1)):
        if run is not None:
            due.append(period_start_instant(run.start, zone).astimezone(UTC))
    return min((instant for instant in due if instant > now), default=None)


def check_history_days(days: int) -> int:
    if not 0 <= days <= MAX_HISTORY_DAYS:
        raise BadUserInput(f"days must be 0-{MAX_HISTORY_DAYS}", field="days")
    return days


def _rank(board: Leaderboard, entry: Entry | None) -> int | None:
    if entry is None or entry.place is None:
        return None
    return rank_at(board.tie_policy, entry.place, board.max_participants)


def _ends_at(board: Leaderboard, run: Run, user: User) -> datetime | None:
    """The end of the run's last date in the zone the board reads dates in, for this user;
    never after the run closes (a board finished on request closes early)."""
    if run.end is None:
        return None
    zone = board.calendar.time_zone or user.tz
    local_end = period_start_instant(run.end + timedelta(days=1), zone).astimezone(UTC)
    if run.closes_at is not None:
        return min(local_end, run.closes_at)
    return local_end


def counting_of(board: Leaderboard) -> Counting:
    return Counting(board.tie_policy, board.max_participants)


def group_read(board: Leaderboard, breakdown_value: str | None) -> str:
    """The group a reader names: a breakdownValue exactly when the board is split by one."""
    if board.breakdown_attribute is None:
        if breakdown_value is not None:
            raise BadUserInput(f"{board.key!r} has no breakdownAttribute", field="breakdownValue")
        return ""
    if breakdown_value is None:
        raise BadUserInput(
            f"{board.key!r} is split by {board.breakdown_attribute!r}: give a breakdownValue",
            field="breakdownValue",
        )
    return breakdown_value
