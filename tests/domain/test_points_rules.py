"""The arithmetic of points (app/domain/points_rules.py) against the spec's rules and examples.

Each rule is checked twice: by the spec's own worked examples, and by Hypothesis against a small
reference written another way than the module (a count-up loop instead of floor-and-adjust for
METRIC steps, `fractions.Fraction` instead of `Decimal` for boosts, scans instead of max/min
for levels), so that a slip in either one shows up as a disagreement.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.attributes import Attribute
from app.domain.points import BoostScope, PointsBoost, PointsLevel, PointsRounding
from app.domain.points_rules import (
    MAX_MULTIPLIER,
    MAX_STEP,
    Boosted,
    Steps,
    boost_applies,
    boost_status,
    boost_window,
    boosted,
    clamped,
    histogram_ranges,
    level_at,
    metric_steps,
    next_level,
)

DOWN, UP, NEAREST = PointsRounding.DOWN, PointsRounding.UP, PointsRounding.NEAREST
GLOBAL, USER, USER_ATTRIBUTES = BoostScope.GLOBAL, BoostScope.USER, BoostScope.USER_ATTRIBUTES
ZONES = [
    "UTC",
    "Pacific/Kiritimati",  # UTC+14, the earliest zone
    "Etc/GMT+12",  # UTC-12, the latest zone
    "Pacific/Auckland",
    "America/Los_Angeles",
    "America/Santiago",  # its DST starts at midnight: local 00:00 does not exist that day
    "Asia/Kathmandu",
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def boost(
    multiplier: str | Decimal = "2",
    rounding: PointsRounding = DOWN,
    *,
    start: date = date(2026, 3, 10),
    end: date | None = date(2026, 3, 12),
    scope: BoostScope = GLOBAL,
    **kw: object,
) -> PointsBoost:
    made = PointsBoost(
        id=1,
        system_id=1,
        key="double",
        name="Double",
        multiplier=Decimal(multiplier),
        start=start,
        end=end,
        rounding=rounding,
        scope=scope,
    )
    return replace(made, **kw)  # type: ignore[arg-type]


# --- metric_steps ---------------------------------------------------------------------------


def reached_step(total: float, threshold: float) -> int:
    """The reference: count up from 0 while the next step's `s * threshold` is reached."""
    step = 0
    while total >= (step + 1) * threshold:
        step += 1
    return step


def test_the_spec_example_climbs_dips_and_climbs() -> None:
    mark: int | None = None
    total = 0.0
    fired = []
    for value in [4, 4, -6, 7]:
        result = metric_steps(3, mark, total, total + value)
        total, mark = total + value, result.mark
        fired.append((total, result.steps, result.mark))
    assert fired == [(4, 1, 1), (8, 1, 2), (2, 0, 2), (9, 1, 3)]


def test_activation_past_steps_spends_them() -> None:
    assert metric_steps(3, None, 10, 11) == Steps(0, 3)
    assert metric_steps(3, None, 10, 12) == Steps(1, 4)


@pytest.mark.parametrize(
    ("mark", "before", "after", "expected"),
    [
        (1, 10, 11, Steps(0, 3)),  # the total got past the mark without it: still spent
        (5, 10, 20, Steps(1, 6)),  # the mark above the total's step wins
        (5, 10, 14, Steps(0, 5)),
        (0, 0, 3, Steps(1, 1)),  # exactly on the threshold reaches it
        (0, 0, 2.999, Steps(0, 0)),
        (2, 5, -4, Steps(0, 2)),  # negative totals reach nothing and keep the mark
    ],
)
def test_mark_and_baseline(mark: int, before: float, after: float, expected: Steps) -> None:
    assert metric_steps(3, mark, before, after) == expected


@pytest.mark.parametrize(
    ("threshold", "total", "steps"),
    [
        (0.1, 0.1 + 0.1 + 0.1, 3),  # 0.30000000000000004 == 3 * 0.1
        (0.1, 0.3, 2),  # 0.3 < 3 * 0.1
        (0.1, 1.7, 16),  # 1.7 / 0.1 == 17.0, yet 17 * 0.1 == 1.7000000000000002 > 1.7
        (0.1, 4.3, 43),  # 4.3 / 0.1 == 42.99999999999999, yet 43 * 0.1 == 4.3
        (0.7, 0.7 + 0.7 + 0.7, 3),  # 2.0999999999999996 == 3 * 0.7
    ],
)
def test_steps_compare_as_ieee_doubles(threshold: float, total: float, steps: int) -> None:
    assert reached_step(total, threshold) == steps  # the example itself is right
    assert metric_steps(threshold, 0, 0.0, total) == Steps(steps, steps)


thresholds = st.floats(0.1, 1000) | st.sampled_from([0.1, 0.2, 0.3, 0.7, 1 / 3, 2.5, 3.0])
values = st.integers(-30, 30) | st.floats(-30, 30)


@given(thresholds, st.floats(-30, 60), st.lists(values, max_size=15))
def test_steps_follow_the_high_water_mark(
    threshold: float, start: float, events: list[float]
) -> None:
    mark: int | None = None
    total = start
    high = reached_step(start, threshold)  # reached before activation: spent, never awarded
    awarded: list[int] = []
    for value in events:
        after = total + value
        result = metric_steps(threshold, mark, total, after)
        top = reached_step(after, threshold)
        assert result.steps == max(top - high, 0)
        high = max(high, top)
        assert result.mark == high
        # The steps awarded now are the ones just under the new mark, all reached by `after`.
        now = range(result.mark - result.steps + 1, result.mark + 1)
        assert all(1 <= s <= top for s in now)
        awarded.extend(now)
        total, mark = after, result.mark
    assert len(awarded) == len(set(awarded))  # no step twice
    assert len(awarded) == high - reached_step(start, threshold)


@given(thresholds, st.floats(0, 100), st.floats(0, 100), st.floats(0, 1))
def test_a_dip_and_climb_back_never_reawards(
    threshold: float, peak: float, dip: float, back: float
) -> None:
    climbed = metric_steps(threshold, 0, 0.0, peak)
    low = peak - dip
    dipped = metric_steps(threshold, climbed.mark, peak, low)
    regained = min(low + dip * back, peak)  # somewhere between the low and the peak again
    again = metric_steps(threshold, dipped.mark, low, regained)
    assert climbed.steps == reached_step(peak, threshold)
    assert (dipped.steps, again.steps) == (0, 0)
    assert again.mark == climbed.mark


# --- boosted --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "multipliers", "down", "up", "nearest"),
    [
        (10, ["1.5"], 15, 15, 15),
        (3, ["1.5"], 4, 5, 5),
        (7, ["1.1", "1.2"], 9, 10, 9),
        (5, ["2", "1.5", "3"], 45, 45, 45),
        (-5, ["2"], -5, -5, -5),
        (10, ["1.1"], 11, 11, 11),  # exactly 11, not 11.000000000000002 rounded up to 12
    ],
)
def test_the_spec_table(
    base: int, multipliers: list[str], down: int, up: int, nearest: int
) -> None:
    for mode, expected in [(DOWN, down), (UP, up), (NEAREST, nearest)]:
        assert boosted(base, [boost(m, mode) for m in multipliers]).amount == expected


def test_multipliers_multiply_exactly() -> None:
    result = boosted(10, [boost("1.1", UP)])
    assert (result.amount, result.multiplier) == (11, Decimal("1.1"))
    assert boosted(7, [boost("1.1"), boost("1.2")]).multiplier == Decimal("1.32")


def test_disagreeing_modes_round_down() -> None:
    assert boosted(3, [boost("1.5", UP), boost("1", NEAREST)]).amount == 4
    assert boosted(3, [boost("1.5", UP), boost("1", UP)]).amount == 5


def test_the_product_is_capped_at_1000() -> None:
    result = boosted(3, [boost("50"), boost("40")])
    assert (result.amount, result.multiplier) == (3000, MAX_MULTIPLIER)


@pytest.mark.parametrize("base", [0, -1, -250])
def test_deductions_and_zero_are_never_boosted(base: int) -> None:
    result = boosted(base, [boost("3", UP)])
    assert (result.amount, result.multiplier, result.boosts) == (base, Decimal(1), ())


def test_no_boosts_leave_the_base() -> None:
    assert boosted(7, []) == Boosted(7, Decimal(1), ())


def test_many_boosts_still_multiply_exactly() -> None:
    # 2**28 * (17/16)**7 == 17**7 exactly, so every mode must give 410338673.
    boosts = [boost("1.0625", DOWN)] * 7
    assert boosted(2**28, boosts).amount == 17**7


def test_tiny_thresholds_and_huge_totals_stay_cheap_and_exact() -> None:
    """The search around the quotient is bounded where doubles are millions of steps apart."""
    steps = metric_steps(1e-3, None, 0.0, 1e15)
    assert steps.steps * 1e-3 <= 1e15 < (steps.steps + 1) * 1e-3
    for threshold in (1e-9, 1e-300):
        assert metric_steps(threshold, None, 0.0, 1e15) == Steps(MAX_STEP, MAX_STEP)


def rounded(value: Fraction, mode: PointsRounding) -> int:
    if mode is DOWN:
        return math.floor(value)
    if mode is UP:
        return math.ceil(value)
    return math.floor(value + Fraction(1, 2))  # half up; values here are positive


multipliers = st.integers(1, 999_999).filter(lambda n: n != 10_000)  # in ten-thousandths


@given(
    st.integers(-100, 10**9),
    st.lists(st.tuples(multipliers, st.sampled_from(PointsRounding)), min_size=1, max_size=4),
)
def test_boosts_match_a_fraction_reference(
    base: int, drawn: list[tuple[int, PointsRounding]]
) -> None:
    boosts = [boost(Decimal(n).scaleb(-4), mode) for n, mode in drawn]
    result = boosted(base, boosts)
    if base <= 0:
        assert (result.amount, result.multiplier, result.boosts) == (base, Decimal(1), ())
        return
    product = Fraction(1)
    for n, _ in drawn:
        product *= Fraction(n, 10_000)
    product = min(product, Fraction(1000))
    modes = {mode for _, mode in drawn}
    mode = next(iter(modes)) if len(modes) == 1 else DOWN
    assert Fraction(result.multiplier) == product
    assert result.amount == rounded(base * product, mode)
    assert result.boosts == tuple(boosts)


# --- clamped --------------------------------------------------------------------------------


def test_clamped_examples() -> None:
    assert clamped(30, 90, 100) == 10  # up to the cap
    assert clamped(30, 120, 100) == 0  # above a lowered cap: nothing positive
    assert clamped(-30, 120, 100) == -30  # deductions are not capped
    assert clamped(-30, 20, 100) == -20  # down to 0
    assert clamped(5, 20, 100) == 5


@given(st.integers(-(10**6), 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_clamped_keeps_the_total_within_bounds(amount: int, total: int, cap: int) -> None:
    result = clamped(amount, total, cap)
    after = total + result
    assert 0 <= after <= max(cap, total)
    assert abs(result) <= abs(amount) and result * amount >= 0  # same sign, never more
    if total > cap:
        assert after <= total  # a total above a lowered cap never grows
    if result != amount:  # cut short only by hitting a bound
        assert after == (0 if amount < 0 else max(cap, total))


# --- levels ---------------------------------------------------------------------------------


def level(points: int) -> PointsLevel:
    return PointsLevel(id=points, system_id=1, key=f"l{points}", name=f"L{points}", points=points)


LEVELS = [level(50), level(0), level(200), level(100)]  # in no particular order


@pytest.mark.parametrize(
    ("total", "at", "following"),
    [
        (-1, None, 0),
        (0, 0, 50),
        (49, 0, 50),
        (50, 50, 100),  # the threshold itself reaches the level
        (199, 100, 200),
        (200, 200, None),
        (10**9, 200, None),
    ],
)
def test_level_at_and_next(total: int, at: int | None, following: int | None) -> None:
    current, upcoming = level_at(LEVELS, total), next_level(LEVELS, total)
    assert (current and current.points) == at
    assert (upcoming and upcoming.points) == following


def test_no_level_below_every_threshold() -> None:
    assert level_at([level(10), level(20)], 9) is None
    assert level_at([], 5) is None and next_level([], 5) is None


@given(st.sets(st.integers(-50, 500), max_size=8), st.integers(-100, 600))
def test_levels_match_a_scan(points: set[int], total: int) -> None:
    levels = [level(p) for p in points]
    at, upcoming = None, None
    for lv in sorted(levels, key=lambda lv: lv.points):
        if lv.points <= total:
            at = lv
        elif upcoming is None:
            upcoming = lv
    assert level_at(levels, total) == at
    assert next_level(levels, total) == upcoming


# --- histogram_ranges -----------------------------------------------------------------------


def test_histogram_of_4321() -> None:
    assert histogram_ranges(4321) == [(0, 0)] + [(i * 1000 + 1, (i + 1) * 1000) for i in range(10)]


@pytest.mark.parametrize("largest", [-5, 0, 1, 9, 10])
def test_histogram_is_at_least_ten_wide(largest: int) -> None:
    assert histogram_ranges(largest) == [(0, 0)] + [(i, i) for i in range(1, 11)]


def test_histogram_powers_of_ten() -> None:
    assert histogram_ranges(100)[-1] == (91, 100)
    assert histogram_ranges(101)[1] == (1, 100) and histogram_ranges(101)[-1] == (901, 1000)
    assert histogram_ranges(11)[-1] == (91, 100)


@given(st.integers(-10, 10**12))
def test_histogram_ranges_tile_up_to_the_power(largest: int) -> None:
    ranges = histogram_ranges(largest)
    power = next(10**k for k in range(1, 20) if 10**k >= max(largest, 10))
    assert len(ranges) == 11 and ranges[0] == (0, 0)
    for i, (low, high) in enumerate(ranges[1:], start=1):
        assert (low, high) == ((i - 1) * power // 10 + 1, i * power // 10)
    assert ranges[-1][1] >= largest


# --- boost_window / boost_status ------------------------------------------------------------

MICRO = timedelta(microseconds=1)


def test_global_window_spans_every_zone() -> None:
    begins, ends = boost_window(boost(start=date(2026, 3, 10), end=date(2026, 3, 12)), None)
    assert (begins, ends) == (utc(2026, 3, 9, 10), utc(2026, 3, 13, 12))


def test_global_status_changes_at_the_window_edges() -> None:
    b = boost(start=date(2026, 3, 10), end=date(2026, 3, 12))
    assert boost_status(b, None, utc(2026, 3, 9, 10) - MICRO) == "SCHEDULED"
    assert boost_status(b, None, utc(2026, 3, 9, 10)) == "ACTIVE"
    assert boost_status(b, None, utc(2026, 3, 13, 12) - MICRO) == "ACTIVE"
    assert boost_status(b, None, utc(2026, 3, 13, 12)) == "FINISHED"


def test_open_ended_boost_never_finishes() -> None:
    b = boost(start=date(2026, 3, 10), end=None)
    assert boost_window(b, None)[1] is None and boost_window(b, "Pacific/Auckland")[1] is None
    assert boost_status(b, None, utc(2100, 1, 1)) == "ACTIVE"
    assert boost_status(b, "Pacific/Auckland", utc(2100, 1, 1)) == "ACTIVE"


@pytest.mark.parametrize("now", [utc(2026, 1, 1), utc(2026, 3, 11), utc(2030, 1, 1)])
def test_archived_is_archived_whenever(now: datetime) -> None:
    b = boost(archived=True)
    assert boost_status(b, None, now) == "ARCHIVED"
    assert boost_status(b, "Pacific/Auckland", now) == "ARCHIVED"


def test_user_window_is_the_users_local_days() -> None:
    b = boost(start=date(2026, 1, 10), end=date(2026, 1, 12), scope=USER, user_pk=7)
    # NZDT is UTC+13: local midnight of Jan 10 is 11:00Z on Jan 9, of Jan 13 is 11:00Z on Jan 12.
    assert boost_window(b, "Pacific/Auckland") == (utc(2026, 1, 9, 11), utc(2026, 1, 12, 11))
    assert boost_status(b, "Pacific/Auckland", utc(2026, 1, 9, 11) - MICRO) == "SCHEDULED"
    assert boost_status(b, "Pacific/Auckland", utc(2026, 1, 9, 11)) == "ACTIVE"
    assert boost_status(b, "Pacific/Auckland", utc(2026, 1, 12, 11)) == "FINISHED"
    # The same dates under the global window would still be active then.
    assert boost_status(b, None, utc(2026, 1, 12, 11)) == "ACTIVE"


@pytest.mark.parametrize(
    ("tz", "day", "begins", "ends"),
    [
        # New York springs forward at 02:00 on 2026-03-08: that midnight is EST, the next EDT.
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)),
        # Santiago springs forward at midnight on 2026-09-06: that day starts at 01:00 (-03).
        ("America/Santiago", date(2026, 9, 6), utc(2026, 9, 6, 4), utc(2026, 9, 7, 3)),
    ],
)
def test_user_window_across_a_dst_change(
    tz: str, day: date, begins: datetime, ends: datetime
) -> None:
    b = boost(start=day, end=day, scope=USER, user_pk=7)
    assert boost_window(b, tz) == (begins, ends)
    assert not boost_applies(b, 7, tz, (), begins - MICRO)
    assert boost_applies(b, 7, tz, (), begins) and boost_applies(b, 7, tz, (), ends - MICRO)
    assert not boost_applies(b, 7, tz, (), ends)


instants = st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC))
boost_days = st.tuples(st.dates(date(2026, 1, 1), date(2026, 12, 31)), st.integers(0, 40))


nudges = st.sampled_from([-timedelta(hours=1), -MICRO, timedelta(0), MICRO, timedelta(hours=1)])


@given(boost_days, st.sampled_from(ZONES), instants, st.booleans(), nudges)
def test_status_agrees_with_applies(
    days: tuple[date, int], tz: str, now: datetime, near_edge: bool, nudge: timedelta
) -> None:
    start, length = days
    end = start + timedelta(days=length)
    user = boost(start=start, end=end, scope=USER, user_pk=7)
    everyone = boost(start=start, end=end)
    if near_edge:  # half the draws land next to one of the window's edges
        begins, ends = boost_window(user, tz)
        now = (begins if now.month % 2 else ends or begins) + nudge
    # A USER boost is active exactly while it applies to its user; a GLOBAL one is active
    # whenever it applies to someone somewhere.
    assert boost_applies(user, 7, tz, (), now) == (boost_status(user, tz, now) == "ACTIVE")
    if boost_applies(everyone, 7, tz, (), now):
        assert boost_status(everyone, None, now) == "ACTIVE"


def test_global_window_edges_are_reached_somewhere() -> None:
    b = boost(start=date(2026, 3, 10), end=date(2026, 3, 12))
    begins, ends = boost_window(b, None)
    assert ends is not None
    assert boost_applies(b, 7, "Pacific/Kiritimati", (), begins)
    assert boost_applies(b, 7, "Etc/GMT+12", (), ends - MICRO)
    assert not any(boost_applies(b, 7, tz, (), begins - MICRO) for tz in ZONES)
    assert not any(boost_applies(b, 7, tz, (), ends) for tz in ZONES)


# --- boost_applies --------------------------------------------------------------------------

# 12:00Z on Jan 15 is already 01:00 on Jan 16 in Auckland (NZDT, UTC+13).
NOON_UTC = utc(2026, 1, 15, 12)
AUCKLAND = "Pacific/Auckland"


def test_the_awards_local_date_decides() -> None:
    on_16th = boost(start=date(2026, 1, 16), end=date(2026, 1, 16))
    on_15th = boost(start=date(2026, 1, 15), end=date(2026, 1, 15))
    assert NOON_UTC.astimezone(ZoneInfo(AUCKLAND)).date() == date(2026, 1, 16)
    assert boost_applies(on_16th, 7, AUCKLAND, (), NOON_UTC)
    assert not boost_applies(on_16th, 7, "UTC", (), NOON_UTC)
    assert boost_applies(on_15th, 7, "UTC", (), NOON_UTC)
    assert not boost_applies(on_15th, 7, AUCKLAND, (), NOON_UTC)


@pytest.mark.parametrize(
    ("start", "end", "applies"),
    [
        (date(2026, 1, 16), date(2026, 1, 16), True),  # both bounds inclusive
        (date(2026, 1, 1), date(2026, 1, 16), True),
        (date(2026, 1, 16), date(2026, 2, 1), True),
        (date(2026, 1, 1), None, True),  # open-ended
        (date(2026, 1, 17), None, False),  # not started
        (date(2026, 1, 1), date(2026, 1, 15), False),  # over
    ],
)
def test_date_bounds(start: date, end: date | None, applies: bool) -> None:
    assert boost_applies(boost(start=start, end=end), 7, AUCKLAND, (), NOON_UTC) is applies


def test_user_scope_applies_to_its_user_only() -> None:
    b = boost(start=date(2026, 1, 1), end=None, scope=USER, user_pk=7, user_id="u7")
    assert boost_applies(b, 7, AUCKLAND, (), NOON_UTC)
    assert not boost_applies(b, 8, AUCKLAND, (), NOON_UTC)


RED, BIG = Attribute("colour", "red"), Attribute("size", "big")


@pytest.mark.parametrize(
    ("user_attributes", "applies"),
    [
        ((RED, BIG), True),
        ((BIG, RED, Attribute("extra", "x")), True),  # more than required is fine
        ((RED,), False),  # one missing
        ((RED, Attribute("size", "small")), False),  # one with another value
        ((), False),
    ],
)
def test_attribute_scope_needs_every_attribute(
    user_attributes: tuple[Attribute, ...], applies: bool
) -> None:
    b = boost(start=date(2026, 1, 1), end=None, scope=USER_ATTRIBUTES, user_attributes=(RED, BIG))
    assert boost_applies(b, 7, AUCKLAND, user_attributes, NOON_UTC) is applies


def test_global_scope_applies_to_all_and_archived_to_none() -> None:
    b = boost(start=date(2026, 1, 1), end=None)
    assert all(boost_applies(b, pk, AUCKLAND, (RED,), NOON_UTC) for pk in (1, 7, 99))
    for scoped in [b, replace(b, scope=USER, user_pk=7), replace(b, scope=USER_ATTRIBUTES)]:
        assert not boost_applies(replace(scoped, archived=True), 7, AUCKLAND, (), NOON_UTC)
