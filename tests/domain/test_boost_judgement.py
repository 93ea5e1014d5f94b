"""The boost clock's judgement: what a due boost announces and when it is looked at next."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.domain.announcements import BoostFinished, BoostStarted
from app.domain.boost_clock import BoostProgress, DueBoost, first_due, judge
from app.domain.points import BoostScope, PointsBoost, PointsRounding


def boost(start: date, end: date | None, scope: BoostScope = BoostScope.GLOBAL) -> PointsBoost:
    return PointsBoost(
        id=1,
        system_id=1,
        key="b",
        name="B",
        multiplier=Decimal(2),
        start=start,
        end=end,
        rounding=PointsRounding.DOWN,
        scope=scope,
        user_pk=7 if scope is BoostScope.USER else None,
    )


def test_a_global_boost_is_first_due_when_its_day_begins_in_the_earliest_zone() -> None:
    b = boost(date(2026, 12, 10), date(2026, 12, 12))
    assert first_due(b) == datetime(2026, 12, 9, 10, tzinfo=UTC)
    assert first_due(b, started_sent=True) == datetime(2026, 12, 13, 12, tzinfo=UTC)
    assert first_due(boost(date(2026, 12, 10), None), started_sent=True) is None


def test_started_then_due_at_its_end_then_finished_with_nothing_left() -> None:
    b = boost(date(2026, 12, 10), date(2026, 12, 12))
    news, progress = judge(DueBoost(1, b, False), datetime(2026, 12, 9, 10, tzinfo=UTC))
    assert news == [BoostStarted(1)]
    assert progress == BoostProgress(True, False, datetime(2026, 12, 13, 12, tzinfo=UTC))
    news, progress = judge(DueBoost(1, b, True), datetime(2026, 12, 13, 12, tzinfo=UTC))
    assert news == [BoostFinished(1)] and progress == BoostProgress(True, True, None)


def test_an_open_ended_boost_is_not_looked_at_again_once_started() -> None:
    b = boost(date(2026, 12, 10), None)
    news, progress = judge(DueBoost(1, b, False), datetime(2026, 12, 11, tzinfo=UTC))
    assert news == [BoostStarted(1)] and progress.due_at is None


def test_a_user_boost_waits_for_its_users_own_midnight() -> None:
    """Due by the widest window (UTC+14), a Los Angeles user's day begins 22 hours later."""
    b = boost(date(2026, 12, 10), date(2026, 12, 10), BoostScope.USER)
    widest = first_due(b)
    assert widest is not None
    news, progress = judge(DueBoost(1, b, False, "America/Los_Angeles"), widest)
    assert news == []
    assert progress == BoostProgress(False, False, datetime(2026, 12, 10, 8, tzinfo=UTC))
    later = widest + timedelta(hours=22)
    assert judge(DueBoost(1, b, False, "America/Los_Angeles"), later)[0] == [BoostStarted(1)]
