"""Wiring: settings, database, services and the Starlette app with its lifespan."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from app.api.context import Services
from app.api.limits import Limits, configure_limits
from app.api.schema import schema
from app.api.view import LaurelGraphQL
from app.domain.engine import EventEngine
from app.infra.auth import Credentials
from app.infra.backdating import BackdateWorker
from app.infra.background import BackgroundTask
from app.infra.bootstrap import ensure_admin_key
from app.infra.checkpoint import WalCheckpointer
from app.infra.gc_tuning import settle_after_startup
from app.infra.housekeeping import Housekeeping
from app.infra.logging import configure_logging
from app.infra.pubsub import create_broker
from app.infra.ratelimit import Policy, build_rate_limiter
from app.infra.relay import OutboxRelay
from app.infra.settings import Settings, get_settings
from app.persistence.backdating import SqlBackdateStore
from app.persistence.config import sqlite_file, tortoise_config
from app.persistence.configuration import TortoiseConfigStore
from app.persistence.database import SqliteDatabase, open_database
from app.persistence.events import SqlTransaction, Transactions
from app.persistence.migrate import migrate, startup_lock
from app.persistence.outbox import OutboxStore
from app.persistence.reads import SqlReadStore
from app.persistence.tenants import TortoiseKeyStore

log = logging.getLogger("laurel")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.is_sqlite:
            Path(sqlite_file(settings.database_url)).parent.mkdir(parents=True, exist_ok=True)
        config = tortoise_config(settings.database_url, pool_size=settings.database_pool_size)
        async with RegisterTortoise(app, config=config):
            keys = TortoiseKeyStore()
            async with startup_lock(settings.database_url):
                if settings.auto_migrate:
                    await migrate(settings.database_url)
                new_key = await ensure_admin_key(keys, settings.bootstrap_admin_key)
            if new_key is not None:
                announce_admin_key(new_key)
            database = open_database(settings.database_url)
            broker = create_broker(settings.redis_url)
            await broker.start()
            relay = OutboxRelay(OutboxStore(database), broker)
            backdating = BackdateWorker(Transactions(database, SqlBackdateStore))
            config_store = TortoiseConfigStore()
            engine = EventEngine(
                Transactions(database, SqlTransaction), config_store, on_commit=relay.wake
            )
            app.state.relay = relay
            app.state.services = Services(
                config=config_store,
                credentials=Credentials(keys),
                engine=engine,
                reads=SqlReadStore(database),
                broker=broker,
                wake_backdating=backdating.wake,
                introspection_for_all=settings.development,
            )
            settle_after_startup()
            workers: list[BackgroundTask] = [relay, backdating, Housekeeping(database)]
            if isinstance(database, SqliteDatabase):
                workers.append(WalCheckpointer(database))
            try:
                async with _running(*workers):
                    yield
            finally:
                await broker.close()
                await limiter.close()
                await database.close()

    limiter = build_rate_limiter(settings.redis_url)
    policies = {
        "key": Policy(settings.rate_limit_per_second, settings.rate_limit_burst),
        "token": Policy(settings.token_rate_limit_per_second, settings.token_rate_limit_burst),
    }
    configure_limits(
        Limits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_query_cost,
            list_factor=settings.list_cost_factor,
            max_selections=settings.max_selections,
        )
    )
    view = LaurelGraphQL(
        schema,
        rate_limiter=limiter,
        rate_policies=policies,
        max_body_bytes=settings.max_body_bytes,
    )
    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


@asynccontextmanager
async def _running(*workers: BackgroundTask) -> AsyncIterator[None]:
    """Background workers run for the app's lifetime and stop, newest first, on shutdown."""
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in reversed(workers):
            await worker.stop()


async def healthz(request: Request) -> JSONResponse:
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:
        log.exception("health check: the database does not answer")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def announce_admin_key(key: str) -> None:
    """The key is shown this once, on stdout, alone on its line; only its hash is kept."""
    sys.stdout.write(f"Laurel created an ADMIN key for the default tenant (shown once):\n{key}\n")
    sys.stdout.flush()


app = create_app()
