"""What leaderboards announce: a user's own rank changing, a group's first rows changing, runs
opening and being finalised, and (internally) a move near the top of a group.

A run is named by its dates, which stay what they were when it was announced. Standings travel
in the event, as they were when it was announced (a finished run's are what it ended with);
everything else is named by id and shown as it is when a consumer reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from app.domain.event_types import EventType
from app.domain.leaderboard_views import Ranking


@dataclass(frozen=True, slots=True)
class RunDates:
    start: date
    end: date | None

    def to_data(self) -> dict[str, Any]:
        return {"runStart": self.start.isoformat(), "runEnd": _day(self.end)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RunDates:
        end = data.get("runEnd")
        return cls(
            date.fromisoformat(str(data["runStart"])), date.fromisoformat(end) if end else None
        )


@dataclass(frozen=True, slots=True)
class LeaderboardMoved:
    """A move reached into the first 100 rows of a group of a run (before or after it): what
    live standings watch. Ids only: readers read the standings as they are when they look."""

    board_id: int
    run_start: date
    group: str
    type: ClassVar[EventType] = EventType.LEADERBOARD_MOVED

    def to_data(self) -> dict[str, Any]:
        return {
            "boardId": self.board_id,
            "runStart": self.run_start.isoformat(),
            "group": self.group,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LeaderboardMoved:
        return cls(int(data["boardId"]), date.fromisoformat(data["runStart"]), str(data["group"]))


@dataclass(frozen=True, slots=True)
class LeaderboardRankChanged:
    """An operation changed the user's own rank in a group of a run (entering it, rank None
    before, and leaving it, rank None after, included)."""

    user_id: str
    board_id: int
    run: RunDates
    group: str
    rank: int | None
    previous_rank: int | None
    value: float
    previous_value: float | None
    type: ClassVar[EventType] = EventType.LEADERBOARD_RANK_CHANGED

    def to_data(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "boardId": self.board_id,
            **self.run.to_data(),
            "group": self.group,
            "rank": self.rank,
            "previousRank": self.previous_rank,
            "value": self.value,
            "previousValue": self.previous_value,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LeaderboardRankChanged:
        previous = data["previousValue"]
        return cls(
            user_id=str(data["userId"]),
            board_id=int(data["boardId"]),
            run=RunDates.from_data(data),
            group=str(data["group"]),
            rank=data["rank"],
            previous_rank=data["previousRank"],
            value=float(data["value"]),
            previous_value=None if previous is None else float(previous),
        )


@dataclass(frozen=True, slots=True)
class LeaderboardStarted:
    """A run opened while its board was live."""

    board_id: int
    run: RunDates
    type: ClassVar[EventType] = EventType.LEADERBOARD_STARTED

    def to_data(self) -> dict[str, Any]:
        return {"boardId": self.board_id, **self.run.to_data()}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LeaderboardStarted:
        return cls(int(data["boardId"]), RunDates.from_data(data))


@dataclass(frozen=True, slots=True)
class LeaderboardFinished:
    """A run was finalised: one per group, with its ranked rows counted and its first rows."""

    board_id: int
    run: RunDates
    group: str
    participants: int
    rankings: tuple[Ranking, ...]
    type: ClassVar[EventType] = EventType.LEADERBOARD_FINISHED

    def to_data(self) -> dict[str, Any]:
        return {
            "boardId": self.board_id,
            **self.run.to_data(),
            "group": self.group,
            "participants": self.participants,
            "rankings": [ranking_to_data(r) for r in self.rankings],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LeaderboardFinished:
        return cls(
            int(data["boardId"]),
            RunDates.from_data(data),
            str(data["group"]),
            int(data["participants"]),
            tuple(ranking_from_data(r) for r in data["rankings"]),
        )


@dataclass(frozen=True, slots=True)
class LeaderboardTopChanged:
    """A group's first rows changed: the state when the watch looked, at most one an interval
    per group."""

    board_id: int
    run: RunDates
    group: str
    rankings: tuple[Ranking, ...]
    type: ClassVar[EventType] = EventType.LEADERBOARD_CHANGED

    def to_data(self) -> dict[str, Any]:
        return {
            "boardId": self.board_id,
            **self.run.to_data(),
            "group": self.group,
            "rankings": [ranking_to_data(r) for r in self.rankings],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LeaderboardTopChanged:
        return cls(
            int(data["boardId"]),
            RunDates.from_data(data),
            str(data["group"]),
            tuple(ranking_from_data(r) for r in data["rankings"]),
        )


def ranking_to_data(ranking: Ranking) -> dict[str, Any]:
    return {
        "rank": ranking.rank,
        "userId": ranking.user_id,
        "name": ranking.name,
        "value": ranking.value,
        "reachedAt": ranking.reached_at.isoformat(),
    }


def ranking_from_data(data: Mapping[str, Any]) -> Ranking:
    return Ranking(
        int(data["rank"]),
        str(data["userId"]),
        data["name"],
        float(data["value"]),
        datetime.fromisoformat(str(data["reachedAt"])),
    )


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None
