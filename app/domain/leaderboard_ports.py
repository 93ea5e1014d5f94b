"""What leaderboards need of storage: moving one user's value in one run, and reading pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from app.domain.leaderboard_ranks import Counting, Place
from app.domain.leaderboards import Leaderboard


@dataclass(frozen=True, slots=True)
class Standing:
    """A row's sort key: its value, and when it was reached (the first tiebreak)."""

    value: float
    reached_at: datetime


@dataclass(frozen=True, slots=True)
class Move:
    """One change to one user's value in one run and group: `delta` is added (METRIC, POINTS)
    or `level` replaces the value (STREAK); `day` is the run date it falls on."""

    board_id: int
    run_start: date
    group: str
    user_pk: int
    user_id: str
    at: datetime
    day: date
    delta: float | None = None
    level: float | None = None

    def applied_to(self, before: Standing | None) -> Standing:
        """A sum keeps its latest instant as its reach; a level is reached when it changes."""
        if self.level is not None:
            if before is not None and before.value == self.level:
                return before
            return Standing(self.level, self.at)
        value = (before.value if before else 0.0) + (self.delta or 0.0)
        reached_at = max(before.reached_at, self.at) if before else self.at
        return Standing(value, reached_at)


@dataclass(frozen=True, slots=True)
class Moved:
    """The row before and after a move, where it stood each time (with the counts `counting`
    wants), how many rows its group has now, and the value of the last row its cap keeps."""

    before: Standing | None
    before_place: Place | None
    after: Standing
    after_place: Place
    rows: int
    lowest_ranked: float | None


@dataclass(frozen=True, slots=True)
class Left:
    """A row that left its group: where it stood, and in which group."""

    before: Standing
    before_place: Place
    group: str


@dataclass(frozen=True, slots=True)
class Regrouped:
    """One of the user's rows moved from group `left` to group `joined` (None: none), with
    where it stood in each."""

    run_start: date
    standing: Standing
    left: str | None
    left_place: Place | None
    joined: str | None
    joined_place: Place | None


class LeaderboardWrites(Protocol):
    """Runs inside the operation's transaction, which holds the user's row lock: a user's own
    row is never moved by two transactions at once."""

    async def move_on_board(self, move: Move, counting: Counting, *, noted: bool) -> Moved:
        """Also keeps, on the row, its value and rank before this move (by `counting`'s rule):
        what `User.leaderboard` reports as the previous ones. `noted`: also the move's day in
        the row's history, with the rank after it and those before it (a day's line keeps the
        ones before its first move); a backfill notes nothing."""
        ...

    async def regroup(
        self, user_pk: int, board_id: int, group: str | None, since: date, counting: Counting
    ) -> list[Regrouped]:
        """Moves the user's rows of runs starting on or after `since` to `group` (None: no
        group, so neither ranked nor counted)."""
        ...

    async def leave_board(
        self, board_id: int, run_start: date, user_pk: int, counting: Counting
    ) -> Left | None:
        """Takes the user's row out of its group, its value back to 0 (a lost streak); None
        when the user had no row in a group there."""
        ...


class LeaderboardBoards(Protocol):
    async def leaderboards(self, tenant_id: int) -> Sequence[Leaderboard]:
        """Every board of the tenant, in creation order."""
        ...


@dataclass(frozen=True, slots=True)
class Ranked:
    """A row as others see it: the user's id and name only."""

    user_id: str
    name: str | None
    value: float
    reached_at: datetime


@dataclass(frozen=True, slots=True)
class PageRows:
    """Consecutive rows of a group in order; `first` is where the first of them stands."""

    rows: Sequence[Ranked]
    first: Place | None
    size: int
    lowest_ranked: float | None


@dataclass(frozen=True, slots=True)
class Entry:
    """A user's own row in a run; `place` is None when the user is in no group."""

    id: int
    group: str | None
    value: float
    previous_value: float | None
    previous_rank: int | None
    place: Place | None


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    value: float
    rank: int | None
    previous_value: float | None
    previous_rank: int | None


class LeaderboardReads(Protocol):
    """Each method is a constant number of statements, whatever the page or the group size."""

    async def page(
        self,
        board_id: int,
        run_start: date,
        group: str,
        start: int,
        limit: int,
        counting: Counting,
    ) -> PageRows:
        """`limit` rows from position `start` (0-based), never past the cap."""
        ...

    async def position_of(
        self, board_id: int, run_start: date, group: str, user_id: str
    ) -> int | None:
        """How many rows precede the user's in the group; None when the user has none there."""
        ...

    async def entry(
        self, board_id: int, run_start: date, user_pk: int, counting: Counting
    ) -> Entry | None: ...
    async def days(self, entry_id: int, limit: int) -> list[Day]:
        """Newest first."""
        ...

    async def user_zone(self, tenant_id: int, user_id: str) -> str | None:
        """None when there is no such user."""
        ...


class LeaderboardUpkeep(Protocol):
    async def rebalance(self) -> int:
        """Keeps each group's rank structure near its size, off the event path; returns how
        many groups it changed."""
        ...
