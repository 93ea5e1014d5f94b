"""`Connection.fetch_many`: one statement per set of arguments, its rows in that order, on
either backend (pipelined on PostgreSQL), inside the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app.persistence.database import Database, IntegrityViolation


@pytest_asyncio.fixture
async def table(database: Database, tenant: int) -> AsyncIterator[str]:
    """A scratch table (k TEXT PRIMARY KEY, n INTEGER), dropped afterwards."""
    name = "t" + uuid.uuid4().hex[:8]
    async with database.transaction() as conn:
        await conn.execute(f"CREATE TABLE {name} (k TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    yield name
    async with database.transaction() as conn:
        await conn.execute(f"DROP TABLE {name}")


async def test_each_set_of_arguments_runs_in_order_and_sees_the_ones_before(
    database: Database, table: str
) -> None:
    async with database.transaction() as conn:
        rows = await conn.fetch_many(
            f"INSERT INTO {table} (k, n) VALUES ($1, 1) ON CONFLICT (k) "
            f"DO UPDATE SET n = {table}.n + 1 RETURNING k, n",
            [("a",), ("b",), ("a",), ("a",)],
        )
    assert [(r["k"], r["n"]) for r in rows] == [("a", 1), ("b", 1), ("a", 2), ("a", 3)]


async def test_a_failing_statement_fails_the_call_and_its_transaction(
    database: Database, table: str
) -> None:
    with pytest.raises(IntegrityViolation):
        async with database.transaction() as conn:
            await conn.fetch_many(
                f"INSERT INTO {table} (k, n) VALUES ($1, 1) RETURNING k", [("a",), ("a",)]
            )
    async with database.connection() as conn:
        assert await conn.fetch(f"SELECT k FROM {table}") == []
