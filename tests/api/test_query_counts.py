"""Reading achievements costs a constant number of SQL statements (docs/concepts.md, progress).

Statements are counted at the database driver, not guessed: on SQLite a trace callback on both
connections the app holds (the raw one of the SQL adapter and Tortoise's own); on PostgreSQL an
asyncpg query logger on every connection of the pool, which the SQL adapter and Tortoise share.
Every statement of the request is counted, the authentication lookups included.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import pytest_asyncio
from conftest import BACKEND, Api, new_tenant
from tortoise import Tortoise

from app.infra.cache import TtlCache

CATALOGUE = """
{ achievements { ... on MetricAchievement { key completions rarity }
                 ... on ApiAchievement { key completions rarity }
                 ... on StreakAchievement { key completions rarity }
                 ... on CompositeAchievement { key completions rarity } } }
"""

USER = """
query($id: String!) { user(id: $id) { id achievements(includeIncomplete: true) {
  achievedAt progress { current target percent }
  achievement {
    ... on MetricAchievement { key name completions rarity metric { key } }
    ... on ApiAchievement { key name completions rarity }
    ... on StreakAchievement { key name completions rarity }
    ... on CompositeAchievement { key name completions rarity prerequisites { __typename } }
  } } } }
"""


COUNTING: ContextVar[bool] = ContextVar("counting", default=False)
"""Set around the counted request only: tasks it spawns inherit it, background workers do not."""


@asynccontextmanager
async def _sqlite_trace(app: Any, statements: list[str]) -> AsyncIterator[None]:
    """The raw connection's trace callback, and Tortoise's statement methods wrapped.

    aiosqlite runs Tortoise's sqlite3 connection in its own thread, where the request's context
    is not visible, so Tortoise is counted where the request calls it instead.
    """
    from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

    def trace(sql: str) -> None:
        if COUNTING.get():
            statements.append(sql)

    originals: list[tuple[type, str, Any]] = []
    for cls in (SqliteClient, SqliteTransactionWrapper):
        for name in (
            "execute_insert",
            "execute_many",
            "execute_query",
            "execute_query_dict",
            "execute_script",
        ):
            if name in vars(cls):
                originals.append((cls, name, vars(cls)[name]))
                setattr(cls, name, _counted(vars(cls)[name], statements))
    raw = app.state.services.reads._db._raw
    raw.set_trace_callback(trace)
    try:
        yield
    finally:
        raw.set_trace_callback(None)
        for cls, name, original in originals:
            setattr(cls, name, original)


def _counted(method: Callable[..., Awaitable[Any]], statements: list[str]) -> Any:
    async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if COUNTING.get():
            statements.append(query)
        return await method(self, query, *args, **kwargs)

    return counted


@asynccontextmanager
async def _postgres_trace(statements: list[str]) -> AsyncIterator[None]:
    """asyncpg's query logger on every pool connection: the SQL adapter and Tortoise share them."""
    pool = Tortoise.get_connection("default")._pool  # type: ignore[attr-defined]

    def log(record: Any) -> None:
        if COUNTING.get():  # asyncpg calls loggers with call_soon, in the querying task's context
            statements.append(record.query)

    for holder in pool._holders:
        if holder._con is not None:
            holder._con.add_query_logger(log)
    previous_init: Callable[[Any], Any] | None = pool._init

    async def init(con: Any) -> None:
        """Connections the pool opens while we count are counted too."""
        con.add_query_logger(log)
        if previous_init is not None:
            await previous_init(con)

    pool._init = init
    try:
        yield
    finally:
        pool._init = previous_init
        for holder in pool._holders:
            if holder._con is not None:
                holder._con.remove_query_logger(log)


async def _count(app: Any, tenant: Api, query: str, variables: dict[str, Any], **kw: Any) -> int:
    """Statements one request issues, after an uncounted run that fills the credential caches.

    The caches are emptied first and kept for longer meanwhile, so that an entry expiring
    between the two runs cannot add a key lookup to one count and not to the other.
    """
    credentials = app.state.services.credentials
    kept = credentials._verified, credentials._secrets
    credentials._verified, credentials._secrets = TtlCache(600.0), TtlCache(600.0)
    try:
        await tenant.data(query, variables, **kw)
        return await _count_warm(app, tenant, query, variables, **kw)
    finally:
        credentials._verified, credentials._secrets = kept


async def _count_warm(
    app: Any, tenant: Api, query: str, variables: dict[str, Any], **kw: Any
) -> int:
    statements: list[str] = []
    hook = _sqlite_trace(app, statements) if BACKEND == "sqlite" else _postgres_trace(statements)
    async with hook:
        mark = COUNTING.set(True)
        try:
            await tenant.data(query, variables, **kw)
        finally:
            COUNTING.reset(mark)
        for _ in range(3):
            await asyncio.sleep(0)  # asyncpg hands records to loggers with call_soon
    assert statements, "the hook saw no statement at all: it does not count"
    return len(statements)


CREATE = (
    'c{i}: createAchievement(input: {{key: "a{i}", name: "A {i}", hidden: {hidden}, '
    "trigger: {trigger}}}) {{ __typename }}"
)
ACTIVATE = 's{i}: setAchievementStatus(key: "a{i}", status: ACTIVE) {{ __typename }}'


def _trigger(i: int) -> str:
    """A mix of every trigger kind; composites need two earlier achievements."""
    kind = i % 4
    if kind == 0 or i < 2:
        return f'{{metric: {{metricKey: "lessons", value: {i % 7 + 1}}}}}'
    if kind == 1:
        return "{api: true}"
    if kind == 2:
        return f'{{composite: {{prerequisiteKeys: ["a{i - 1}", "a{i - 2}"]}}}}'
    return f"{{streak: {{length: {i % 5 + 2}}}}}"


async def _seed(tenant: Api, count: int) -> None:
    await tenant.metric("lessons")
    await tenant.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    for start in range(0, count, 10):
        batch = range(start, min(count, start + 10))
        creates = " ".join(
            CREATE.format(i=i, hidden="true" if i % 3 == 0 else "false", trigger=_trigger(i))
            for i in batch
        )
        await tenant.data(f"mutation {{ {creates} }}")
        await tenant.data(f"mutation {{ {' '.join(ACTIVATE.format(i=i) for i in batch)} }}")
    for user in ("u1", "u2", "u3"):
        body = await tenant.track(user, 3)
        assert "errors" not in body, body
    await tenant.data(
        'mutation { completeAchievement(input: {achievementKey: "a5", user: {id: "u1"}}) '
        "{ newlyCompleted } }"
    )


@pytest_asyncio.fixture(scope="module")
async def small(http: Any) -> Api:
    tenant = await new_tenant(http, "q10")
    await _seed(tenant, 10)
    return tenant


@pytest_asyncio.fixture(scope="module")
async def large(http: Any) -> Api:
    tenant = await new_tenant(http, "q500")
    await _seed(tenant, 500)
    return tenant


async def _token(tenant: Api, user: str) -> str:
    data = await tenant.data(
        "mutation($u: String!) { createUserToken(userId: $u) { token } }", {"u": user}
    )
    return str(data["createUserToken"]["token"])


async def test_catalogue_costs_the_same_for_10_and_500_achievements(
    app: Any, small: Api, large: Api
) -> None:
    listed = await large.data(CATALOGUE)
    assert len(listed["achievements"]) == 500
    assert all(a["rarity"] >= 0 for a in listed["achievements"])
    assert await _count(app, small, CATALOGUE, {}) == await _count(app, large, CATALOGUE, {})


async def test_catalogue_for_a_user_token_costs_the_same(app: Any, small: Api, large: Api) -> None:
    small_token, large_token = await _token(small, "u1"), await _token(large, "u1")
    assert await _count(app, small, CATALOGUE, {}, token=small_token) == await _count(
        app, large, CATALOGUE, {}, token=large_token
    )


async def test_user_achievements_cost_the_same_for_10_and_500(
    app: Any, small: Api, large: Api
) -> None:
    listed = await large.data(USER, {"id": "u1"})
    rows = listed["user"]["achievements"]
    assert len(rows) == 500
    assert any(r["achievedAt"] for r in rows) and any(r["achievedAt"] is None for r in rows)
    for variables in ({"id": "u1"}, {"id": "u2"}):
        assert await _count(app, small, USER, variables) == await _count(
            app, large, USER, variables
        )


async def test_user_achievements_through_a_token_cost_the_same(
    app: Any, small: Api, large: Api
) -> None:
    small_token, large_token = await _token(small, "u1"), await _token(large, "u1")
    variables = {"id": "u1"}
    assert await _count(app, small, USER, variables, token=small_token) == await _count(
        app, large, USER, variables, token=large_token
    )


async def test_the_hook_sees_queries_that_grow(app: Any, small: Api) -> None:
    """The counter can fail: `metrics` is not batched, so three aliases cost more than one."""
    tenant = small
    one = await _count(app, tenant, "{ m0: metrics { key } }", {})
    three = await _count(
        app, tenant, "{ m0: metrics { key } m1: metrics { key } m2: metrics { key } }", {}
    )
    assert three > one
