"""The event engine's use cases: track an event, complete an API achievement, identify a user.

Each runs as one write transaction owned here, over the `Transaction` port; what it completes
goes through `completion.complete`, the one completion path, and is announced in the same
transaction. Exactly-once comes from the storage's unique keys, never from a check-then-write.
Definitions (metrics, the streak settings) are read before the transaction opens, never inside
it: on SQLite a transaction must not wait on another connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.domain import idempotency
from app.domain.announcements import Announcement, UserCreated
from app.domain.completion import Grant, complete
from app.domain.errors import BadUserInput, NotFound
from app.domain.model import (
    Achievement,
    AchievementStatus,
    Caller,
    Metric,
    StreakSettings,
    User,
)
from app.domain.outcomes import (
    CompleteAchievement,
    CompletionOutcome,
    EventOutcome,
    IdentifyOutcome,
    TrackEvent,
    Unlock,
)
from app.domain.points_awarding import OperationFacts, award_operation
from app.domain.ports import (
    Definitions,
    NewEvent,
    Transaction,
    TransactionFactory,
    UpsertedUser,
    UserProfile,
)
from app.domain.streak_tracking import (
    advance_streak,
    grant_freezes,
    open_streak,
    refresh_streak,
)
from app.domain.streaks import StreakView
from app.domain.triggers import ApiTrigger, completed_progress
from app.domain.validation import (
    MAX_EMAIL,
    MAX_USER_NAME,
    check_attributes,
    check_idempotency_key,
    check_key,
    check_number,
    check_text,
    check_time_zone,
    check_user_id,
)
from app.domain.visibility import attainable

MAX_FUTURE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Committed:
    """What one committed operation stored: events, the completions it announced, and how
    many announcements it left in the outbox in all (completions included)."""

    events: int
    completions: int
    announced: int


EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = ["Committed", "EventEngine", "check_profile"]


class EventEngine:
    def __init__(
        self,
        transactions: TransactionFactory,
        definitions: Definitions,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_commit: Callable[[Committed], None] = lambda committed: None,
    ) -> None:
        """`on_commit` learns what each commit stored (it wakes the relay, counts metrics)."""
        self._transactions = transactions
        self._definitions = definitions
        self._clock = clock
        self._on_commit = on_commit

    async def track_event(self, caller: Caller, command: TrackEvent) -> EventOutcome:
        tenant = caller.tenant_id
        now = self._clock()
        command, occurred_at = _check_event(command, now)
        metric = await self._metric(tenant, command.metric_key)
        settings = await self._definitions.streak_settings(tenant)
        program = await self._definitions.points_program(tenant)
        async with self._transactions() as tx:
            if command.idempotency_key is not None:
                request_hash = idempotency.fingerprint(command)
                claim = await tx.claim_idempotency_key(
                    tenant, command.idempotency_key, request_hash, now
                )
                if not claim.claimed:
                    return await idempotency.replay(tx, tenant, claim, request_hash)
            recorded = await tx.record_event(
                command.user,
                NewEvent(tenant, metric.id, command.value, command.attributes, occurred_at, now),
            )
            user = recorded.user.user
            news = await _user_news(tx, tenant, recorded.user, settings, now)
            candidates = list(recorded.crossed)
            streak, streak_extended = None, False
            if settings is not None:
                progress = await advance_streak(
                    tx, tenant, user, settings, metric.id, command.value, occurred_at, now
                )
                candidates += progress.reached
                streak, streak_extended = progress.view, progress.extended
                news += progress.news
            if recorded.user.attributes_changed:
                candidates += await tx.qualifying_achievements(tenant, user.pk)
            await tx.announce(tenant, news, now)
            unlocks = await _complete(tx, tenant, user, candidates, now)
            facts = OperationFacts(
                at=occurred_at,
                created=recorded.user.created,
                metric_id=metric.id,
                changes=recorded.changes,
                unlocks=unlocks,
                streak=streak if streak_extended else None,
            )
            points = await award_operation(tx, tenant, program, user, facts, now)
            await tx.announce(tenant, points.news, now)
            outcome = EventOutcome(
                event_id=recorded.event_id,
                metric_key=metric.key,
                total=recorded.total,
                unlocks=tuple(unlocks),
                streak=streak,
                streak_extended=streak_extended,
                idempotency_key=command.idempotency_key,
                points=points.changes,
            )
            if command.idempotency_key is not None:
                await tx.store_idempotent_response(
                    tenant, command.idempotency_key, idempotency.dump_outcome(outcome)
                )
        self._on_commit(Committed(1, len(unlocks), len(unlocks) + len(news) + len(points.news)))
        return outcome

    async def complete_achievement(
        self, caller: Caller, command: CompleteAchievement
    ) -> CompletionOutcome:
        tenant = caller.tenant_id
        check_key(command.achievement_key, "achievementKey")
        command = replace(command, user=check_profile(command.user))
        now = self._clock()
        settings = await self._definitions.streak_settings(tenant)
        program = await self._definitions.points_program(tenant)
        async with self._transactions() as tx:
            achievement = await tx.achievement_by_key(tenant, command.achievement_key)
            if achievement is None:
                raise NotFound(f"no achievement with key {command.achievement_key!r}")
            if not isinstance(achievement.trigger, ApiTrigger):
                raise BadUserInput("only API achievements can be completed this way")
            if achievement.status is not AchievementStatus.ACTIVE:
                raise BadUserInput("only ACTIVE achievements can be completed")
            upserted = await tx.upsert_user(tenant, command.user, now)
            news = await _user_news(tx, tenant, upserted, settings, now)
            await tx.announce(tenant, news, now)
            user = upserted.user
            if not attainable(achievement, user.attributes):
                raise BadUserInput("the user's attributes do not meet the achievement's")
            others = await _requalify(tx, tenant, upserted, settings, now)
            made = await _complete(tx, tenant, user, [achievement], now)
            facts = OperationFacts(at=now, created=upserted.created, unlocks=others + made)
            points = await award_operation(tx, tenant, program, user, facts, now)
            await tx.announce(tenant, points.news, now)
            if made:
                outcome = CompletionOutcome(
                    unlock=made[0],
                    newly_completed=True,
                    also_completed=tuple(others + made[1:]),
                    points=points.changes,
                )
            else:
                existing = await tx.completion_of(user.pk, achievement.id)
                assert existing is not None, "the insert conflicted with this completion"
                unlock = Unlock(
                    user_pk=user.pk,
                    completion_id=existing.id,
                    achievement=achievement,
                    completed_at=existing.completed_at,
                    progress=completed_progress(achievement.trigger),
                )
                outcome = CompletionOutcome(
                    unlock=unlock,
                    newly_completed=False,
                    also_completed=tuple(others),
                )
        completed = len(outcome.also_completed) + (1 if outcome.newly_completed else 0)
        self._on_commit(Committed(0, completed, completed + len(news) + len(points.news)))
        return outcome

    async def identify(self, caller: Caller, profile: UserProfile) -> IdentifyOutcome:
        """Create or update the user, complete what new attributes qualify them for, and award
        what the creation and those completions fire."""
        profile = check_profile(profile)
        now = self._clock()
        tenant = caller.tenant_id
        settings = await self._definitions.streak_settings(tenant)
        program = await self._definitions.points_program(tenant)
        async with self._transactions() as tx:
            upserted = await tx.upsert_user(tenant, profile, now)
            news = await _user_news(tx, tenant, upserted, settings, now)
            await tx.announce(tenant, news, now)
            unlocks = await _requalify(tx, tenant, upserted, settings, now)
            facts = OperationFacts(at=now, created=upserted.created, unlocks=unlocks)
            points = await award_operation(tx, tenant, program, upserted.user, facts, now)
            await tx.announce(tenant, points.news, now)
        announced = len(unlocks) + len(news) + len(points.news)
        self._on_commit(Committed(0, len(unlocks), announced))
        return IdentifyOutcome(upserted.user, upserted.created, tuple(unlocks), points.changes)

    async def grant_streak_freezes(self, caller: Caller, user_id: str, count: int) -> StreakView:
        """`count` freezes for an existing user, never above the cap."""
        check_user_id(user_id)
        tenant = caller.tenant_id
        settings = await self._definitions.streak_settings(tenant)
        if settings is None or settings.freezes is None:
            raise BadUserInput("streak freezes are off", field="userId")
        now = self._clock()
        async with self._transactions() as tx:
            user = await tx.lock_user(tenant, user_id)
            if user is None:
                raise NotFound(f"no user with id {user_id!r}", field="userId")
            progress = await grant_freezes(tx, tenant, user, settings, count, now)
            await tx.announce(tenant, progress.news, now)
        self._on_commit(Committed(0, 0, len(progress.news)))
        return progress.view

    async def _metric(self, tenant_id: int, key: str) -> Metric:
        check_key(key, "metricKey")
        metric = await self._definitions.metric_by_key(tenant_id, key)
        if metric is None:
            raise NotFound(f"no metric with key {key!r}", field="metricKey")
        return metric


async def _user_news(
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


def _check_event(command: TrackEvent, now: datetime) -> tuple[TrackEvent, datetime]:
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


async def _requalify(
    tx: Transaction,
    tenant_id: int,
    upserted: UpsertedUser,
    settings: StreakSettings | None,
    now: datetime,
) -> list[Unlock]:
    """New attributes may make a user meet achievements whose bar they had reached already;
    a streak stored under older settings is evaluated first, so its length is today's."""
    if not upserted.attributes_changed:
        return []
    candidates: list[Achievement] = []
    if settings is not None:
        candidates += await refresh_streak(tx, tenant_id, upserted.user, settings, now)
    candidates += await tx.qualifying_achievements(tenant_id, upserted.user.pk)
    return await _complete(tx, tenant_id, upserted.user, candidates, now)


async def _complete(
    tx: Transaction, tenant_id: int, user: User, candidates: list[Achievement], now: datetime
) -> list[Unlock]:
    return await complete(tx, tenant_id, [Grant(user, a) for a in candidates], now, announce_to=tx)
