"""Leaderboards: what a board is, where it is in its lifecycle, and the one rule of a rank.

A board's lifecycle is stored as the status an administrator asked for (INACTIVE, LIVE,
FINISHED, ARCHIVED); SCHEDULED, ACTIVE and a FINISHED that came by itself are read off the
clock against the board's runs, so no job has to flip them and every instance agrees at once.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from app.domain.attributes import Attribute, attributes_match
from app.domain.leaderboard_runs import Calendar, Run


class RankBy(enum.Enum):
    METRIC = "METRIC"
    POINTS = "POINTS"
    STREAK = "STREAK"


class TiePolicy(enum.Enum):
    SHARED = "SHARED"
    DENSE = "DENSE"
    FIRST_COME = "FIRST_COME"


class BoardStatus(enum.Enum):
    INACTIVE = "INACTIVE"
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    FINISHED = "FINISHED"
    ARCHIVED = "ARCHIVED"


class StoredStatus(enum.Enum):
    """What an administrator asked for; LIVE is SCHEDULED, ACTIVE or FINISHED by the clock."""

    INACTIVE = "INACTIVE"
    LIVE = "LIVE"
    FINISHED = "FINISHED"
    ARCHIVED = "ARCHIVED"


class RunStatus(enum.Enum):
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    FINISHED = "FINISHED"


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """`finished_at` is when a live board was finished on request: the run open then closes
    at that instant and no later run exists. `live_since` is when it last went live: runs
    that had opened or closed by then are not announced."""

    id: int
    key: str
    name: str
    rank_by: RankBy
    calendar: Calendar
    tie_policy: TiePolicy = TiePolicy.SHARED
    description: str | None = None
    metric_id: int | None = None
    system_id: int | None = None
    max_participants: int | None = None
    breakdown_attribute: str | None = None
    user_attributes: tuple[Attribute, ...] = ()
    stored_status: StoredStatus = StoredStatus.INACTIVE
    ever_live: bool = False
    finished_at: datetime | None = None
    created_at: datetime | None = None
    live_since: datetime | None = None

    def status(self, now: datetime) -> BoardStatus:
        if self.stored_status is StoredStatus.INACTIVE:
            return BoardStatus.INACTIVE
        if self.stored_status is StoredStatus.ARCHIVED:
            return BoardStatus.ARCHIVED
        if self.stored_status is StoredStatus.FINISHED:
            return BoardStatus.FINISHED
        last = self.last_run()
        if last is not None and last.closes_at is not None and now >= last.closes_at:
            return BoardStatus.FINISHED
        if now < self.calendar.first_run().opens_at:
            return BoardStatus.SCHEDULED
        return BoardStatus.ACTIVE

    def counts_changes(self, now: datetime) -> bool:
        return self.status(now) is BoardStatus.ACTIVE

    def run(self, index: int) -> Run | None:
        """Run `index` as this board has it: cut where the board was finished on request."""
        run = self.calendar.run(index)
        if run is None or self.finished_at is None:
            return run
        if run.opens_at > self.finished_at and index > 0:
            return None
        if run.closes_at is None or run.closes_at > self.finished_at:
            return replace(run, closes_at=max(self.finished_at, run.opens_at))
        return run

    def run_for(self, day: date) -> Run | None:
        """The run whose dates hold `day`, if this board has it."""
        run = self.calendar.run_containing(day)
        return None if run is None else self.run(run.index)

    def oldest_open_run(self, now: datetime) -> Run | None:
        """A run closes at most a day and a half after its last UTC date (user-zone boards), so
        the oldest run still counting is found a few runs back at most, never by a walk."""
        day = (now - timedelta(days=2)).date()
        run = self.run_for(day)
        if run is None:
            run = self.run(0) if day < self.calendar.start else self.last_run()
        while run is not None and run.closes_at is not None and run.closes_at <= now:
            run = self.run(run.index + 1)
        return run

    def last_run(self) -> Run | None:
        if self.finished_at is not None:
            return self.run(self._index_at(self.finished_at))
        return self.calendar.last_run()

    def _index_at(self, instant: datetime) -> int:
        """The newest run opened by `instant`, else the first."""
        opened = self.calendar.opened_runs(instant, 1)
        return opened[0].index if opened else 0

    def run_status(self, run: Run, now: datetime) -> RunStatus:
        if run.closes_at is not None and now >= run.closes_at:
            return RunStatus.FINISHED
        if now < run.opens_at or self.status(now) is BoardStatus.SCHEDULED:
            return RunStatus.SCHEDULED
        return RunStatus.ACTIVE

    def takes_part(self, attributes: Sequence[Attribute]) -> bool:
        return attributes_match(self.user_attributes, attributes)

    def group_of(self, attributes: Sequence[Attribute]) -> str | None:
        """The user's breakdown group: "" on a board without breakdown (one group); None when
        the board splits by an attribute the user lacks (neither ranked nor counted)."""
        if self.breakdown_attribute is None:
            return WHOLE_BOARD
        for attribute in attributes:
            if attribute.key == self.breakdown_attribute:
                return attribute.value
        return None

    def breakdown_value(self, group: str) -> str | None:
        return group if self.breakdown_attribute is not None else None


WHOLE_BOARD = ""


@dataclass(frozen=True, slots=True)
class BoardChange:
    """How one operation moved one user in one run of one board."""

    board_id: int
    run_index: int
    group: str
    value: float
    previous_value: float | None
    rank: int | None
    previous_rank: int | None
    threshold: float | None

    def to_data(self) -> dict[str, object]:
        """As a replay stores it: a replay reports the first response's entries."""
        return {
            "boardId": self.board_id,
            "run": self.run_index,
            "group": self.group,
            "value": self.value,
            "previousValue": self.previous_value,
            "rank": self.rank,
            "previousRank": self.previous_rank,
            "threshold": self.threshold,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BoardChange:
        return cls(
            int(data["boardId"]),
            int(data["run"]),
            str(data["group"]),
            float(data["value"]),
            data["previousValue"],
            data["rank"],
            data["previousRank"],
            data["threshold"],
        )
