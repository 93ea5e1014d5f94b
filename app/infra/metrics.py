"""Prometheus metrics, served at `/metrics`.

One process: the metrics live in a registry of the app's own. Several processes (`laurel serve
--workers N` sets PROMETHEUS_MULTIPROC_DIR): each writes its values to files there, and
`/metrics`, whichever process answers, adds them up (prometheus-client's multiprocess mode);
gauges say how: counts of live things are summed over live processes, Redis health is the worst
process's, the outbox's figures (the same database for all) the largest.

Labels are bounded: operations are named by the root fields they ran (the schema's, not the
client's `operationName`), statuses and kinds are few.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = MULTIPROCESS_DIRECTORY in os.environ
        # In multiprocess mode values go to files whatever the registry: none is needed.
        self.registry: CollectorRegistry | None = None if self.multiprocess else CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "laurel_requests",
            "HTTP requests answered, by the root fields they ran and their status",
            ["operation", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "laurel_request_duration_seconds",
            "Time to answer an HTTP request, by the root fields it ran",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.events = Counter(
            "laurel_events_tracked", "Metric events stored (replays not counted)", registry=registry
        )
        self.events_per_commit = Histogram(
            "laurel_events_per_commit",
            "Metric events stored by one transaction: above 1 when events arrive together "
            "(group commit) or come in a trackEvents batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 100),
            registry=registry,
        )
        self.completions = Counter(
            "laurel_completions",
            "Achievements completed and reported by an operation (backdating not counted)",
            registry=registry,
        )
        self.graphql_lanes = Counter(
            "laurel_graphql_requests",
            "GraphQL requests over HTTP by the path that answered them: express (a document "
            "already validated, straight to the executor) or standard (Strawberry's view)",
            ["lane"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "laurel_rate_limited",
            "Requests and WebSocket operations refused by a rate limit",
            ["caller"],
            registry=registry,
        )
        self.subscriptions_open = Gauge(
            "laurel_subscriptions_open",
            "GraphQL subscriptions currently receiving events",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.subscriptions_started = Counter(
            "laurel_subscriptions_started",
            "GraphQL subscriptions that began receiving events",
            registry=registry,
        )
        self.redis_up = Gauge(
            "laurel_redis_up",
            "1 while Redis answers (or is not configured), 0 while Laurel falls back without it",
            ["use"],
            registry=registry,
            multiprocess_mode="livemin",
        )
        self.outbox_backlog = Gauge(
            "laurel_outbox_backlog",
            "Committed events not yet handed on to subscribers",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.outbox_lag = Gauge(
            "laurel_outbox_lag_seconds",
            "Age of the oldest committed event not yet handed on (0 when none)",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.webhook_attempts = Counter(
            "laurel_webhook_attempts",
            "Webhook requests made, by result: success (2xx), gone (410), refused (any other "
            "status) or no_response (timeout, connection, TLS, blocked address)",
            ["result"],
            registry=registry,
        )
        self.webhook_pending = Gauge(
            "laurel_webhook_pending",
            "Webhook deliveries waiting for an attempt, on enabled endpoints",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.webhook_overdue = Gauge(
            "laurel_webhook_overdue_seconds",
            "How late the most overdue pending delivery is (0 when none is): growth means "
            "deliveries are not keeping up",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.pool_connections = Gauge(
            "laurel_database_connections",
            "PostgreSQL connections of the pool, open and in use",
            ["state"],
            registry=registry,
            multiprocess_mode="livesum",
        )

    def count_webhook_attempt(self, status: int | None) -> None:
        if status is None:
            result = "no_response"
        elif 200 <= status < 300:
            result = "success"
        else:
            result = "gone" if status == 410 else "refused"
        self.webhook_attempts.labels(result=result).inc()

    def exposition(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        gathered = CollectorRegistry()
        multiprocess.MultiProcessCollector(gathered)  # type: ignore[no-untyped-call]
        return generate_latest(gathered)
