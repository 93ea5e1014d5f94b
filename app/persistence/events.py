"""Metric events: store the event, move the totals, find the thresholds crossed.

Totals move with `INSERT .. ON CONFLICT DO UPDATE SET total = total + excluded.total RETURNING`,
so concurrent events on one total get disjoint intervals (before, after]; `prev_total` is set by
the same update, so `before` is exact whatever ran concurrently. Computing it as `after - value`
would not do in floating point (events 0.1, 0.7 and 0.2 leave 0.7999999999999999, then
0.9999999999999999 - 0.2 >= 0.8), and a threshold in between would never be crossed.

The two dialects sit side by side under `record_event`: on PostgreSQL one statement upserts the
user, inserts the event, moves the totals and returns the crossed thresholds (a round trip costs
more than the work); on SQLite, which has no writable CTEs, the user and the event are a
statement each, and the totals' upsert returns the ids of the thresholds each total crossed.
Events recorded together (`record_events`) share statements: on PostgreSQL one pipelined
statement; on SQLite one insert of the events, and one upsert for each run of events that
share no total.
Both find crossings with the one SQL form of `MetricTrigger.crossed` (`metric_crossed`), and
read the crossed achievements only when there are some.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import groupby

import orjson

from app.domain import model
from app.domain.ports import NewEvent, RecordedEvent, TotalChange, UpsertedUser, UserProfile
from app.persistence.catalogue import achievements_by_ids
from app.persistence.codec import (
    USER_COLUMNS,
    dump_attributes,
    placeholders,
    prefixed,
    user_from_row,
)
from app.persistence.database import Row
from app.persistence.triggers import metric_crossed
from app.persistence.users import (
    PG_UPSERT_USER,
    UserRows,
    stored_attributes,
    upserted_from,
    user_arguments,
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


def active_on_metric(metric: str) -> str:
    """Achievement `a` is the tenant's ($1), ACTIVE, on the event's metric (parameter `metric`)."""
    return f"a.tenant_id = $1 AND a.metric_id = {metric} AND a.status = 'ACTIVE'"


class EventRows(UserRows):
    async def record_event(self, profile: UserProfile, event: NewEvent) -> RecordedEvent:
        record = self._record_event_postgres if self._pg else self._record_event_sqlite
        return await record(profile, event)

    async def record_events(
        self, events: Sequence[tuple[UserProfile, NewEvent]]
    ) -> list[RecordedEvent]:
        """On PostgreSQL consecutive events of one shape (as many totals) whose profiles set
        no attributes are recorded by one pipelined statement: one round trip for them all."""
        if not self._pg:
            return await self._record_events_sqlite(events)
        recorded: list[RecordedEvent] = []
        for (width, plain), run in groupby(events, key=_shape):
            batch = list(run)
            if not plain or len(batch) == 1:
                recorded += [await self._record_event_postgres(p, e) for p, e in batch]
                continue
            rows = await self._conn.fetch_many(
                _pg_record_sql(width), [_pg_record_args(p, e, None) for p, e in batch]
            )
            parts = [rows[i * width : (i + 1) * width] for i in range(len(batch))]
            ids = sorted({int(i) for part in parts for i in part[0]["crossed"]})
            found = await achievements_by_ids(self._conn, batch[0][1].tenant_id, ids)
            recorded += [
                self._pg_recorded(part, event, None, None, found)
                for part, (_, event) in zip(parts, batch, strict=True)
            ]
        return recorded

    async def _record_event_postgres(self, profile: UserProfile, event: NewEvent) -> RecordedEvent:
        attributes = stored_attributes(profile)
        before = await self.attributes_before(event.tenant_id, profile.id, attributes)
        rows = await self._conn.fetch(
            _pg_record_sql(len(total_keys(event))), *_pg_record_args(profile, event, attributes)
        )
        ids = [int(i) for i in rows[0]["crossed"]]
        found = await achievements_by_ids(self._conn, event.tenant_id, ids)
        return self._pg_recorded(rows, event, attributes, before, found)

    def _pg_recorded(
        self,
        rows: Sequence[Row],
        event: NewEvent,
        attributes: str | None,
        before: Row | None,
        crossed: Sequence[model.Achievement],
    ) -> RecordedEvent:
        """The rows of one event's statement, with the crossed achievements among `crossed`."""
        user = upserted_from(rows[0], attributes, before)
        if user.created:
            self._new_users[event.tenant_id] += 1
        ids = {int(i) for i in rows[0]["crossed"]}
        return RecordedEvent(
            user=user,
            event_id=int(rows[0]["event_id"]),
            changes=total_changes(rows),
            crossed=[a for a in crossed if a.id in ids],
        )

    async def _record_events_sqlite(
        self, events: Sequence[tuple[UserProfile, NewEvent]]
    ) -> list[RecordedEvent]:
        """The users the events name are read in one statement first: an event whose profile
        gives only an id changes nothing in its user's row, so it takes the row as it stands
        after the events before it (read, or as the last of them upserted it)."""
        if not events:
            return []
        tenant_id = events[0][1].tenant_id
        assert all(event.tenant_id == tenant_id for _, event in events), "one tenant's batch"
        known = await self._users_named(tenant_id, sorted({profile.id for profile, _ in events}))
        users = []
        for profile, event in events:
            stands = known.get(profile.id) if _names_only(profile) else None
            users.append(stands or await self.upsert_user(tenant_id, profile, event.recorded_at))
            known[profile.id] = UpsertedUser(users[-1].user, False, False)
        return await self._record_sqlite([e for _, e in events], users)

    async def _users_named(
        self, tenant_id: int, user_ids: Sequence[str]
    ) -> dict[str, UpsertedUser]:
        found: dict[str, UpsertedUser] = {}
        for start in range(0, len(user_ids), NAMES_PER_READ):
            named = user_ids[start : start + NAMES_PER_READ]
            for row in await self._conn.fetch(
                f"SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 "
                f"AND external_id IN ({placeholders(named)})",
                tenant_id,
                *named,
            ):
                found[row["external_id"]] = UpsertedUser(user_from_row(row), False, False)
        return found

    async def _record_event_sqlite(self, profile: UserProfile, event: NewEvent) -> RecordedEvent:
        user = await self.upsert_user(event.tenant_id, profile, event.recorded_at)
        (recorded,) = await self._record_sqlite([event], [user])
        return recorded

    async def _record_sqlite(
        self, events: Sequence[NewEvent], users: Sequence[UpsertedUser]
    ) -> list[RecordedEvent]:
        """One tenant's events, their users upserted: the events inserted together, then their
        totals moved in order (an event sees the totals the ones before it left), then the
        achievements crossed read at once."""
        event_ids = await self._insert_events_sqlite(events, users)
        moved: list[list[Row]] = []
        for run in _without_repeated_totals(events, users):
            moved += await self._move_totals_sqlite(run)
        crossed = [{int(i) for r in rows for i in orjson.loads(r["crossed"])} for rows in moved]
        found = await achievements_by_ids(
            self._conn, events[0].tenant_id, sorted(set().union(*crossed))
        )
        return [
            RecordedEvent(
                user=user,
                event_id=event_id,
                changes=total_changes(rows),
                crossed=[a for a in found if a.id in ids],
            )
            for user, event_id, rows, ids in zip(users, event_ids, moved, crossed, strict=True)
        ]

    async def _move_totals_sqlite(
        self, run: Sequence[tuple[NewEvent, UpsertedUser]]
    ) -> list[list[Row]]:
        """Each event's rows of `_sqlite_totals_sql`. Events that share no total move in one
        statement, as they would one after another: no row of it is changed twice."""
        if len(run) == 1:
            ((event, user),) = run
            pairs = total_keys(event)
            return [
                await self._conn.fetch(
                    _sqlite_totals_sql(len(pairs)),
                    event.tenant_id,
                    user.user.pk,
                    event.metric_id,
                    event.value,
                    *(part for pair in pairs for part in pair),
                )
            ]
        keyed = [
            (user.user.pk, event.metric_id, key, value, event.value)
            for event, user in run
            for key, value in total_keys(event)
        ]
        rows = await self._conn.fetch(
            _sqlite_many_totals_sql(len(keyed)),
            run[0][0].tenant_id,
            *(part for row in keyed for part in row),
        )
        found = {(r["user_id"], r["metric_id"], r["attr_key"], r["attr_value"]): r for r in rows}
        return [
            [found[(user.user.pk, event.metric_id, k, v)] for k, v in total_keys(event)]
            for event, user in run
        ]

    async def _insert_events_sqlite(
        self, events: Sequence[NewEvent], users: Sequence[UpsertedUser]
    ) -> list[int]:
        """Their ids in the events' order: SQLite's one writer numbers the rows of an insert
        one after another, so the ids returned, sorted, follow the rows."""
        ids: list[int] = []
        for start in range(0, len(events), EVENTS_PER_INSERT):
            part = range(start, min(start + EVENTS_PER_INSERT, len(events)))
            rows = await self._conn.fetch(
                "INSERT INTO event (tenant_id, user_id, metric_id, value, attributes, "
                f"occurred_at, created_at) VALUES {_event_values(len(part))} RETURNING id",
                *(
                    value
                    for i in part
                    for value in (
                        events[i].tenant_id,
                        users[i].user.pk,
                        events[i].metric_id,
                        events[i].value,
                        dump_attributes(events[i].attributes),
                        events[i].occurred_at,
                        events[i].recorded_at,
                    )
                ),
            )
            ids += sorted(int(r["id"]) for r in rows)
        return ids


# Events per insert on SQLite: 7 parameters each, well within its limit of parameters.
EVENTS_PER_INSERT = 1000


@lru_cache(maxsize=64)
def _event_values(rows: int) -> str:
    return ", ".join(
        "(" + ", ".join(f"${7 * i + j}" for j in range(1, 8)) + ")" for i in range(rows)
    )


# Users per read of `_users_named`: well within SQLite's limit of parameters.
NAMES_PER_READ = 500


def _names_only(profile: UserProfile) -> bool:
    """Whether the profile leaves every stored field of its user alone."""
    return (profile.name, profile.email, profile.tz, profile.attributes) == (None,) * 4


def _shape(item: tuple[UserProfile, NewEvent]) -> tuple[int, bool]:
    """Events record by one statement text when they move as many totals and set no user
    attributes (whose old values need a read first)."""
    profile, event = item
    return len(event.attributes) + 1, stored_attributes(profile) is None


@lru_cache(maxsize=16)
def _sqlite_totals_sql(width: int) -> str:
    """On SQLite: the event's `width` totals moved, each with the ids of the thresholds it
    crossed (a subquery in RETURNING)."""
    values = ", ".join(f"($1, $2, $3, ${5 + 2 * i}, ${6 + 2 * i}, $4, 0)" for i in range(width))
    return f"{INSERT_TOTALS} VALUES {values} {ADD_TO_TOTALS}, {_sqlite_crossed('$3')}"


@lru_cache(maxsize=64)
def _sqlite_many_totals_sql(rows: int) -> str:
    """`_sqlite_totals_sql` for `rows` totals of one tenant ($1), each with its own user,
    metric, key and value, and returning whose total each row is."""
    values = ", ".join(
        f"($1, ${5 * i + 2}, ${5 * i + 3}, ${5 * i + 4}, ${5 * i + 5}, ${5 * i + 6}, 0)"
        for i in range(rows)
    )
    crossed = _sqlite_crossed("metric_total.metric_id")
    return f"{INSERT_TOTALS} VALUES {values} {ADD_TO_TOTALS}, {crossed}, user_id, metric_id"


def _sqlite_crossed(metric: str) -> str:
    """A RETURNING column: the ids of the thresholds on `metric` that the moved total crossed."""
    crossed = metric_crossed(
        "a",
        "metric_total.attr_key",
        "metric_total.attr_value",
        "metric_total.prev_total",
        "metric_total.total",
    )
    return (
        "(SELECT json_group_array(a.id) FROM achievement a "
        f"WHERE {active_on_metric(metric)} AND {crossed}) AS crossed"
    )


def _without_repeated_totals(
    events: Sequence[NewEvent], users: Sequence[UpsertedUser]
) -> list[list[tuple[NewEvent, UpsertedUser]]]:
    """The events in order, cut into runs in which no total (user, metric, attribute) comes
    twice, at most TOTALS_PER_MOVE totals each."""
    runs: list[list[tuple[NewEvent, UpsertedUser]]] = []
    seen: set[tuple[int, int, str, str]] = set()
    for event, user in zip(events, users, strict=True):
        keys = {(user.user.pk, event.metric_id, k, v) for k, v in total_keys(event)}
        if not runs or seen & keys or len(seen) + len(keys) > TOTALS_PER_MOVE:
            runs.append([])
            seen = set()
        runs[-1].append((event, user))
        seen |= keys
    return runs


# Totals per statement on SQLite: 5 parameters each, well within its limit of parameters.
TOTALS_PER_MOVE = 1000


@lru_cache(maxsize=16)
def _pg_record_sql(width: int) -> str:
    """One event on PostgreSQL: the user upserted, the event inserted, its `width` totals moved
    and the thresholds they crossed, in one statement; a row per total."""
    values = ", ".join(f"(${12 + 2 * i}::text, ${13 + 2 * i}::text)" for i in range(width))
    crossed = metric_crossed("a", "t.attr_key", "t.attr_value", "t.prev_total", "t.total")
    return (
        f"WITH u AS ({PG_UPSERT_USER}), "
        "e AS (INSERT INTO event (tenant_id, user_id, metric_id, value, attributes, "
        "occurred_at, created_at) SELECT $1, u.id, $8::int, $9::float8, $10::text, "
        "$11::timestamptz, $7 FROM u RETURNING id), "
        f"t AS ({INSERT_TOTALS} SELECT $1, u.id, $8::int, p.k, p.v, $9::float8, 0 "
        f"FROM u, (VALUES {values}) AS p(k, v) {ADD_TO_TOTALS}), "
        f"x AS (SELECT a.id FROM achievement a JOIN t ON {crossed} "
        f"WHERE {active_on_metric('$8')}) "
        f"SELECT {prefixed('u', USER_COLUMNS)}, u.inserted, "
        "e.id AS event_id, t.attr_key, t.attr_value, t.prev_total, t.total, "
        "ARRAY(SELECT id FROM x) AS crossed FROM u, e, t"
    )


def _pg_record_args(profile: UserProfile, event: NewEvent, attributes: str | None) -> list[object]:
    return [
        *user_arguments(event.tenant_id, profile, attributes, event.recorded_at),
        event.metric_id,
        event.value,
        dump_attributes(event.attributes),
        event.occurred_at,
        *(part for pair in total_keys(event) for part in pair),
    ]


def total_keys(event: NewEvent) -> list[tuple[str, str]]:
    """The plain total, keyed ("", ""), and one total per event attribute."""
    return [("", ""), *((a.key, a.value) for a in event.attributes)]


def total_changes(rows: Sequence[Row]) -> list[TotalChange]:
    return [
        TotalChange(
            attribute=model.Attribute(r["attr_key"], r["attr_value"]) if r["attr_key"] else None,
            before=float(r["prev_total"]),
            after=float(r["total"]),
        )
        for r in rows
    ]
