"""What the rules need from storage, stated as Protocols so the rules never import a driver.

Every method takes the tenant explicitly: tenant isolation is a property of each call, not of
ambient state. The write side is cut by aggregate (users, events, completions, streaks,
idempotency, announcements); a `Transaction` is all of them at once, and an in-memory fake of
each lives in `tests/domain/fakes.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from app.domain.announcements import Announcement, Published
from app.domain.leaderboard_ports import LeaderboardBoards, LeaderboardWrites
from app.domain.model import (
    Achievement,
    ApiKeyRole,
    Attribute,
    Metric,
    StreakSettings,
    Trigger,
    User,
)
from app.domain.points import PointsAward, PointsLevel, PointsProgram
from app.domain.streak_ledger import ApiGrant, Ledger
from app.domain.webhooks.events import WebhookEventType


@dataclass(frozen=True, slots=True)
class AchievementDraft:
    """A validated achievement not yet stored (no id)."""

    key: str
    name: str
    description: str | None
    badge_url: str | None
    hidden: bool
    user_attributes: tuple[Attribute, ...]
    trigger: Trigger


class CoreDefinitions(Protocol):
    async def metric_by_key(self, tenant_id: int, key: str) -> Metric | None: ...
    async def streak_settings(self, tenant_id: int) -> StreakSettings | None: ...


class PointsPrograms(Protocol):
    async def points_program(self, tenant_id: int) -> PointsProgram: ...


class WebhookInterest(Protocol):
    async def webhook_types(self, tenant_id: int) -> frozenset[WebhookEventType]:
        """The types some ENABLED endpoint of the tenant receives."""
        ...


class Definitions(CoreDefinitions, PointsPrograms, LeaderboardBoards, WebhookInterest, Protocol):
    """The definitions every event needs before its transaction: cheap to cache."""


class ConfigStore(CoreDefinitions, Protocol):
    async def metrics(self, tenant_id: int) -> list[Metric]: ...
    async def create_metric(
        self, tenant_id: int, key: str, name: str, unit: str | None
    ) -> Metric: ...
    async def achievement_by_key(self, tenant_id: int, key: str) -> Achievement | None: ...
    async def achievements(
        self, tenant_id: int, statuses: frozenset[str] | None
    ) -> list[Achievement]: ...
    async def achievements_by_keys(
        self, tenant_id: int, keys: Sequence[str]
    ) -> list[Achievement]: ...
    async def prerequisite_graph(self, tenant_id: int) -> dict[int, tuple[int, ...]]:
        """Each composite's prerequisites, for the whole tenant (ids only)."""
        ...

    async def create_achievement(self, tenant_id: int, draft: AchievementDraft) -> Achievement: ...
    async def save_achievement(
        self, tenant_id: int, achievement: Achievement, *, backdate: bool
    ) -> Achievement: ...
    async def configure_streak(self, tenant_id: int, settings: StreakSettings) -> StreakSettings:
        """Stores the settings under a new version (returned), marks every user's stored streak
        for re-evaluation under it and, with freezes on, gives users without one a state to
        evaluate, so that the streak clock grants and announces for them too."""
        ...


@dataclass(frozen=True, slots=True)
class StoredKey:
    id: int
    tenant_id: int
    role: ApiKeyRole
    secret_hash: str


class KeyStore(Protocol):
    async def key_by_prefix(self, prefix: str) -> StoredKey | None: ...
    async def create_key(
        self, tenant_id: int, prefix: str, secret_hash: str, name: str, role: ApiKeyRole
    ) -> None: ...
    async def revoke_key(self, tenant_id: int, prefix: str) -> bool: ...
    async def tenant_secret(self, tenant_id: int) -> str | None: ...
    async def rotate_tenant_secret(self, tenant_id: int) -> None: ...


class TenantDirectory(KeyStore, Protocol):
    """What first start-up needs: whether any key exists, and the default tenant."""

    async def any_key_exists(self) -> bool: ...
    async def default_tenant(self) -> int: ...


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What a request says about a user; None fields leave the stored value alone."""

    id: str
    name: str | None = None
    email: str | None = None
    tz: str | None = None
    attributes: tuple[Attribute, ...] | None = None


@dataclass(frozen=True, slots=True)
class UpsertedUser:
    user: User
    created: bool
    attributes_changed: bool


@dataclass(frozen=True, slots=True)
class TotalChange:
    """A total moved from `before` to `after` by one event (attribute None: the plain total)."""

    attribute: Attribute | None
    before: float
    after: float


@dataclass(frozen=True, slots=True)
class NewEvent:
    tenant_id: int
    metric_id: int
    value: float
    attributes: tuple[Attribute, ...]
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """The stored event, the totals it moved, and the ACTIVE metric achievements whose threshold
    one of those totals crossed (`MetricTrigger.crossed`)."""

    user: UpsertedUser
    event_id: int
    changes: list[TotalChange]
    crossed: list[Achievement]

    @property
    def total(self) -> float:
        return next(c.after for c in self.changes if c.attribute is None)


@dataclass(frozen=True, slots=True)
class Completion:
    """A stored completion, whether the current operation made it or an earlier one did."""

    id: int
    user_pk: int
    achievement_id: int
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class StreakState:
    """A user's streak ledger as evaluated under settings `version`; `ledger` is None for a
    state made to be evaluated (freezes turned on for a user with no streak yet)."""

    ledger: Ledger | None
    version: int


@dataclass(frozen=True, slots=True)
class StoredStreak:
    """A user's stored streak as the read side gets it: with the days and grants to evaluate it
    from when the stored ledger is not current (older settings, or none)."""

    state: StreakState | None
    days: Sequence[date] = ()
    grants: Sequence[ApiGrant] = ()


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """Outcome of claiming a key: either ours to fill, or an earlier request's stored answer."""

    claimed: bool
    request_hash: str
    response: str | None


class CatalogueReads(Protocol):
    async def achievement_by_key(self, tenant_id: int, key: str) -> Achievement | None: ...
    async def achievements_by_ids(
        self, tenant_id: int, ids: Sequence[int]
    ) -> list[Achievement]: ...


class UserWrites(Protocol):
    async def upsert_user(
        self, tenant_id: int, profile: UserProfile, now: datetime
    ) -> UpsertedUser: ...
    async def lock_users_named(self, tenant_id: int, user_ids: Sequence[str]) -> None:
        """These users, existing or not, locked until the transaction ends, in an order every
        transaction that locks several users by name shares, so that two of them never
        deadlock; the rows of those who exist in pk order, as backdating locks them."""
        ...


class EventWrites(Protocol):
    async def record_event(self, profile: UserProfile, event: NewEvent) -> RecordedEvent:
        """Upsert the user the event names (as `upsert_user`), store the event, add its value
        to the plain total and to each attribute's total, and find the thresholds crossed: one
        round trip where the database can, since this runs for every event."""
        ...

    async def record_events(
        self, events: Sequence[tuple[UserProfile, NewEvent]]
    ) -> list[RecordedEvent]:
        """As `record_event` for each, in order, as if one after the other: for a batch, whose
        events the database may take in fewer round trips."""
        ...


class CompletionWrites(Protocol):
    """The one way completions are stored, by events, completeAchievement and backdating alike.

    Each (user, achievement) is completed at most once: `insert_completions` returns only the
    rows it inserted. Counters move just before commit, in id order."""

    async def insert_completions(
        self,
        tenant_id: int,
        grants: Sequence[tuple[int, int]],
        now: datetime,
        *,
        backdated: bool,
    ) -> list[Completion]:
        """`grants` are (user pk, achievement id) pairs."""
        ...

    async def completion_of(self, user_pk: int, achievement_id: int) -> Completion | None: ...
    async def composites_completed_by(
        self, tenant_id: int, completed: Sequence[tuple[int, int]]
    ) -> list[tuple[int, Achievement]]:
        """ACTIVE composites depending on one of a user's just-completed achievements (pairs of
        user pk and achievement id) that the user has not completed and now meets; returned as
        (user pk, composite) pairs."""
        ...

    async def qualifying_achievements(self, tenant_id: int, user_pk: int) -> list[Achievement]:
        """ACTIVE achievements with attribute requirements whose trigger the user has
        `reached`, not completed yet: what an attribute change may complete."""
        ...


class StreakWrites(Protocol):
    async def streak_state(self, user_pk: int) -> StreakState | None: ...
    async def add_streak_day(self, tenant_id: int, user_pk: int, metric_id: int, day: date) -> bool:
        """Days are kept per metric, so that a change to the streak's metrics is retroactive;
        True when this (metric, day) is new."""
        ...

    async def streak_days(self, user_pk: int, metric_ids: Sequence[int]) -> list[date]:
        """The distinct days with an event on one of `metric_ids`."""
        ...

    async def freeze_grants(self, user_pk: int) -> list[ApiGrant]: ...
    async def add_freeze_grant(self, tenant_id: int, user_pk: int, grant: ApiGrant) -> None: ...
    async def save_streak_state(
        self, tenant_id: int, user_pk: int, state: StreakState, due_at: datetime | None
    ) -> None:
        """`due_at`: when the streak clock next has something to judge or grant."""
        ...

    async def lock_user(self, tenant_id: int, user_id: str) -> User | None:
        """The user, locked until the transaction ends, as an event on them would."""
        ...

    async def streak_achievements_between(
        self, tenant_id: int, above: int, up_to: int
    ) -> list[Achievement]: ...


class IdempotencyWrites(Protocol):
    async def claim_idempotency_key(
        self, tenant_id: int, key: str, request_hash: str, now: datetime
    ) -> IdempotencyClaim: ...
    async def store_idempotent_response(self, tenant_id: int, key: str, response: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PointsMark:
    """What a trigger has spent for a user: a METRIC trigger's highest step, or the multiples of
    a STREAK trigger awarded in the streak that started on `since`."""

    mark: int
    since: date | None = None


@dataclass(frozen=True, slots=True)
class NewAward:
    """An award priced and not stored yet (no id)."""

    system_id: int
    trigger_id: int
    awarded: int
    total: int
    awarded_at: datetime
    multiplier: Decimal
    boost_ids: tuple[int, ...] = ()

    def stored(self, award_id: int) -> PointsAward:
        return PointsAward(
            award_id,
            self.system_id,
            self.trigger_id,
            self.awarded,
            self.total,
            self.awarded_at,
            self.multiplier,
            self.boost_ids,
        )


@dataclass(frozen=True, slots=True)
class SystemPoints:
    """A user's total in one system and what each of the system's triggers has spent for them
    (trigger id -> mark); a user never awarded in the system has 0 and no marks."""

    total: int = 0
    marks: Mapping[int, PointsMark] = field(default_factory=dict)


class PointsWrites(Protocol):
    """The one writer of points. Every operation that awards to a user holds that user's row
    lock (the upsert of trackEvent, completeAchievement and identify; backdating locks its
    batch's users first), so what `points_state` read stays true until `save_points`."""

    async def points_state(
        self, user_pk: int, system_ids: Sequence[int]
    ) -> dict[int, SystemPoints]:
        """Systems the user has nothing stored in are absent."""
        ...

    async def save_points(
        self,
        tenant_id: int,
        user_pk: int,
        systems: Mapping[int, SystemPoints],
        awards: Sequence[NewAward],
        now: datetime,
        *,
        silent: bool,
    ) -> list[PointsAward]:
        """Replaces each given system's total and marks, and stores the awards in order;
        returns the awards with their ids."""
        ...

    async def expect_points(self, user_pks: Sequence[int], system_ids: Sequence[int]) -> None:
        """A hint: these users' points in these systems are about to be read, one user after
        another (the events of a batch), so read them all at once. `points_state` then answers
        from what was read and `save_points` wrote since."""
        ...


class Announcements(Protocol):
    async def announce(
        self, tenant_id: int, events: Sequence[Announcement], now: datetime
    ) -> None: ...


class Transaction(
    CatalogueReads,
    UserWrites,
    EventWrites,
    CompletionWrites,
    StreakWrites,
    IdempotencyWrites,
    PointsWrites,
    LeaderboardWrites,
    Announcements,
    Protocol,
):
    """One write transaction of the event engine; every method is one statement or so."""


# `async with transactions() as tx:` is one transaction: committed when the block ends, rolled
# back when it raises.
TransactionFactory = Callable[[], AbstractAsyncContextManager[Transaction]]


@dataclass(frozen=True, slots=True)
class Standing:
    """One user's state as the read side needs it: completions, totals, streak."""

    user: User
    completed_at: dict[int, datetime]
    totals: dict[tuple[int, Attribute | None], float]
    streak: StoredStreak | None


class ReadStore(Protocol):
    """Batched reads: each method answers for many keys in one query (no N+1)."""

    async def achievements_by_ids(
        self, tenant_id: int, ids: Sequence[int]
    ) -> list[Achievement]: ...
    async def metrics_by_ids(self, tenant_id: int, ids: Sequence[int]) -> list[Metric]: ...
    async def tenant_metrics(self, tenant_id: int) -> list[Metric]: ...
    async def user_counts(self, tenant_ids: Sequence[int]) -> dict[int, int]: ...
    async def standings(self, tenant_id: int, user_ids: Sequence[str]) -> dict[str, Standing]: ...
    async def tenant_achievements(self, tenant_id: int) -> list[Achievement]: ...
    async def streak_settings(self, tenant_id: int) -> StreakSettings | None: ...
    async def streak_days(self, user_pk: int, metric_ids: Sequence[int]) -> list[date]:
        """The local days on which the user had an event on one of `metric_ids`."""
        ...

    async def freeze_grants(self, user_pk: int) -> list[ApiGrant]: ...

    async def completions_by_day(
        self, tenant_id: int, achievement_ids: Sequence[int], since: date
    ) -> dict[int, dict[date, int]]:
        """Completions per UTC day from `since` on, by achievement (days without any left out)."""
        ...


@dataclass(frozen=True, slots=True)
class BackdateJob:
    """Pending backdating of one achievement; `cursor` is the last user pk already done."""

    id: int
    tenant_id: int
    achievement_id: int
    cursor: int


class BackdateStore(
    CompletionWrites, CatalogueReads, PointsWrites, LeaderboardWrites, LeaderboardBoards, Protocol
):
    """One batch of a backdating job, as one transaction."""

    async def points_program(self, tenant_id: int) -> PointsProgram:
        """Read in the batch's own transaction: the tenant is known only once a job is claimed."""
        ...

    async def lock_users(self, user_pks: Sequence[int]) -> None:
        """In pk order, before anything else of the batch: awards need their users' locks."""
        ...

    async def claim_backdate_job(
        self, skip: Collection[int], *, settled_before: datetime
    ) -> BackdateJob | None: ...
    async def backdate_candidates(
        self, tenant_id: int, achievement: Achievement, after_user_pk: int, limit: int
    ) -> list[User]:
        """Users after the cursor, in pk order, who have `reached` the achievement's trigger
        and lack the completion."""
        ...

    async def advance_backdate_job(
        self, job_id: int, cursor: int, finished_at: datetime | None
    ) -> None: ...


BackdateStoreFactory = Callable[[], AbstractAsyncContextManager[BackdateStore]]


class OutboxStore(Protocol):
    """The relay's side of the outbox: claim a batch (its own short transaction), hand it on
    with no transaction open, then mark it done. A claim is a lease: rows whose consumer failed
    become claimable again when it expires, so every event reaches every consumer at least once."""

    async def claim(
        self,
        limit: int,
        now: datetime,
        lease: timedelta,
        *,
        created_before: datetime | None = None,
    ) -> list[Published]: ...
    async def mark_published(self, ids: Sequence[int], now: datetime) -> None: ...
    async def backlog(self, now: datetime) -> tuple[int, float]:
        """How many rows wait to be handed on, and how many seconds the oldest has waited."""
        ...


class DeliveryDeferred(Exception):
    """An outbox consumer took part of a batch but not all of it (a fan-out that could only
    reach this instance): the batch stays unmarked and comes again when its lease expires."""


class PointsReads(Protocol):
    """The read side of points; each call is a constant number of queries."""

    async def totals(self, user_pks: Sequence[int], system_id: int) -> dict[int, int]: ...
    async def awards(self, user_pk: int, system_id: int, limit: int) -> list[PointsAward]:
        """Most recent first."""
        ...

    async def level_counts(
        self, tenant_id: int, system_id: int, levels: Sequence[PointsLevel]
    ) -> dict[int, int]: ...
    async def largest_total(self, system_id: int, user_attributes: Sequence[Attribute]) -> int: ...
    async def range_counts(
        self,
        tenant_id: int,
        system_id: int,
        ranges: Sequence[tuple[int, int]],
        user_attributes: Sequence[Attribute],
    ) -> list[int]: ...


class Retention(Protocol):
    async def purge_idempotency_keys(self, older_than: datetime) -> int: ...
    async def prune_events(self, stored_before: datetime) -> int:
        """Raw events stored before then; nothing Laurel answers is computed from them."""
        ...
