"""The read side's rules as pure functions: who sees what, in which order, masked how, with
what progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import queries
from app.domain.errors import BadUserInput
from app.domain.model import (
    Achievement,
    AchievementStatus,
    ApiTrigger,
    Attribute,
    Caller,
    CallerKind,
    CompositeTrigger,
    MetricTrigger,
    StreakSettings,
    StreakTrigger,
    User,
)
from app.domain.ports import Standing
from app.domain.streaks import StreakFrequency
from app.domain.triggers import UserStanding, progress
from app.domain.visibility import HIDDEN_NAME

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ADMIN = Caller(1, CallerKind.ADMIN)
SERVER = Caller(1, CallerKind.SERVER)
TOKEN = Caller(1, CallerKind.USER, user_id="ada")
S = AchievementStatus
ADA = User(pk=7, id="ada", tz="UTC", attributes=(), created_at=NOW)


def make(i: int, status: AchievementStatus = S.ACTIVE, **extra: object) -> Achievement:
    extra.setdefault("trigger", ApiTrigger())
    return Achievement(id=i, key=f"a{i}", name=f"A{i}", status=status, **extra)  # type: ignore[arg-type]


def standing(completed: dict[int, datetime], **totals: float) -> Standing:
    return Standing(user=ADA, completed_at=completed, totals={}, streak=None)


def keys(achievements: list[Achievement]) -> list[str]:
    return [a.key for a in achievements]


CATALOGUE = [make(1), make(2, S.INACTIVE), make(3, S.LOCKED), make(4, S.ARCHIVED)]


def test_the_catalogue_by_caller_and_requested_status() -> None:
    assert keys(queries.catalogue(CATALOGUE, ADMIN, None, ())) == ["a1", "a2", "a3"]
    assert keys(queries.catalogue(CATALOGUE, ADMIN, [S.ARCHIVED], ())) == ["a4"]
    assert keys(queries.catalogue(CATALOGUE, SERVER, None, ())) == ["a1"]
    assert keys(queries.catalogue(CATALOGUE, SERVER, [S.INACTIVE], ())) == []
    assert keys(queries.catalogue(CATALOGUE, TOKEN, None, ())) == ["a1"]
    assert keys(queries.catalogue(CATALOGUE, TOKEN, None, {3})) == ["a1", "a3"]


def test_one_achievement_counts_archived_as_asked_for() -> None:
    assert queries.achievement_by_key(CATALOGUE, "a4", ADMIN, ()) is not None
    assert queries.achievement_by_key(CATALOGUE, "a4", SERVER, ()) is None
    assert queries.achievement_by_key(CATALOGUE, "a2", TOKEN, ()) is None
    assert queries.achievement_by_key(CATALOGUE, "zz", ADMIN, ()) is None


def test_hidden_ones_are_masked_for_a_user_token_until_earned() -> None:
    secret = make(1, hidden=True, description="d", badge_url="https://b")
    shown = queries.catalogue([secret], TOKEN, None, ())[0]
    assert (shown.name, shown.description, shown.badge_url) == (HIDDEN_NAME, None, None)
    assert queries.catalogue([secret], TOKEN, None, {1})[0] == secret
    assert queries.catalogue([secret], SERVER, None, ())[0] == secret
    assert queries.prerequisites([secret], TOKEN, ())[0].name == HIDDEN_NAME


def test_a_users_list_is_completed_oldest_first_then_attainable_in_creation_order() -> None:
    pro = (Attribute("plan", "pro"),)
    catalogue = [make(1), make(2), make(3, S.LOCKED), make(4, user_attributes=pro), make(5)]
    done = {5: NOW - timedelta(hours=2), 2: NOW - timedelta(hours=1), 3: NOW}
    views = queries.user_achievements(
        catalogue, ADA, standing(done), None, SERVER, include_incomplete=True
    )
    assert [(v.achievement.key, v.achieved_at is not None) for v in views] == [
        ("a5", True),
        ("a2", True),
        ("a3", True),
        ("a1", False),
    ]
    only_done = queries.user_achievements(
        catalogue, ADA, standing(done), None, SERVER, include_incomplete=False
    )
    assert keys([v.achievement for v in only_done]) == ["a5", "a2", "a3"]


def test_no_streak_configured_means_no_streak() -> None:
    assert queries.user_streak(None, None, NOW) is None


TRIGGERS = st.one_of(
    st.builds(MetricTrigger, st.just(1), st.floats(0.5, 100)),
    st.builds(StreakTrigger, st.integers(1, 30)),
    st.just(ApiTrigger()),
    st.builds(CompositeTrigger, st.lists(st.integers(1, 5), min_size=1, max_size=5).map(tuple)),
)


@given(
    TRIGGERS,
    st.floats(-1000, 1000),
    st.integers(0, 40),
    st.sets(st.integers(1, 5)),
    st.booleans(),
)
def test_progress_stays_within_its_bar_and_is_full_once_completed(
    trigger: object, total: float, length: int, completed: set[int], done: bool
) -> None:
    basis = UserStanding(totals={(1, None): total}, streak_length=length, completed_ids=completed)
    shown = progress(trigger, basis, completed=done)  # type: ignore[arg-type]
    assert 0 <= shown.current <= shown.target
    assert 0 <= shown.percent <= 100
    if done:
        assert shown.current == shown.target


def test_prerequisites_follow_the_catalogue_rules() -> None:
    found = [make(1), make(2, S.INACTIVE), make(3, S.LOCKED), make(4, S.ARCHIVED)]
    assert keys(queries.prerequisites(found, ADMIN, ())) == ["a1", "a2", "a3", "a4"]
    assert keys(queries.prerequisites(found, SERVER, ())) == ["a1"]
    assert keys(queries.prerequisites(found, TOKEN, ())) == ["a1"]
    assert keys(queries.prerequisites(found, TOKEN, {3})) == ["a1", "a3"]


def test_streak_history_counts_each_periods_run() -> None:
    today = NOW.date()
    days = [today - timedelta(days=n) for n in (1, 2, 4)]
    settings = StreakSettings(StreakFrequency.DAILY, (1,))
    user = User(pk=1, id="u", tz="UTC", attributes=(), created_at=NOW - timedelta(days=9))
    history = queries.streak_history(settings, user, days, [], NOW, 6)
    assert [(p.start, p.length) for p in history] == [
        (today, 2),  # still open: carries the run that ends yesterday
        (today - timedelta(days=1), 2),
        (today - timedelta(days=2), 1),
        (today - timedelta(days=3), 0),
        (today - timedelta(days=4), 1),
        (today - timedelta(days=5), 0),
    ]
    assert all(p.start == p.end and not p.used_freeze for p in history)
    with_today = queries.streak_history(settings, user, [*days, today], [], NOW, 1)
    assert with_today[0].length == 3
    with pytest.raises(BadUserInput):
        queries.streak_history(settings, user, days, [], NOW, 101)
