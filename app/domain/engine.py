"""The event engine's use cases: track an event (or many), complete an API achievement,
identify a user.

Each runs as one write transaction owned here (a batch of events as a few), over the
`Transaction` port; an event's own rules live in `event_tracking`, and what it completes goes
through `completion.complete`, the one completion path, and is announced in the same
transaction. Exactly-once comes from the storage's unique keys, never from a check-then-write.
Definitions (metrics, the streak settings) are read before the transaction opens, never inside
it: on SQLite a transaction must not wait on another connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from app.domain.errors import BadUserInput, NotFound
from app.domain.event_batches import at_index, check_batch_size, track_batch
from app.domain.event_tracking import (
    POINTS_NEWS,
    CheckedEvent,
    Committed,
    Rules,
    check_event,
    check_profile,
    complete_all,
    user_news,
)
from app.domain.event_types import EventType
from app.domain.group_commit import GroupCommit
from app.domain.leaderboard_counting import BoardFacts, BoardsOutcome, count_on_boards
from app.domain.model import (
    Achievement,
    AchievementStatus,
    Caller,
    Metric,
    StreakSettings,
)
from app.domain.outcomes import (
    CompleteAchievement,
    CompletionOutcome,
    EventOutcome,
    IdentifyOutcome,
    TrackEvent,
    Unlock,
)
from app.domain.points import PointsChange
from app.domain.points_awarding import OperationFacts, award_operation
from app.domain.ports import Definitions, Transaction, TransactionFactory, UpsertedUser, UserProfile
from app.domain.streak_tracking import grant_freezes, refresh_streak
from app.domain.streaks import StreakView
from app.domain.triggers import ApiTrigger, completed_progress
from app.domain.validation import check_key, check_user_id
from app.domain.visibility import attainable

__all__ = ["Committed", "EventEngine", "check_profile"]


class EventEngine:
    def __init__(
        self,
        transactions: TransactionFactory,
        definitions: Definitions,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_commit: Callable[[Committed], None] = lambda committed: None,
        group_commit: bool = True,
        parallel_groups: int = 1,
    ) -> None:
        """`on_commit` learns what each commit stored (it wakes the relay, counts metrics);
        `group_commit` lets single events that arrive together share a transaction, with at
        most `parallel_groups` of a tenant's transactions at once (see `group_commit`)."""
        self._transactions = transactions
        self._definitions = definitions
        self._clock = clock
        self._on_commit = on_commit
        self._single_events = GroupCommit(
            transactions,
            self._rules,
            clock,
            on_commit,
            enabled=group_commit,
            parallel=parallel_groups,
        )

    async def track_event(self, caller: Caller, command: TrackEvent) -> EventOutcome:
        tenant = caller.tenant_id
        now = self._clock()
        event = await self._checked(tenant, command, now)
        return await self._single_events.track(tenant, event, now)

    async def track_events(
        self, caller: Caller, commands: Sequence[TrackEvent]
    ) -> list[EventOutcome]:
        """Many events, each as `track_event` would take it, in order, in a few transactions
        (see `event_batches`)."""
        tenant = caller.tenant_id
        now = self._clock()
        check_batch_size(commands)
        events = [
            await at_index(index, self._checked(tenant, command, now))
            for index, command in enumerate(commands)
        ]
        rules = await self._rules(tenant)
        return await track_batch(
            self._transactions, tenant, events, rules, now, on_commit=self._on_commit
        )

    async def _checked(self, tenant_id: int, command: TrackEvent, now: datetime) -> CheckedEvent:
        command, occurred_at = check_event(command, now)
        return CheckedEvent(command, await self._metric(tenant_id, command.metric_key), occurred_at)

    async def _rules(self, tenant_id: int) -> Rules:
        """Some announcements are recorded only while an endpoint receives them (Rules)."""
        boards = await self._definitions.leaderboards(tenant_id)
        points = await self._definitions.points_program(tenant_id)
        heard = (
            frozenset(t.value for t in await self._definitions.webhook_types(tenant_id))
            if boards or not points.empty
            else frozenset()
        )
        return Rules(
            await self._definitions.streak_settings(tenant_id),
            points,
            boards,
            rank_changes=EventType.LEADERBOARD_RANK_CHANGED in heard,
            points_heard=POINTS_NEWS & heard,
        )

    async def complete_achievement(
        self, caller: Caller, command: CompleteAchievement
    ) -> CompletionOutcome:
        tenant = caller.tenant_id
        check_key(command.achievement_key, "achievementKey")
        command = replace(command, user=check_profile(command.user))
        now = self._clock()
        rules = await self._rules(tenant)
        async with self._transactions() as tx:
            achievement = await tx.achievement_by_key(tenant, command.achievement_key)
            if achievement is None:
                raise NotFound(f"no achievement with key {command.achievement_key!r}")
            if not isinstance(achievement.trigger, ApiTrigger):
                raise BadUserInput("only API achievements can be completed this way")
            if achievement.status is not AchievementStatus.ACTIVE:
                raise BadUserInput("only ACTIVE achievements can be completed")
            upserted = await tx.upsert_user(tenant, command.user, now)
            news = await user_news(tx, tenant, upserted, rules.streak, now)
            await tx.announce(tenant, news, now)
            user = upserted.user
            if not attainable(achievement, user.attributes):
                raise BadUserInput("the user's attributes do not meet the achievement's")
            others = await _requalify(tx, tenant, upserted, rules.streak, now)
            made = await complete_all(tx, tenant, user, [achievement], now)
            facts = OperationFacts(at=now, created=upserted.created, unlocks=others + made)
            points = await award_operation(tx, tenant, rules.points, user, facts, now)
            points_news = rules.heard(points)
            await tx.announce(tenant, points_news, now)
            boards = await _count_points(tx, tenant, rules, upserted, points.changes, now)
            if made:
                outcome = CompletionOutcome(
                    unlock=made[0],
                    newly_completed=True,
                    also_completed=tuple(others + made[1:]),
                    points=points.changes,
                    leaderboards=boards.changes,
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
        announced = completed + len(news) + len(points_news) + len(boards.news)
        self._on_commit(Committed(0, completed, announced))
        return outcome

    async def identify(self, caller: Caller, profile: UserProfile) -> IdentifyOutcome:
        """Create or update the user, complete what new attributes qualify them for, and award
        what the creation and those completions fire."""
        profile = check_profile(profile)
        now = self._clock()
        tenant = caller.tenant_id
        rules = await self._rules(tenant)
        async with self._transactions() as tx:
            upserted = await tx.upsert_user(tenant, profile, now)
            news = await user_news(tx, tenant, upserted, rules.streak, now)
            await tx.announce(tenant, news, now)
            unlocks = await _requalify(tx, tenant, upserted, rules.streak, now)
            facts = OperationFacts(at=now, created=upserted.created, unlocks=unlocks)
            points = await award_operation(tx, tenant, rules.points, upserted.user, facts, now)
            points_news = rules.heard(points)
            await tx.announce(tenant, points_news, now)
            boards = await _count_points(tx, tenant, rules, upserted, points.changes, now)
        announced = len(unlocks) + len(news) + len(points_news) + len(boards.news)
        self._on_commit(Committed(0, len(unlocks), announced))
        return IdentifyOutcome(
            upserted.user, upserted.created, tuple(unlocks), points.changes, boards.changes
        )

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


async def _count_points(
    tx: Transaction,
    tenant_id: int,
    rules: Rules,
    upserted: UpsertedUser,
    points: Sequence[PointsChange],
    now: datetime,
) -> BoardsOutcome:
    """What an operation without an event moves on boards: its user's group, and the points
    it awarded; announced here."""
    outcome = await count_on_boards(
        tx,
        rules.boards,
        upserted.user,
        BoardFacts(now, points=points),
        now,
        regrouped=upserted.attributes_changed,
        announce_ranks=rules.rank_changes,
    )
    await tx.announce(tenant_id, outcome.news, now)
    return outcome


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
    return await complete_all(tx, tenant_id, upserted.user, candidates, now)
