"""Awarding points: the one path by which every operation turns what it did into awards.

An operation hands over what it did (`OperationFacts`); the triggers that may react are picked
from the program, their marks and the user's totals are read in one round trip, the firings are
worked out and priced by the pure rules (`points_rules`: steps, boosts, rounding, cap, floor),
and the awards, the moved marks and the running totals are stored together. Each firing's unit
is spent exactly once: a creation and a completion happen once by their own unique keys, a
METRIC step or a STREAK multiple by a mark that only the operation holding the user's row lock
can move (every operation that awards to a user locks that user's row first).
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
    PointsAward,
    PointsChange,
    PointsProgram,
    PointsTrigger,
    StreakRule,
    UserCreationRule,
)
from app.domain.points_rules import boost_applies, boosted, clamped, level_at, metric_steps
from app.domain.ports import NewAward, PointsMark, PointsWrites, SystemPoints, TotalChange
from app.domain.streaks import StreakView

__all__ = ["OperationFacts", "PointsOutcome", "award_operation"]


@dataclass(frozen=True, slots=True)
class OperationFacts:
    """What an operation did that triggers react to; `at` is when its awards count."""

    at: datetime
    created: bool = False
    metric_id: int | None = None
    changes: Sequence[TotalChange] = ()
    unlocks: Sequence[Unlock] = ()
    streak: StreakView | None = None


@dataclass(frozen=True, slots=True)
class PointsOutcome:
    changes: tuple[PointsChange, ...] = ()
    news: tuple[Announcement, ...] = ()


NOTHING = PointsOutcome()


@dataclass(frozen=True, slots=True)
class _Firing:
    trigger: PointsTrigger
    base: int


async def award_operation(
    store: PointsWrites,
    tenant_id: int,
    program: PointsProgram,
    user: User,
    facts: OperationFacts,
    now: datetime,
    *,
    silent: bool = False,
) -> PointsOutcome:
    """Awards in the order they apply: user creation, the event's metric, the achievements
    completed (in completion order), the streak's new length. `silent` (backdating) stores
    the same awards and announces nothing. An out-of-points deduction that must block refuses
    the whole operation (the caller's transaction rolls back)."""
    if program.empty:
        return NOTHING
    candidates = _candidates(program, facts)
    if not candidates:
        return NOTHING
    systems = sorted({t.system_id for t in candidates})
    state = await store.points_state(user.pk, systems)
    work = _Work(program, user, facts, state)
    for trigger in candidates:
        work.consider(trigger)
    if not work.firings and not work.marks:
        return NOTHING
    before = {system: row.total for system, row in state.items()}
    totals = dict(before)
    awards = [work.price(f, totals) for f in work.firings]
    rows = work.rows(totals, awards)
    stored = await store.save_points(tenant_id, user.pk, rows, awards, now, silent=silent)
    return _outcome(program, user, before, totals, stored, silent)


EMPTY = SystemPoints()


def _candidates(program: PointsProgram, facts: OperationFacts) -> list[PointsTrigger]:
    """Only the triggers the operation's own facts can set off: never a scan of them all."""
    found: list[PointsTrigger] = []
    if facts.created:
        found += program.active_of(UserCreationRule)
    if facts.metric_id is not None:
        found += program.on_metric(facts.metric_id)
    for unlock in facts.unlocks:
        found += program.on_achievement(unlock.achievement.id)
    if facts.streak is not None and facts.streak.started is not None:
        length = facts.streak.length
        found += [
            t
            for t in program.active_of(StreakRule)
            if isinstance(t.rule, StreakRule) and length >= t.rule.length
        ]
    return found


class _Work:
    """One operation's firings and the marks they move, worked out from the state read."""

    def __init__(
        self,
        program: PointsProgram,
        user: User,
        facts: OperationFacts,
        state: dict[int, SystemPoints],
    ) -> None:
        self.program, self.user, self.facts, self.state = program, user, facts, state
        self.changes = {c.attribute: c for c in facts.changes}
        self.firings: list[_Firing] = []
        self.marks: dict[int, PointsMark] = {}

    def consider(self, trigger: PointsTrigger) -> None:
        """A unit is spent even when the user's attributes keep it from awarding."""
        rule = trigger.rule
        times = 1
        if isinstance(rule, MetricRule):
            times = self._steps(trigger, rule)
        elif isinstance(rule, StreakRule):
            times = self._multiples(trigger, rule)
        if times and attributes_match(trigger.user_attributes, self.user.attributes):
            if isinstance(rule, MetricRule):
                self.firings.append(_Firing(trigger, trigger.points * times))
            else:
                self.firings += [_Firing(trigger, trigger.points)] * times

    def _steps(self, trigger: PointsTrigger, rule: MetricRule) -> int:
        change = self.changes.get(rule.event_attribute)
        if change is None:
            return 0
        stored = self._mark(trigger)
        mark = stored.mark if stored else 0
        steps = metric_steps(rule.threshold, mark if stored else None, change.before, change.after)
        if steps.mark != mark:
            self.marks[trigger.id] = PointsMark(steps.mark)
        return steps.steps

    def _multiples(self, trigger: PointsTrigger, rule: StreakRule) -> int:
        """Each multiple once per unbroken streak, known by its first period: a later start is
        a new streak (from k = 1), an earlier one the same streak joined to older periods."""
        streak = self.facts.streak
        assert streak is not None and streak.started is not None
        done = _multiples_done(self._mark(trigger), streak.started)
        reached = streak.length // rule.length if rule.every_multiple else 1
        if reached <= done:
            return 0
        self.marks[trigger.id] = PointsMark(reached, streak.started)
        return reached - done

    def rows(self, totals: dict[int, int], awards: Sequence[NewAward]) -> dict[int, SystemPoints]:
        """What to write back: each system whose total or marks moved, whole."""
        moved: dict[int, dict[int, PointsMark]] = {}
        for trigger_id, mark in self.marks.items():
            moved.setdefault(self.program.trigger_system(trigger_id), {})[trigger_id] = mark
        touched = moved.keys() | {a.system_id for a in awards}
        return {
            system: SystemPoints(
                totals.get(system, 0),
                {**self.state.get(system, EMPTY).marks, **moved.get(system, {})},
            )
            for system in sorted(touched)
        }

    def _mark(self, trigger: PointsTrigger) -> PointsMark | None:
        return self.state.get(trigger.system_id, EMPTY).marks.get(trigger.id)

    def price(self, firing: _Firing, totals: dict[int, int]) -> NewAward:
        trigger, at = firing.trigger, self.facts.at
        system = self.program.system(trigger.system_id)
        user = self.user
        applying = [
            b
            for b in self.program.boosts_of(system.id)
            if boost_applies(b, user.pk, user.tz, user.attributes, at)
        ]
        price = boosted(firing.base, applying)
        total = totals.get(system.id, 0)
        rule = trigger.rule
        if (
            isinstance(rule, MetricRule)
            and rule.block_if_out_of_points
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
            awarded_at=at,
            multiplier=price.multiplier,
            boost_ids=tuple(b.id for b in price.boosts),
        )


def _multiples_done(mark: PointsMark | None, started: date) -> int:
    if mark is None or mark.since is None or started > mark.since:
        return 0
    return mark.mark


def _outcome(
    program: PointsProgram,
    user: User,
    before: dict[int, int],
    after: dict[int, int],
    stored: Sequence[PointsAward],
    silent: bool,
) -> PointsOutcome:
    """One change per system with an award, in system creation order; the level is judged
    once per system, after the operation's last award."""
    changes: list[PointsChange] = []
    news: list[Announcement] = []
    for system in program.systems:
        awards = tuple(a for a in stored if a.system_id == system.id)
        if not awards:
            continue
        levels = program.levels_of(system.id)
        was = level_at(levels, before.get(system.id, 0))
        now_at = level_at(levels, after[system.id])
        change = PointsChange(
            system_id=system.id,
            added=sum(a.awarded for a in awards),
            total=after[system.id],
            level_id=now_at.id if now_at else None,
            previous_level_id=was.id if was else None,
            awards=awards,
        )
        changes.append(change)
        if change.added:
            news.append(PointsChanged.of(user.id, change))
        if change.level_changed:
            news.append(PointsLevelChanged.of(user.id, change))
    return PointsOutcome(tuple(changes), () if silent else tuple(news))
