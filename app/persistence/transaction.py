"""One write transaction's statements, composed per port from one module per aggregate.

Every invariant is a constraint and every counter change is one statement. Counters on shared
rows (a tenant's user count, an achievement's completions) are bumped last, just before COMMIT
(`before_commit`), tenant first and achievements in id order: concurrent transactions lock them
in one order and cannot deadlock, and hold those hot rows only for the commit. Announcements
are gathered the same way and written to the outbox in one statement before the counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Generic, TypeVar

from app.persistence.database import Connection, Database


class Statements:
    """A transaction's connection and the counter changes it defers to just before commit."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._pg = conn.dialect == "postgres"
        self._new_users: Counter[int] = Counter()
        self._completions: Counter[int] = Counter()
        # Achievements completed here that no composite depends on (CompletionRows).
        self._no_dependents: set[int] = set()
        # Outbox rows (tenant, type, data, created_at), written together just before commit.
        self._announced: list[tuple[int, str, str, datetime]] = []

    async def before_commit(self) -> None:
        for tenant_id, count in sorted(self._new_users.items()):
            await self._conn.execute(
                "UPDATE tenant SET user_count = user_count + $2 WHERE id = $1", tenant_id, count
            )
        if self._completions:
            await self._count_completions(sorted(self._completions.items()))

    async def _count_completions(self, counts: list[tuple[int, int]]) -> None:
        """One statement, locking in id order with NO KEY UPDATE: FOR UPDATE would conflict with
        the KEY SHARE lock that the completion insert's foreign-key check took on the same rows,
        so two requests completing one achievement for different users would deadlock."""
        lock = " ORDER BY id FOR NO KEY UPDATE" if self._pg else ""
        cases = " ".join(
            f"WHEN ${2 * i + 1} THEN CAST(${2 * i + 2} AS INTEGER)" for i in range(len(counts))
        )
        ids = ", ".join(f"${2 * i + 1}" for i in range(len(counts)))
        await self._conn.execute(
            f"UPDATE achievement SET completions = completions + CASE id {cases} END "
            f"WHERE id IN (SELECT id FROM achievement WHERE id IN ({ids}){lock})",
            *(value for pair in counts for value in pair),
        )


T = TypeVar("T", bound=Statements)


class Transactions(Generic[T]):
    """A transaction factory port: `async with factory() as tx:` is one transaction, whose
    statements `kind` (a composition of aggregate statements) speaks."""

    def __init__(self, database: Database, kind: Callable[[Connection], T]) -> None:
        self._db = database
        self._kind = kind

    def __call__(self) -> AbstractAsyncContextManager[T]:
        return self._scope()

    @asynccontextmanager
    async def _scope(self) -> AsyncIterator[T]:
        async with self._db.transaction() as conn:
            tx = self._kind(conn)
            yield tx
            await tx.before_commit()
