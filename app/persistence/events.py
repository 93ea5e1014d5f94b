"""The event engine's `Transaction` port in SQL: the hot path.

Every invariant is a constraint and every counter change is one statement:
* totals move with `INSERT .. ON CONFLICT DO UPDATE SET total = total + excluded.total RETURNING`,
  so concurrent events on one total get disjoint intervals (before, after];
* a completion exists when `INSERT .. ON CONFLICT DO NOTHING RETURNING` returned its row, and
  its outbox row is written in the same transaction;
* counters on shared rows (tenant users, achievement completions) are bumped last, just before
  COMMIT (`before_commit`), tenant first and achievements in id order: concurrent transactions
  lock them in one order and cannot deadlock, and hold those hot rows only for the commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from app.domain import model
from app.domain.ports import (
    IdempotencyClaim,
    NewCompletion,
    NewEvent,
    RecordedEvent,
    StreakState,
    TotalChange,
    UpsertedUser,
    UserProfile,
)
from app.domain.streaks import StreakFrequency, StreakRun
from app.persistence.codec import (
    as_date,
    as_datetime,
    dump_attributes,
)
from app.persistence.database import Connection, Database, Row
from app.persistence.reads import ACHIEVEMENT_COLUMNS, _in, _with_prerequisites, user_from_row

IDEMPOTENCY_WINDOW = timedelta(hours=24)
USER_COLUMNS = "id, external_id, name, email, tz, attributes, created_at"

T = TypeVar("T", bound="SqlTransaction")


def prefixed(alias: str, columns: str = ACHIEVEMENT_COLUMNS) -> str:
    """Columns qualified by a table alias, for joins."""
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


PG_USER_OF_U = prefixed("u", USER_COLUMNS)

INSERT_USER = (
    "INSERT INTO app_user (tenant_id, external_id, name, email, tz, attributes, created_at) "
    "VALUES ($1, $2, $3, $4, COALESCE($5, 'UTC'), COALESCE($6, '[]'), $7) "
)
PG_UPSERT_USER = (
    f"{INSERT_USER}ON CONFLICT (tenant_id, external_id) DO UPDATE SET "
    "name = COALESCE(excluded.name, app_user.name), "
    "email = COALESCE(excluded.email, app_user.email), "
    "tz = CASE WHEN $5 IS NULL THEN app_user.tz ELSE excluded.tz END, "
    "attributes = CASE WHEN $6 IS NULL THEN app_user.attributes ELSE excluded.attributes END "
    f"RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted"
)
INSERT_TOTALS = (
    "INSERT INTO metric_total "
    "(tenant_id, user_id, metric_id, attr_key, attr_value, total, prev_total)"
)
ADD_TO_TOTALS = (
    "ON CONFLICT (user_id, metric_id, attr_key, attr_value) DO UPDATE SET "
    "prev_total = metric_total.total, total = metric_total.total + excluded.total "
    "RETURNING attr_key, attr_value, prev_total, total"
)


class SqlTransaction:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._pg = conn.dialect == "postgres"
        self._crossed: list[int] | None = None
        self._tenant_id = 0
        self._new_users = 0
        self._completed: list[int] = []

    async def metric_by_key(self, tenant_id: int, key: str) -> model.Metric | None:
        row = await self._conn.fetchrow(
            "SELECT id, key, name, unit FROM metric WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
        )
        if row is None:
            return None
        return model.Metric(id=row["id"], key=row["key"], name=row["name"], unit=row["unit"])

    async def achievement_by_key(self, tenant_id: int, key: str) -> model.Achievement | None:
        rows = await self._conn.fetch(
            f"SELECT {ACHIEVEMENT_COLUMNS} FROM achievement WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
        )
        found = await _with_prerequisites(self._conn, rows)
        return found[0] if found else None

    async def achievements_by_ids(
        self, tenant_id: int, ids: Sequence[int]
    ) -> list[model.Achievement]:
        if not ids:
            return []
        rows = await self._conn.fetch(
            f"SELECT {ACHIEVEMENT_COLUMNS} FROM achievement "
            f"WHERE tenant_id = $1 AND id IN ({_in(ids)})",
            tenant_id,
            *ids,
        )
        return await _with_prerequisites(self._conn, rows)

    async def claim_idempotency_key(
        self, tenant_id: int, key: str, request_hash: str, now: datetime
    ) -> IdempotencyClaim:
        """Insert first; a key older than the window is taken over as if new.

        On PostgreSQL a concurrent claimant of the same key waits here for the first one to
        commit or roll back, then sees its response, or claims the key itself.
        """
        row = await self._conn.fetchrow(
            "INSERT INTO idempotency_key (tenant_id, key, request_hash, response, created_at) "
            "VALUES ($1, $2, $3, NULL, $4) "
            "ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash, "
            "response = NULL, created_at = excluded.created_at "
            "WHERE idempotency_key.created_at < $5 RETURNING id",
            tenant_id,
            key,
            request_hash,
            now,
            now - IDEMPOTENCY_WINDOW,
        )
        if row is not None:
            return IdempotencyClaim(True, request_hash, None)
        stored = await self._conn.fetchrow(
            "SELECT request_hash, response FROM idempotency_key WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
        )
        assert stored is not None
        return IdempotencyClaim(False, stored["request_hash"], stored["response"])

    async def store_idempotent_response(self, tenant_id: int, key: str, response: str) -> None:
        await self._conn.execute(
            "UPDATE idempotency_key SET response = $3 WHERE tenant_id = $1 AND key = $2",
            tenant_id,
            key,
            response,
        )

    async def upsert_user(
        self, tenant_id: int, profile: UserProfile, now: datetime
    ) -> UpsertedUser:
        attributes = _stored_attributes(profile)
        if not self._pg:
            return await self._upsert_user_serialized(tenant_id, profile, attributes, now)
        before = await self._attributes_before(tenant_id, profile.id, attributes)
        row = await self._conn.fetchrow(
            PG_UPSERT_USER, *_user_args(tenant_id, profile, attributes, now)
        )
        assert row is not None
        if row["inserted"]:
            self._count_new_user(tenant_id)
        return _upserted(row, attributes, before)

    async def _attributes_before(
        self, tenant_id: int, external_id: str, attributes: str | None
    ) -> Row | None:
        """Only a request that sets attributes needs the old ones, to tell whether they changed."""
        if attributes is None:
            return None
        return await self._conn.fetchrow(
            "SELECT attributes FROM app_user WHERE tenant_id = $1 AND external_id = $2",
            tenant_id,
            external_id,
        )

    async def _upsert_user_serialized(
        self, tenant_id: int, profile: UserProfile, attributes: str | None, now: datetime
    ) -> UpsertedUser:
        """SQLite runs one writer at a time, so reading first is exact, and a known user whose
        request says nothing new about them costs one read and no write."""
        row = await self._conn.fetchrow(
            f"SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 AND external_id = $2",
            tenant_id,
            profile.id,
        )
        if row is None:
            row = await self._conn.fetchrow(
                f"{INSERT_USER}RETURNING {USER_COLUMNS}",
                *_user_args(tenant_id, profile, attributes, now),
            )
            assert row is not None
            self._count_new_user(tenant_id)
            return UpsertedUser(user_from_row(row), True, attributes_changed=attributes is not None)
        given = {
            "name": profile.name,
            "email": profile.email,
            "tz": profile.tz,
            "attributes": attributes,
        }
        changes = {k: v for k, v in given.items() if v is not None and v != row[k]}
        if changes:
            assignments = ", ".join(f"{column} = ${i + 2}" for i, column in enumerate(changes))
            row = await self._conn.fetchrow(
                f"UPDATE app_user SET {assignments} WHERE id = $1 RETURNING {USER_COLUMNS}",
                row["id"],
                *changes.values(),
            )
            assert row is not None
        return UpsertedUser(user_from_row(row), False, attributes_changed="attributes" in changes)

    def _count_new_user(self, tenant_id: int) -> None:
        self._tenant_id = tenant_id
        self._new_users += 1

    async def before_commit(self) -> None:
        """The counters this transaction moves, bumped last (see the module's docstring)."""
        if self._new_users:
            await self._conn.execute(
                "UPDATE tenant SET user_count = user_count + $2 WHERE id = $1",
                self._tenant_id,
                self._new_users,
            )
        if self._completed:
            await self._count_completions(self._completed)

    async def record_event(self, profile: UserProfile, event: NewEvent) -> RecordedEvent:
        """The totals' `prev_total` is set by the same update that adds the value, so `before` is
        exact: the total this very update added to, whatever ran concurrently. Computing it as
        `after - value` would not do in floating point (events 0.1, 0.7 and 0.2 leave
        0.7999999999999999, then 0.9999999999999999 - 0.2 >= 0.8), and a threshold in between
        would never be crossed."""
        if self._pg:
            return await self._record_event_pg(profile, event)
        user = await self.upsert_user(event.tenant_id, profile, event.recorded_at)
        inserted = await self._conn.fetchrow(
            "INSERT INTO event (tenant_id, user_id, metric_id, value, attributes, occurred_at, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            event.tenant_id,
            user.user.pk,
            event.metric_id,
            event.value,
            dump_attributes(event.attributes),
            event.occurred_at,
            event.recorded_at,
        )
        assert inserted is not None
        pairs = _total_keys(event)
        values = ", ".join(
            f"($1, $2, $3, ${5 + 2 * i}, ${6 + 2 * i}, $4, 0)" for i in range(len(pairs))
        )
        rows = await self._conn.fetch(
            f"{INSERT_TOTALS} VALUES {values} {ADD_TO_TOTALS}",
            event.tenant_id,
            user.user.pk,
            event.metric_id,
            event.value,
            *(part for pair in pairs for part in pair),
        )
        return RecordedEvent(user=user, event_id=int(inserted["id"]), changes=_changes(rows))

    async def _record_event_pg(self, profile: UserProfile, event: NewEvent) -> RecordedEvent:
        """One round trip: the user's upsert, the event, the totals, and the thresholds the
        totals crossed, which `crossed_metric_achievements` then needs to look up only when
        there are some."""
        attributes = _stored_attributes(profile)
        before = await self._attributes_before(event.tenant_id, profile.id, attributes)
        pairs = _total_keys(event)
        values = ", ".join(f"(${12 + 2 * i}::text, ${13 + 2 * i}::text)" for i in range(len(pairs)))
        rows = await self._conn.fetch(
            f"WITH u AS ({PG_UPSERT_USER}), "
            "e AS (INSERT INTO event (tenant_id, user_id, metric_id, value, attributes, "
            "occurred_at, created_at) SELECT $1, u.id, $8::int, $9::float8, $10::text, "
            "$11::timestamptz, $7 FROM u RETURNING id), "
            f"t AS ({INSERT_TOTALS} SELECT $1, u.id, $8::int, p.k, p.v, $9::float8, 0 "
            f"FROM u, (VALUES {values}) AS p(k, v) {ADD_TO_TOTALS}), "
            "x AS (SELECT a.id FROM achievement a JOIN t ON a.attr_key = t.attr_key "
            "AND a.attr_value = t.attr_value AND a.threshold > t.prev_total "
            "AND a.threshold <= t.total WHERE a.metric_id = $8 AND a.tenant_id = $1 "
            "AND a.status = 'ACTIVE') "
            f"SELECT {PG_USER_OF_U}, u.inserted, "
            "e.id AS event_id, t.attr_key, t.attr_value, t.prev_total, t.total, "
            "ARRAY(SELECT id FROM x) AS crossed FROM u, e, t",
            *_user_args(event.tenant_id, profile, attributes, event.recorded_at),
            event.metric_id,
            event.value,
            dump_attributes(event.attributes),
            event.occurred_at,
            *(part for pair in pairs for part in pair),
        )
        user = _upserted(rows[0], attributes, before)
        if user.created:
            self._count_new_user(event.tenant_id)
        self._crossed = [int(i) for i in rows[0]["crossed"]]
        return RecordedEvent(user=user, event_id=int(rows[0]["event_id"]), changes=_changes(rows))

    async def crossed_metric_achievements(
        self, tenant_id: int, metric_id: int, changes: Sequence[TotalChange]
    ) -> list[model.Achievement]:
        """One indexed range query: only thresholds in (before, after] of some total."""
        if self._crossed is not None:
            ids, self._crossed = self._crossed, None
            return await self.achievements_by_ids(tenant_id, ids)
        rising = [c for c in changes if c.after > c.before]
        if not rising:
            return []
        clauses: list[str] = []
        args: list[object] = [tenant_id, metric_id]
        for change in rising:
            n = len(args)
            key, value = (
                (change.attribute.key, change.attribute.value) if change.attribute else ("", "")
            )
            clauses.append(
                f"(attr_key = ${n + 1} AND attr_value = ${n + 2} "
                f"AND threshold > ${n + 3} AND threshold <= ${n + 4})"
            )
            args += [key, value, change.before, change.after]
        rows = await self._conn.fetch(
            f"SELECT {ACHIEVEMENT_COLUMNS} FROM achievement WHERE metric_id = $2 "
            f"AND tenant_id = $1 AND status = 'ACTIVE' AND ({' OR '.join(clauses)})",
            *args,
        )
        return await _with_prerequisites(self._conn, rows)

    async def qualifying_achievements(
        self, tenant_id: int, user_pk: int
    ) -> list[model.Achievement]:
        """ACTIVE achievements with attribute requirements whose trigger the user already meets."""
        rows = await self._conn.fetch(
            f"SELECT {prefixed('a')} FROM achievement a "
            "LEFT JOIN metric_total t ON t.user_id = $2 AND t.metric_id = a.metric_id "
            "AND t.attr_key = a.attr_key AND t.attr_value = a.attr_value "
            "LEFT JOIN streak_state s ON s.user_id = $2 "
            "WHERE a.tenant_id = $1 AND a.status = 'ACTIVE' AND a.user_attributes <> '[]' "
            "AND NOT EXISTS (SELECT 1 FROM completion c WHERE c.user_id = $2 "
            "AND c.achievement_id = a.id) AND ("
            "(a.trigger_kind = 'METRIC' AND t.total >= a.threshold) "
            "OR (a.trigger_kind = 'STREAK' AND s.longest >= a.streak_length) "
            "OR (a.trigger_kind = 'COMPOSITE' AND NOT EXISTS ("
            "SELECT 1 FROM achievement_prerequisite p WHERE p.composite_id = a.id "
            "AND NOT EXISTS (SELECT 1 FROM completion c2 WHERE c2.user_id = $2 "
            "AND c2.achievement_id = p.prerequisite_id))))",
            tenant_id,
            user_pk,
        )
        return await _with_prerequisites(self._conn, rows)

    async def insert_completions(
        self,
        tenant_id: int,
        user_pk: int,
        achievement_ids: Sequence[int],
        now: datetime,
        *,
        publish: bool,
    ) -> list[NewCompletion]:
        if not achievement_ids:
            return []
        values = ", ".join(f"($1, $2, ${i + 5}, $3, $4)" for i in range(len(achievement_ids)))
        rows = await self._conn.fetch(
            "INSERT INTO completion (tenant_id, user_id, achievement_id, completed_at, backdated) "
            f"VALUES {values} ON CONFLICT (user_id, achievement_id) DO NOTHING "
            "RETURNING id, achievement_id, completed_at",
            tenant_id,
            user_pk,
            now,
            not publish,
            *achievement_ids,
        )
        new = sorted(
            (
                NewCompletion(
                    id=int(r["id"]),
                    achievement_id=int(r["achievement_id"]),
                    completed_at=as_datetime(r["completed_at"]),
                )
                for r in rows
            ),
            key=lambda c: c.achievement_id,
        )
        if new and publish:
            await self._conn.execute(
                "INSERT INTO outbox (tenant_id, completion_id, created_at) VALUES "
                + ", ".join(f"($1, ${i + 3}, $2)" for i in range(len(new))),
                tenant_id,
                now,
                *(c.id for c in new),
            )
        self._completed += [c.achievement_id for c in new]
        return new

    async def _count_completions(self, achievement_ids: Sequence[int]) -> None:
        """Locks in id order with NO KEY UPDATE: FOR UPDATE would conflict with the KEY SHARE lock
        that the completion insert's foreign-key check took on the same rows, so two requests
        completing one achievement for different users would deadlock."""
        if not achievement_ids:
            return
        ids = sorted(achievement_ids)
        lock = " ORDER BY id FOR NO KEY UPDATE" if self._pg else ""
        await self._conn.execute(
            "UPDATE achievement SET completions = completions + 1 WHERE id IN "
            f"(SELECT id FROM achievement WHERE id IN ({_in(ids, 1)}){lock})",
            *ids,
        )

    async def completion_of(self, user_pk: int, achievement_id: int) -> NewCompletion | None:
        row = await self._conn.fetchrow(
            "SELECT id, achievement_id, completed_at FROM completion "
            "WHERE user_id = $1 AND achievement_id = $2",
            user_pk,
            achievement_id,
        )
        if row is None:
            return None
        return NewCompletion(
            id=int(row["id"]),
            achievement_id=int(row["achievement_id"]),
            completed_at=as_datetime(row["completed_at"]),
        )

    async def composites_completed_by(
        self, tenant_id: int, user_pk: int, prerequisite_ids: Sequence[int]
    ) -> list[model.Achievement]:
        """ACTIVE composites that depend on one of these and now have every prerequisite done.

        The dependents are looked up first, through the prerequisite index: in one statement,
        PostgreSQL planned it the other way round and walked every achievement of the tenant
        (35 ms with 10,000 of them), while holding the locks of the completions just made."""
        if not prerequisite_ids:
            return []
        dependents = await self._conn.fetch(
            "SELECT DISTINCT composite_id FROM achievement_prerequisite "
            f"WHERE prerequisite_id IN ({_in(prerequisite_ids, 1)})",
            *prerequisite_ids,
        )
        if not dependents:
            return []
        ids = [int(r["composite_id"]) for r in dependents]
        rows = await self._conn.fetch(
            f"SELECT {prefixed('a')} FROM achievement a WHERE a.tenant_id = $1 "
            f"AND a.status = 'ACTIVE' AND a.id IN ({_in(ids, 3)}) "
            "AND NOT EXISTS (SELECT 1 FROM completion c WHERE c.user_id = $2 "
            "AND c.achievement_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM achievement_prerequisite p WHERE p.composite_id = a.id "
            "AND NOT EXISTS (SELECT 1 FROM completion c2 WHERE c2.user_id = $2 "
            "AND c2.achievement_id = p.prerequisite_id))",
            tenant_id,
            user_pk,
            *ids,
        )
        return await _with_prerequisites(self._conn, rows)

    async def streak_state(self, user_pk: int) -> StreakState:
        row = await self._conn.fetchrow(
            "SELECT frequency, run_start, run_last, run_length, longest FROM streak_state "
            "WHERE user_id = $1",
            user_pk,
        )
        if row is None:
            return StreakState(run=None, longest=0, frequency=None)
        run = None
        if row["run_last"] is not None:
            run = StreakRun(
                start=as_date(row["run_start"]),
                last=as_date(row["run_last"]),
                length=int(row["run_length"]),
            )
        return StreakState(run, int(row["longest"]), StreakFrequency(row["frequency"]))

    async def add_streak_day(self, tenant_id: int, user_pk: int, day: date) -> bool:
        row = await self._conn.fetchrow(
            "INSERT INTO streak_day (tenant_id, user_id, day) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id, day) DO NOTHING RETURNING id",
            tenant_id,
            user_pk,
            day,
        )
        return row is not None

    async def streak_days(self, user_pk: int) -> list[date]:
        rows = await self._conn.fetch("SELECT day FROM streak_day WHERE user_id = $1", user_pk)
        return [as_date(r["day"]) for r in rows]

    async def save_streak_state(self, tenant_id: int, user_pk: int, state: StreakState) -> None:
        run = state.run
        assert state.frequency is not None
        await self._conn.execute(
            "INSERT INTO streak_state (tenant_id, user_id, frequency, run_start, run_last, "
            "run_length, longest) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (user_id) DO UPDATE SET frequency = excluded.frequency, "
            "run_start = excluded.run_start, run_last = excluded.run_last, "
            "run_length = excluded.run_length, longest = excluded.longest",
            tenant_id,
            user_pk,
            state.frequency.value,
            run.start if run else None,
            run.last if run else None,
            run.length if run else 0,
            state.longest,
        )

    async def streak_achievements_between(
        self, tenant_id: int, above: int, up_to: int
    ) -> list[model.Achievement]:
        rows = await self._conn.fetch(
            f"SELECT {ACHIEVEMENT_COLUMNS} FROM achievement WHERE tenant_id = $1 "
            "AND trigger_kind = 'STREAK' AND status = 'ACTIVE' "
            "AND streak_length > $2 AND streak_length <= $3",
            tenant_id,
            above,
            up_to,
        )
        return await _with_prerequisites(self._conn, rows)


def _stored_attributes(profile: UserProfile) -> str | None:
    """None leaves the stored attributes alone."""
    return None if profile.attributes is None else dump_attributes(profile.attributes)


def _user_args(
    tenant_id: int, profile: UserProfile, attributes: str | None, now: datetime
) -> tuple[object, ...]:
    """$1 to $7 of INSERT_USER."""
    return (tenant_id, profile.id, profile.name, profile.email, profile.tz, attributes, now)


def _total_keys(event: NewEvent) -> list[tuple[str, str]]:
    """The plain total, keyed ("", ""), and one total per event attribute."""
    return [("", ""), *((a.key, a.value) for a in event.attributes)]


def _changes(rows: Sequence[Row]) -> list[TotalChange]:
    return [
        TotalChange(
            attribute=model.Attribute(r["attr_key"], r["attr_value"]) if r["attr_key"] else None,
            before=float(r["prev_total"]),
            after=float(r["total"]),
        )
        for r in rows
    ]


def _upserted(row: Row, attributes: str | None, before: Row | None) -> UpsertedUser:
    created = bool(row["inserted"])
    changed = attributes is not None and (before is None or before["attributes"] != attributes)
    return UpsertedUser(user=user_from_row(row), created=created, attributes_changed=changed)


class Transactions(Generic[T]):
    """A transaction factory port: `async with factory() as tx:` is one transaction, whose
    statements `kind` (a `SqlTransaction` or a subclass) speaks."""

    def __init__(self, database: Database, kind: Callable[[Connection], T]) -> None:
        self._db = database
        self._kind = kind

    def __call__(self) -> Any:
        return self._scope()

    @asynccontextmanager
    async def _scope(self) -> AsyncIterator[T]:
        async with self._db.transaction() as conn:
            tx = self._kind(conn)
            yield tx
            await tx.before_commit()
