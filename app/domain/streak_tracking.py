"""A user's streak inside a write transaction: events, freeze grants and the streak clock.

Every write goes through `_Update`: it reads the stored ledger, brings it to now (judging the
periods that ended since, announced) and saves it. A ledger evaluated under older settings, or
one that a late event invalidates, is evaluated again from the user's first period; what that
corrects in periods already judged is silent (freezes returned, lost streaks restored), and only
periods judged for the first time are announced, so nothing is announced twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from app.domain.announcements import (
    Announcement,
    FreezesConsumed,
    FreezesEarned,
    FreezeSource,
    StreakGrew,
    StreakLost,
)
from app.domain.errors import BadUserInput
from app.domain.model import Achievement, StreakSettings, User
from app.domain.ports import StreakState, StreakWrites
from app.domain.streak_ledger import (
    ApiGrant,
    Context,
    Ledger,
    Settlement,
    due_at,
    evaluate,
    mark_active,
    opening,
    settle,
    up_to_now,
    view,
)
from app.domain.streaks import (
    StreakView,
    local_date,
    next_period,
    period_end,
    period_start,
    period_start_instant,
)

MAX_GRANT = 100


@dataclass(frozen=True, slots=True)
class StreakProgress:
    """What an operation did to a user's streak: the streak now, whether it grew, the STREAK
    achievements its longest run reached, and what to announce."""

    view: StreakView
    extended: bool
    reached: list[Achievement] = field(default_factory=list)
    news: list[Announcement] = field(default_factory=list)


def context(settings: StreakSettings, user: User) -> Context:
    return Context(settings.frequency, settings.freezes, local_date(user.created_at, user.tz))


def current_ledger(state: StreakState | None, settings: StreakSettings) -> Ledger | None:
    """The stored ledger if it was evaluated under these settings."""
    if state is None or state.ledger is None or state.version != settings.version:
        return None
    return state.ledger


class _Update:
    """One user's streak in one transaction."""

    def __init__(
        self, tx: StreakWrites, tenant_id: int, user: User, settings: StreakSettings, now: datetime
    ) -> None:
        self.tx = tx
        self.tenant_id = tenant_id
        self.user = user
        self.settings = settings
        self.now = now
        self.ctx = context(settings, user)
        self.news: list[Announcement] = []

    async def stored(self) -> StreakState | None:
        return await self.tx.streak_state(self.user.pk)

    def view(self, ledger: Ledger) -> StreakView:
        return view(ledger, self.ctx, self.now, self.user.tz)

    def forward(self, ledger: Ledger) -> Ledger:
        """Judges the periods that ended since `ledger.settled`, announced."""
        current, settlement = up_to_now(ledger, self.ctx, self.now, self.user.tz)
        self.announce(current, settlement)
        return current

    async def days(self) -> list[date]:
        return await self.tx.streak_days(self.user.pk, self.settings.metric_ids)

    async def reevaluated(self, old: Ledger | None, days: list[date] | None = None) -> Ledger:
        """From the stored days and grants. Periods `old` had judged come out silently; later
        ones are judged as usual (announced). Without `old`, all of it is silent."""
        days = await self.days() if days is None else days
        grants = await self.tx.freeze_grants(self.user.pk)
        today = local_date(self.now, self.user.tz)
        if old is None:
            return evaluate(self.ctx, days, grants, today)[0]
        periods = {period_start(d, self.ctx.frequency) for d in days}
        start = opening(self.ctx, min(periods) if periods else None)
        corrected, _ = settle(
            start, self.ctx, old.settled, active=periods, api=grants, through=old.earned_through
        )
        target = max([period_start(today, self.ctx.frequency), *periods])
        ledger, settlement = settle(corrected, self.ctx, target, active=periods, through=today)
        self.announce(ledger, settlement)
        return ledger

    def announce(self, ledger: Ledger, settlement: Settlement) -> None:
        user, tz, frequency = self.user, self.user.tz, self.ctx.frequency
        for period, length in settlement.lost:
            lost_at = period_start_instant(next_period(period, frequency), tz)
            self.news.append(StreakLost(user.id, length, lost_at))
        if settlement.frozen:
            first, last = settlement.frozen[0], settlement.frozen[-1]
            self.news.append(
                FreezesConsumed(
                    user.id,
                    len(settlement.frozen),
                    first,
                    period_end(last, frequency),
                    self.view(ledger),
                )
            )
        if settlement.auto_earned:
            self.news.append(
                FreezesEarned(
                    user.id, settlement.auto_earned, ledger.balance, FreezeSource.AUTO_EARN
                )
            )

    async def save(self, ledger: Ledger) -> None:
        state = StreakState(ledger, self.settings.version)
        due = due_at(ledger, self.ctx, self.user.tz)
        await self.tx.save_streak_state(self.tenant_id, self.user.pk, state, due)

    async def reached(self, before: int, ledger: Ledger) -> list[Achievement]:
        if ledger.longest <= before:
            return []
        return await self.tx.streak_achievements_between(self.tenant_id, before, ledger.longest)


async def advance_streak(
    tx: StreakWrites,
    tenant_id: int,
    user: User,
    settings: StreakSettings,
    metric_id: int,
    value: float,
    occurred_at: datetime,
    now: datetime,
) -> StreakProgress:
    """An event: its day is stored for its metric whether or not the streak counts that metric
    (so that adding the metric to the streak later counts it), and a qualifying new day extends
    the ledger."""
    update = _Update(tx, tenant_id, user, settings, now)
    state = await update.stored()
    old = current_ledger(state, settings)
    days = await update.days() if old is None else []
    day = local_date(occurred_at, user.tz)
    period: date | None = None
    new_day = value > 0 and await tx.add_streak_day(tenant_id, user.pk, metric_id, day)
    if new_day and metric_id in settings.metric_ids:
        period = period_start(day, settings.frequency)
    if old is None:
        return await _first_evaluation(update, days, [day] if period else [])
    before = update.view(up_to_now(old, update.ctx, now, user.tz)[0])
    if period is None:
        return StreakProgress(before, False)
    if period >= old.settled:
        settled, settlement = settle(old, update.ctx, period)
        update.announce(settled, settlement)
        ledger = update.forward(mark_active(settled, period, settings.frequency))
    else:
        ledger = await update.reevaluated(old)
    await update.save(ledger)
    after = update.view(ledger)
    grew = after.length > before.length
    if grew:
        update.news.append(StreakGrew(user.id, after))
    return StreakProgress(after, grew, await update.reached(old.longest, ledger), update.news)


async def _first_evaluation(update: _Update, days: list[date], new: list[date]) -> StreakProgress:
    """No ledger under these settings yet: the whole history, silently, except that the
    streak grows (and is announced) when this event's day lengthens it. The STREAK achievements
    it reaches are reached by this operation."""
    grants = await update.tx.freeze_grants(update.user.pk)
    today = local_date(update.now, update.user.tz)
    before = update.view(evaluate(update.ctx, days, grants, today)[0])
    ledger = await update.reevaluated(None, days + new)
    await update.save(ledger)
    after = update.view(ledger)
    grew = after.length > before.length
    news: list[Announcement] = [StreakGrew(update.user.id, after)] if grew else []
    return StreakProgress(after, grew, await update.reached(0, ledger), news)


async def refresh_streak(
    tx: StreakWrites, tenant_id: int, user: User, settings: StreakSettings, now: datetime
) -> list[Achievement]:
    """Before an attribute change re-evaluates achievements: a ledger from older settings is
    evaluated again, so that STREAK achievements see the length under the current ones.
    Returns the STREAK achievements the re-evaluation reached."""
    update = _Update(tx, tenant_id, user, settings, now)
    state = await update.stored()
    if state is None or current_ledger(state, settings) is not None:
        return []
    ledger = await update.reevaluated(None)
    await update.save(ledger)
    return await update.reached(0, ledger)


async def open_streak(
    tx: StreakWrites, tenant_id: int, user: User, settings: StreakSettings, now: datetime
) -> list[Announcement]:
    """A user just created while freezes are on: their START freezes, announced, and a ledger
    for the streak clock to grant AUTO_EARN freezes on."""
    rules = settings.freezes
    if rules is None or await tx.streak_state(user.pk) is not None:
        return []
    update = _Update(tx, tenant_id, user, settings, now)
    # Just created: no days or grants are stored yet, so nothing is read.
    ledger, _ = evaluate(update.ctx, [], [], local_date(now, user.tz))
    await update.save(ledger)
    if not rules.start_count:
        return []
    return [FreezesEarned(user.id, ledger.balance, ledger.balance, FreezeSource.START)]


async def tick_streak(
    tx: StreakWrites, tenant_id: int, user: User, settings: StreakSettings, now: datetime
) -> tuple[list[Announcement], list[Achievement]]:
    """The streak clock's work on one due user: judge the periods that ended, grant what fell
    due, announce both. A state from older settings is evaluated silently; the STREAK
    achievements that reaches are returned, for silent completion."""
    update = _Update(tx, tenant_id, user, settings, now)
    state = await update.stored()
    old = current_ledger(state, settings)
    if old is None:
        ledger = await update.reevaluated(None)
        await update.save(ledger)
        return [], await update.reached(0, ledger)
    await update.save(update.forward(old))
    return update.news, []


async def grant_freezes(
    tx: StreakWrites,
    tenant_id: int,
    user: User,
    settings: StreakSettings,
    count: int,
    now: datetime,
) -> StreakProgress:
    """`grantStreakFreezes`: `count` more, never above the cap. The ledger is brought to now
    first, so the grant counts for periods that end after it and for none before."""
    rules = settings.freezes
    if rules is None:
        raise BadUserInput("streak freezes are off", field="userId")
    if not 1 <= count <= MAX_GRANT:
        raise BadUserInput(f"count must be between 1 and {MAX_GRANT}", field="count")
    update = _Update(tx, tenant_id, user, settings, now)
    old = current_ledger(await update.stored(), settings)
    ledger = update.forward(old) if old is not None else await update.reevaluated(None)
    today = local_date(now, user.tz)
    await tx.add_freeze_grant(tenant_id, user.pk, ApiGrant(today, count))
    balance = min(rules.max_count, ledger.balance + count)
    earned = balance - ledger.balance
    ledger = replace(ledger, balance=balance)
    await update.save(ledger)
    if earned:
        update.news.append(FreezesEarned(user.id, earned, balance, FreezeSource.GRANT))
    return StreakProgress(update.view(ledger), False, [], update.news)
