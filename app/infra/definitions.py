"""Definitions every event reads, cached: metrics forever, the streak setting briefly.

Metrics never change once created, so a cached metric is always right and a miss costs one
query. The streak setting may change: this instance forgets it at once when it is configured
here, other instances within STREAK_SETTINGS_TTL seconds.
"""

from __future__ import annotations

from app.domain.model import Metric, StreakSettings
from app.domain.ports import Definitions
from app.infra.cache import TtlCache

STREAK_SETTINGS_TTL = 2.0


class CachedDefinitions:
    """The `Definitions` port over another one."""

    def __init__(self, inner: Definitions, *, streak_ttl: float = STREAK_SETTINGS_TTL) -> None:
        self._inner = inner
        self._metrics: dict[tuple[int, str], Metric] = {}
        self._streaks: TtlCache[int, tuple[StreakSettings | None]] = TtlCache(streak_ttl)

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
