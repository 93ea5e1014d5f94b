"""Raw SQL on the hot path, behind one small interface for both backends.

Tortoise's per-query overhead is larger than the database's own work for an event (measured:
six ORM calls cost ~3.5 ms of CPU per event), so repositories speak SQL through this module:

* SQLite: a synchronous `sqlite3` connection. A transaction runs without ever yielding to the
  event loop (its statements take microseconds), so no other request can interleave with it, and
  it begins with `BEGIN IMMEDIATE` so that it never upgrades a read lock into "database is locked".
  Tortoise's own connection lock is held meanwhile, so ORM writes in this process never race it.
* PostgreSQL: asyncpg connections from Tortoise's pool, one real transaction each.

SQL is written once with `$1` placeholders; SQLite gets them rewritten to `?1`.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Protocol

from tortoise import Tortoise

from app.domain.errors import Contention
from app.persistence.config import sqlite_file

Row = dict[str, Any]

# SQLite's default is 1,000 pages (4 MB); this is the WAL size at which a commit on the event
# loop checkpoints after all, should the background checkpointer fall behind.
FALLBACK_CHECKPOINT_PAGES = 16_000


class Connection(Protocol):
    dialect: str

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...
    async def fetch_values(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        """Rows as the driver gives them, read by position: for hot reads of many rows, where
        a dict per row costs as much as the query."""
        ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...
    async def execute(self, sql: str, *args: Any) -> None: ...
    async def fetch_many(self, sql: str, arguments: Sequence[Sequence[Any]]) -> list[Row]:
        """One statement run for each set of arguments, in order, and all their rows in that
        order: pipelined on PostgreSQL (one round trip for them all)."""
        ...


class Database(Protocol):
    dialect: str

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...
    def connection(self) -> AbstractAsyncContextManager[Connection]: ...
    def pool_use(self) -> tuple[int, int] | None:
        """Connections open and in use, where there is a pool."""
        ...

    async def close(self) -> None: ...


@lru_cache(maxsize=512)
def _sqlite_sql(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


_last_datetime: tuple[datetime | None, str] = (None, "")


def _sqlite_datetime(value: datetime) -> str:
    """SQLite compares datetimes as text: Tortoise's form in UTC keeps that order chronological.
    The last value's text is kept: one operation writes its instant in several statements, a
    batch in every event's (datetimes are immutable, so the same object has the same text)."""
    global _last_datetime
    last = _last_datetime
    if value is last[0]:
        return last[1]
    text = (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat(sep=" ")
    _last_datetime = (value, text)
    return text


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    def _run(self, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._raw.execute(_sqlite_sql(sql), args)
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return [dict(row) for row in self._run(sql, args).fetchall()]

    async def fetch_values(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = self._run(sql, args).fetchall()
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row = self._run(sql, args).fetchone()
        return dict(row) if row is not None else None

    async def execute(self, sql: str, *args: Any) -> None:
        self._run(sql, args)

    async def fetch_many(self, sql: str, arguments: Sequence[Sequence[Any]]) -> list[Row]:
        return [dict(row) for args in arguments for row in self._run(sql, args).fetchall()]


class IntegrityViolation(Exception):
    """A unique or foreign-key constraint refused a write, on either backend."""


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        # Adapters are global to the sqlite3 module and Tortoise registers its own when its
        # SQLite backend loads; this runs after that, and gives the same text for UTC values.
        sqlite3.register_adapter(datetime, _sqlite_datetime)
        sqlite3.register_adapter(date, date.isoformat)
        raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("PRAGMA busy_timeout=5000")
        raw.execute("PRAGMA foreign_keys=ON")
        # Checkpoints copy the WAL into the database and fsync both: WalCheckpointer does that
        # on a thread. Committing on the event loop checkpoints only if it has fallen far behind.
        raw.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
        self._raw = raw
        self._conn = SqliteConnection(raw)
        self._path = path
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoint_lock = threading.Lock()
        self._closed = False
        self._tortoise: Any = None

    def _tortoise_lock(self) -> Any:
        """Tortoise's connection lock, so that no ORM write of this process runs meanwhile.
        The client is looked up once, not per transaction: each lookup goes through Tortoise's
        context variables."""
        if self._tortoise is None:
            self._tortoise = Tortoise.get_connection("default")
        return self._tortoise.acquire_connection()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteConnection]:
        async with self._tortoise_lock():
            self._raw.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._raw.execute("ROLLBACK")
                raise
            self._raw.execute("COMMIT")

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[SqliteConnection]:
        async with self._tortoise_lock():
            yield self._conn

    def pool_use(self) -> tuple[int, int] | None:
        return None

    async def checkpoint(self) -> None:
        await asyncio.to_thread(self._checkpoint)

    def _checkpoint(self) -> None:
        """PASSIVE never waits for, nor blocks, a reader or a writer. The lock keeps `close`
        from closing the connection under a checkpoint still running on its thread (cancelling
        the awaiting task does not stop the thread; closing under it crashed the process)."""
        with self._checkpoint_lock:
            if self._closed:
                return
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._checkpoint_lock:
            self._closed = True
            self._raw.close()
            if self._checkpointer is not None:
                self._checkpointer.close()


class PostgresConnection:
    dialect = "postgres"

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return [dict(r) for r in await self._guard(self._raw.fetch(sql, *args))]

    async def fetch_values(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = await self._guard(self._raw.fetch(sql, *args))
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row = await self._guard(self._raw.fetchrow(sql, *args))
        return dict(row) if row is not None else None

    async def execute(self, sql: str, *args: Any) -> None:
        await self._guard(self._raw.execute(sql, *args))

    async def fetch_many(self, sql: str, arguments: Sequence[Sequence[Any]]) -> list[Row]:
        return [dict(r) for r in await self._guard(self._raw.fetchmany(sql, arguments))]

    @staticmethod
    async def _guard(awaitable: Any) -> Any:
        import asyncpg

        try:
            return await awaitable
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityViolation(str(exc)) from exc
        except asyncpg.TransactionRollbackError as exc:
            # A deadlock or a serialization failure: PostgreSQL rolled the transaction back.
            raise Contention() from exc


class PostgresDatabase:
    dialect = "postgres"

    def pool_use(self) -> tuple[int, int] | None:
        pool = getattr(Tortoise.get_connection("default"), "_pool", None)
        if pool is None:
            return None
        size = int(pool.get_size())
        return size, size - int(pool.get_idle_size())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        client = Tortoise.get_connection("default")
        async with client.acquire_connection() as raw, raw.transaction():
            yield PostgresConnection(raw)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PostgresConnection]:
        async with Tortoise.get_connection("default").acquire_connection() as raw:
            yield PostgresConnection(raw)

    async def close(self) -> None:
        return None


def open_database(database_url: str) -> SqliteDatabase | PostgresDatabase:
    if database_url.startswith("sqlite://"):
        return SqliteDatabase(sqlite_file(database_url))
    return PostgresDatabase()
