"""Counting toward leaderboards: the one path by which an operation moves users on boards.

An operation hands over what it changed (`BoardFacts`: a metric's event, the points it
awarded, the streak it extended); each board that counts now and ranks by that picks the run
the change's date falls in (in the board's zone, else the user's), and the user's row in it
moves inside the operation's own transaction, so a board never disagrees with the totals.
What each move did is reported (`BoardChange`) and stays readable as the user's history.
Background work moves rows by the same rules: a backfill rebuilds a user's runs from stored
history (`rebuild_on_board`), and a lost streak takes the user off STREAK boards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.announcements import Announcement
from app.domain.leaderboard_news import LeaderboardMoved, LeaderboardRankChanged, RunDates
from app.domain.leaderboard_ports import LeaderboardWrites, Move, Moved, Regrouped
from app.domain.leaderboard_ranks import Place, rank_at, threshold_of
from app.domain.leaderboard_runs import Run
from app.domain.leaderboard_views import counting_of
from app.domain.leaderboards import BoardChange, Leaderboard, RankBy
from app.domain.model import User
from app.domain.points import PointsChange
from app.domain.streaks import StreakView

# Live standings show at most this many rows (a page's limit).
WATCHED_ROWS = 100

__all__ = [
    "BoardFacts",
    "BoardsOutcome",
    "count_on_boards",
    "leave_streak_boards",
    "rebuild_on_board",
    "rebuild_streak_on_board",
    "regroup",
]


@dataclass(frozen=True, slots=True)
class BoardFacts:
    """`at` is the event time of the metric value (and of the streak it extended)."""

    at: datetime
    metric: tuple[int, float] | None = None
    points: Sequence[PointsChange] = ()
    streak: StreakView | None = None


@dataclass(frozen=True, slots=True)
class _Contribution:
    at: datetime
    delta: float | None = None
    level: float | None = None


@dataclass(frozen=True, slots=True)
class BoardsOutcome:
    changes: tuple[BoardChange, ...] = ()
    news: tuple[Announcement, ...] = ()


async def count_on_boards(
    store: LeaderboardWrites,
    boards: Sequence[Leaderboard],
    user: User,
    facts: BoardFacts,
    now: datetime,
    *,
    regrouped: bool = False,
    announce_ranks: bool = True,
) -> BoardsOutcome:
    """In board creation order; a board the user does not take part in, or whose run for the
    change's date is closed or absent, is left as it is. A move within the first rows of its
    group is news for live standings; with `announce_ranks`, a move that changed the user's
    own rank is news for webhooks. `regrouped`: the operation changed the user's attributes,
    so the user's rows first move to their new groups (`regroup`)."""
    changes: list[BoardChange] = []
    news: list[Announcement] = []
    if regrouped:
        news += await regroup(store, boards, user, now, announce_ranks=announce_ranks)
    for board in boards:
        if not board.counts_changes(now) or not board.takes_part(user.attributes):
            continue
        group = board.group_of(user.attributes)
        if group is None:
            continue
        for run, contribution in _by_run(board, user, _contributions(board, facts), now):
            move = _move(board, run, group, user, contribution)
            moved = await store.move_on_board(move, counting_of(board), noted=True)
            change = _report(board, run, move, moved)
            changes.append(change)
            if announce_ranks and change.rank != change.previous_rank:
                news.append(_rank_changed(user, run, change))
            if _near_the_top(moved):
                news.append(LeaderboardMoved(board.id, run.start, group))
    return BoardsOutcome(tuple(changes), tuple(news))


def _rank_changed(user: User, run: Run, change: BoardChange) -> LeaderboardRankChanged:
    return LeaderboardRankChanged(
        user.id,
        change.board_id,
        RunDates(run.start, run.end),
        change.group,
        change.rank,
        change.previous_rank,
        change.value,
        change.previous_value,
    )


def _move(board: Leaderboard, run: Run, group: str, user: User, part: _Contribution) -> Move:
    """A contribution as a move of the user's row, on the run date of its instant."""
    return Move(
        board.id,
        run.start,
        group,
        user.pk,
        user.id,
        part.at,
        board.calendar.run_date(part.at, user.tz),
        part.delta,
        part.level,
    )


def _near_the_top(moved: Moved) -> bool:
    """Whether the row was, or now is, possibly among the first WATCHED_ROWS (the most any
    live standings show). Every count of a place is at most its `ahead`, so the smallest one
    counted never misses a row near the top; a row it lets through in vain costs a watcher
    one read that finds nothing changed."""
    before = _at_most_ahead(moved.before_place) if moved.before_place else WATCHED_ROWS
    return min(before, _at_most_ahead(moved.after_place)) < WATCHED_ROWS


def _at_most_ahead(place: Place) -> int:
    counted = [c for c in (place.ahead, place.greater, place.distinct_greater) if c is not None]
    return min(counted)


async def rebuild_on_board(
    store: LeaderboardWrites,
    board: Leaderboard,
    user: User,
    history: Sequence[tuple[datetime, float]],
) -> int:
    """Backfill: the user's value in every run that `history` (instant, amount) reaches,
    closed runs included, becomes the sum dated in it, whatever was counted before; later
    changes add to it. Silent, and read with the user's current attributes. Returns how many
    rows it set."""
    group = board.group_of(user.attributes)
    if group is None or not board.takes_part(user.attributes):
        return 0
    contributions = [_Contribution(at, delta=amount) for at, amount in history]
    runs = _by_run(board, user, contributions, None)
    for run, summed in runs:
        # The sum replaces the value: a level, reached at the latest instant summed.
        whole = _Contribution(summed.at, level=summed.delta or 0.0)
        move = _move(board, run, group, user, whole)
        await store.move_on_board(move, counting_of(board), noted=False)
    return len(runs)


async def rebuild_streak_on_board(
    store: LeaderboardWrites, board: Leaderboard, user: User, length: int, reached_at: datetime
) -> bool:
    """Backfill of a STREAK board: the user's current streak, as a growing one would have set
    it. Returns whether the user takes part."""
    group = board.group_of(user.attributes)
    run = board.run(0)  # STREAK boards never repeat
    if group is None or run is None or not board.takes_part(user.attributes):
        return False
    move = _move(board, run, group, user, _Contribution(reached_at, level=float(length)))
    await store.move_on_board(move, counting_of(board), noted=False)
    return True


async def leave_streak_boards(
    store: LeaderboardWrites, boards: Sequence[Leaderboard], user: User, now: datetime
) -> tuple[Announcement, ...]:
    """A lost streak takes the user off STREAK boards (ranked and counted while the length
    is at least 1) until a new streak brings the row back; leaving a rank is news."""
    news: list[Announcement] = []
    for board in boards:
        if board.rank_by is not RankBy.STREAK or not board.counts_changes(now):
            continue
        run = board.run(0)  # STREAK boards never repeat
        assert run is not None, "every board has a first run"
        left = await store.leave_board(board.id, run.start, user.pk, counting_of(board))
        if left is None:
            continue
        previous_rank = rank_at(board.tie_policy, left.before_place, board.max_participants)
        if previous_rank is not None:
            dates = RunDates(run.start, run.end)
            value = left.before.value
            news.append(
                LeaderboardRankChanged(
                    user.id, board.id, dates, left.group, None, previous_rank, 0.0, value
                )
            )
        if _at_most_ahead(left.before_place) < WATCHED_ROWS:
            news.append(LeaderboardMoved(board.id, run.start, left.group))
    return tuple(news)


async def regroup(
    store: LeaderboardWrites,
    boards: Sequence[Leaderboard],
    user: User,
    now: datetime,
    *,
    announce_ranks: bool = True,
) -> tuple[Announcement, ...]:
    """A user whose breakdown attribute changed moves, values and all, to the new group in
    every run still counting (to no group when the attribute is gone). Both groups' first rows
    may change, and the user's rank does: news as for any move."""
    news: list[Announcement] = []
    for board in boards:
        if board.breakdown_attribute is None or not board.counts_changes(now):
            continue
        oldest = board.oldest_open_run(now)
        if oldest is None:
            continue
        group = board.group_of(user.attributes)
        for moved in await store.regroup(
            user.pk, board.id, group, oldest.start, counting_of(board)
        ):
            news += _regroup_news(board, user, moved, announce_ranks=announce_ranks)
    return tuple(news)


def _regroup_news(
    board: Leaderboard, user: User, moved: Regrouped, *, announce_ranks: bool
) -> list[Announcement]:
    policy, cap = board.tie_policy, board.max_participants
    before = rank_at(policy, moved.left_place, cap) if moved.left_place else None
    after = rank_at(policy, moved.joined_place, cap) if moved.joined_place else None
    run = board.run_for(moved.run_start)
    news: list[Announcement] = []
    if announce_ranks and before != after and run is not None:
        group = moved.joined if moved.joined is not None else moved.left
        value = moved.standing.value
        dates = RunDates(run.start, run.end)
        news.append(
            LeaderboardRankChanged(
                user.id, board.id, dates, group or "", after, before, value, value
            )
        )
    for name, place in ((moved.left, moved.left_place), (moved.joined, moved.joined_place)):
        if name is not None and place is not None and _at_most_ahead(place) < WATCHED_ROWS:
            news.append(LeaderboardMoved(board.id, moved.run_start, name))
    return news


def _contributions(board: Leaderboard, facts: BoardFacts) -> list[_Contribution]:
    if board.rank_by is RankBy.METRIC:
        if facts.metric is None or facts.metric[0] != board.metric_id:
            return []
        return [_Contribution(facts.at, delta=facts.metric[1])]
    if board.rank_by is RankBy.POINTS:
        return [
            _Contribution(award.awarded_at, delta=float(award.awarded))
            for change in facts.points
            if change.system_id == board.system_id
            for award in change.awards
        ]
    streak = facts.streak
    if streak is None or streak.length < 1:
        return []
    return [_Contribution(facts.at, level=float(streak.length))]


def _by_run(
    board: Leaderboard,
    user: User,
    contributions: Sequence[_Contribution],
    now: datetime | None,
) -> list[tuple[Run, _Contribution]]:
    """Contributions summed per run still counting at `now` (None: every run, for a
    rebuild); a run's latest instant is its reach."""
    runs: dict[int, Run] = {}
    summed: dict[int, list[_Contribution]] = defaultdict(list)
    for contribution in contributions:
        run = board.run_for(board.calendar.run_date(contribution.at, user.tz))
        if run is None or (now is not None and run.closes_at is not None and now >= run.closes_at):
            continue
        runs[run.index] = run
        summed[run.index].append(contribution)
    return [(runs[index], _merged(parts)) for index, parts in sorted(summed.items())]


def _merged(parts: list[_Contribution]) -> _Contribution:
    at = max(p.at for p in parts)
    if parts[0].level is not None:
        return _Contribution(at, level=max(p.level or 0.0 for p in parts))
    return _Contribution(at, delta=sum(p.delta or 0.0 for p in parts))


def _report(board: Leaderboard, run: Run, move: Move, moved: Moved) -> BoardChange:
    policy, cap = board.tie_policy, board.max_participants
    rank = rank_at(policy, moved.after_place, cap)
    previous_rank = rank_at(policy, moved.before_place, cap) if moved.before_place else None
    previous_value = moved.before.value if moved.before else None
    return BoardChange(
        board.id,
        run.index,
        move.group,
        moved.after.value,
        previous_value,
        rank,
        previous_rank,
        threshold_of(moved.rows, cap, moved.lowest_ranked),
    )
