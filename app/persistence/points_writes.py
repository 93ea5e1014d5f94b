"""Points on the write path: the marks and totals an operation moves, and its awards.

An operation reads its user's row of each system it may award in (the total, and what each of
the system's triggers has spent) in one statement, or from what its transaction already read:
a batch (trackEvents, or single events grouped into one transaction) reads all its users' rows
at once first (`expect_points`), and every write keeps that copy current.

Where a write costs no round trip of its own it waits for the commit: on SQLite always, on
PostgreSQL for the users a batch read ahead. Those awards and rows are written together just
before commit, in one statement for the whole transaction (two on SQLite) instead of one or two
per event. Their ids are taken when they are priced, so that each operation's outcome names
them: on PostgreSQL from the ledger's sequence, reserved in the read-ahead's own statement
(unused ones are skipped, as after a rollback); on SQLite, which has one writer at a time and
none other inserting awards, by counting on from the table's last id. A PostgreSQL user not
read ahead gets its rows written at once, one statement, with the ids the database gives.
Either way the ids a transaction gives rise in the order its awards are priced, which is the
ledger's order.

What was read stays true until it is written because every operation awarding to a user holds
that user's row lock (PostgreSQL; SQLite has one writer at a time), so concurrent awards to one
user queue in one order and each sees the totals the previous one left.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache

import orjson

from app.domain.points import PointsAward, PointsProgram
from app.domain.ports import NewAward, PointsMark, SystemPoints
from app.persistence.codec import placeholders
from app.persistence.database import Connection
from app.persistence.points import program_of
from app.persistence.transaction import Statements

IDS_PER_USER_AHEAD = 4
"""Award ids reserved per user a batch reads ahead: most events award a few times at most, and
a batch that needs more reserves them in one more statement."""
ROWS_PER_INSERT = 1000
"""Rows per statement: 12 parameters each, well within both databases' limits."""
AWARD_SEQUENCE = "points_award_id_seq"

AWARD_FIELDS = (
    "tenant_id, user_id, silent, system_id, trigger_id, awarded, total, awarded_at, multiplier, "
    "boost_ids, created_at"
)
TOTALS_UPSERT = (
    "INSERT INTO user_points (tenant_id, user_id, system_id, total, marks) VALUES {} "
    "ON CONFLICT (user_id, system_id) DO UPDATE SET "
    "total = excluded.total, marks = excluded.marks"
)

Known = dict[int, tuple[frozenset[int], dict[int, SystemPoints]]]
"""User pk -> (the systems read, what the transaction has stored in them)."""


def load_marks(text: str | None) -> dict[int, PointsMark]:
    """`{"<trigger id>": [mark, "since" or null]}`."""
    if not text:
        return {}
    return {
        int(trigger_id): PointsMark(int(mark), date.fromisoformat(since) if since else None)
        for trigger_id, (mark, since) in orjson.loads(text).items()
    }


def dump_marks(marks: Mapping[int, PointsMark]) -> str:
    return orjson.dumps(
        {str(t): [m.mark, m.since.isoformat() if m.since else None] for t, m in marks.items()}
    ).decode()


@lru_cache(maxsize=256)
def _values(rows: int, width: int, after: int = 0) -> str:
    """`($after+1, ..., $after+width), ...` for `rows` rows: the same few shapes recur."""
    return ", ".join(
        "(" + ", ".join(f"${after + width * i + j + 1}" for j in range(width)) + ")"
        for i in range(rows)
    )


def _award_values(
    tenant_id: int, user_pk: int, award: NewAward, now: datetime, silent: bool
) -> list[object]:
    return [
        tenant_id,
        user_pk,
        silent,
        award.system_id,
        award.trigger_id,
        award.awarded,
        award.total,
        award.awarded_at,
        str(award.multiplier),
        orjson.dumps(award.boost_ids).decode(),
        now,
    ]


def _chunks(rows: Sequence[Sequence[object]]) -> Iterator[Sequence[Sequence[object]]]:
    for start in range(0, len(rows), ROWS_PER_INSERT):
        yield rows[start : start + ROWS_PER_INSERT]


def _flat(rows: Sequence[Sequence[object]]) -> list[object]:
    return [value for row in rows for value in row]


class PointsRows(Statements):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._points_known: Known = {}
        self._points_ahead: set[int] = set()
        # (user, system) -> the row's values; awards' values, their ids last, in pricing order.
        self._points_moved: dict[tuple[int, int], list[object]] = {}
        self._awards_due: list[list[object]] = []
        self._award_ids: deque[int] = deque()
        self._award_next: int | None = None

    async def points_program(self, tenant_id: int) -> PointsProgram:
        return await program_of(self._conn, tenant_id)

    async def expect_points(self, user_pks: Sequence[int], system_ids: Sequence[int]) -> None:
        unread = sorted(set(user_pks) - self._points_known.keys())
        if not unread or not system_ids:
            return
        reserve = IDS_PER_USER_AHEAD * len(unread) if self._pg else 0
        rows = await self._conn.fetch(
            "SELECT user_id, system_id, total, marks, NULL AS award_id FROM user_points "
            f"WHERE user_id IN ({placeholders(unread, 1)}) "
            f"AND system_id IN ({placeholders(system_ids, len(unread) + 1)})"
            + (
                f" UNION ALL SELECT NULL, NULL, NULL, NULL, nextval('{AWARD_SEQUENCE}') "
                f"FROM generate_series(1, ${len(unread) + len(system_ids) + 1})"
                if reserve
                else ""
            ),
            *unread,
            *system_ids,
            *([reserve] if reserve else []),
        )
        systems = frozenset(system_ids)
        for user_pk in unread:
            self._points_known[user_pk] = (systems, {})
        self._points_ahead.update(unread)
        for r in rows:
            if r["user_id"] is not None:
                self._points_known[int(r["user_id"])][1][int(r["system_id"])] = SystemPoints(
                    int(r["total"]), load_marks(r["marks"])
                )
        self._award_ids.extend(sorted(int(r["award_id"]) for r in rows if r["user_id"] is None))

    async def points_state(
        self, user_pk: int, system_ids: Sequence[int]
    ) -> dict[int, SystemPoints]:
        read, stored = self._points_known.get(user_pk, (frozenset(), {}))
        unread = [s for s in system_ids if s not in read]
        if unread:
            rows = await self._conn.fetch(
                "SELECT system_id, total, marks FROM user_points "
                f"WHERE user_id = $1 AND system_id IN ({placeholders(unread)})",
                user_pk,
                *unread,
            )
            stored = {
                **stored,
                **{
                    int(r["system_id"]): SystemPoints(int(r["total"]), load_marks(r["marks"]))
                    for r in rows
                },
            }
            self._points_known[user_pk] = (read | frozenset(unread), stored)
        return {s: stored[s] for s in system_ids if s in stored}

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
        read, stored = self._points_known.get(user_pk, (frozenset(), {}))
        self._points_known[user_pk] = (read | frozenset(systems), {**stored, **systems})
        if self._pg and user_pk not in self._points_ahead:
            return await self._save_now(tenant_id, user_pk, systems, awards, now, silent)
        for system_id, row in systems.items():
            self._points_moved[(user_pk, system_id)] = [
                tenant_id,
                user_pk,
                system_id,
                row.total,
                dump_marks(row.marks),
            ]
        ids = await self._take_award_ids(len(awards))
        for award, award_id in zip(awards, ids, strict=True):
            values = _award_values(tenant_id, user_pk, award, now, silent)
            self._awards_due.append([*values, award_id])
        return [a.stored(award_id) for a, award_id in zip(awards, ids, strict=True)]

    async def before_commit(self) -> None:
        """The transaction's waiting rows and awards: one statement on PostgreSQL, two on
        SQLite (more only past ROWS_PER_INSERT rows)."""
        moved = [row for _, row in sorted(self._points_moved.items())]
        self._points_moved = {}
        due, self._awards_due = self._awards_due, []
        if self._pg and 0 < len(moved) <= ROWS_PER_INSERT and 0 < len(due) <= ROWS_PER_INSERT:
            await self._conn.execute(
                f"WITH t AS ({TOTALS_UPSERT.format(_values(len(moved), 5))}) "
                f"INSERT INTO points_award ({AWARD_FIELDS}, id) "
                f"VALUES {_values(len(due), 12, 5 * len(moved))}",
                *_flat(moved),
                *_flat(due),
            )
        else:
            for chunk in _chunks(moved):
                await self._conn.execute(
                    TOTALS_UPSERT.format(_values(len(chunk), 5)), *_flat(chunk)
                )
            for chunk in _chunks(due):
                await self._conn.execute(
                    f"INSERT INTO points_award ({AWARD_FIELDS}, id) "
                    f"VALUES {_values(len(chunk), 12)}",
                    *_flat(chunk),
                )
        await super().before_commit()

    async def _take_award_ids(self, count: int) -> list[int]:
        ids = self._award_ids
        if len(ids) < count:
            if self._pg:
                wanted = max(count - len(ids), IDS_PER_USER_AHEAD * len(self._points_ahead))
                rows = await self._conn.fetch_values(
                    f"SELECT nextval('{AWARD_SEQUENCE}') FROM generate_series(1, $1)", wanted
                )
                ids.extend(sorted(int(row[0]) for row in rows))
            else:
                await self._count_on_award_ids(count - len(ids))
        return [ids.popleft() for _ in range(count)]

    async def _count_on_award_ids(self, count: int) -> None:
        """SQLite: the ids after the highest ever given (AUTOINCREMENT keeps it even when that
        award's user is gone), and after those this transaction took already."""
        if self._award_next is None:
            row = await self._conn.fetchrow(
                "SELECT seq FROM sqlite_sequence WHERE name = 'points_award'"
            )
            self._award_next = int(row["seq"]) + 1 if row else 1
        self._award_ids.extend(range(self._award_next, self._award_next + count))
        self._award_next += count

    async def _save_now(
        self,
        tenant_id: int,
        user_pk: int,
        systems: Mapping[int, SystemPoints],
        awards: Sequence[NewAward],
        now: datetime,
        silent: bool,
    ) -> list[PointsAward]:
        """PostgreSQL, a user not read ahead: one statement, the ids from the sequence. The ids
        reserved before are dropped, so that awards taken after these get higher ids: a
        user's ledger runs in id order."""
        self._award_ids.clear()
        moved = [
            [tenant_id, user_pk, system_id, row.total, dump_marks(row.marks)]
            for system_id, row in sorted(systems.items())
        ]
        totals_sql = TOTALS_UPSERT.format(_values(len(moved), 5))
        if not awards:
            await self._conn.execute(totals_sql, *_flat(moved))
            return []
        values = [_award_values(tenant_id, user_pk, a, now, silent) for a in awards]
        awards_sql = (
            f"INSERT INTO points_award ({AWARD_FIELDS}) "
            f"VALUES {_values(len(values), 11, 5 * len(moved))} RETURNING id"
        )
        rows = await self._conn.fetch(
            f"WITH t AS ({totals_sql}), a AS ({awards_sql}) SELECT id FROM a",
            *_flat(moved),
            *_flat(values),
        )
        ids = sorted(int(r["id"]) for r in rows)
        return [a.stored(award_id) for award_id, a in zip(ids, awards, strict=True)]

    async def lock_users(self, user_pks: Sequence[int]) -> None:
        """SQLite has one writer at a time: only PostgreSQL needs the row locks."""
        if self._pg and user_pks:
            ordered = sorted(user_pks)
            await self._conn.execute(
                f"SELECT id FROM app_user WHERE id IN ({placeholders(ordered, 1)}) "
                "ORDER BY id FOR UPDATE",
                *ordered,
            )
