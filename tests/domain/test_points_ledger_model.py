"""The points ledger that `EventEngine.track_event` writes, against a plain reference model.

Hypothesis builds a small points program (one or two systems, some capped; METRIC triggers on
one or two metrics, some following an event attribute, some blocking when out of points, some
switched off and on between events; a USER_CREATION trigger; levels; GLOBAL and USER_ATTRIBUTES
boosts over dates around the events') and a sequence of events from users in different time
zones, runs it through the real engine over the in-memory fakes, and after every step compares
the stored ledger, totals, METRIC marks and the `points` payload with what a few lines of
Python say the rules (points spec, sections 11-13) give. The model shares no code with
`points_rules` / `points_awarding`: steps are counted up one threshold at a time, boosts are
multiplied as `Fraction`s and rounded by hand, levels are found by a scan. So a slip in the
engine's arithmetic, its ordering of firings, its high-water marks or its all-or-nothing
refusal (INSUFFICIENT_POINTS) shows up as a disagreement with the smallest example.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from fakes import EPOCH, FakeDatabase, FakeDefinitions, SteppingClock
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from app.domain.attributes import Attribute
from app.domain.engine import EventEngine
from app.domain.errors import Conflict
from app.domain.model import Caller, CallerKind
from app.domain.outcomes import TrackEvent
from app.domain.points import (
    BoostScope,
    MetricRule,
    PointsBoost,
    PointsChange,
    PointsLevel,
    PointsProgram,
    PointsRounding,
    PointsSystem,
    PointsTrigger,
    PointsTriggerStatus,
    UserCreationRule,
)
from app.domain.ports import UserProfile

TENANT = 1
SERVER = Caller(tenant_id=TENANT, kind=CallerKind.SERVER)
NOW = EPOCH  # the SteppingClock's start; every event occurred in the few days before it
METRICS = ("m1", "m2")
METRIC_IDS = (1, 2)  # what a fresh FakeDatabase gives the two metrics, checked in `World`
CAP_OF_INT = 2_147_483_647
ACTIVE, INACTIVE = PointsTriggerStatus.ACTIVE, PointsTriggerStatus.INACTIVE
DOWN, UP, NEAREST = PointsRounding.DOWN, PointsRounding.UP, PointsRounding.NEAREST
PRO, BASIC = Attribute("plan", "pro"), Attribute("plan", "basic")
KIND_A, KIND_B = Attribute("kind", "a"), Attribute("kind", "b")
ZONES = ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/Los_Angeles")
THRESHOLDS = (0.5, 1.0, 2.5, 3.0, 7.0, 10.0, 0.1)
MULTIPLIERS = ("1.5", "2", "1.1", "0.5", "3.25", "1.0001", "40", "50")


# --- the reference model ----------------------------------------------------------------------


@cache
def step_of(total: float, threshold: float) -> int:
    """The highest s >= 1 with total >= s * threshold (doubles), 0 if none: counted up."""
    s = 0
    while total >= (s + 1) * threshold:
        s += 1
    return s


def rounded(x: Fraction, mode: PointsRounding) -> int:
    if mode is UP:
        return math.ceil(x)
    if mode is NEAREST:
        return math.floor(x + Fraction(1, 2))
    return math.floor(x)


def level_of(program: PointsProgram, system_id: int, total: int) -> int | None:
    best: PointsLevel | None = None
    for level in program.levels:
        reached = level.system_id == system_id and level.points <= total
        if reached and (best is None or level.points > best.points):
            best = level
    return None if best is None else best.id


def has_all(required: tuple[Attribute, ...], attributes: tuple[Attribute, ...]) -> bool:
    return all(r in attributes for r in required)


@dataclass(frozen=True)
class Line:
    """One expected ledger line, keyed by the user's id (not pk)."""

    user: str
    system_id: int
    trigger_id: int
    awarded: int
    total: int
    awarded_at: datetime
    multiplier: Fraction
    boost_ids: tuple[int, ...]


class Refused(Exception):
    """The event is refused: a blocking deduction would take `system_key`'s total below 0."""

    def __init__(self, system_key: str) -> None:
        super().__init__(system_key)
        self.system_key = system_key


@dataclass
class Model:
    users: dict[str, tuple[str, tuple[Attribute, ...]]] = field(default_factory=dict)
    metric_totals: dict[tuple[str, int, Attribute | None], float] = field(default_factory=dict)
    marks: dict[tuple[str, int], int] = field(default_factory=dict)
    points: dict[tuple[str, int], int] = field(default_factory=dict)
    ledger: list[Line] = field(default_factory=list)
    awarded_steps: set[tuple[int, str, int]] = field(default_factory=set)
    cut: int = 0
    """How many amounts the cap or the floor changed (to tell how often the test reaches them)."""

    def track(self, program: PointsProgram, user: User, event: Event) -> list[PointsChangeModel]:
        """Applies one event to a copy and keeps it, or raises Refused leaving self alone."""
        work = copy.deepcopy(self)
        changes = work._apply(program, user, event)
        self.__dict__.update(work.__dict__)
        return changes

    def _apply(self, program: PointsProgram, user: User, event: Event) -> list[PointsChangeModel]:
        uid = user.id
        created = uid not in self.users
        if created:
            self.users[uid] = (user.tz, user.attributes)
        tz, attributes = self.users[uid]
        metric_id = METRIC_IDS[event.metric]
        moved: dict[Attribute | None, tuple[float, float]] = {}
        for attribute in (None, *event.attributes):
            key = (uid, metric_id, attribute)
            before = self.metric_totals.get(key, 0.0)
            self.metric_totals[key] = before + event.value
            moved[attribute] = (before, before + event.value)

        firings: list[tuple[PointsTrigger, int]] = []
        if created:
            for trigger in program.triggers:
                if (
                    trigger.status is ACTIVE
                    and isinstance(trigger.rule, UserCreationRule)
                    and has_all(trigger.user_attributes, attributes)
                ):
                    firings.append((trigger, trigger.points))
        on_metric = [
            t
            for t in program.triggers
            if t.status is ACTIVE
            and isinstance(t.rule, MetricRule)
            and t.rule.metric_id == metric_id
            and t.rule.event_attribute in moved
        ]
        for trigger in sorted(on_metric, key=lambda t: t.id):
            assert isinstance(trigger.rule, MetricRule)
            before, after = moved[trigger.rule.event_attribute]
            threshold = trigger.rule.threshold
            high = max(self.marks.get((uid, trigger.id), 0), step_of(before, threshold))
            reached = step_of(after, threshold)
            if reached > high:
                for step in range(high + 1, reached + 1):
                    assert (trigger.id, uid, step) not in self.awarded_steps
                    self.awarded_steps.add((trigger.id, uid, step))
                if has_all(trigger.user_attributes, attributes):  # else spent, not awarded
                    firings.append((trigger, trigger.points * (reached - high)))
                high = reached
            self.marks[(uid, trigger.id)] = high

        started = {s.id: self.points.get((uid, s.id), 0) for s in program.systems}
        new: list[Line] = []
        for trigger, base in firings:
            system = next(s for s in program.systems if s.id == trigger.system_id)
            cap = CAP_OF_INT if system.max_points is None else system.max_points
            total = self.points.get((uid, system.id), 0)
            day = event.at.astimezone(ZoneInfo(tz)).date()
            applying = [
                b
                for b in program.boosts
                if b.system_id == system.id
                and not b.archived
                and b.start <= day
                and (b.end is None or day <= b.end)
                and (
                    b.scope is BoostScope.GLOBAL
                    or (
                        b.scope is BoostScope.USER_ATTRIBUTES
                        and has_all(b.user_attributes, attributes)
                    )
                )
            ]
            multiplier, boost_ids, amount = Fraction(1), (), base
            if base > 0 and applying:
                multiplier = Fraction(1)
                for b in applying:
                    multiplier *= Fraction(str(b.multiplier))
                multiplier = min(multiplier, Fraction(1000))
                modes = {b.rounding for b in applying}
                mode = modes.pop() if len(modes) == 1 else DOWN
                amount = rounded(base * multiplier, mode)
                boost_ids = tuple(b.id for b in applying)
            if (
                isinstance(trigger.rule, MetricRule)
                and trigger.rule.block_if_out_of_points
                and total + amount < 0
            ):
                raise Refused(system.key)
            awarded = min(amount, max(cap - total, 0)) if amount > 0 else max(amount, -total)
            self.cut += awarded != amount
            total += awarded
            self.points[(uid, system.id)] = total
            new.append(
                Line(uid, system.id, trigger.id, awarded, total, event.at, multiplier, boost_ids)
            )
        self.ledger += new

        changes = []
        for system in program.systems:
            lines = [line for line in new if line.system_id == system.id]
            if not lines:
                continue
            total = self.points[(uid, system.id)]
            changes.append(
                PointsChangeModel(
                    system.id,
                    sum(line.awarded for line in lines),
                    total,
                    level_of(program, system.id, total),
                    level_of(program, system.id, started[system.id]),
                    tuple(lines),
                )
            )
        return changes


@dataclass(frozen=True)
class PointsChangeModel:
    system_id: int
    added: int
    total: int
    level_id: int | None
    previous_level_id: int | None
    awards: tuple[Line, ...]


# --- what Hypothesis draws --------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    tz: str
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True)
class Event:
    user: int
    metric: int
    value: float
    attributes: tuple[Attribute, ...]
    at: datetime


@dataclass(frozen=True)
class Toggle:
    """Switches a trigger between ACTIVE and INACTIVE (its index in `program.triggers`)."""

    trigger: int


@dataclass(frozen=True)
class Scenario:
    program: PointsProgram
    users: tuple[User, ...]
    steps: tuple[Event | Toggle, ...]


def day(offset: int) -> date:
    return NOW.date() + timedelta(days=offset)


@st.composite
def scenarios(draw: Any) -> Scenario:
    systems = tuple(
        PointsSystem(
            id=101 + i,
            key=f"s{i}",
            name=f"s{i}",
            max_points=draw(st.one_of(st.none(), st.sampled_from([5, 20, 60, 150]))),
        )
        for i in range(draw(st.integers(1, 2)))
    )
    system_ids = st.sampled_from([s.id for s in systems])
    n = draw(st.integers(1, 4))
    triggers = []
    for trigger_id in draw(st.permutations(range(201, 201 + n))):  # tuple order != id order
        points = draw(st.integers(-20, 29).map(lambda p: p + (p >= 0)))
        rule = MetricRule(
            metric_id=draw(st.sampled_from([1, 1, 2])),  # METRIC_IDS, mostly the first
            threshold=draw(st.sampled_from(THRESHOLDS)),
            event_attribute=draw(st.sampled_from([None, None, KIND_A])),
            block_if_out_of_points=points < 0 and draw(st.sampled_from([True, False, False])),
        )
        status = draw(st.sampled_from([ACTIVE, ACTIVE, INACTIVE]))
        triggers.append(
            PointsTrigger(
                trigger_id,
                draw(system_ids),
                f"t{trigger_id}",
                points,
                status,
                rule,
                user_attributes=draw(st.sampled_from([(), (), (), (PRO,)])),
            )
        )
    if draw(st.booleans()):
        triggers.append(
            PointsTrigger(
                301,
                draw(system_ids),
                "welcome",
                draw(st.integers(-5, 19).map(lambda p: p + (p >= 0))),
                ACTIVE,
                UserCreationRule(),
                user_attributes=draw(st.sampled_from([(), (PRO,)])),
            )
        )
    levels = []
    for system in systems:
        for points in draw(
            st.lists(st.sampled_from([0, 5, 10, 25, 50, 100]), max_size=3, unique=True)
        ):
            levels.append(PointsLevel(401 + len(levels), system.id, f"l{len(levels)}", "l", points))
    boosts = []
    for i in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3]))):
        scope = draw(
            st.sampled_from([BoostScope.GLOBAL, BoostScope.GLOBAL, BoostScope.USER_ATTRIBUTES])
        )
        start = day(draw(st.integers(-4, 0)))
        length = draw(st.one_of(st.none(), st.integers(0, 3)))
        boosts.append(
            PointsBoost(
                id=501 + i,
                system_id=draw(system_ids),
                key=f"b{i}",
                name=f"b{i}",
                multiplier=Decimal(draw(st.sampled_from(MULTIPLIERS))),
                start=start,
                end=None if length is None else start + timedelta(days=length),
                rounding=draw(st.sampled_from([DOWN, UP, NEAREST])),
                scope=scope,
                user_attributes=(PRO,) if scope is BoostScope.USER_ATTRIBUTES else (),
                archived=draw(st.integers(0, 5)) == 0,
            )
        )
    program = PointsProgram(
        systems=systems, triggers=tuple(triggers), levels=tuple(levels), boosts=tuple(boosts)
    )
    users = tuple(
        User(f"u{i}", draw(st.sampled_from(ZONES)), draw(st.sampled_from([(), (PRO,), (BASIC,)])))
        for i in range(draw(st.integers(1, 3)))
    )
    events = st.builds(
        Event,
        user=st.integers(0, len(users) - 1),
        metric=st.sampled_from([0, 0, 0, 1]),
        value=st.one_of(st.integers(-10, 15).map(float), st.sampled_from([0.1, 0.2, 0.7, -0.3])),
        attributes=st.sampled_from([(), (KIND_A,), (KIND_B,)]),
        at=st.integers(0, 4 * 24 * 60).map(lambda m: NOW - timedelta(minutes=m)),
    )
    toggles = st.builds(Toggle, st.integers(0, n - 1))
    step = st.sampled_from([True] * 6 + [False]).flatmap(lambda e: events if e else toggles)
    length = draw(st.integers(1, 25))  # lists alone stay short: most examples would be trivial
    steps = draw(st.lists(step, min_size=length, max_size=length))
    return Scenario(program, users, tuple(steps))


# --- the engine side ----------------------------------------------------------------------------


class World:
    def __init__(self, program: PointsProgram) -> None:
        self.db = FakeDatabase()
        metrics = [self.db.add_metric(key) for key in METRICS]
        assert tuple(m.id for m in metrics) == METRIC_IDS
        self.db.state.points_program = program
        self.engine = EventEngine(self.db, FakeDefinitions(self.db), clock=SteppingClock(NOW))

    def pk(self, user: str) -> int:
        return self.db.user(TENANT, user).pk

    def user_of(self) -> dict[int, str]:
        return {u.pk: u.id for u in self.db.state.users.values()}

    def toggle(self, index: int) -> None:
        program = self.db.state.points_program
        triggers = list(program.triggers)
        trigger = triggers[index]
        triggers[index] = replace(trigger, status=INACTIVE if trigger.active else ACTIVE)
        self.db.state.points_program = PointsProgram(
            systems=program.systems,
            triggers=tuple(triggers),
            levels=program.levels,
            boosts=program.boosts,
        )

    def snapshot(self) -> tuple[Any, ...]:
        s = self.db.state
        return (
            len(s.events),
            dict(s.users),
            dict(s.totals),
            dict(s.points_totals),
            dict(s.points_marks),
            list(s.points_awards),
        )


def line_of(user: str, award: Any) -> Line:
    return Line(
        user,
        award.system_id,
        award.trigger_id,
        award.awarded,
        award.total,
        award.awarded_at,
        Fraction(award.multiplier),
        tuple(award.boost_ids),
    )


def change_of(user: str, change: PointsChange) -> PointsChangeModel:
    return PointsChangeModel(
        change.system_id,
        change.added,
        change.total,
        change.level_id,
        change.previous_level_id,
        tuple(line_of(user, a) for a in change.awards),
    )


def check_invariants(world: World, model: Model, marks_before: dict[tuple[int, int], int]) -> None:
    state = world.db.state
    program = state.points_program
    users = world.user_of()
    assert [line_of(users[pk], a) for pk, a, _ in state.points_awards] == model.ledger
    assert not any(silent for _, _, silent in state.points_awards)
    for pk in users:
        for system in program.systems:
            cap = CAP_OF_INT if system.max_points is None else system.max_points
            total = state.points_totals.get((pk, system.id), 0)
            ledger = sum(
                a.awarded for u, a, _ in state.points_awards if u == pk and a.system_id == system.id
            )
            assert total == ledger == model.points.get((users[pk], system.id), 0)
            assert 0 <= total <= cap
    marks = {key: m.mark for key, m in state.points_marks.items()}
    expected = {(world.pk(u), t): h for (u, t), h in model.marks.items()}
    for key in marks.keys() | expected.keys():
        assert marks.get(key, 0) == expected.get(key, 0), key
        assert marks.get(key, 0) >= marks_before.get(key, 0), key  # marks never go back


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
async def test_the_ledger_matches_the_reference_model(scenario: Scenario) -> None:
    world, model = World(scenario.program), Model()
    for step in scenario.steps:
        if isinstance(step, Toggle):
            world.toggle(step.trigger)
            continue
        user = scenario.users[step.user]
        program = world.db.state.points_program
        marks_before = {key: m.mark for key, m in world.db.state.points_marks.items()}
        awards_before = len(world.db.state.points_awards)
        try:
            expected: list[PointsChangeModel] | None = model.track(program, user, step)
        except Refused as refused:
            expected, refused_in = None, refused.system_key
        before = world.snapshot()
        command = TrackEvent(
            METRICS[step.metric],
            UserProfile(user.id, tz=user.tz, attributes=user.attributes),
            step.value,
            attributes=step.attributes,
            occurred_at=step.at,
        )
        try:
            outcome = await world.engine.track_event(SERVER, command)
        except Conflict as refusal:
            assert expected is None, f"refused, the model expected {expected}"
            assert refusal.extensions["reason"] == "INSUFFICIENT_POINTS"
            assert refusal.extensions["pointsSystemKey"] == refused_in
            assert world.snapshot() == before, "a refused event left something behind"
            note("refused")
            check_invariants(world, model, marks_before)
            continue
        assert expected is not None, f"the model refuses, the engine answered {outcome.points}"
        assert [change_of(user.id, c) for c in outcome.points] == expected
        new_awards = [a for _, a, _ in world.db.state.points_awards[awards_before:]]
        assert sorted(a.id for a in new_awards) == sorted(
            a.id for c in outcome.points for a in c.awards
        )
        check_invariants(world, model, marks_before)
        for line in (line for change in expected for line in change.awards):
            note("boosted" if line.boost_ids else "unboosted")
            if line.multiplier == 1000:
                note("multiplier capped at 1000")
        if model.cut:
            note("an amount cut by the cap or the floor")
        if any(c.level_id != c.previous_level_id for c in expected):
            note("level changed")
        # At most one firing per METRIC trigger per event, and only by moving its mark up.
        pk = world.pk(user.id)
        metric_ids = {t.id for t in program.triggers if isinstance(t.rule, MetricRule)}
        fired = [a.trigger_id for a in new_awards if a.trigger_id in metric_ids]
        assert len(fired) == len(set(fired))
        for trigger_id in fired:
            mark = world.db.state.points_marks[(pk, trigger_id)].mark
            assert mark > marks_before.get((pk, trigger_id), 0)


async def test_the_spec_example() -> None:
    """Threshold 3, 10 points, events +4, +4, -6, +7: totals 4, 8, 2, 9, awards 10, 10, -, 10,
    in the engine and in the model alike."""
    trigger = PointsTrigger(201, 101, "t", 10, ACTIVE, MetricRule(METRIC_IDS[0], 3.0))
    program = PointsProgram(systems=(PointsSystem(101, "s", "s"),), triggers=(trigger,))
    world, model, user = World(program), Model(), User("u0", "UTC", ())
    engine, modelled = [], []
    for value in (4, 4, -6, 7):
        step = Event(0, 0, value, (), NOW)
        modelled.append([c.added for c in model.track(program, user, step)])
        outcome = await world.engine.track_event(
            SERVER, TrackEvent(METRICS[0], UserProfile("u0"), value)
        )
        engine.append([c.added for c in outcome.points])
    assert engine == modelled == [[10], [10], [], [10]]
    assert [a.total for _, a, _ in world.db.state.points_awards] == [10, 20, 30]
