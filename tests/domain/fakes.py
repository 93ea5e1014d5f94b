"""In-memory implementations of the domain's storage ports, for testing the rules without I/O.

They decide who has reached what with the domain's own trigger rules (`Trigger.reached`,
`MetricTrigger.crossed`), so they are the reference the SQL repositories are held to in
tests/persistence. A transaction works on a copy of the state and publishes it on commit, so a
rule that raises leaves nothing behind, as a database would.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.domain.announcements import Announcement, Published
from app.domain.idempotency import WINDOW
from app.domain.leaderboard_clock import DueBoard, RunClock
from app.domain.leaderboard_ports import (
    Day,
    Entry,
    Left,
    Move,
    Moved,
    PageRows,
    Ranked,
    Regrouped,
    Standing,
)
from app.domain.leaderboard_ranks import Counting, Place
from app.domain.leaderboard_watch import Watch, WatchKey
from app.domain.leaderboards import Leaderboard
from app.domain.model import (
    Achievement,
    AchievementStatus,
    Attribute,
    CompositeTrigger,
    Metric,
    MetricTrigger,
    StreakSettings,
    StreakTrigger,
    User,
)
from app.domain.points import PointsAward, PointsProgram
from app.domain.ports import (
    BackdateJob,
    Completion,
    IdempotencyClaim,
    NewAward,
    NewEvent,
    PointsMark,
    RecordedEvent,
    StreakState,
    SystemPoints,
    TotalChange,
    UpsertedUser,
    UserProfile,
)
from app.domain.streak_ledger import ApiGrant
from app.domain.triggers import UserStanding
from app.domain.webhooks.events import WebhookEventType

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BoardRow:
    group: str | None
    user_id: str
    standing: Standing


@dataclass
class State:
    """Everything a tenant's database would hold, keyed as its unique constraints are."""

    metrics: dict[int, Metric] = field(default_factory=dict)
    achievements: dict[int, Achievement] = field(default_factory=dict)
    users: dict[tuple[int, str], User] = field(default_factory=dict)
    tenant_of_user: dict[int, int] = field(default_factory=dict)
    totals: dict[tuple[int, int, Attribute | None], float] = field(default_factory=dict)
    events: list[NewEvent] = field(default_factory=list)
    completions: dict[tuple[int, int], Completion] = field(default_factory=dict)
    backdated: set[int] = field(default_factory=set)
    streak_days: dict[int, set[tuple[int, date]]] = field(default_factory=dict)
    streak_states: dict[int, StreakState] = field(default_factory=dict)
    freeze_grants: dict[int, list[ApiGrant]] = field(default_factory=dict)
    idempotency: dict[tuple[int, str], tuple[str, str | None, datetime]] = field(
        default_factory=dict
    )
    outbox: list[Published] = field(default_factory=list)
    published: set[int] = field(default_factory=set)
    jobs: dict[int, BackdateJob] = field(default_factory=dict)
    finished_jobs: set[int] = field(default_factory=set)
    streak_settings: dict[int, StreakSettings] = field(default_factory=dict)
    points_program: PointsProgram = field(default_factory=PointsProgram)
    points_marks: dict[tuple[int, int], PointsMark] = field(default_factory=dict)
    points_totals: dict[tuple[int, int], int] = field(default_factory=dict)
    points_awards: list[tuple[int, PointsAward, bool]] = field(default_factory=list)
    """(user pk, award, silent) in the order applied."""
    leaderboards: list[Leaderboard] = field(default_factory=list)
    board_rows: dict[tuple[int, date, int], BoardRow] = field(default_factory=dict)
    """(board id, run start, user pk) -> the user's row in that run."""
    ids: Any = field(default_factory=lambda: itertools.count(1))


class FakeDatabase:
    """Holds the committed state; `transaction()` is one serialised transaction on a copy."""

    def __init__(self) -> None:
        self.state = State()

    def __call__(self) -> Any:
        return self.transaction()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTransaction]:
        working = copy.deepcopy(self.state)
        yield FakeTransaction(working)
        self.state = working

    # Setup helpers: what configuration use cases would have stored.

    def add_metric(self, key: str) -> Metric:
        metric = Metric(id=next(self.state.ids), key=key, name=key)
        self.state.metrics[metric.id] = metric
        return metric

    def add_achievement(self, achievement: Achievement) -> Achievement:
        stored = replace(achievement, id=next(self.state.ids))
        self.state.achievements[stored.id] = stored
        return stored

    def set_status(self, achievement_id: int, status: AchievementStatus) -> None:
        self.state.achievements[achievement_id] = replace(
            self.state.achievements[achievement_id], status=status
        )

    def queue_backdate(self, tenant_id: int, achievement_id: int) -> None:
        job = BackdateJob(next(self.state.ids), tenant_id, achievement_id, 0)
        self.state.jobs[job.id] = job

    def user(self, tenant_id: int, user_id: str) -> User:
        return self.state.users[(tenant_id, user_id)]


def standing_of(state: State, user_pk: int) -> UserStanding:
    """The domain's view of one user, for `Trigger.reached`."""
    totals = {(m, a): t for (u, m, a), t in state.totals.items() if u == user_pk}
    stored = state.streak_states.get(user_pk)
    longest = stored.ledger.longest if stored and stored.ledger else 0
    completed = {a for (u, a) in state.completions if u == user_pk}
    return UserStanding(totals=totals, longest_streak=longest, completed_ids=completed)


class FakeTransaction:
    """Every write port of the engine and of backdating, over one working copy of the state."""

    def __init__(self, state: State) -> None:
        self.s = state

    # CatalogueReads

    async def achievement_by_key(self, tenant_id: int, key: str) -> Achievement | None:
        return next((a for a in self.s.achievements.values() if a.key == key), None)

    async def achievements_by_ids(self, tenant_id: int, ids: Sequence[int]) -> list[Achievement]:
        return [self.s.achievements[i] for i in ids if i in self.s.achievements]

    # UserWrites

    async def lock_users_named(self, tenant_id: int, user_ids: Sequence[str]) -> None:
        """One operation at a time runs over the fakes: there is nothing to wait for."""

    async def upsert_user(
        self, tenant_id: int, profile: UserProfile, now: datetime
    ) -> UpsertedUser:
        existing = self.s.users.get((tenant_id, profile.id))
        if existing is None:
            user = User(
                pk=next(self.s.ids),
                id=profile.id,
                tz=profile.tz or "UTC",
                attributes=profile.attributes or (),
                created_at=now,
                name=profile.name,
                email=profile.email,
            )
            self.s.users[(tenant_id, profile.id)] = user
            self.s.tenant_of_user[user.pk] = tenant_id
            return UpsertedUser(user, True, attributes_changed=profile.attributes is not None)
        updated = replace(
            existing,
            name=profile.name if profile.name is not None else existing.name,
            email=profile.email if profile.email is not None else existing.email,
            tz=profile.tz if profile.tz is not None else existing.tz,
            attributes=profile.attributes
            if profile.attributes is not None
            else existing.attributes,
        )
        self.s.users[(tenant_id, profile.id)] = updated
        return UpsertedUser(updated, False, updated.attributes != existing.attributes)

    # EventWrites

    async def record_events(
        self, events: Sequence[tuple[UserProfile, NewEvent]]
    ) -> list[RecordedEvent]:
        return [await self.record_event(profile, event) for profile, event in events]

    async def record_event(self, profile: UserProfile, event: NewEvent) -> RecordedEvent:
        upserted = await self.upsert_user(event.tenant_id, profile, event.recorded_at)
        user = upserted.user
        self.s.events.append(event)
        changes = []
        for attribute in (None, *event.attributes):
            key = (user.pk, event.metric_id, attribute)
            before = self.s.totals.get(key, 0.0)
            self.s.totals[key] = before + event.value
            changes.append(TotalChange(attribute, before, before + event.value))
        crossed = [
            a
            for a in self.s.achievements.values()
            if a.status is AchievementStatus.ACTIVE
            and isinstance(a.trigger, MetricTrigger)
            and a.trigger.metric_id == event.metric_id
            and any(
                c.attribute == a.trigger.event_attribute and a.trigger.crossed(c.before, c.after)
                for c in changes
            )
        ]
        return RecordedEvent(upserted, len(self.s.events), changes, sorted_by_id(crossed))

    # CompletionWrites

    async def insert_completions(
        self,
        tenant_id: int,
        grants: Sequence[tuple[int, int]],
        now: datetime,
        *,
        backdated: bool,
    ) -> list[Completion]:
        new = []
        for user_pk, achievement_id in grants:
            if (user_pk, achievement_id) in self.s.completions:
                continue
            completion = Completion(next(self.s.ids), user_pk, achievement_id, now)
            self.s.completions[(user_pk, achievement_id)] = completion
            if backdated:
                self.s.backdated.add(completion.id)
            achievement = self.s.achievements[achievement_id]
            self.s.achievements[achievement_id] = replace(
                achievement, completions=achievement.completions + 1
            )
            new.append(completion)
        return sorted(new, key=lambda c: (c.user_pk, c.achievement_id))

    async def completion_of(self, user_pk: int, achievement_id: int) -> Completion | None:
        return self.s.completions.get((user_pk, achievement_id))

    async def composites_completed_by(
        self, tenant_id: int, completed: Sequence[tuple[int, int]]
    ) -> list[tuple[int, Achievement]]:
        found = set()
        for user_pk, prerequisite in completed:
            for a in self.s.achievements.values():
                if (
                    isinstance(a.trigger, CompositeTrigger)
                    and prerequisite in a.trigger.prerequisite_ids
                    and a.status is AchievementStatus.ACTIVE
                    and (user_pk, a.id) not in self.s.completions
                    and a.trigger.reached(self._standing(user_pk))
                ):
                    found.add((user_pk, a.id))
        return [(u, self.s.achievements[a]) for u, a in sorted(found)]

    async def qualifying_achievements(self, tenant_id: int, user_pk: int) -> list[Achievement]:
        standing = self._standing(user_pk)
        return sorted_by_id(
            a
            for a in self.s.achievements.values()
            if a.status is AchievementStatus.ACTIVE
            and a.user_attributes
            and (user_pk, a.id) not in self.s.completions
            and a.trigger.reached(standing)
        )

    # StreakWrites

    async def streak_state(self, user_pk: int) -> StreakState | None:
        return self.s.streak_states.get(user_pk)

    async def add_streak_day(self, tenant_id: int, user_pk: int, metric_id: int, day: date) -> bool:
        days = self.s.streak_days.setdefault(user_pk, set())
        if (metric_id, day) in days:
            return False
        days.add((metric_id, day))
        return True

    async def streak_days(self, user_pk: int, metric_ids: Sequence[int]) -> list[date]:
        return sorted({d for m, d in self.s.streak_days.get(user_pk, ()) if m in metric_ids})

    async def freeze_grants(self, user_pk: int) -> list[ApiGrant]:
        return list(self.s.freeze_grants.get(user_pk, []))

    async def add_freeze_grant(self, tenant_id: int, user_pk: int, grant: ApiGrant) -> None:
        self.s.freeze_grants.setdefault(user_pk, []).append(grant)

    async def save_streak_state(
        self, tenant_id: int, user_pk: int, state: StreakState, due_at: datetime | None
    ) -> None:
        self.s.streak_states[user_pk] = state

    async def lock_user(self, tenant_id: int, user_id: str) -> User | None:
        return self.s.users.get((tenant_id, user_id))

    async def streak_achievements_between(
        self, tenant_id: int, above: int, up_to: int
    ) -> list[Achievement]:
        return sorted_by_id(
            a
            for a in self.s.achievements.values()
            if a.status is AchievementStatus.ACTIVE
            and isinstance(a.trigger, StreakTrigger)
            and above < a.trigger.length <= up_to
        )

    # IdempotencyWrites

    async def claim_idempotency_key(
        self, tenant_id: int, key: str, request_hash: str, now: datetime
    ) -> IdempotencyClaim:
        stored = self.s.idempotency.get((tenant_id, key))
        if stored is None or stored[2] < now - WINDOW:
            self.s.idempotency[(tenant_id, key)] = (request_hash, None, now)
            return IdempotencyClaim(True, request_hash, None)
        return IdempotencyClaim(False, stored[0], stored[1])

    async def store_idempotent_response(self, tenant_id: int, key: str, response: str) -> None:
        request_hash, _, at = self.s.idempotency[(tenant_id, key)]
        self.s.idempotency[(tenant_id, key)] = (request_hash, response, at)

    # Announcements

    async def announce(self, tenant_id: int, events: Sequence[Announcement], now: datetime) -> None:
        self.s.outbox += [Published(next(self.s.ids), tenant_id, e, now) for e in events]

    # BackdateStore

    async def claim_backdate_job(
        self, skip: Collection[int], *, settled_before: datetime
    ) -> BackdateJob | None:
        pending = [j for i, j in sorted(self.s.jobs.items()) if i not in self.s.finished_jobs]
        return next((j for j in pending if j.id not in skip), None)

    async def backdate_candidates(
        self, tenant_id: int, achievement: Achievement, after_user_pk: int, limit: int
    ) -> list[User]:
        users = sorted(
            (u for (t, _), u in self.s.users.items() if t == tenant_id and u.pk > after_user_pk),
            key=lambda u: u.pk,
        )
        return [
            u
            for u in users
            if (u.pk, achievement.id) not in self.s.completions
            and achievement.trigger.reached(self._standing(u.pk))
        ][:limit]

    async def advance_backdate_job(
        self, job_id: int, cursor: int, finished_at: datetime | None
    ) -> None:
        self.s.jobs[job_id] = replace(self.s.jobs[job_id], cursor=cursor)
        if finished_at is not None:
            self.s.finished_jobs.add(job_id)

    # PointsWrites

    async def points_program(self, tenant_id: int) -> PointsProgram:
        return self.s.points_program

    async def points_state(
        self, user_pk: int, system_ids: Sequence[int]
    ) -> dict[int, SystemPoints]:
        """Held as the tables would hold them once split: marks by (user, trigger)."""
        program = self.s.points_program
        found: dict[int, SystemPoints] = {}
        for system_id in system_ids:
            marks = {
                t: m
                for (u, t), m in self.s.points_marks.items()
                if u == user_pk and program.trigger_system(t) == system_id
            }
            if (user_pk, system_id) in self.s.points_totals or marks:
                total = self.s.points_totals.get((user_pk, system_id), 0)
                found[system_id] = SystemPoints(total, marks)
        return found

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
        for system_id, row in systems.items():
            self.s.points_totals[(user_pk, system_id)] = row.total
            self.s.points_marks.update(((user_pk, t), m) for t, m in row.marks.items())
        stored = [a.stored(next(self.s.ids)) for a in awards]
        self.s.points_awards += [(user_pk, a, silent) for a in stored]
        return stored

    async def expect_points(self, user_pks: Sequence[int], system_ids: Sequence[int]) -> None:
        """Every read here is as cheap as a read ahead."""

    async def lock_users(self, user_pks: Sequence[int]) -> None:
        """Transactions here are serialised already."""

    def _standing(self, user_pk: int) -> UserStanding:
        return standing_of(self.s, user_pk)

    # LeaderboardWrites

    async def move_on_board(self, move: Move, counting: Counting, *, noted: bool) -> Moved:
        key = (move.board_id, move.run_start, move.user_pk)
        current = self.s.board_rows.get(key)
        before = current.standing if current else None
        before_place = None
        if current is not None and current.group == move.group:
            before_place = self._place(move, current.standing)
        after = move.applied_to(before)
        self.s.board_rows[key] = BoardRow(move.group, move.user_id, after)
        group = sorted(
            self._group(move), key=lambda r: (-r.standing.value, r.standing.reached_at, r.user_id)
        )
        lowest = None
        if counting.cap is not None and len(group) >= counting.cap:
            lowest = group[counting.cap - 1].standing.value
        return Moved(before, before_place, after, self._place(move, after), len(group), lowest)

    async def regroup(
        self, user_pk: int, board_id: int, group: str | None, since: date, counting: Counting
    ) -> list[Regrouped]:
        regrouped = []
        for (board, start, pk), row in list(self.s.board_rows.items()):
            if pk == user_pk and board == board_id and start >= since and row.group != group:
                probe = Move(board, start, row.group or "", pk, row.user_id, EPOCH, start)
                left = self._place(probe, row.standing) if row.group is not None else None
                self.s.board_rows[(board, start, pk)] = replace(row, group=group)
                joined = None
                if group is not None:
                    probe = replace(probe, group=group)
                    joined = self._place(probe, row.standing)
                regrouped.append(Regrouped(start, row.standing, row.group, left, group, joined))
        return regrouped

    async def leave_board(
        self, board_id: int, run_start: date, user_pk: int, counting: Counting
    ) -> Left | None:
        row = self.s.board_rows.get((board_id, run_start, user_pk))
        if row is None or row.group is None:
            return None
        probe = Move(board_id, run_start, row.group, user_pk, row.user_id, EPOCH, run_start)
        place = self._place(probe, row.standing)
        left = Standing(0.0, row.standing.reached_at)
        self.s.board_rows[(board_id, run_start, user_pk)] = BoardRow(None, row.user_id, left)
        return Left(row.standing, place, row.group)

    async def leaderboards(self, tenant_id: int) -> Sequence[Leaderboard]:
        return self.s.leaderboards

    def _group(self, move: Move) -> list[BoardRow]:
        return [
            row
            for (board, start, _), row in self.s.board_rows.items()
            if board == move.board_id and start == move.run_start and row.group == move.group
        ]

    def _place(self, move: Move, standing: Standing) -> Place:
        """Counted by brute force over the group, the reference for the SQL count."""
        others = [r for r in self._group(move) if r.user_id != move.user_id]
        greater = [r.standing.value for r in others if r.standing.value > standing.value]
        ahead = [
            r
            for r in others
            if (-r.standing.value, r.standing.reached_at, r.user_id)
            < (-standing.value, standing.reached_at, move.user_id)
        ]
        return Place(len(ahead), len(greater), len(set(greater)))


class FakeDefinitions:
    """The `Definitions` port over a FakeDatabase's metrics and streak settings."""

    def __init__(self, database: FakeDatabase) -> None:
        self._db = database

    async def metric_by_key(self, tenant_id: int, key: str) -> Metric | None:
        return next((m for m in self._db.state.metrics.values() if m.key == key), None)

    async def streak_settings(self, tenant_id: int) -> StreakSettings | None:
        return self._db.state.streak_settings.get(tenant_id)

    async def points_program(self, tenant_id: int) -> PointsProgram:
        return self._db.state.points_program

    async def leaderboards(self, tenant_id: int) -> Sequence[Leaderboard]:
        return self._db.state.leaderboards

    async def webhook_types(self, tenant_id: int) -> frozenset[WebhookEventType]:
        return frozenset(WebhookEventType)


class SteppingClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def sorted_by_id(achievements: Any) -> list[Achievement]:
    return sorted(achievements, key=lambda a: a.id)


@dataclass
class ClockedBoard:
    board: Leaderboard
    clock: RunClock | None = None
    due_at: datetime | None = None
    turn: int = 0


class FakeRunClockStore:
    """The run clock's and the standings watches' ports over boards held here and the rows of a State: reads see the
    committed state; `transaction()` announces into `announced`. `yield_between` makes every
    read give way once, so that rounds run with asyncio.gather interleave."""

    def __init__(self, state: State, tenant_id: int = 1) -> None:
        self.state = state
        self.tenant_id = tenant_id
        self.boards: dict[int, ClockedBoard] = {}
        self.announced: list[Announcement] = []
        self.yield_between = False
        self.watches: dict[WatchKey, tuple[datetime | None, datetime | None, int, str | None]] = {}

    def add(self, board: Leaderboard, due_at: datetime) -> None:
        self.boards[board.id] = ClockedBoard(board, None, due_at)

    async def due_boards(self, now: datetime, limit: int) -> list[DueBoard]:
        due = sorted(
            (c for c in self.boards.values() if c.due_at is not None and c.due_at <= now),
            key=lambda c: c.due_at or now,
        )
        found = [DueBoard(self.tenant_id, c.board, c.clock, c.turn) for c in due[:limit]]
        if self.yield_between:
            await asyncio.sleep(0)
        return found

    async def groups(self, board_id: int, run_start: date) -> list[str]:
        return sorted(
            {
                row.group
                for (board, start, _), row in self.state.board_rows.items()
                if board == board_id and start == run_start and row.group is not None
            }
        )

    async def page(
        self, board_id: int, run_start: date, group: str, start: int, limit: int, counting: Counting
    ) -> PageRows:
        rows = sorted(
            (
                row
                for (board, run, _), row in self.state.board_rows.items()
                if board == board_id and run == run_start and row.group == group
            ),
            key=lambda r: (-r.standing.value, r.standing.reached_at, r.user_id),
        )
        if counting.cap is not None:
            limit = max(0, min(limit, counting.cap - start))
        shown = rows[start : start + limit]
        ranked = [Ranked(r.user_id, None, r.standing.value, r.standing.reached_at) for r in shown]
        first = None
        if shown:
            greater = [r.standing.value for r in rows if r.standing.value > shown[0].standing.value]
            first = Place(start, len(greater), len(set(greater)))
        lowest = None
        if counting.cap is not None and len(rows) >= counting.cap:
            lowest = rows[counting.cap - 1].standing.value
        return PageRows(ranked, first, len(rows), lowest)

    async def position_of(
        self, board_id: int, run_start: date, group: str, user_id: str
    ) -> int | None:
        raise AssertionError("the clock reads from the top")

    async def entry(
        self, board_id: int, run_start: date, user_pk: int, counting: Counting
    ) -> Entry | None:
        raise AssertionError("the clock reads no user's own row")

    async def days(self, entry_id: int, limit: int) -> list[Day]:
        raise AssertionError("the clock reads no history")

    async def user_zone(self, tenant_id: int, user_id: str) -> str | None:
        raise AssertionError("the clock reads no user's zone")

    def transaction(self) -> AbstractAsyncContextManager[FakeRunClockStore]:
        return self._scope()

    @asynccontextmanager
    async def _scope(self) -> AsyncIterator[FakeRunClockStore]:
        yield self

    async def advance(
        self, board_id: int, turn: int, clock: RunClock, due_at: datetime | None
    ) -> bool:
        held = self.boards[board_id]
        if held.turn != turn:
            return False
        self.boards[board_id] = replace(held, clock=clock, due_at=due_at, turn=turn + 1)
        return True

    async def announce(self, tenant_id: int, events: Sequence[Announcement], now: datetime) -> None:
        self.announced += events

    # The watches behind leaderboard.changed: (board, run, group) -> [due, quiet, version, sent]

    async def mark(self, keys: Collection[WatchKey], now: datetime) -> None:
        for key in keys:
            due, quiet, version, sent = self.watches.get(key, (None, None, 0, None))
            if due is None:
                due = now if quiet is None or quiet < now else quiet
            self.watches[key] = (due, quiet, version + 1, sent)

    async def due_watches(self, now: datetime, limit: int) -> list[Watch]:
        return [
            Watch(self.tenant_id, key, self.boards[key.board_id].board, version, sent)
            for key, (due, _, version, sent) in sorted(self.watches.items())
            if due is not None and due <= now
        ][:limit]

    async def settle(self, watch: Watch, sent: str | None, quiet_until: datetime | None) -> bool:
        due, quiet, version, held = self.watches[watch.key]
        if version != watch.version or due is None:
            return False
        self.watches[watch.key] = (None, quiet_until or quiet, version, sent or held)
        return True
