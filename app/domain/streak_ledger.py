"""A user's streak with freezes, evaluated as if every period had been judged at its end, in
time order: the one definition of length, freezes held and frozen periods.

A `Ledger` is that evaluation up to a period start (`settled`): every earlier period has ended
and been judged active, frozen, lost or idle. Judging is a pure function of the qualifying
periods, the grants and the rules, so the same data gives the same ledger in any arrival order:
an in-order event settles the ledger forward from where it stands, and a late one re-evaluates
from the first period (`evaluate`). Grants due at a boundary count before its consumption.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from app.domain.streaks import (
    StreakFrequency,
    StreakView,
    local_date,
    next_period,
    period_end,
    period_start,
    period_start_instant,
    previous_period,
)

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FreezeRules:
    """A tenant's freeze settings; `auto_interval` and `auto_amount` are set together."""

    start_count: int
    max_count: int
    auto_interval: int | None = None
    auto_amount: int | None = None

    def auto_grants(self, created: date, after: date, through: date) -> int:
        """How many AUTO_EARN dates (`created + k x interval`, k >= 1) fall in (after, through]."""
        if self.auto_interval is None or through <= after:
            return 0
        first_k = max(1, (after - created).days // self.auto_interval + 1)
        last_k = (through - created).days // self.auto_interval
        return max(0, last_k - first_k + 1)

    def next_auto_grant(self, created: date, after: date) -> date | None:
        if self.auto_interval is None:
            return None
        k = max(1, (after - created).days // self.auto_interval + 1)
        return created + timedelta(days=k * self.auto_interval)


@dataclass(frozen=True, slots=True)
class ApiGrant:
    """A `grantStreakFreezes` call, on the user's local day: it counts from that day on, so for
    the consumption at the end of that day's period but not for the one that began the day."""

    day: date
    count: int


@dataclass(frozen=True, slots=True)
class Ledger:
    """The evaluation up to `settled` (a period start). The chain is the run of consecutive
    active or frozen periods ending at `chain_last`; `chain_last == settled` means the open
    period is active already. `earned_through`: AUTO_EARN grants dated up to it are counted."""

    settled: date
    earned_through: date
    balance: int
    chain_start: date | None = None
    chain_last: date | None = None
    chain_active: int = 0
    longest: int = 0

    def alive_at(self, period: date, frequency: StreakFrequency) -> bool:
        """The chain reaches `period` or the one before it, so a qualifying event there (or a
        freeze) continues it."""
        return self.chain_last is not None and self.chain_last >= previous_period(period, frequency)


@dataclass(slots=True)
class Settlement:
    """What judging a stretch of periods did, for announcements and history."""

    frozen: list[date] = field(default_factory=list)
    lost: list[tuple[date, int]] = field(default_factory=list)
    auto_earned: int = 0
    judged: dict[date, tuple[int, bool]] = field(default_factory=dict)
    """Period -> (length at its end, frozen); filled only when asked for (history)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What judging needs besides the ledger: the tenant's rules and the user's creation day."""

    frequency: StreakFrequency
    rules: FreezeRules | None
    created: date


def opening(ctx: Context, first_active: date | None) -> Ledger:
    """The ledger before the user's first period: START freezes are held from it on, so that
    they cover gaps in imported or backdated history too."""
    first = min(ctx.created, first_active) if first_active else ctx.created
    start = period_start(first, ctx.frequency)
    balance = min(ctx.rules.start_count, ctx.rules.max_count) if ctx.rules else 0
    return Ledger(settled=start, earned_through=start - _ONE_DAY, balance=balance)


def mark_active(ledger: Ledger, period: date, frequency: StreakFrequency) -> Ledger:
    """A qualifying event in the open period `period` (== ledger.settled)."""
    period = period_start(period, frequency)
    if ledger.chain_last == period:
        return ledger
    if ledger.alive_at(period, frequency):
        start, active = ledger.chain_start, ledger.chain_active + 1
    else:
        start, active = period, 1
    return replace(
        ledger,
        chain_start=start,
        chain_last=period,
        chain_active=active,
        longest=max(ledger.longest, active),
    )


class _Grants:
    """Adds grants in time order; capped additions with no consumption between them commute,
    so a stretch of them is added at once."""

    def __init__(self, ctx: Context, api: Iterable[ApiGrant]) -> None:
        self._ctx = ctx
        self._api = sorted(api, key=lambda g: g.day)
        self._next_api = 0

    def before(self, ledger: Ledger, boundary: date, settlement: Settlement) -> Ledger:
        """Grants that count before the consumption at `boundary`'s 00:00: AUTO_EARN dated up to
        it, API grants made before it."""
        return self._add(ledger, boundary, lambda g: g.day < boundary, settlement)

    def through(self, ledger: Ledger, day: date, settlement: Settlement) -> Ledger:
        """Grants held by the end of `day`: what "freezes held now" counts."""
        return self._add(ledger, day, lambda g: g.day <= day, settlement)

    def _add(
        self,
        ledger: Ledger,
        auto_through: date,
        due: Callable[[ApiGrant], bool],
        settlement: Settlement,
    ) -> Ledger:
        rules = self._ctx.rules
        if rules is None:
            return ledger
        added = 0
        while self._next_api < len(self._api) and due(self._api[self._next_api]):
            added += self._api[self._next_api].count
            self._next_api += 1
        autos = rules.auto_grants(self._ctx.created, ledger.earned_through, auto_through)
        auto_added = autos * (rules.auto_amount or 0)
        if not added and not auto_added:
            return replace(ledger, earned_through=max(ledger.earned_through, auto_through))
        balance = min(rules.max_count, ledger.balance + added + auto_added)
        settlement.auto_earned += max(0, min(auto_added, balance - ledger.balance))
        return replace(
            ledger, balance=balance, earned_through=max(ledger.earned_through, auto_through)
        )


def settle(
    ledger: Ledger,
    ctx: Context,
    until: date,
    *,
    active: Iterable[date] = (),
    api: Iterable[ApiGrant] = (),
    through: date | None = None,
    record: bool = False,
) -> tuple[Ledger, Settlement]:
    """Judge every period from `ledger.settled` up to (not including) `until`, then add the
    grants held by the end of day `through` (within a week or a month, grants come before the
    period's end).

    `active` are qualifying periods not yet in the ledger (those before `settled` are ignored);
    `api` are grants not yet in the ledger. A dead chain with no activity ahead is skipped in one
    step, so an idle year costs as much as an idle day."""
    frequency = ctx.frequency
    until = period_start(until, frequency)
    periods = {period_start(d, frequency) for d in active}
    pending = sorted(p for p in periods if p >= ledger.settled)
    grants = _Grants(ctx, api)
    settlement = Settlement()
    upcoming = 0
    p = ledger.settled
    while p < until:
        if upcoming < len(pending) and pending[upcoming] == p:
            ledger = mark_active(ledger, p, frequency)
            upcoming += 1
        if not ledger.alive_at(p, frequency):
            resume = min(pending[upcoming] if upcoming < len(pending) else until, until)
            if resume > p:
                ledger = replace(grants.before(ledger, resume, settlement), settled=resume)
                p = resume
                continue
        boundary = next_period(p, frequency)
        frozen_before = len(settlement.frozen)
        ledger = _judge(grants.before(ledger, boundary, settlement), p, ctx, settlement)
        if record:
            length = ledger.chain_active if ledger.chain_last == p else 0
            settlement.judged[p] = (length, len(settlement.frozen) > frozen_before)
        ledger = replace(ledger, settled=boundary)
        p = boundary
    if upcoming < len(pending) and pending[upcoming] == ledger.settled:
        ledger = mark_active(ledger, ledger.settled, frequency)
    if through is not None:
        ledger = grants.through(ledger, through, settlement)
    return ledger, settlement


def _judge(ledger: Ledger, period: date, ctx: Context, settlement: Settlement) -> Ledger:
    """The end of `period`: active periods continue the chain; a missed one consumes a freeze
    while the user has a streak and holds one, or loses the streak."""
    if ledger.chain_last == period or not ledger.alive_at(period, ctx.frequency):
        return ledger
    if ctx.rules is not None and ledger.balance >= 1:
        settlement.frozen.append(period)
        return replace(ledger, balance=ledger.balance - 1, chain_last=period)
    settlement.lost.append((period, ledger.chain_active))
    return replace(ledger, chain_start=None, chain_last=None, chain_active=0)


def evaluate(
    ctx: Context,
    days: Iterable[date],
    api: Sequence[ApiGrant],
    until: date,
    *,
    record: bool = False,
) -> tuple[Ledger, Settlement]:
    """The ledger from the user's first period: what a late event or a settings change needs.
    Settles up to `until` or, for an event dated ahead of it, that event's period."""
    periods = {period_start(d, ctx.frequency) for d in days}
    start = opening(ctx, min(periods) if periods else None)
    target = max([period_start(until, ctx.frequency), *periods])
    return settle(start, ctx, target, active=periods, api=api, through=until, record=record)


def up_to_now(ledger: Ledger, ctx: Context, now: datetime, tz: str) -> tuple[Ledger, Settlement]:
    """The ledger settled to the current period, with today's grants: the rule as of now."""
    today = local_date(now, tz)
    return settle(ledger, ctx, today, through=today)


def view(ledger: Ledger, ctx: Context, now: datetime, tz: str) -> StreakView:
    """The streak as a user sees it now; `ledger` must be settled to the current period."""
    frequency = ctx.frequency
    current = period_start(local_date(now, tz), frequency)
    end = period_end(current, frequency)
    freezes = ledger.balance if ctx.rules else None
    if not ledger.alive_at(current, frequency) or ledger.chain_last is None:
        return StreakView(0, frequency, None, current, end, None, freezes)
    lapse = ledger.chain_last
    for _ in range((freezes or 0) + 2):
        lapse = next_period(lapse, frequency)
    expires = period_start_instant(lapse, tz)
    return StreakView(
        ledger.chain_active, frequency, ledger.chain_start, current, end, expires, freezes
    )


def due_at(ledger: Ledger, ctx: Context, tz: str) -> datetime | None:
    """The next moment the clock changes something to announce: the end of the first period
    that would go unmet while the user has a streak, or the next AUTO_EARN grant below the cap."""
    moments: list[date] = []
    frequency = ctx.frequency
    if ledger.alive_at(ledger.settled, frequency):
        first_unmet = ledger.settled
        if ledger.chain_last == ledger.settled:
            first_unmet = next_period(first_unmet, frequency)
        moments.append(next_period(first_unmet, frequency))
    rules = ctx.rules
    if rules is not None and ledger.balance < rules.max_count:
        grant = rules.next_auto_grant(ctx.created, ledger.earned_through)
        if grant is not None:
            moments.append(grant)
    return period_start_instant(min(moments), tz) if moments else None


@dataclass(frozen=True, slots=True)
class HistoryPeriod:
    start: date
    end: date
    length: int
    used_freeze: bool


def history(
    ctx: Context,
    days: Iterable[date],
    api: Sequence[ApiGrant],
    now: datetime,
    tz: str,
    periods: int,
) -> list[HistoryPeriod]:
    """The last `periods` periods, the current one first: each with the streak's length at its
    end (now, for the current one) and whether a freeze covered it."""
    today = local_date(now, tz)
    ledger, judged = evaluate(ctx, days, api, today, record=True)
    current = period_start(today, ctx.frequency)
    now_length = view(ledger, ctx, now, tz).length
    rows: list[HistoryPeriod] = []
    start = current
    for _ in range(periods):
        if start == current:
            length, frozen = now_length, False
        else:
            length, frozen = judged.judged.get(start, (0, False))
        rows.append(HistoryPeriod(start, period_end(start, ctx.frequency), length, frozen))
        start = previous_period(start, ctx.frequency)
    return rows
