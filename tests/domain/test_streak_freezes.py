"""Streak freezes against a plain reference model evaluated in time order.

The model walks one timeline of grants and period ends, sorted by instant (AUTO_EARN at 00:00 of
its day, then the period end at that 00:00, then API grants made during the day), and judges
each period as it ends. The engine is driven through its own use cases (events in any arrival
order, grants by API, clock ticks) over an in-memory store, and must end with the same length,
freezes held and history, whatever the arrival order and the time zone.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.model import Achievement, StreakSettings, User
from app.domain.ports import StreakState
from app.domain.streak_ledger import ApiGrant, Context, FreezeRules, history, up_to_now, view
from app.domain.streak_tracking import advance_streak, context, grant_freezes, tick_streak
from app.domain.streaks import (
    StreakFrequency,
    StreakView,
    next_period,
    period_start,
    previous_period,
)

METRIC = 1
START = date(2026, 1, 1)
ZONES = ["UTC", "Pacific/Auckland", "America/Los_Angeles", "Europe/London"]


@dataclass(frozen=True)
class Expected:
    length: int
    freezes: int | None
    frozen: frozenset[date]
    lengths: dict[date, int]


def reference(
    frequency: StreakFrequency,
    rules: FreezeRules | None,
    created: date,
    days: set[date],
    grants: Sequence[ApiGrant],
    today: date,
) -> Expected:
    active = {period_start(d, frequency) for d in days if d <= today}
    current = period_start(today, frequency)
    first = period_start(min([created, *days]), frequency)
    timeline: list[tuple[date, int, int]] = []  # (day, order, amount or period index)
    periods: list[date] = []
    p = first
    while p < current:
        periods.append(p)
        timeline.append((next_period(p, frequency), 1, len(periods) - 1))
        p = next_period(p, frequency)
    if rules is not None:
        if rules.auto_interval is not None and rules.auto_amount is not None:
            k = 1
            while (d := created + timedelta(days=k * rules.auto_interval)) <= today:
                timeline.append((d, 0, rules.auto_amount))
                k += 1
        timeline += [(g.day, 2, g.count) for g in grants]
    timeline.sort(key=lambda item: (item[0], item[1]))
    balance = rules.start_count if rules else 0
    chain: list[tuple[date, bool]] = []  # (period, active)
    frozen: set[date] = set()
    lengths: dict[date, int] = {}

    def join(period: date) -> None:
        nonlocal chain
        if chain and chain[-1][0] == previous_period(period, frequency):
            chain.append((period, True))
        else:
            chain = [(period, True)]

    for _, order, value in timeline:
        if order != 1:
            assert rules is not None
            balance = min(rules.max_count, balance + value)
            continue
        period = periods[value]
        if period in active:
            join(period)
        elif chain and chain[-1][0] == previous_period(period, frequency):
            if rules is not None and balance >= 1:
                balance -= 1
                chain.append((period, False))
                frozen.add(period)
            else:
                chain = []
        lengths[period] = sum(a for _, a in chain) if chain and chain[-1][0] == period else 0
    if current in active:
        join(current)
    live = bool(chain) and chain[-1][0] >= previous_period(current, frequency)
    length = sum(a for _, a in chain) if live else 0
    return Expected(length, balance if rules else None, frozenset(frozen), lengths)


class MemoryStreaks:
    """The `StreakWrites` port in memory, for one user."""

    def __init__(self) -> None:
        self.state: StreakState | None = None
        self.days: set[tuple[int, date]] = set()
        self.grants: list[ApiGrant] = []

    async def streak_state(self, user_pk: int) -> StreakState | None:
        return self.state

    async def add_streak_day(self, tenant_id: int, user_pk: int, metric_id: int, day: date) -> bool:
        new = (metric_id, day) not in self.days
        self.days.add((metric_id, day))
        return new

    async def streak_days(self, user_pk: int, metric_ids: Sequence[int]) -> list[date]:
        return sorted({d for m, d in self.days if m in metric_ids})

    async def freeze_grants(self, user_pk: int) -> list[ApiGrant]:
        return list(self.grants)

    async def add_freeze_grant(self, tenant_id: int, user_pk: int, grant: ApiGrant) -> None:
        self.grants.append(grant)

    async def save_streak_state(
        self, tenant_id: int, user_pk: int, state: StreakState, due_at: datetime | None
    ) -> None:
        self.state = state

    async def lock_user(self, tenant_id: int, user_id: str) -> User | None:
        raise AssertionError("not used by these use cases")

    async def streak_achievements_between(
        self, tenant_id: int, above: int, up_to: int
    ) -> list[Achievement]:
        return []


def local_noon(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(12), ZoneInfo(tz)).astimezone(UTC)


@dataclass(frozen=True)
class Scenario:
    frequency: StreakFrequency
    rules: FreezeRules | None
    tz: str
    span: int
    events: list[tuple[int, int]]  # (day offset it happened, days until it arrives)
    grants: list[tuple[int, int]]  # (day offset, count)
    ticks: frozenset[int]


@st.composite
def rules_strategy(draw: st.DrawFn) -> FreezeRules | None:
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    max_count = draw(st.integers(1, 4))
    start = draw(st.integers(0, max_count))
    if draw(st.booleans()):
        return FreezeRules(start, max_count)
    return FreezeRules(start, max_count, draw(st.integers(1, 9)), draw(st.integers(1, max_count)))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    frequency = draw(st.sampled_from([StreakFrequency.DAILY] * 3 + [StreakFrequency.WEEKLY]))
    span = draw(st.integers(1, 50 if frequency is StreakFrequency.DAILY else 120))
    events = draw(
        st.lists(st.tuples(st.integers(-10, span), st.integers(0, 15)), min_size=0, max_size=30)
    )
    grants = draw(st.lists(st.tuples(st.integers(0, span), st.integers(1, 3)), max_size=4))
    ticks = draw(st.frozensets(st.integers(0, span), max_size=20))
    return Scenario(
        frequency, draw(rules_strategy()), draw(st.sampled_from(ZONES)), span, events, grants, ticks
    )


async def drive(scenario: Scenario, shuffled: list[int]) -> tuple[MemoryStreaks, list[ApiGrant]]:
    """Day by day: grants made that day, events arriving that day (in `shuffled` order among
    themselves), the clock where it ticks. Returns the store and the grants as the model sees
    them."""
    tz = scenario.tz
    user = User(pk=1, id="u", tz=tz, attributes=(), created_at=local_noon(START, tz))
    settings_ = StreakSettings(scenario.frequency, (METRIC,), scenario.rules, version=1)
    store = MemoryStreaks()
    made: list[ApiGrant] = []
    for offset in range(scenario.span + 1):
        day = START + timedelta(days=offset)
        now = local_noon(day, tz)
        if scenario.rules is not None:
            for grant_day, count in scenario.grants:
                if grant_day == offset:
                    await grant_freezes(store, 1, user, settings_, count, now)
                    made.append(ApiGrant(day, count))
        for position in shuffled:
            happened, delay = scenario.events[position]
            if min(max(happened + delay, 0), scenario.span) == offset:
                occurred = local_noon(START + timedelta(days=happened), tz)
                await advance_streak(store, 1, user, settings_, METRIC, 1.0, occurred, now)
        if offset in scenario.ticks:
            await tick_streak(store, 1, user, settings_, now)
    return store, made


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_any_arrival_order_matches_the_time_ordered_model(
    scenario: Scenario, rng: random.Random
) -> None:
    order = list(range(len(scenario.events)))
    rng.shuffle(order)
    store, made = asyncio.run(drive(scenario, order))
    today = START + timedelta(days=scenario.span)
    days = {START + timedelta(days=h) for h, _ in scenario.events}
    expected = reference(scenario.frequency, scenario.rules, START, days, made, today)
    tz = scenario.tz
    now = local_noon(today, tz)
    user = User(pk=1, id="u", tz=tz, attributes=(), created_at=local_noon(START, tz))
    ctx = context(StreakSettings(scenario.frequency, (METRIC,), scenario.rules, version=1), user)
    if store.state is None or store.state.ledger is None:
        assert expected.length == 0
        return
    ledger, _ = up_to_now(store.state.ledger, ctx, now, tz)
    seen = view(ledger, ctx, now, tz)
    assert (seen.length, seen.freezes) == (expected.length, expected.freezes)
    rows = history(ctx, days, made, now, tz, 100)
    assert rows[0].length == expected.length
    for row in rows[1:]:
        assert row.used_freeze == (row.start in expected.frozen), row
        assert row.length == expected.lengths.get(row.start, 0), row


def test_a_late_event_returns_the_freeze_it_made_unneeded() -> None:
    rules = FreezeRules(start_count=1, max_count=2)
    settings_ = StreakSettings(StreakFrequency.DAILY, (METRIC,), rules, version=1)
    user = User(pk=1, id="u", tz="UTC", attributes=(), created_at=local_noon(START, "UTC"))
    store = MemoryStreaks()

    async def scenario() -> None:
        day = lambda n: local_noon(START + timedelta(days=n), "UTC")  # noqa: E731
        await advance_streak(store, 1, user, settings_, METRIC, 1, day(0), day(0))
        missed = await advance_streak(store, 1, user, settings_, METRIC, 1, day(2), day(2))
        assert (missed.view.length, missed.view.freezes) == (2, 0)  # day 1 frozen
        late = await advance_streak(store, 1, user, settings_, METRIC, 1, day(1), day(2))
        assert (late.view.length, late.view.freezes) == (3, 1)  # day 1 active: freeze back
        assert late.extended and not [n for n in late.news if n.type.value.startswith("streak.f")]

    asyncio.run(scenario())


def test_two_gaps_with_one_freeze_lose_the_streak_at_the_second() -> None:
    rules = FreezeRules(start_count=1, max_count=1)
    ctx = Context(StreakFrequency.DAILY, rules, START)
    days = {START, START + timedelta(days=2), START + timedelta(days=4)}
    now = local_noon(START + timedelta(days=5), "UTC")
    rows = history(ctx, days, [], now, "UTC", 6)
    assert [(r.length, r.used_freeze) for r in reversed(rows)] == [
        (1, False),
        (1, True),
        (2, False),
        (0, False),
        (1, False),
        (1, False),
    ]


def run_events(tz: str, rules: FreezeRules, instants: list[datetime], now: datetime) -> StreakView:
    settings_ = StreakSettings(StreakFrequency.DAILY, (METRIC,), rules, version=1)
    user = User(pk=1, id="u", tz=tz, attributes=(), created_at=instants[0])
    store = MemoryStreaks()

    async def scenario() -> StreakView:
        for at in instants:
            await advance_streak(store, 1, user, settings_, METRIC, 1, at, now)
        assert store.state is not None and store.state.ledger is not None
        ctx = context(settings_, user)
        return view(up_to_now(store.state.ledger, ctx, now, tz)[0], ctx, now, tz)

    return asyncio.run(scenario())


def test_the_users_zone_decides_which_day_a_freeze_covers() -> None:
    la, auckland = ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Auckland")
    rules = FreezeRules(start_count=1, max_count=1)
    # 23:30 on the 10th and 10:00 on the 12th in Los Angeles: the 11th is missed there (a
    # freeze covers it), while in UTC the two events fall on consecutive days.
    instants = [datetime(2026, 1, 10, 23, 30, tzinfo=la), datetime(2026, 1, 12, 10, tzinfo=la)]
    now = datetime(2026, 1, 12, 12, tzinfo=la)
    seen = run_events("America/Los_Angeles", rules, instants, now)
    assert (seen.length, seen.freezes) == (2, 0)
    utc_seen = run_events("UTC", rules, instants, now)
    assert (utc_seen.length, utc_seen.freezes) == (2, 1)
    # In Auckland the same two instants are the 11th and the 13th.
    nz = run_events("Pacific/Auckland", rules, instants, datetime(2026, 1, 13, 9, tzinfo=auckland))
    assert (nz.length, nz.freezes) == (2, 0)


def test_expiry_counts_the_freezes_held_across_london_dst() -> None:
    london = ZoneInfo("Europe/London")
    rules = FreezeRules(start_count=1, max_count=2)
    instants = [datetime(2026, 3, 27, 12, tzinfo=london), datetime(2026, 3, 28, 12, tzinfo=london)]
    seen = run_events("Europe/London", rules, instants, datetime(2026, 3, 28, 13, tzinfo=london))
    assert (seen.length, seen.freezes) == (2, 1)
    # Lost at the end of the 30th without an event: one period for the 29th, one per freeze.
    assert seen.expires == datetime(2026, 3, 30, 23, tzinfo=UTC)


def test_a_second_tick_at_the_same_moment_announces_nothing() -> None:
    """What makes instances safe side by side: under the user's lock, whoever comes second
    finds the ledger settled."""
    rules = FreezeRules(start_count=1, max_count=2, auto_interval=1, auto_amount=1)
    settings_ = StreakSettings(StreakFrequency.DAILY, (METRIC,), rules, version=1)
    user = User(pk=1, id="u", tz="UTC", attributes=(), created_at=local_noon(START, "UTC"))
    store = MemoryStreaks()
    later = local_noon(START + timedelta(days=4), "UTC")

    async def scenario() -> None:
        await advance_streak(store, 1, user, settings_, METRIC, 1, user.created_at, user.created_at)
        first, _ = await tick_streak(store, 1, user, settings_, later)
        assert sorted(n.type.value for n in first) == [
            "streak.freeze_consumed",
            "streak.freeze_earned",
        ]
        again, _ = await tick_streak(store, 1, user, settings_, later)
        assert again == []

    asyncio.run(scenario())
