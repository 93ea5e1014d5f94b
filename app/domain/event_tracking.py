"""One metric event, inside a transaction its caller owns: the one home of trackEvent's rules.

`trackEvent` runs one event per transaction and `trackEvents` many per transaction; both check
their events with `check_event` before any transaction opens, and both run each event through
`track_in`: the idempotency claim, the event and its totals, the streak, the completions, the
points, and the announcements, in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.domain import idempotency
from app.domain.announcements import Announcement, UserCreated
from app.domain.completion import Grant, complete
from app.domain.errors import BadUserInput
from app.domain.event_types import EventType
from app.domain.leaderboard_counting import BoardFacts, count_on_boards
from app.domain.leaderboards import Leaderboard
from app.domain.model import Achievement, Metric, StreakSettings, User
from app.domain.outcomes import EventOutcome, TrackEvent, Unlock
from app.domain.points import PointsProgram
from app.domain.points_awarding import OperationFacts, PointsOutcome, award_operation
from app.domain.ports import NewEvent, RecordedEvent, Transaction, UpsertedUser, UserProfile
from app.domain.streak_tracking import advance_streak, open_streak
from app.domain.validation import (
    MAX_EMAIL,
    MAX_USER_NAME,
    check_attributes,
    check_idempotency_key,
    check_number,
    check_text,
    check_time_zone,
    check_user_id,
)

MAX_FUTURE = timedelta(minutes=5)
POINTS_NEWS: frozenset[str] = frozenset({EventType.POINTS_CHANGED, EventType.POINTS_LEVEL_CHANGED})
EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = [
    "POINTS_NEWS",
    "CheckedEvent",
    "Committed",
    "Rules",
    "Tracked",
    "check_event",
    "check_profile",
    "complete_all",
    "track_in",
    "user_news",
]


@dataclass(frozen=True, slots=True)
class Committed:
    """What one committed operation stored: events, the completions it announced, and how
    many announcements it left in the outbox in all (completions included)."""

    events: int
    completions: int
    announced: int

    def __add__(self, other: Committed) -> Committed:
        return Committed(
            self.events + other.events,
            self.completions + other.completions,
            self.announced + other.announced,
        )


NOTHING_STORED = Committed(0, 0, 0)


@dataclass(frozen=True, slots=True)
class CheckedEvent:
    """An event that passed every check that needs no transaction: normalised, its metric
    resolved, its instant in UTC."""

    command: TrackEvent
    metric: Metric
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Rules:
    """The tenant's definitions an event is judged by, read before the transaction opens."""

    streak: StreakSettings | None
    points: PointsProgram
    boards: Sequence[Leaderboard] = ()
    rank_changes: bool = True
    """Whether some endpoint receives `leaderboard.rank_changed`: only then are they announced
    (one per move on a large board, so nobody's would cost every event an outbox row)."""
    points_heard: frozenset[str] = POINTS_NEWS
    """Which of `points.changed` and `points.level_changed` some endpoint receives. Nothing
    but webhooks reads them, so the others are not recorded: with "XP per lesson" every event
    would otherwise add an outbox row that nobody receives."""

    def heard(self, points: PointsOutcome) -> tuple[Announcement, ...]:
        """The points announcements worth recording."""
        return tuple(n for n in points.news if n.type in self.points_heard)


@dataclass(frozen=True, slots=True)
class Tracked:
    outcome: EventOutcome
    stored: Committed


async def track_in(
    tx: Transaction, tenant_id: int, event: CheckedEvent, rules: Rules, now: datetime
) -> Tracked:
    """A replay stores nothing and returns the first response."""
    command = event.command
    if command.idempotency_key is not None:
        request_hash = idempotency.fingerprint(command)
        claim = await tx.claim_idempotency_key(
            tenant_id, command.idempotency_key, request_hash, now
        )
        if not claim.claimed:
            replayed = await idempotency.replay(tx, tenant_id, claim, request_hash)
            return Tracked(replayed, NOTHING_STORED)
    recorded = await tx.record_event(command.user, new_event(tenant_id, event, now))
    return await follow_up(tx, tenant_id, event, recorded, rules, now)


def new_event(tenant_id: int, event: CheckedEvent, now: datetime) -> NewEvent:
    command = event.command
    return NewEvent(
        tenant_id, event.metric.id, command.value, command.attributes, event.occurred_at, now
    )


async def follow_up(
    tx: Transaction,
    tenant_id: int,
    event: CheckedEvent,
    recorded: RecordedEvent,
    rules: Rules,
    now: datetime,
) -> Tracked:
    """What a recorded event does next, in order: streak, completions, points, boards,
    announcements. Unless the user's attributes changed (then their stored totals are judged
    again), it reads nothing `record_event` writes: a batch may record events that set no
    attributes first and follow each up after (event_batches.py)."""
    command, metric, occurred_at = event.command, event.metric, event.occurred_at
    user = recorded.user.user
    news = await user_news(tx, tenant_id, recorded.user, rules.streak, now)
    candidates = list(recorded.crossed)
    streak, streak_extended = None, False
    if rules.streak is not None:
        progress = await advance_streak(
            tx, tenant_id, user, rules.streak, metric.id, command.value, occurred_at, now
        )
        candidates += progress.reached
        streak, streak_extended = progress.view, progress.extended
        news += progress.news
    if recorded.user.attributes_changed:
        candidates += await tx.qualifying_achievements(tenant_id, user.pk)
    await tx.announce(tenant_id, news, now)
    unlocks = await complete_all(tx, tenant_id, user, candidates, now)
    facts = OperationFacts(
        at=occurred_at,
        created=recorded.user.created,
        metric_id=metric.id,
        changes=recorded.changes,
        unlocks=unlocks,
        streak=streak if streak_extended else None,
    )
    points = await award_operation(tx, tenant_id, rules.points, user, facts, now)
    points_news = rules.heard(points)
    await tx.announce(tenant_id, points_news, now)
    boards = await count_on_boards(
        tx,
        rules.boards,
        user,
        BoardFacts(
            at=occurred_at,
            metric=(metric.id, command.value),
            points=points.changes,
            streak=streak if streak_extended else None,
        ),
        now,
        regrouped=recorded.user.attributes_changed,
        announce_ranks=rules.rank_changes,
    )
    await tx.announce(tenant_id, boards.news, now)
    outcome = EventOutcome(
        event_id=recorded.event_id,
        metric_key=metric.key,
        total=recorded.total,
        unlocks=tuple(unlocks),
        streak=streak,
        streak_extended=streak_extended,
        idempotency_key=command.idempotency_key,
        points=points.changes,
        leaderboards=boards.changes,
    )
    if command.idempotency_key is not None:
        await tx.store_idempotent_response(
            tenant_id, command.idempotency_key, idempotency.dump_outcome(outcome)
        )
    announced = len(unlocks) + len(news) + len(points_news) + len(boards.news)
    return Tracked(outcome, Committed(1, len(unlocks), announced))


async def user_news(
    tx: Transaction,
    tenant_id: int,
    upserted: UpsertedUser,
    settings: StreakSettings | None,
    now: datetime,
) -> list[Announcement]:
    """`user.created` for a user this operation created, and their START freezes."""
    if not upserted.created:
        return []
    news: list[Announcement] = [UserCreated(upserted.user.id)]
    if settings is not None:
        news += await open_streak(tx, tenant_id, upserted.user, settings, now)
    return news


async def complete_all(
    tx: Transaction, tenant_id: int, user: User, candidates: list[Achievement], now: datetime
) -> list[Unlock]:
    return await complete(tx, tenant_id, [Grant(user, a) for a in candidates], now, announce_to=tx)


def check_profile(profile: UserProfile) -> UserProfile:
    """Returns the profile with its attributes normalised: one value per key, as stored."""
    check_user_id(profile.id)
    check_text(profile.name, "user.name", MAX_USER_NAME)
    check_text(profile.email, "user.email", MAX_EMAIL)
    if profile.tz is not None:
        check_time_zone(profile.tz)
    if profile.attributes is None:
        return profile
    return replace(profile, attributes=check_attributes(profile.attributes, "user.attributes"))


def check_event(command: TrackEvent, now: datetime) -> tuple[TrackEvent, datetime]:
    """Returns the command normalised: a repeated attribute pair must count once, not twice."""
    profile = check_profile(command.user)
    if profile is not command.user or command.attributes:
        command = replace(
            command, user=profile, attributes=check_attributes(command.attributes, "attributes")
        )
    check_number(command.value, "value")
    if command.idempotency_key is not None:
        check_idempotency_key(command.idempotency_key)
    return command, _check_occurred_at(command.occurred_at or now, now)


def _check_occurred_at(occurred_at: datetime, now: datetime) -> datetime:
    """In UTC, between the Unix epoch and 5 minutes ahead: earlier instants fall outside what
    dates can hold in some time zones (year 1 at UTC+14 is year 0 in UTC)."""
    if occurred_at.tzinfo is None:
        raise BadUserInput("occurredAt needs a UTC offset", field="occurredAt")
    try:
        instant = occurred_at.astimezone(UTC)
    except OverflowError:
        instant = EARLIEST_EVENT - timedelta(days=1)
    if instant < EARLIEST_EVENT:
        raise BadUserInput("occurredAt may not be before 1970-01-01T00:00:00Z", field="occurredAt")
    if instant - now > MAX_FUTURE:
        raise BadUserInput("occurredAt may be at most 5 minutes ahead", field="occurredAt")
    return instant
