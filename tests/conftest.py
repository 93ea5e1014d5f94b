"""Test harness: one backend per pytest process (LAUREL_TEST_BACKEND=sqlite|postgres).

Tortoise cannot switch SQL dialects inside one process, so `make test` runs the suite twice.
Each test gets a fresh tenant instead of a fresh database: that is fast, and it exercises tenant
isolation all the time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

BACKEND = os.environ.get("LAUREL_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get("LAUREL_TEST_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parent.parent
# A Redis database per backend, so that the two suites may run at once.
REDIS_URL = f"redis://127.0.0.1:6379/{1 if BACKEND == 'sqlite' else 2}"

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="runs on PostgreSQL")

# Background work on its quickest settings, so that tests wait for what they wait for, not for
# a poll interval; the in-process app and every live server use them. They share one database
# without Redis, so an instance that passes on another's outbox rows hides them from that one's
# subscribers: none takes rows over in a test's time, except test_subscriptions' `rescuer`, after
# 0.5 s, while the one test that needs it runs.
FAST_WORKERS = {
    "LAUREL_OUTBOX_POLL_S": "0.05",
    "LAUREL_OUTBOX_STALE_S": "600",
    "LAUREL_BACKDATE_POLL_S": "0.05",
    "LAUREL_BACKDATE_SETTLE_S": "0.05",
    "LAUREL_STREAK_CLOCK_S": "0.05",
    "LAUREL_JOB_INTERVAL_S": "0.05",
    "LAUREL_LEADERBOARD_REBALANCE_S": "0.1",
    "LAUREL_CREDENTIAL_RECHECK_S": "0.1",
    "LAUREL_METRICS_INTERVAL_S": "0.1",
    # Webhooks go to receivers on 127.0.0.1, over plain http, retried within a second.
    "LAUREL_WEBHOOK_ALLOW_PRIVATE": "1",
    "LAUREL_WEBHOOK_ALLOW_HTTP": "1",
    "LAUREL_WEBHOOK_RETRY_SCHEDULE": "0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1",
    "LAUREL_WEBHOOK_RETRY_JITTER": "0",
    "LAUREL_WEBHOOK_TIMEOUT_S": "5",
    "LAUREL_WEBHOOK_POLL_S": "0.05",
    "LAUREL_SECRET_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
}


class TestClock:
    """The in-process app's clock: real time, shifted by what a test moves it."""

    __test__ = False

    def __init__(self) -> None:
        self.offset = timedelta()
        self.stopped_at: datetime | None = None

    def __call__(self) -> datetime:
        return (self.stopped_at or datetime.now(UTC)) + self.offset

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """Time stands still where it is, for a test about an exact instant (a token's expiry)
        that real time passing between two requests would blur."""
        self.stopped_at = datetime.now(UTC)
        try:
            yield
        finally:
            self.stopped_at = None

    @contextmanager
    def moved(self, by: timedelta) -> Iterator[None]:
        self.offset += by
        try:
            yield
        finally:
            self.offset -= by

    def at_midday(self) -> AbstractContextManager[None]:
        """Moves to noon UTC of the current day, for a test whose day count must not depend on
        the hour it runs at: a move of 5 days and 1 hour started at 23:30 would cross 6 midnights."""
        now = self()
        return self.moved(now.replace(hour=12, minute=0, second=0, microsecond=0) - now)


def healthy_within(url: str, seconds: float) -> bool:
    """Whether a starting server answers /healthz with 200 before `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.05)
    return False


async def eventually(
    condition: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Waits for a condition that background work makes true, checking it every few ms."""
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {within} s"
        await asyncio.sleep(0.01)


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG_ADMIN_URL}/postgres", "-q", "-c", sql], check=True, capture_output=True
    )


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """An empty database of this run's backend, dropped afterwards."""
    if BACKEND == "postgres":
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _psql(f"CREATE DATABASE {name}")
        try:
            yield f"{PG_ADMIN_URL}/{name}"
        finally:
            _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite://{folder}/{prefix}.sqlite3"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with throwaway_database("laurel_test") as url:
        yield url


@pytest.fixture(scope="session")
def bootstrap_key() -> str:
    return "boot." + uuid.uuid4().hex


@pytest.fixture(scope="session")
def clock() -> TestClock:
    return TestClock()


@pytest_asyncio.fixture(scope="session")
async def app(database_url: str, bootstrap_key: str, clock: TestClock) -> AsyncIterator[Any]:
    os.environ["DATABASE_URL"] = database_url
    os.environ["LAUREL_BOOTSTRAP_ADMIN_KEY"] = bootstrap_key
    from app.infra.settings import Settings
    from app.main import create_app

    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=database_url, LAUREL_BOOTSTRAP_ADMIN_KEY=bootstrap_key, **FAST_WORKERS
    )
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(scope="session")
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://laurel") as client:
        yield client


class Api:
    """A tenant's view of the API over HTTP: `gql` returns the decoded body, `call` the response."""

    def __init__(self, client: httpx.AsyncClient, key: str, tenant_id: int) -> None:
        self.client = client
        self.key = key
        self.tenant_id = tenant_id

    async def call(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        elif key != "":
            sent["X-API-Key"] = key or self.key
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        return (await self.call(query, variables, **kw)).json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = await self.gql(query, variables, **kw)
        assert "errors" not in body, body
        return body["data"]

    async def error_code(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> str:
        body = await self.gql(query, variables, **kw)
        assert body.get("errors"), body
        return str(body["errors"][0]["extensions"]["code"])

    async def server_key(self) -> str:
        data = await self.data(
            'mutation { createApiKey(input: {name: "server", role: SERVER}) { key } }'
        )
        return str(data["createApiKey"]["key"])

    async def metric(self, key: str = "lessons") -> None:
        await self.data(
            "mutation($k: String!) { createMetric(input: {key: $k, name: $k}) { id } }", {"k": key}
        )

    async def achievement(
        self, key: str, trigger: dict[str, Any], *, active: bool = True, **extra: Any
    ) -> None:
        await self.data(
            "mutation($i: CreateAchievementInput!) { createAchievement(input: $i) { __typename } }",
            {"i": {"key": key, "name": key, "trigger": trigger, **extra}},
        )
        if active:
            await self.activate(key)

    async def activate(self, key: str, status: str = "ACTIVE") -> None:
        await self.data(
            "mutation($k: String!, $s: AchievementStatus!) { setAchievementStatus(key: $k, status: $s) { __typename } }",
            {"k": key, "s": status},
        )

    async def track(self, user: str, value: float, metric: str = "lessons", **extra: Any) -> Any:
        body = await self.gql(
            TRACK, {"i": {"metricKey": metric, "user": {"id": user}, "value": value, **extra}}
        )
        return body


TRACK = """
mutation($i: TrackEventInput!) {
  trackEvent(input: $i) {
    eventId metricKey total idempotencyKey idempotentReplayed
    achievements { achievedAt progress { current target percent }
      achievement { ... on MetricAchievement { key } ... on StreakAchievement { key }
                    ... on ApiAchievement { key } ... on CompositeAchievement { key } } }
    currentStreak { length frequency started periodStart periodEnd expires }
  }
}
"""


async def new_tenant(client: httpx.AsyncClient, name: str = "t") -> Api:
    from app.domain.model import ApiKeyRole
    from app.infra.auth import generate_key
    from app.persistence.tenants import TortoiseKeyStore

    keys = TortoiseKeyStore()
    tenant_id = await keys.create_tenant(f"{name}-{uuid.uuid4().hex[:8]}")
    new = generate_key()
    await keys.create_key(tenant_id, new.prefix, new.secret_hash, "admin", ApiKeyRole.ADMIN)
    return Api(client, new.key, tenant_id)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Any]:
    """A webhook receiver on 127.0.0.1 (tests/webhook_receiver.py), stopped after the test."""
    from webhook_receiver import Receiver

    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def api(http: httpx.AsyncClient) -> Api:
    return await new_tenant(http)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real `laurel serve` process on the test database, for concurrency over real sockets.
    With `log`, its JSON log lines (standard error) go to that file."""

    def __init__(
        self,
        database_url: str,
        bootstrap_key: str,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LAUREL_BOOTSTRAP_ADMIN_KEY": bootstrap_key,
            **FAST_WORKERS,
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("laurel")), "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w") if log else None,
        )
        if not healthy_within(self.url, 30):
            self.stop()
            raise RuntimeError("the live server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


BURST = 5
SLOW = {
    "LAUREL_RATE_LIMIT_PER_SECOND": "0.5",
    "LAUREL_RATE_LIMIT_BURST": str(BURST),
    "LAUREL_TOKEN_RATE_LIMIT_PER_SECOND": "0.5",
    "LAUREL_TOKEN_RATE_LIMIT_BURST": str(BURST),
}


@pytest.fixture(scope="module")
def limited_server(app: Any, database_url: str, bootstrap_key: str) -> Iterator[LiveServer]:
    """A live server whose rate limits a test can reach: a burst of 5, then one every 2 s."""
    server = LiveServer(database_url, bootstrap_key, env={**SLOW, "REDIS_URL": ""})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server(app: Any, database_url: str, bootstrap_key: str) -> Iterator[LiveServer]:
    server = LiveServer(database_url, bootstrap_key)
    yield server
    server.stop()


@asynccontextmanager
async def tenant_on(server: LiveServer, http: httpx.AsyncClient) -> AsyncIterator[Api]:
    """A fresh tenant whose requests go over real sockets to `server`."""
    tenant = await new_tenant(http)
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
        yield Api(client, tenant.key, tenant.tenant_id)


@pytest_asyncio.fixture
async def live_api(live_server: LiveServer, http: httpx.AsyncClient) -> AsyncIterator[Api]:
    async with tenant_on(live_server, http) as tenant:
        yield tenant


# Repository contract tests (tests/persistence): each SQL repository on this run's backend.


@pytest_asyncio.fixture
async def database(app: Any, database_url: str) -> AsyncIterator[Any]:
    """A connection of its own to the migrated test database (the session app made it)."""
    from app.persistence.database import open_database

    opened = open_database(database_url)
    yield opened
    await opened.close()


@pytest_asyncio.fixture
async def tenant(app: Any) -> int:
    from app.persistence.tenants import TortoiseKeyStore

    return await TortoiseKeyStore().create_tenant(f"repo-{uuid.uuid4().hex[:8]}")


@pytest_asyncio.fixture
async def transactions(database: Any) -> Any:
    from app.persistence.engine_transaction import SqlTransaction
    from app.persistence.transaction import Transactions

    return Transactions(database, SqlTransaction)
