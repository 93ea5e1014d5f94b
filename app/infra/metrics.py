"""Prometheus metrics of one process, in a registry of its own (served at `/metrics`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.subscriptions_open = Gauge(
            "laurel_subscriptions_open",
            "GraphQL subscriptions currently receiving events",
            registry=self.registry,
        )
        self.redis_up = Gauge(
            "laurel_redis_up",
            "1 while Redis answers this process (or is not configured), 0 while it falls back",
            ["use"],
            registry=self.registry,
        )
        self.subscriptions_started = Counter(
            "laurel_subscriptions_started",
            "GraphQL subscriptions that began receiving events",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
