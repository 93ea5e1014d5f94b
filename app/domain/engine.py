"""The event engine's use cases: track an event, complete an API achievement, identify a user.

Each runs as one write transaction owned here, over the `Transaction` port. Exactly-once comes
from the storage's unique keys, never from a check-then-write: a completion exists when its
insert returned a row, and only the request whose insert did so reports it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.domain.errors import BadUserInput, Conflict, NotFound
from app.domain.model import (
    Achievement,
    AchievementStatus,
    ApiTrigger,
    Attribute,
    Caller,
    Metric,
    StreakSettings,
    User,
)
from app.domain.ports import (
    CompletionWriter,
    ConfigStore,
    IdempotencyClaim,
    NewCompletion,
    NewEvent,
    Transaction,
    TransactionFactory,
    UpsertedUser,
    UserProfile,
)
from app.domain.progress import Progress, completed_progress
from app.domain.replay import dump_outcome, load_outcome
from app.domain.streak_tracking import advance_streak, streak_view
from app.domain.streaks import StreakView
from app.domain.validation import (
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
STREAK_SETTINGS_TTL = 2.0

__all__ = [
    "CompleteAchievement",
    "CompletionOutcome",
    "EventEngine",
    "EventOutcome",
    "TrackEvent",
    "Unlock",
]


@dataclass(frozen=True, slots=True)
class TrackEvent:
    metric_key: str
    user: UserProfile
    value: float
    attributes: tuple[Attribute, ...] = ()
    idempotency_key: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unlock:
    """A completion as a payload reports it."""

    completion_id: int
    achievement: Achievement
    completed_at: datetime
    progress: Progress


@dataclass(frozen=True, slots=True)
class EventOutcome:
    event_id: int
    metric_key: str
    total: float
    unlocks: tuple[Unlock, ...]
    streak: StreakView | None
    idempotency_key: str | None = None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class CompleteAchievement:
    achievement_key: str
    user: UserProfile


@dataclass(frozen=True, slots=True)
class CompletionOutcome:
    unlock: Unlock
    newly_completed: bool
    also_completed: tuple[Unlock, ...]


class EventEngine:
    def __init__(
        self,
        transactions: TransactionFactory,
        config: ConfigStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._transactions = transactions
        self._config = config
        self._clock = clock
        self._on_commit = on_commit
        self._metrics: dict[tuple[int, str], Metric] = {}
        self._streak_settings: dict[int, tuple[float, StreakSettings | None]] = {}

    async def track_event(self, caller: Caller, command: TrackEvent) -> EventOutcome:
        tenant = caller.tenant_id
        now = self._clock()
        command, occurred_at = _check_event(command, now)
        settings = await self._settings(tenant)
        async with self._transactions() as tx:
            metric = await self._metric(tx, tenant, command.metric_key)
            if command.idempotency_key is not None:
                request_hash = _fingerprint(command)
                claim = await tx.claim_idempotency_key(
                    tenant, command.idempotency_key, request_hash, now
                )
                if not claim.claimed:
                    return await _replay(tx, tenant, claim, request_hash)
            recorded = await tx.record_event(
                command.user,
                NewEvent(tenant, metric.id, command.value, command.attributes, occurred_at, now),
            )
            upserted = recorded.user
            user = upserted.user
            candidates = await tx.crossed_metric_achievements(tenant, metric.id, recorded.changes)
            streak = None
            if settings is not None:
                progress = await advance_streak(
                    tx, tenant, user, settings, metric.id, command.value, occurred_at
                )
                candidates += progress.reached
                streak = streak_view(progress.run, settings, now, user.tz)
            if upserted.attributes_changed:
                candidates += await tx.qualifying_achievements(tenant, user.pk)
            unlocks = await _complete(tx, tenant, user, candidates, now)
            outcome = EventOutcome(
                event_id=recorded.event_id,
                metric_key=metric.key,
                total=recorded.total,
                unlocks=tuple(unlocks),
                streak=streak,
                idempotency_key=command.idempotency_key,
            )
            if command.idempotency_key is not None:
                await tx.store_idempotent_response(
                    tenant, command.idempotency_key, dump_outcome(outcome)
                )
        if unlocks:
            self._on_commit()
        return outcome

    async def complete_achievement(
        self, caller: Caller, command: CompleteAchievement
    ) -> CompletionOutcome:
        tenant = caller.tenant_id
        check_key(command.achievement_key, "achievementKey")
        command = replace(command, user=_check_profile(command.user))
        now = self._clock()
        async with self._transactions() as tx:
            achievement = await tx.achievement_by_key(tenant, command.achievement_key)
            if achievement is None:
                raise NotFound(f"no achievement with key {command.achievement_key!r}")
            if not isinstance(achievement.trigger, ApiTrigger):
                raise BadUserInput("only API achievements can be completed this way")
            if achievement.status is not AchievementStatus.ACTIVE:
                raise BadUserInput("only ACTIVE achievements can be completed")
            upserted = await tx.upsert_user(tenant, command.user, now)
            user = upserted.user
            if not attainable(achievement, user.attributes):
                raise BadUserInput("the user's attributes do not meet the achievement's")
            others = await _requalify(tx, tenant, upserted, now)
            new = await tx.insert_completions(tenant, user.pk, [achievement.id], now, publish=True)
            if new:
                cascade = await cascade_composites(tx, tenant, user, [achievement.id], now)
                outcome = CompletionOutcome(
                    unlock=_unlock(new[0], achievement),
                    newly_completed=True,
                    also_completed=tuple(others + cascade),
                )
            else:
                existing = await tx.completion_of(user.pk, achievement.id)
                assert existing is not None
                outcome = CompletionOutcome(
                    unlock=_unlock(existing, achievement),
                    newly_completed=False,
                    also_completed=tuple(others),
                )
        if outcome.newly_completed or outcome.also_completed:
            self._on_commit()
        return outcome

    async def identify_user(self, caller: Caller, profile: UserProfile) -> User:
        profile = _check_profile(profile)
        now = self._clock()
        async with self._transactions() as tx:
            upserted = await tx.upsert_user(caller.tenant_id, profile, now)
            unlocks = await _requalify(tx, caller.tenant_id, upserted, now)
        if unlocks:
            self._on_commit()
        return upserted.user

    def forget_streak_settings(self, tenant_id: int) -> None:
        self._streak_settings.pop(tenant_id, None)

    async def _metric(self, tx: Transaction, tenant_id: int, key: str) -> Metric:
        """Metrics never change once created, so a hit is always right and a miss is one query."""
        cached = self._metrics.get((tenant_id, key))
        if cached is not None:
            return cached
        check_key(key, "metricKey")
        metric = await tx.metric_by_key(tenant_id, key)
        if metric is None:
            raise NotFound(f"no metric with key {key!r}", field="metricKey")
        self._metrics[(tenant_id, key)] = metric
        return metric

    async def _settings(self, tenant_id: int) -> StreakSettings | None:
        """Cached briefly: a streak change reaches other instances within STREAK_SETTINGS_TTL."""
        cached = self._streak_settings.get(tenant_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        settings = await self._config.streak_settings(tenant_id)
        self._streak_settings[tenant_id] = (time.monotonic() + STREAK_SETTINGS_TTL, settings)
        return settings


def _check_profile(profile: UserProfile) -> UserProfile:
    """Returns the profile with its attributes normalised: one value per key, as stored."""
    check_user_id(profile.id)
    check_text(profile.name, "user.name", 255)
    check_text(profile.email, "user.email", 320)
    if profile.tz is not None:
        check_time_zone(profile.tz)
    if profile.attributes is None:
        return profile
    return replace(profile, attributes=check_attributes(profile.attributes, "user.attributes"))


def _check_event(command: TrackEvent, now: datetime) -> tuple[TrackEvent, datetime]:
    """Returns the command normalised: a repeated attribute pair must count once, not twice."""
    profile = _check_profile(command.user)
    if profile is not command.user or command.attributes:
        command = replace(
            command, user=profile, attributes=check_attributes(command.attributes, "attributes")
        )
    check_number(command.value, "value")
    if command.idempotency_key is not None:
        check_idempotency_key(command.idempotency_key)
    occurred_at = command.occurred_at or now
    if occurred_at.tzinfo is None:
        raise BadUserInput("occurredAt needs a UTC offset", field="occurredAt")
    if occurred_at - now > MAX_FUTURE:
        raise BadUserInput("occurredAt may be at most 5 minutes ahead", field="occurredAt")
    return command, occurred_at.astimezone(UTC)


def _fingerprint(command: TrackEvent) -> str:
    """Canonical JSON of the resolved input, so a literal and a variable form hash the same."""
    profile = command.user
    canonical = {
        "metricKey": command.metric_key,
        "user": [
            profile.id,
            profile.name,
            profile.email,
            profile.tz,
            None
            if profile.attributes is None
            else sorted((a.key, a.value) for a in profile.attributes),
        ],
        "value": command.value,
        "attributes": sorted((a.key, a.value) for a in command.attributes),
        "occurredAt": command.occurred_at.astimezone(UTC).isoformat()
        if command.occurred_at
        else None,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


async def _replay(
    tx: Transaction, tenant_id: int, claim: IdempotencyClaim, request_hash: str
) -> EventOutcome:
    if claim.request_hash != request_hash:
        raise Conflict(
            "this idempotencyKey was used with a different input", field="idempotencyKey"
        )
    if claim.response is None:
        raise Conflict("a request with this idempotencyKey is still in progress")
    return await load_outcome(tx, tenant_id, claim.response)


async def _requalify(
    tx: Transaction, tenant_id: int, upserted: UpsertedUser, now: datetime
) -> list[Unlock]:
    """SPEC 5: new attributes may make a user meet achievements they had reached already."""
    if not upserted.attributes_changed:
        return []
    candidates = await tx.qualifying_achievements(tenant_id, upserted.user.pk)
    return await _complete(tx, tenant_id, upserted.user, candidates, now)


async def _complete(
    tx: Transaction,
    tenant_id: int,
    user: User,
    candidates: Iterable[Achievement],
    now: datetime,
) -> list[Unlock]:
    eligible = {a.id: a for a in candidates if attainable(a, user.attributes)}
    if not eligible:
        return []
    new = await tx.insert_completions(tenant_id, user.pk, sorted(eligible), now, publish=True)
    unlocks = [_unlock(c, eligible[c.achievement_id]) for c in new]
    completed = [c.achievement_id for c in new]
    return unlocks + await cascade_composites(tx, tenant_id, user, completed, now)


async def cascade_composites(
    tx: CompletionWriter,
    tenant_id: int,
    user: User,
    completed_ids: Sequence[int],
    now: datetime,
    *,
    publish: bool = True,
) -> list[Unlock]:
    """Composites complete in the same transaction as their last prerequisite, transitively.

    Backdating cascades too, but silently (`publish=False`): no outbox row, no message.
    """
    unlocks: list[Unlock] = []
    frontier = list(completed_ids)
    while frontier:
        composites = await tx.composites_completed_by(tenant_id, user.pk, frontier)
        eligible = {a.id: a for a in composites if attainable(a, user.attributes)}
        if not eligible:
            break
        new = await tx.insert_completions(
            tenant_id, user.pk, sorted(eligible), now, publish=publish
        )
        unlocks += [_unlock(c, eligible[c.achievement_id]) for c in new]
        frontier = [c.achievement_id for c in new]
    return unlocks


def _unlock(completion: NewCompletion, achievement: Achievement) -> Unlock:
    return Unlock(
        completion_id=completion.id,
        achievement=achievement,
        completed_at=completion.completed_at,
        progress=completed_progress(achievement),
    )
