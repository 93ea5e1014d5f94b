"""Wiring: settings, database, services, workers and the Starlette app with its lifespan."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from app import wiring
from app.api import admin, graphiql, subscriptions, trophy, wall
from app.api.badges import schema as badge_routes
from app.api.context import Services
from app.api.errors import http_error
from app.api.limits import Limits
from app.api.middleware import Gate, RatePolicies, TransportMiddleware
from app.api.schema import build_schema
from app.api.sockets import OpenSockets
from app.api.view import LaurelGraphQL
from app.domain.engine import Committed, EventEngine
from app.infra.auth import Credentials
from app.infra.definitions import STREAK_SETTINGS_TTL, CachedDefinitions
from app.infra.gc_tuning import settle_after_startup
from app.infra.images import PillowHeaders
from app.infra.logging import configure_logging
from app.infra.metrics import CONTENT_TYPE_LATEST, Metrics
from app.infra.pubsub import SubscriptionFeed, create_broker
from app.infra.ratelimit import Policy, build_rate_limiter
from app.infra.redis_guard import RedisGuard
from app.infra.settings import Settings, get_settings
from app.persistence.backdating import BackdateRows
from app.persistence.badges import SqlBadgeStore
from app.persistence.boost_clock import BoostClockRows
from app.persistence.config import sqlite_file, tortoise_config
from app.persistence.configuration import TortoiseConfigStore
from app.persistence.database import SqliteDatabase, open_database
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.idempotency import SqlRetention
from app.persistence.leaderboard_backfill import BackfillRows, SqlBackfillStore
from app.persistence.leaderboard_clock import LeaderboardClockRows, SqlLeaderboardClockStore
from app.persistence.leaderboard_config import SqlLeaderboardStore
from app.persistence.leaderboard_reads import SqlLeaderboardReads
from app.persistence.leaderboard_rebalance import SqlLeaderboardUpkeep
from app.persistence.leaderboard_watch import SqlStandingsWatchStore, StandingsRows
from app.persistence.migrate import migrate, startup_lock
from app.persistence.outbox import SqlOutboxStore
from app.persistence.points_config import SqlPointsStore
from app.persistence.points_reads import SqlPointsReads
from app.persistence.reads import SqlReadStore
from app.persistence.tenants import TortoiseKeyStore
from app.persistence.transaction import Transactions
from app.persistence.webhooks import SqlWebhookStore
from app.workers.backdating import BackdateWorker
from app.workers.background import BackgroundTask
from app.workers.boost_clock import BoostClock
from app.workers.bootstrap import ensure_admin_key
from app.workers.checkpoint import WalCheckpointer
from app.workers.collector import GarbageCollector
from app.workers.housekeeping import Housekeeping
from app.workers.leaderboard_clock import LeaderboardClock, StandingsFeed
from app.workers.leaderboard_upkeep import LeaderboardRebalancer
from app.workers.relay import OutboxRelay
from app.workers.sampler import MetricsSampler
from app.workers.streak_clock import StreakClock

log = logging.getLogger("laurel")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    """`clock` is what the rules take as now (tests move it; nothing public does)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    keys = TortoiseKeyStore()
    credentials = Credentials(keys, clock=clock)
    metrics = Metrics()
    limiter = build_rate_limiter(
        settings.redis_url,
        namespace=settings.redis_namespace,
        guard=redis_guard(settings, metrics, "rate limiting"),
        timeout=settings.redis_timeout_s,
    )
    gate = Gate(
        credentials,
        limiter,
        RatePolicies(
            keys=Policy(settings.rate_limit_per_second, settings.rate_limit_burst),
            tokens=Policy(settings.token_rate_limit_per_second, settings.token_rate_limit_burst),
        ),
        metrics,
    )
    schema = build_schema(
        Limits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_query_cost,
            list_factor=settings.list_cost_factor,
            max_selections=settings.max_selections,
        ),
        query_plans=settings.query_plans,
    )
    view = LaurelGraphQL(
        schema,
        max_body_bytes=settings.max_body_bytes,
        allowed_origins=settings.allowed_origins,
        express=settings.express_lane,
    )
    trophy_facade = trophy.facade()

    async def serve_metrics(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.is_sqlite:
            Path(sqlite_file(settings.database_url)).parent.mkdir(parents=True, exist_ok=True)
        config = tortoise_config(settings.database_url, pool_size=settings.database_pool_size)
        async with RegisterTortoise(app, config=config):
            async with startup_lock(settings.database_url):
                if settings.auto_migrate:
                    await migrate(settings.database_url)
                new_key = await ensure_admin_key(keys, settings.bootstrap_admin_key)
            if new_key is not None:
                announce_admin_key(new_key, settings.admin_key_file)
            database = open_database(settings.database_url)
            broker = create_broker(
                settings.redis_url,
                namespace=settings.redis_namespace,
                guard=redis_guard(settings, metrics, "event fan-out"),
                timeout=settings.redis_timeout_s,
            )
            await broker.start()
            outbox = SqlOutboxStore(database)
            webhook_store = SqlWebhookStore(database)
            webhooks = await wiring.webhooks(settings, webhook_store, metrics, clock)
            leaderboard_clock = LeaderboardClock(
                (SqlLeaderboardClockStore(database), Transactions(database, LeaderboardClockRows)),
                (SqlStandingsWatchStore(database), Transactions(database, StandingsRows)),
                (SqlBackfillStore(database), Transactions(database, BackfillRows)),
                interval=settings.job_interval_s,
                quiet=timedelta(seconds=settings.leaderboard_changed_interval_s),
                # Past every event transaction begun before the board went live, on any instance.
                settle=timedelta(seconds=STREAK_SETTINGS_TTL + settings.backdate_settle_s),
                on_announced=lambda: relay.wake(),  # the relay is made next, fed by the clock
                clock=clock,
            )
            standings_feed = StandingsFeed(
                SqlStandingsWatchStore(database),
                webhook_store,
                on_marked=leaderboard_clock.wake,
                clock=clock,
            )
            relay = OutboxRelay(
                outbox,
                [SubscriptionFeed(broker, subscriptions.SERVED), webhooks.fanout, standings_feed],
                clock=clock,
                poll_interval=settings.outbox_poll_s,
                stale_after=timedelta(seconds=settings.outbox_stale_s),
                lease=timedelta(seconds=settings.outbox_lease_s),
                gather=settings.outbox_gather_s,
            )
            backdating = BackdateWorker(
                Transactions(database, BackdateRows),
                poll_interval=settings.backdate_poll_s,
                settle=timedelta(seconds=settings.backdate_settle_s),
            )
            streak_clock = StreakClock(
                Transactions(database, SqlTransaction),
                interval=settings.streak_clock_s,
                on_announced=relay.wake,
                clock=clock,
            )
            boost_clock = BoostClock(
                Transactions(database, BoostClockRows),
                interval=settings.job_interval_s,
                on_announced=relay.wake,
                clock=clock,
            )
            # `laurel serve` ends them before uvicorn drops its connections (with 1012).
            sockets = OpenSockets(settings.max_sockets_per_credential)
            config_store = TortoiseConfigStore()
            points_store = SqlPointsStore(database)
            leaderboard_store = SqlLeaderboardStore(database)
            definitions = CachedDefinitions(
                config_store, points_store, leaderboard_store, webhook_store
            )
            engine = EventEngine(
                Transactions(database, SqlTransaction),
                definitions,
                clock=clock,
                on_commit=lambda committed: observe(committed, relay, metrics),
                group_commit=settings.group_commit,
                parallel_groups=parallel_groups(settings, database.dialect),
            )
            app.state.relay = relay
            app.state.before_shutdown = sockets.drain
            app.state.services = trophy_facade.state.services = Services(
                config=config_store,
                definitions=definitions,
                credentials=credentials,
                gate=gate,
                engine=engine,
                reads=SqlReadStore(database),
                broker=broker,
                wake_backdating=backdating.wake,
                wake_streak_clock=streak_clock.wake,
                wake_leaderboard_clock=leaderboard_clock.wake,
                webhooks=webhooks.admin,
                wake_webhooks=webhooks.dispatcher.wake,
                points=points_store,
                points_reads=SqlPointsReads(database),
                leaderboards=leaderboard_store,
                leaderboard_reads=SqlLeaderboardReads(database),
                badges=SqlBadgeStore(database, wiring.badge_files(settings)),
                image_headers=PillowHeaders(),
                public_url=settings.public_url.rstrip("/") if settings.public_url else None,
                clock=clock,
                metrics=metrics,
                sockets=sockets,
                max_body_bytes=settings.max_body_bytes,
                credential_recheck_s=settings.credential_recheck_s,
                introspection_for_all=settings.development,
            )
            settle_after_startup()
            workers: list[BackgroundTask] = [
                relay,
                backdating,
                streak_clock,
                boost_clock,
                leaderboard_clock,
                webhooks.dispatcher,
                Housekeeping(
                    SqlRetention(database),
                    webhook_store,
                    webhook_retention=timedelta(days=settings.webhook_log_retention_days),
                    event_retention=settings.event_retention,
                    clock=clock,
                ),
                LeaderboardRebalancer(
                    SqlLeaderboardUpkeep(database), interval=settings.leaderboard_rebalance_s
                ),
                GarbageCollector(interval=settings.gc_interval_s),
                MetricsSampler(
                    outbox, webhook_store, database, metrics, interval=settings.metrics_interval_s
                ),
            ]
            if isinstance(database, SqliteDatabase):
                workers.append(WalCheckpointer(database))
            try:
                async with _running(*workers):
                    yield
            finally:
                await webhooks.sender.close()
                await broker.close()
                await limiter.close()
                await database.close()

    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/metrics", serve_metrics),
            Route("/badges/{name}", badge_routes.serve, methods=["GET"]),
            Mount(trophy.PREFIX, app=trophy_facade),
            graphiql.assets(),
            *wall.routes(),
            *admin.routes(),
        ],
        middleware=[
            # Outermost, so that preflights are answered before anything asks for credentials.
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.allowed_origins),
                allow_methods=["GET", "POST", "PUT"],
                allow_headers=[
                    "Authorization",
                    "X-API-Key",
                    "Content-Type",
                    "X-Request-Id",
                    "Idempotency-Key",
                ],
                expose_headers=["X-Request-Id", "Retry-After"],
                max_age=600,
            ),
            Middleware(TransportMiddleware, gate=gate, metrics=metrics),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )


def observe(committed: Committed, relay: OutboxRelay, metrics: Metrics) -> None:
    """After each committed operation: count it, and wake the relay for what it announced."""
    if committed.events:
        metrics.events.inc(committed.events)
        metrics.events_per_commit.observe(committed.events)
    metrics.completions.inc(committed.completions)
    if committed.announced:
        relay.wake()


def parallel_groups(settings: Settings, dialect: str) -> int:
    """A tenant's transactions of grouped events at once. SQLite has one writer, and runs its
    statements on the event loop. On PostgreSQL, as many as the pool has connections: events
    then wait to share a transaction only while the pool is busy, and those that each make
    many round trips of their own (a move on a board) still run side by side."""
    return 1 if dialect == "sqlite" else settings.database_pool_size


def redis_guard(settings: Settings, metrics: Metrics, use: str) -> RedisGuard:
    """One breaker per use of Redis, reported as `laurel_redis_up{use=...}`."""
    gauge = metrics.redis_up.labels(use=use)
    gauge.set(1)
    return RedisGuard(
        use, cooldown=settings.redis_cooldown_s, on_change=lambda up: gauge.set(1 if up else 0)
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


def announce_admin_key(key: str, key_file: str | None) -> None:
    """The key is shown this once, on stdout, alone on its line, before any other output of a
    first start; only its hash is kept. With LAUREL_ADMIN_KEY_FILE it is also written there,
    readable by its owner only."""
    if key_file:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
    where = f" (also written to {key_file})" if key_file else ""
    sys.stdout.write(
        f"Laurel created an ADMIN key for the default tenant; it is shown this once{where}:\n"
        f"{key}\n"
        "Lost it? Make another: .venv/bin/laurel apikey create --role admin NAME\n"
    )
    sys.stdout.flush()


app = create_app()
