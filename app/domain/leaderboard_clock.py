"""The run clock: `leaderboard.started` when a run opens and `leaderboard.finished`, one per
group, when it is finalised; each once, on whichever instance.

A run stops counting at its closing instant by the clock itself (the event path refuses closed
runs), so finalising it freezes nothing more: it announces what the run ended with. Each live
board keeps how far its runs have been announced (`RunClock`) and when it next has work; runs
that had opened or closed when the board went live are passed over silently, as backfill's.

A round reads the due boards, and the standings of runs to finish, outside any transaction (a
closed run no longer changes); it then moves each board's clock on in a short transaction that
announces only if the clock is still at the turn it read, so a second instance, or a status
change meanwhile, makes the round's writes for that board nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from app.domain.announcements import Announcement
from app.domain.leaderboard_news import LeaderboardFinished, LeaderboardStarted, RunDates
from app.domain.leaderboard_ports import LeaderboardReads
from app.domain.leaderboard_runs import Run
from app.domain.leaderboard_views import standings
from app.domain.leaderboards import WHOLE_BOARD, BoardStatus, Leaderboard
from app.domain.ports import Announcements

BATCH = 100
# Runs announced per board and round; a board far behind (a daily board after a long
# downtime) catches up over the following rounds.
RUNS_PER_ROUND = 50
# A finished run's standings carry its first rows.
FINISHED_ROWS = 10
NO_RUN = -1

__all__ = [
    "ClockWake",
    "DueBoard",
    "LeaderboardClockStore",
    "LeaderboardClockTransactions",
    "RunClock",
    "run_leaderboard_clock",
]


@dataclass(frozen=True, slots=True)
class RunClock:
    """The newest run indexes announced as started and as finished (NO_RUN: none)."""

    started: int
    finished: int


@dataclass(frozen=True, slots=True)
class ClockWake:
    """What a status change asks of a board's clock: look again at `due_at` (None: never,
    and stop any backfill), and with `restart`, forget how far it had gone and backfill the
    board's runs (it went live)."""

    due_at: datetime | None
    restart: bool = False


@dataclass(frozen=True, slots=True)
class DueBoard:
    tenant_id: int
    board: Leaderboard
    clock: RunClock | None
    """None: not looked at since the board went live."""
    turn: int
    backfilling: bool = False
    """Its runs are being rebuilt: announcements wait for the rebuilt standings."""


@dataclass(frozen=True, slots=True)
class Step:
    starting: tuple[Run, ...]
    finishing: tuple[Run, ...]
    clock: RunClock
    due_at: datetime | None


class LeaderboardClockStore(LeaderboardReads, Protocol):
    async def due_boards(self, now: datetime, limit: int) -> list[DueBoard]:
        """Boards whose clock is due by `now`, earliest first."""
        ...

    async def groups(self, board_id: int, run_start: date) -> list[str]:
        """The groups of a run that have rows."""
        ...


class LeaderboardClockTransaction(Announcements, Protocol):
    async def advance(
        self, board_id: int, turn: int, clock: RunClock, due_at: datetime | None
    ) -> bool:
        """Moves the clock on if it is still at `turn`; False when something else did."""
        ...


LeaderboardClockTransactions = Callable[
    [], AbstractAsyncContextManager[LeaderboardClockTransaction]
]


async def run_leaderboard_clock(
    store: LeaderboardClockStore, transactions: LeaderboardClockTransactions, now: datetime
) -> int:
    """One round over the boards due; returns how many events it announced."""
    announced = 0
    for due in await store.due_boards(now, BATCH):
        if due.backfilling:
            continue
        board = due.board
        step = judge(board, due.clock or baseline(board, board.live_since or now), now)
        news = await _news(store, board, step)
        async with transactions() as tx:
            if await tx.advance(board.id, due.turn, step.clock, step.due_at):
                await tx.announce(due.tenant_id, news, now)
                announced += len(news)
    return announced


def baseline(board: Leaderboard, since: datetime) -> RunClock:
    """How far a board that went live at `since` stands without announcing anything."""
    opened = newest_opened(board, since)
    return RunClock(opened, newest_closed(board, since, opened))


def judge(board: Leaderboard, clock: RunClock, now: datetime) -> Step:
    """The runs to announce now, oldest first, and when to look next: the next run to open or
    the next to close, whichever comes first (now, when a round leaves some for the next)."""
    if board.status(now) in (BoardStatus.INACTIVE, BoardStatus.ARCHIVED):
        return Step((), (), clock, None)
    opened = newest_opened(board, now)
    closed = newest_closed(board, now, opened)
    starting = _runs(board, clock.started + 1, min(opened, clock.started + RUNS_PER_ROUND))
    finishing = _runs(board, clock.finished + 1, min(closed, clock.finished + RUNS_PER_ROUND))
    moved = RunClock(
        starting[-1].index if starting else clock.started,
        finishing[-1].index if finishing else clock.finished,
    )
    behind = moved.started < opened or moved.finished < closed
    return Step(starting, finishing, moved, now if behind else _next_due(board, moved))


def newest_opened(board: Leaderboard, at: datetime) -> int:
    """The newest run open by `at` (a run finished on request being the board's last)."""
    opened = board.calendar.opened_runs(at, 1)
    index = opened[0].index if opened else NO_RUN
    last = board.last_run()
    return min(index, last.index) if last is not None else index


def newest_closed(board: Leaderboard, at: datetime, opened: int) -> int:
    """Runs close in order, and only the few newest opened ones can still be open."""
    index = opened
    while index > NO_RUN:
        run = board.run(index)
        if run is not None and run.closes_at is not None and run.closes_at <= at:
            break
        index -= 1
    return index


def _runs(board: Leaderboard, first: int, last: int) -> tuple[Run, ...]:
    return tuple(run for index in range(first, last + 1) if (run := board.run(index)))


def _next_due(board: Leaderboard, clock: RunClock) -> datetime | None:
    to_open = board.run(clock.started + 1)
    to_close = board.run(clock.finished + 1)
    instants = [
        instant
        for instant in (
            to_open.opens_at if to_open else None,
            to_close.closes_at if to_close else None,
        )
        if instant is not None
    ]
    return min(instants, default=None)


async def _news(store: LeaderboardClockStore, board: Leaderboard, step: Step) -> list[Announcement]:
    """In the order they happened: a run's finish before the opening of one at the same
    instant (a fixed-zone board's consecutive runs)."""
    timed: list[tuple[datetime, int, Announcement]] = [
        (run.opens_at, 1, LeaderboardStarted(board.id, _dates(run))) for run in step.starting
    ]
    for run in step.finishing:
        assert run.closes_at is not None, "only closed runs finish"
        for finished in await _finished(store, board, run):
            timed.append((run.closes_at, 0, finished))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in timed]


async def _finished(
    store: LeaderboardClockStore, board: Leaderboard, run: Run
) -> Sequence[LeaderboardFinished]:
    """One per group with rows; a board without breakdown announces its run even empty."""
    groups = await store.groups(board.id, run.start)
    if not groups and board.breakdown_attribute is None:
        groups = [WHOLE_BOARD]
    finished = []
    for group in groups:
        final = await standings(
            store,
            board,
            run,
            breakdown_value=board.breakdown_value(group),
            offset=0,
            limit=FINISHED_ROWS,
        )
        finished.append(
            LeaderboardFinished(board.id, _dates(run), group, final.participants, final.rankings)
        )
    return finished


def _dates(run: Run) -> RunDates:
    return RunDates(run.start, run.end)
