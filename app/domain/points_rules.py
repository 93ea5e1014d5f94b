"""The arithmetic of points, pure: steps, boosts, rounding, cap and floor, levels, histograms.

Everything that decides how many points a firing is worth lives here, so the storage only keeps
what these functions return and the reference model in the tests has one thing to match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

from app.domain.attributes import Attribute, attributes_match
from app.domain.points import BoostScope, BoostStatus, PointsBoost, PointsLevel, PointsRounding

MAX_MULTIPLIER = Decimal(1000)
EXACT_DIGITS = 40
"""Enough precision that no multiplication rounds: each multiplier has at most 6 digits."""
ROUNDING_MODES = {
    PointsRounding.DOWN: ROUND_FLOOR,
    PointsRounding.UP: ROUND_CEILING,
    PointsRounding.NEAREST: ROUND_HALF_UP,
}


@dataclass(frozen=True, slots=True)
class Steps:
    """A METRIC trigger's firing: `steps` new multiples of its threshold (0: none), and the
    high-water mark to keep."""

    steps: int
    mark: int


def metric_steps(threshold: float, mark: int | None, before: float, after: float) -> Steps:
    """`mark` is the highest step spent (None: none yet). The steps `before` had reached are
    spent too: after every evaluated change the mark is at least the total's step, so this only
    matters on the first change after the trigger came on, whose passed steps are never awarded.
    A total that falls and climbs back never re-awards a step."""
    baseline = _step_of(before, threshold)
    spent = baseline if mark is None else max(mark, baseline)
    reached = _step_of(after, threshold)
    if reached > spent:
        return Steps(reached - spent, reached)
    return Steps(0, spent)


def _step_of(total: float, threshold: float) -> int:
    """The highest step s with `s * threshold <= total` in IEEE doubles, compared as
    achievements compare, and at most MAX_STEP. The product is monotone in s, so the search
    around the quotient is exact and bounded (about a hundred products) even where doubles are
    millions of steps apart."""
    if not total >= threshold:
        return 0
    quotient = total / threshold
    guess = min(int(quotient), MAX_STEP) if math.isfinite(quotient) else MAX_STEP
    if guess < MAX_STEP and guess * threshold <= total < (guess + 1) * threshold:
        return guess  # the quotient was right, as it nearly always is: no search

    def reached(step: int) -> bool:
        return step * threshold <= total

    low, gap = guess, 1
    while low > 1 and not reached(low):
        low, gap = max(low - gap, 1), gap * 2
    high, gap = guess + 1, 1
    while high <= MAX_STEP and reached(high):
        high, gap = high + gap, gap * 2
    high = min(high, MAX_STEP + 1)
    while high - low > 1:
        middle = (low + high) // 2
        if reached(middle):
            low = middle
        else:
            high = middle
    return low


MAX_STEP = 2**62
"""Steps beyond it (a total of 4.6e18 thresholds) are never reached: marks are 64-bit."""


def boost_applies(
    boost: PointsBoost,
    user_pk: int,
    user_tz: str,
    user_attributes: Sequence[Attribute],
    awarded_at: datetime,
) -> bool:
    """By the award's own moment, as a date in the user's zone: a backdated event's award gets
    the boosts of the event's day."""
    if boost.archived:
        return False
    day = awarded_at.astimezone(ZoneInfo(user_tz)).date()
    if day < boost.start or (boost.end is not None and day > boost.end):
        return False
    if boost.scope is BoostScope.USER:
        return boost.user_pk == user_pk
    if boost.scope is BoostScope.USER_ATTRIBUTES:
        return attributes_match(boost.user_attributes, user_attributes)
    return True


@dataclass(frozen=True, slots=True)
class Boosted:
    amount: int
    multiplier: Decimal
    boosts: tuple[PointsBoost, ...]


def boosted(base: int, boosts: Sequence[PointsBoost]) -> Boosted:
    """Multipliers multiply exactly as decimals (10 x 1.1 is 11, with precision enough for any
    number of boosts), the product capped at 1000, then one rounding: the boosts' common mode,
    DOWN when they disagree. Deductions are never boosted."""
    if base <= 0 or not boosts:
        return Boosted(base, Decimal(1), ())
    with localcontext() as exact:
        exact.prec = EXACT_DIGITS + 6 * len(boosts) + len(str(base))
        product = Decimal(1)
        for boost in boosts:
            product *= boost.multiplier
        product = min(product, MAX_MULTIPLIER)
        modes = {b.rounding for b in boosts}
        mode = modes.pop() if len(modes) == 1 else PointsRounding.DOWN
        amount = int((base * product).to_integral_value(rounding=ROUNDING_MODES[mode]))
    return Boosted(amount, product, tuple(boosts))


def clamped(amount: int, total: int, cap: int) -> int:
    """What an amount changes a total by: never above the cap (a total above a lowered cap
    gets nothing positive) and never below 0."""
    if amount > 0:
        return min(amount, max(cap - total, 0))
    return max(amount, -total)


def level_at(levels: Sequence[PointsLevel], total: int) -> PointsLevel | None:
    """The level with the highest threshold the total has reached (`>=`)."""
    reached = [lv for lv in levels if total >= lv.points]
    return max(reached, key=lambda lv: lv.points) if reached else None


def next_level(levels: Sequence[PointsLevel], total: int) -> PointsLevel | None:
    above = [lv for lv in levels if lv.points > total]
    return min(above, key=lambda lv: lv.points) if above else None


def histogram_ranges(largest: int) -> list[tuple[int, int]]:
    """`[0, 0]`, then ten equal ranges up to the smallest power of 10 at or above the largest
    total (and at least 10)."""
    power = 10
    while power < largest:
        power *= 10
    width = power // 10
    return [(0, 0), *(((i - 1) * width + 1, i * width) for i in range(1, 11))]


EARLIEST_ZONE = timedelta(hours=14)
LATEST_ZONE = timedelta(hours=12)


def boost_window(boost: PointsBoost, user_tz: str | None) -> tuple[datetime, datetime | None]:
    """The instants a boost starts and finishes: in its user's zone for a USER boost, else
    from the start of `start` in the earliest zone (UTC+14) to the end of `end` in the latest
    (UTC-12)."""
    if user_tz is not None:
        zone = ZoneInfo(user_tz)
        begins = datetime.combine(boost.start, time(), zone).astimezone(UTC)
        ends = (
            None
            if boost.end is None
            else datetime.combine(boost.end + timedelta(days=1), time(), zone).astimezone(UTC)
        )
        return begins, ends
    begins = datetime.combine(boost.start, time(), UTC) - EARLIEST_ZONE
    ends = (
        None
        if boost.end is None
        else datetime.combine(boost.end + timedelta(days=1), time(), UTC) + LATEST_ZONE
    )
    return begins, ends


def boost_status(boost: PointsBoost, user_tz: str | None, now: datetime) -> BoostStatus:
    """By the window of `boost_window`; ARCHIVED is final."""
    if boost.archived:
        return BoostStatus.ARCHIVED
    begins, ends = boost_window(boost, user_tz)
    if now < begins:
        return BoostStatus.SCHEDULED
    if ends is not None and now >= ends:
        return BoostStatus.FINISHED
    return BoostStatus.ACTIVE


def boosts_today(
    boosts: Sequence[PointsBoost],
    user_pk: int,
    user_tz: str,
    user_attributes: Sequence[Attribute],
    now: datetime,
) -> list[PointsBoost]:
    """What would multiply a positive award made now: `UserPoints.boosts`."""
    return [b for b in boosts if boost_applies(b, user_pk, user_tz, user_attributes, now)]
