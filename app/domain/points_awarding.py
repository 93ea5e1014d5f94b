"""Awarding points: the one path by which every operation turns what it did into awards.

An operation collects its firings in the order awards apply (user creation, the event's metric,
the achievements it completed, its streak), then `award` prices each one (boosts, rounding,
cap and floor, by `points_rules`), stores the ledger lines with the running totals and reports
one `PointsChange` per system. Each firing's unit is spent exactly once: a creation and a
completion happen once by their own unique keys, a METRIC step or a STREAK multiple is spent by
moving a mark that only the operation holding the user's total can move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.announcements import Announcement, PointsChanged, PointsLevelChanged
from app.domain.attributes import attributes_match
from app.domain.errors import Conflict
from app.domain.model import User
from app.domain.outcomes import Unlock
from app.domain.points import (
    MetricRule,
    PointsChange,
    PointsProgram,
    PointsTrigger,
    StreakRule,
    UserCreationRule,
)
from app.domain.points_rules import boost_applies, boosted, clamped, level_at, metric_steps
from app.domain.ports import NewAward, PointsMark, PointsWrites, TotalChange
from app.domain.streaks import StreakView

__all__ = [
    "Firing",
    "OperationFacts",
    "PointsOutcome",
    "achievement_firings",
    "award",
    "award_operation",
]


@dataclass(frozen=True, slots=True)
class Firing:
    """One trigger firing for the operation's user: `base` points before boosts."""

    trigger: PointsTrigger
    base: int
    awarded_at: datetime


@dataclass(frozen=True, slots=True)
class PointsOutcome:
    changes: tuple[PointsChange, ...] = ()
    news: tuple[Announcement, ...] = ()


NOTHING = PointsOutcome()


@dataclass(frozen=True, slots=True)
class OperationFacts:
    """What an operation did that triggers react to; `at` is when its awards count."""

    at: datetime
    created: bool = False
    metric_id: int | None = None
    changes: Sequence[TotalChange] = ()
    unlocks: Sequence[Unlock] = ()
    streak: StreakView | None = None


async def award_operation(
    store: PointsWrites,
    tenant_id: int,
    program: PointsProgram,
    user: User,
    facts: OperationFacts,
    now: datetime,
) -> PointsOutcome:
    """The firings of one operation in the order awards apply: user creation, the event's
    metric, the achievements completed (in completion order), the streak's new length."""
    if program.empty:
        return NOTHING
    firings = creation_firings(program, user, facts.at) if facts.created else []
    if facts.metric_id is not None:
        firings += await metric_firings(
            store, tenant_id, program, user, facts.metric_id, facts.changes, facts.at
        )
    firings += achievement_firings(program, user, facts.unlocks, facts.at)
    if facts.streak is not None:
        firings += await streak_firings(store, tenant_id, program, user, facts.streak, facts.at)
    return await award(store, tenant_id, program, user, firings, now)


def creation_firings(program: PointsProgram, user: User, at: datetime) -> list[Firing]:
    return [
        Firing(t, t.points, at)
        for t in program.active_of(UserCreationRule)
        if attributes_match(t.user_attributes, user.attributes)
    ]


def achievement_firings(
    program: PointsProgram, user: User, unlocks: Sequence[Unlock], at: datetime | None = None
) -> list[Firing]:
    """In the order the operation completed them; `at` None: each completion's own time."""
    return [
        Firing(t, t.points, at or unlock.completed_at)
        for unlock in unlocks
        for t in program.on_achievement(unlock.achievement.id)
        if attributes_match(t.user_attributes, user.attributes)
    ]


async def metric_firings(
    store: PointsWrites,
    tenant_id: int,
    program: PointsProgram,
    user: User,
    metric_id: int,
    changes: Sequence[TotalChange],
    at: datetime,
) -> list[Firing]:
    """The steps the event's totals passed; a step is spent even when the user's attributes
    keep it from awarding."""
    triggers = program.on_metric(metric_id)
    if not triggers:
        return []
    by_attribute = {c.attribute: c for c in changes}
    followed = [
        (t, by_attribute[t.rule.event_attribute])
        for t in triggers
        if isinstance(t.rule, MetricRule) and t.rule.event_attribute in by_attribute
    ]
    if not followed:
        return []
    marks = await store.points_marks(user.pk, [t.id for t, _ in followed])
    moved: dict[int, PointsMark] = {}
    firings: list[Firing] = []
    for trigger, change in followed:
        assert isinstance(trigger.rule, MetricRule)
        stored = marks.get(trigger.id)
        steps = metric_steps(
            trigger.rule.threshold, stored.mark if stored else None, change.before, change.after
        )
        if steps.mark != (stored.mark if stored else 0):
            moved[trigger.id] = PointsMark(steps.mark)
        if steps.steps and attributes_match(trigger.user_attributes, user.attributes):
            firings.append(Firing(trigger, trigger.points * steps.steps, at))
    if moved:
        await store.save_points_marks(tenant_id, user.pk, moved)
    return firings


async def streak_firings(
    store: PointsWrites,
    tenant_id: int,
    program: PointsProgram,
    user: User,
    streak: StreakView,
    at: datetime,
) -> list[Firing]:
    """Each multiple of a STREAK trigger's length once per unbroken streak, known by its first
    period: a later start is a new streak (counted from k = 1), an earlier one the same streak
    joined to older periods by a late event."""
    triggers = [t for t in program.active_of(StreakRule) if _reaches(t, streak.length)]
    if not triggers or streak.started is None:
        return []
    marks = await store.points_marks(user.pk, [t.id for t in triggers])
    moved: dict[int, PointsMark] = {}
    firings: list[Firing] = []
    for trigger in triggers:
        assert isinstance(trigger.rule, StreakRule)
        done = _multiples_done(marks.get(trigger.id), streak.started)
        reached = streak.length // trigger.rule.length if trigger.rule.every_multiple else 1
        if reached <= done:
            continue
        moved[trigger.id] = PointsMark(reached, streak.started)
        if attributes_match(trigger.user_attributes, user.attributes):
            firings += [Firing(trigger, trigger.points, at)] * (reached - done)
    if moved:
        await store.save_points_marks(tenant_id, user.pk, moved)
    return firings


def _reaches(trigger: PointsTrigger, length: int) -> bool:
    return isinstance(trigger.rule, StreakRule) and length >= trigger.rule.length


def _multiples_done(mark: PointsMark | None, started: date) -> int:
    if mark is None or mark.since is None or started > mark.since:
        return 0
    return mark.mark


async def award(
    store: PointsWrites,
    tenant_id: int,
    program: PointsProgram,
    user: User,
    firings: Sequence[Firing],
    now: datetime,
    *,
    silent: bool = False,
) -> PointsOutcome:
    """Prices and stores the firings in order; `silent` (backdating) stores the same awards but
    announces nothing. An out-of-points deduction that must block refuses the whole operation."""
    if not firings:
        return NOTHING
    system_ids = sorted({f.trigger.system_id for f in firings})
    totals = await store.lock_points_totals(tenant_id, user.pk, system_ids)
    before = dict(totals)
    new: list[NewAward] = []
    for firing in firings:
        new.append(_price(program, user, firing, totals))
    stored = await store.save_points(tenant_id, user.pk, totals, new, now, silent=silent)
    changes: list[PointsChange] = []
    news: list[Announcement] = []
    for system in program.systems:
        awards = tuple(a for a in stored if a.system_id == system.id)
        if not awards:
            continue
        levels = program.levels_of(system.id)
        was, now_at = level_at(levels, before[system.id]), level_at(levels, totals[system.id])
        change = PointsChange(
            system_id=system.id,
            added=sum(a.awarded for a in awards),
            total=totals[system.id],
            level_id=now_at.id if now_at else None,
            previous_level_id=was.id if was else None,
            awards=awards,
        )
        changes.append(change)
        if change.added:
            news.append(PointsChanged.of(user.id, change))
        if change.level_changed:
            news.append(PointsLevelChanged.of(user.id, change))
    if silent:
        return PointsOutcome(tuple(changes))
    return PointsOutcome(tuple(changes), tuple(news))


def _price(program: PointsProgram, user: User, firing: Firing, totals: dict[int, int]) -> NewAward:
    trigger = firing.trigger
    system = program.system(trigger.system_id)
    applying = [
        b
        for b in program.boosts_of(system.id)
        if boost_applies(b, user.pk, user.tz, user.attributes, firing.awarded_at)
    ]
    price = boosted(firing.base, applying)
    total = totals[system.id]
    if (
        isinstance(trigger.rule, MetricRule)
        and trigger.rule.block_if_out_of_points
        and total + price.amount < 0
    ):
        raise Conflict(
            f"not enough points in {system.key!r} for this event",
            reason="INSUFFICIENT_POINTS",
            pointsSystemKey=system.key,
        )
    awarded = clamped(price.amount, total, system.cap)
    totals[system.id] = total + awarded
    return NewAward(
        system_id=system.id,
        trigger_id=trigger.id,
        awarded=awarded,
        total=total + awarded,
        awarded_at=firing.awarded_at,
        multiplier=price.multiplier,
        boost_ids=tuple(b.id for b in price.boosts),
    )
