"""Ranks and tie policies: the table's hand-computed cases, and any group against a reference
model that ranks the whole sorted list from scratch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.leaderboard_ranks import Place, page_ranks, participants, rank_at, threshold_of
from app.domain.leaderboards import TiePolicy

SHARED, DENSE, FIRST_COME = TiePolicy.SHARED, TiePolicy.DENSE, TiePolicy.FIRST_COME
T0 = datetime(2026, 1, 1, tzinfo=UTC)

Row = tuple[float, datetime, str]


def ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (-r[0], r[1], r[2].encode()))


def reference_ranks(policy: TiePolicy, rows: list[Row], cap: int | None) -> list[int | None]:
    """Straight from the definitions, over the ranked rows only."""
    ranked = ordered(rows)[:cap] if cap is not None else ordered(rows)
    ranks: list[int | None] = []
    for position, (value, _, _) in enumerate(ranked):
        if policy is SHARED:
            ranks.append(1 + sum(1 for r in ranked if r[0] > value))
        elif policy is DENSE:
            ranks.append(1 + len({r[0] for r in ranked if r[0] > value}))
        else:
            ranks.append(position + 1)
    return ranks + [None] * (len(rows) - len(ranked))


def place_in(rows: list[Row], index: int) -> Place:
    """What storage counts for the row at `index` of the ordered rows."""
    order = ordered(rows)
    value = order[index][0]
    return Place(
        ahead=index,
        greater=sum(1 for r in order if r[0] > value),
        distinct_greater=len({r[0] for r in order if r[0] > value}),
    )


def rows_of(values: list[float]) -> list[Row]:
    return [(v, T0 + timedelta(seconds=i), f"u{i:02}") for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(SHARED, [1, 2, 2, 4]), (DENSE, [1, 2, 2, 3]), (FIRST_COME, [1, 2, 3, 4])],
)
def test_the_tie_policies_on_50_40_40_30(policy: TiePolicy, expected: list[int]) -> None:
    rows = rows_of([50, 40, 40, 30])
    singles = [rank_at(policy, place_in(rows, i), None) for i in range(4)]
    assert singles == expected
    assert page_ranks(policy, place_in(rows, 0), [50, 40, 40, 30]) == expected
    assert page_ranks(policy, place_in(rows, 2), [40, 30]) == expected[2:]


def test_the_cap_leaves_rows_past_it_unranked_and_sets_the_threshold() -> None:
    rows = rows_of([50, 40, 40, 30])
    assert [rank_at(SHARED, place_in(rows, i), 2) for i in range(4)] == [1, 2, None, None]
    assert participants(4, 2) == 2 and participants(1, 2) == 1 and participants(4, None) == 4
    assert threshold_of(4, 2, 40.0) == 40.0
    assert threshold_of(1, 2, None) is None
    assert threshold_of(4, None, None) is None


@given(
    values=st.lists(st.integers(-3, 3).map(float), min_size=1, max_size=30),
    policy=st.sampled_from(list(TiePolicy)),
    cap=st.none() | st.integers(1, 35),
    start=st.integers(0, 30),
    length=st.integers(1, 30),
)
def test_any_page_and_any_row_rank_as_the_reference_model(
    values: list[float], policy: TiePolicy, cap: int | None, start: int, length: int
) -> None:
    rows = rows_of(values)
    expected = reference_ranks(policy, rows, cap)
    singles = [rank_at(policy, place_in(rows, i), cap) for i in range(len(rows))]
    assert singles == expected
    ranked = len([r for r in expected if r is not None])
    if start < ranked:
        page = [r[0] for r in ordered(rows)[start : min(start + length, ranked)]]
        assert (
            page_ranks(policy, place_in(rows, start), page) == expected[start : start + len(page)]
        )
