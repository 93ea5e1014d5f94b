"""The read side: what a caller sees of the catalogue, of a user and of a streak, in what
order and with what progress.

Pure functions over loaded values and an explicit `now`, so every transport (GraphQL, the Trophy
REST facade, and the dashboard to come) shows the same thing, and the rules are tested without
I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.domain import streak_ledger
from app.domain.errors import BadUserInput
from app.domain.model import (
    Achievement,
    AchievementStatus,
    Attribute,
    Caller,
    MetricTrigger,
    StreakSettings,
    User,
)
from app.domain.ports import Standing, StoredStreak
from app.domain.progress import Progress
from app.domain.streak_ledger import ApiGrant, HistoryPeriod
from app.domain.streak_tracking import context, current_ledger
from app.domain.streaks import StreakView, local_date
from app.domain.triggers import UserStanding, completed_progress, progress
from app.domain.visibility import (
    as_seen_by,
    attainable,
    catalogue_statuses,
    visible_in_catalogue,
    visible_to_user,
)


@dataclass(frozen=True, slots=True)
class UserAchievementView:
    """One line of a user's achievements: the achievement as the caller may see it."""

    achievement: Achievement
    achieved_at: datetime | None
    progress: Progress


def seen_completions(caller: Caller, own_standing: Standing | None) -> frozenset[int]:
    """What masking depends on: a user token's own completions (keys see everything)."""
    if caller.is_key or own_standing is None:
        return frozenset()
    return frozenset(own_standing.completed_at)


def catalogue(
    achievements: Iterable[Achievement],
    caller: Caller,
    requested: Collection[AchievementStatus] | None,
    completed: Collection[int],
) -> list[Achievement]:
    """The `achievements` list: visible ones in creation order, masked where they must be."""
    statuses = catalogue_statuses(caller, requested)
    return [
        as_seen_by(a, caller, a.id in completed)
        for a in achievements
        if visible_in_catalogue(a, caller, statuses, a.id in completed)
    ]


def achievement_by_key(
    achievements: Iterable[Achievement], key: str, caller: Caller, completed: Collection[int]
) -> Achievement | None:
    """One achievement, as the catalogue would show it; an ARCHIVED one counts as asked for."""
    found = next((a for a in achievements if a.key == key), None)
    if found is None:
        return None
    explicit = [found.status] if found.status is AchievementStatus.ARCHIVED else None
    shown = catalogue([found], caller, explicit, completed)
    return shown[0] if shown else None


def open_to(
    achievements: Iterable[Achievement],
    caller: Caller,
    completed: Collection[int],
    user_attributes: Collection[Attribute] | None,
) -> list[Achievement]:
    """The ACTIVE achievements of the catalogue; with `user_attributes`, only those a user with
    them could complete (Trophy's `GET /achievements?userAttributes=`)."""
    active = catalogue(achievements, caller, [AchievementStatus.ACTIVE], completed)
    if user_attributes is None:
        return active
    return [a for a in active if attainable(a, user_attributes)]


def prerequisites(
    found: Iterable[Achievement], caller: Caller, completed: Collection[int]
) -> list[Achievement]:
    """A composite's prerequisites under the catalogue's rules: what the caller could not list
    (an INACTIVE one, for a SERVER key or a user token) is left out, and a hidden one is masked,
    so that neither leaks through its composite. ADMIN keys see them all."""
    if caller.is_admin:
        return list(found)
    statuses = catalogue_statuses(caller, None)
    return [
        as_seen_by(a, caller, a.id in completed)
        for a in found
        if visible_in_catalogue(a, caller, statuses, a.id in completed)
    ]


def user_streak(
    settings: StreakSettings | None, standing: Standing | None, now: datetime
) -> StreakView | None:
    """None when the tenant has no streak configured; the rule as of now, whether or not the
    streak clock has judged the periods that ended since the user's last event."""
    if settings is None or standing is None:
        return None
    user = standing.user
    ctx = context(settings, user)
    stored = standing.streak or StoredStreak(None)
    ledger = current_ledger(stored.state, settings)
    if ledger is None:
        ledger, _ = streak_ledger.evaluate(
            ctx, stored.days, stored.grants, local_date(now, user.tz)
        )
    else:
        ledger, _ = streak_ledger.up_to_now(ledger, ctx, now, user.tz)
    return streak_ledger.view(ledger, ctx, now, user.tz)


def user_achievements(
    achievements: Sequence[Achievement],
    user: User,
    standing: Standing | None,
    streak: StreakView | None,
    caller: Caller,
    *,
    include_incomplete: bool,
) -> list[UserAchievementView]:
    """Completed achievements the user can see, oldest first; with `include_incomplete`, then
    the ones the user could still complete, in creation order, with progress."""
    completed_at = standing.completed_at if standing else {}
    basis = UserStanding(
        totals=standing.totals if standing else {},
        streak_length=streak.length if streak else 0,
        completed_ids=completed_at.keys(),
    )
    done = sorted(
        (a for a in achievements if a.id in completed_at and visible_to_user(a, True)),
        key=lambda a: (completed_at[a.id], a.id),
    )
    rows: list[tuple[Achievement, datetime | None]] = [(a, completed_at[a.id]) for a in done]
    if include_incomplete:
        rows += [
            (a, None)
            for a in achievements
            if a.id not in completed_at and attainable(a, user.attributes)
        ]
    return [
        UserAchievementView(
            achievement=as_seen_by(a, caller, at is not None),
            achieved_at=at,
            progress=progress(a.trigger, basis, completed=at is not None),
        )
        for a, at in rows
    ]


def metric_achievements(
    views: Iterable[UserAchievementView], metric_id: int
) -> list[UserAchievementView]:
    """A user's lines (from `user_achievements`) on one metric, by the total that completes
    them: the ladder a metric's progress screen shows."""
    on_metric = [
        v
        for v in views
        if isinstance(v.achievement.trigger, MetricTrigger)
        and v.achievement.trigger.metric_id == metric_id
    ]
    return sorted(on_metric, key=lambda v: _threshold(v.achievement))


def _threshold(achievement: Achievement) -> tuple[float, int]:
    assert isinstance(achievement.trigger, MetricTrigger)
    return achievement.trigger.threshold, achievement.id


def unlocked(achievement: Achievement, caller: Caller, at: datetime) -> UserAchievementView:
    """A completion as its subscriber sees it: earned, so never masked."""
    return UserAchievementView(
        achievement=as_seen_by(achievement, caller, True),
        achieved_at=at,
        progress=completed_progress(achievement.trigger),
    )


MAX_HISTORY = 100


def streak_history(
    settings: StreakSettings,
    user: User,
    days: Sequence[date],
    grants: Sequence[ApiGrant],
    now: datetime,
    periods: int,
    *,
    most: int = MAX_HISTORY,
) -> list[HistoryPeriod]:
    """The last `periods` periods (1 to `most`), the current one first, evaluated from the
    user's days and grants (exactly what the stored ledger holds, period by period)."""
    if not 1 <= periods <= most:
        raise BadUserInput(f"periods must be between 1 and {most}", field="periods")
    ctx = context(settings, user)
    return streak_ledger.history(ctx, days, grants, now, user.tz, periods)


MAX_CHART_DAYS = 366


def chart_days(days: int, now: datetime) -> tuple[date, date]:
    """The first and last UTC day of a `days`-long chart ending today."""
    if not 1 <= days <= MAX_CHART_DAYS:
        raise BadUserInput(f"days must be between 1 and {MAX_CHART_DAYS}", field="days")
    last = now.astimezone(UTC).date()
    return last - timedelta(days=days - 1), last


def daily_series(counts: Mapping[date, int], first: date, last: date) -> list[tuple[date, int]]:
    """Every day from `first` to `last`, with 0 where nothing was completed."""
    span = (last - first).days + 1
    return [
        (first + timedelta(days=n), counts.get(first + timedelta(days=n), 0)) for n in range(span)
    ]
