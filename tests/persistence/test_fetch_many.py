"""`Connection.fetch_many`: one statement per set of arguments, its rows in that order, on
either backend (pipelined on PostgreSQL), inside the caller's transaction."""

from __future__ import annotations

import uuid

import pytest

from app.persistence.database import Database, IntegrityViolation


async def test_each_set_of_arguments_runs_in_order_and_sees_the_ones_before(
    database: Database, tenant: int
) -> None:
    name = "t" + uuid.uuid4().hex[:8]
    async with database.transaction() as conn:
        await conn.execute(f"CREATE TABLE {name} (k TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        rows = await conn.fetch_many(
            f"INSERT INTO {name} (k, n) VALUES ($1, 1) ON CONFLICT (k) "
            f"DO UPDATE SET n = {name}.n + 1 RETURNING k, n",
            [("a",), ("b",), ("a",), ("a",)],
        )
        await conn.execute(f"DROP TABLE {name}")
    assert [(r["k"], r["n"]) for r in rows] == [("a", 1), ("b", 1), ("a", 2), ("a", 3)]


async def test_a_failing_statement_fails_the_call_and_its_transaction(
    database: Database, tenant: int
) -> None:
    name = "t" + uuid.uuid4().hex[:8]
    async with database.transaction() as conn:
        await conn.execute(f"CREATE TABLE {name} (k TEXT PRIMARY KEY)")
    try:
        with pytest.raises(IntegrityViolation):
            async with database.transaction() as conn:
                await conn.fetch_many(
                    f"INSERT INTO {name} (k) VALUES ($1) RETURNING k", [("a",), ("a",)]
                )
        async with database.connection() as conn:
            assert await conn.fetch(f"SELECT k FROM {name}") == []
    finally:
        async with database.transaction() as conn:
            await conn.execute(f"DROP TABLE {name}")
