"""The one rule of a rank: where a row stands in its group's order, turned into a rank.

Rows are ordered by value (higher first), then the instant the value was reached (earlier
first), then user id. Storage counts what stands ahead of a row (`Place`); everything a tie
policy or a participant cap makes of those counts is decided here, for single rows and for
pages alike, so a rank shown on a page and a rank reported by an event always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.leaderboards import TiePolicy

__all__ = ["Counting", "Place", "page_ranks", "participants", "rank_at", "threshold_of"]


@dataclass(frozen=True, slots=True)
class Counting:
    """A board's rank rule: its tie policy and cap, and so which counts a rank needs. Storage
    counts only those: each is an index range of its own, and on a large group the distinct
    values above a row cost most."""

    policy: TiePolicy
    cap: int | None

    @property
    def wants_ahead(self) -> bool:
        return self.policy is TiePolicy.FIRST_COME or self.cap is not None

    @property
    def wants_greater(self) -> bool:
        return self.policy is TiePolicy.SHARED

    @property
    def wants_distinct(self) -> bool:
        return self.policy is TiePolicy.DENSE


@dataclass(frozen=True, slots=True)
class Place:
    """`ahead` rows precede the row in the order; `greater` of them have a greater value,
    spread over `distinct_greater` distinct values. A count the board's `Counting` does not
    want may be left uncounted (None)."""

    ahead: int | None
    greater: int | None
    distinct_greater: int | None


def rank_at(policy: TiePolicy, place: Place, max_participants: int | None) -> int | None:
    """None below the cap: only a group's first `max_participants` rows are ranked, and every
    row with a greater value precedes a ranked row, so the counts need no cut of their own."""
    if max_participants is not None and _counted(place.ahead) >= max_participants:
        return None
    if policy is TiePolicy.SHARED:
        return 1 + _counted(place.greater)
    if policy is TiePolicy.DENSE:
        return 1 + _counted(place.distinct_greater)
    return 1 + _counted(place.ahead)


def _counted(count: int | None) -> int:
    assert count is not None, "the board's Counting asks for this count"
    return count


def page_ranks(policy: TiePolicy, first: Place, values: Sequence[float]) -> list[int]:
    """Ranks of consecutive rows in order, the first standing at `first`: each later row's
    rank follows from the one before it, so a page needs the counts of its first row only."""
    ranks: list[int] = []
    for offset, value in enumerate(values):
        if offset == 0:
            ranks.append(_unbounded(policy, first))
        elif policy is TiePolicy.FIRST_COME:
            ranks.append(_counted(first.ahead) + offset + 1)
        elif value == values[offset - 1]:
            ranks.append(ranks[-1])
        elif policy is TiePolicy.SHARED:
            ranks.append(_counted(first.ahead) + offset + 1)
        else:
            ranks.append(ranks[-1] + 1)
    return ranks


def _unbounded(policy: TiePolicy, place: Place) -> int:
    rank = rank_at(policy, place, None)
    assert rank is not None
    return rank


def participants(rows: int, max_participants: int | None) -> int:
    """Ranked rows: the others keep their value unranked."""
    return rows if max_participants is None else min(rows, max_participants)


def threshold_of(
    rows: int, max_participants: int | None, lowest_ranked: float | None
) -> float | None:
    """What a newcomer must beat, once the group is full; equal is not enough, since the row
    that reached it earlier stays ahead."""
    if max_participants is None or rows < max_participants:
        return None
    return lowest_ranked
