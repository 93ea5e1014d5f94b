"""Definitions every event reads, cached: metrics forever, the rest briefly.

Metrics never change once created, so a cached metric is always right and a miss costs one
query. The streak setting, the points program, the leaderboards and which webhook types the
tenant's endpoints receive may change: this instance forgets them at once when they are changed
here, other instances within STREAK_SETTINGS_TTL seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.domain.leaderboard_ports import LeaderboardBoards
from app.domain.leaderboards import Leaderboard
from app.domain.model import Metric, StreakSettings
from app.domain.points import PointsProgram
from app.domain.ports import CoreDefinitions, PointsPrograms
from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.ports import Subscriptions
from app.infra.cache import TtlCache

STREAK_SETTINGS_TTL = 2.0


class CachedDefinitions:
    """The `Definitions` port over another one."""

    def __init__(
        self,
        inner: CoreDefinitions,
        programs: PointsPrograms,
        boards: LeaderboardBoards,
        subscriptions: Subscriptions,
        *,
        streak_ttl: float = STREAK_SETTINGS_TTL,
    ) -> None:
        self._inner = inner
        self._programs = programs
        self._board_store = boards
        self._subscriptions = subscriptions
        self._webhook_types: TtlCache[int, frozenset[WebhookEventType]] = TtlCache(streak_ttl)
        self._metrics: dict[tuple[int, str], Metric] = {}
        self._streaks: TtlCache[int, tuple[StreakSettings | None]] = TtlCache(streak_ttl)
        self._points: TtlCache[int, PointsProgram] = TtlCache(streak_ttl)
        self._boards: TtlCache[int, Sequence[Leaderboard]] = TtlCache(streak_ttl)

    async def metric_by_key(self, tenant_id: int, key: str) -> Metric | None:
        cached = self._metrics.get((tenant_id, key))
        if cached is not None:
            return cached
        metric = await self._inner.metric_by_key(tenant_id, key)
        if metric is not None:
            self._metrics[(tenant_id, key)] = metric
        return metric

    async def streak_settings(self, tenant_id: int) -> StreakSettings | None:
        """Held in a 1-tuple so that "no streak configured" is cached too."""
        cached = self._streaks.get(tenant_id)
        if cached is not None:
            return cached[0]
        settings = await self._inner.streak_settings(tenant_id)
        self._streaks.put(tenant_id, (settings,))
        return settings

    def forget_streak_settings(self, tenant_id: int) -> None:
        self._streaks.forget(tenant_id)

    async def points_program(self, tenant_id: int) -> PointsProgram:
        cached = self._points.get(tenant_id)
        if cached is not None:
            return cached
        program = await self._programs.points_program(tenant_id)
        self._points.put(tenant_id, program)
        return program

    def forget_points_program(self, tenant_id: int) -> None:
        self._points.forget(tenant_id)

    async def leaderboards(self, tenant_id: int) -> Sequence[Leaderboard]:
        cached = self._boards.get(tenant_id)
        if cached is not None:
            return cached
        boards = await self._board_store.leaderboards(tenant_id)
        self._boards.put(tenant_id, boards)
        return boards

    def forget_leaderboards(self, tenant_id: int) -> None:
        self._boards.forget(tenant_id)

    async def webhook_types(self, tenant_id: int) -> frozenset[WebhookEventType]:
        cached = self._webhook_types.get(tenant_id)
        if cached is not None:
            return cached
        endpoints = await self._subscriptions.subscribed([tenant_id])
        types = frozenset(t for e in endpoints for t in e.event_types)
        self._webhook_types.put(tenant_id, types)
        return types

    def forget_webhook_types(self, tenant_id: int) -> None:
        self._webhook_types.forget(tenant_id)
