"""Per-request DataLoaders: a request costs a constant number of queries however much it reads.

Built lazily from the context on first use, and thrown away with the request; a subscription
builds a fresh set per message, because a WebSocket context lives as long as the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cached_property
from typing import Any, TypeVar

from aiodataloader import DataLoader

from app.domain import model, queries
from app.domain.ports import ReadStore, Standing

K = TypeVar("K")
V = TypeVar("V")


def _ordered(keys: Sequence[K], found: dict[K, V]) -> list[V | None]:
    return [found.get(k) for k in keys]


class Loaders:
    def __init__(self, reads: ReadStore, tenant_id: int | None) -> None:
        self._reads = reads
        self._tenant_id = tenant_id or 0
        self._catalogue: list[model.Achievement] = []
        self._catalogue_by_id: dict[int, model.Achievement] | None = None

    @cached_property
    def achievement_by_id(self) -> DataLoader[int, model.Achievement | None]:
        """The tenant's catalogue, once read, holds every achievement a prerequisite or a
        trigger can name: indexed on the first lookup, not primed per achievement on every
        catalogue read (a future each, for reads that mostly never look one up)."""

        async def load(ids: Sequence[int]) -> list[model.Achievement | None]:
            if self._catalogue_by_id is None:
                self._catalogue_by_id = {a.id: a for a in self._catalogue}
            known = self._catalogue_by_id
            missing = [i for i in ids if i not in known]
            found = await self._reads.achievements_by_ids(self._tenant_id, missing)
            return _ordered(ids, {**known, **{a.id: a for a in found}})

        return DataLoader(load)

    @cached_property
    def metric_by_id(self) -> DataLoader[int, model.Metric | None]:
        async def load(ids: Sequence[int]) -> list[model.Metric | None]:
            found = await self._reads.metrics_by_ids(self._tenant_id, ids)
            return _ordered(ids, {m.id: m for m in found})

        return DataLoader(load)

    @cached_property
    def tenant_metrics(self) -> DataLoader[int, list[model.Metric]]:
        async def load(tenant_ids: Sequence[int]) -> list[list[model.Metric]]:
            return [await self._reads.tenant_metrics(t) for t in tenant_ids]

        return DataLoader(load)

    @cached_property
    def completions_by_day(self) -> DataLoader[tuple[int, date], dict[date, int]]:
        """Keyed by (achievement id, first day): one query per first day asked for."""

        async def load(keys: Sequence[tuple[int, date]]) -> list[dict[date, int]]:
            found: dict[tuple[int, date], dict[date, int]] = {}
            for since in {s for _, s in keys}:
                ids = [a for a, s in keys if s == since]
                counts = await self._reads.completions_by_day(self._tenant_id, ids, since)
                found.update({(a, since): counts.get(a, {}) for a in ids})
            return [found[k] for k in keys]

        return DataLoader(load)

    @cached_property
    def user_count(self) -> DataLoader[int, int]:
        async def load(tenant_ids: Sequence[int]) -> list[int]:
            counts = await self._reads.user_counts(tenant_ids)
            return [counts.get(t, 0) for t in tenant_ids]

        return DataLoader(load)

    @cached_property
    def standing_by_user_id(self) -> DataLoader[str, Standing | None]:
        async def load(user_ids: Sequence[str]) -> list[Standing | None]:
            found = await self._reads.standings(self._tenant_id, user_ids)
            return _ordered(user_ids, found)

        return DataLoader(load)

    @cached_property
    def tenant_achievements(self) -> DataLoader[int, list[model.Achievement]]:
        async def load(tenant_ids: Sequence[int]) -> list[list[model.Achievement]]:
            catalogues = [await self._reads.tenant_achievements(t) for t in tenant_ids]
            for tenant_id, catalogue in zip(tenant_ids, catalogues, strict=True):
                if tenant_id == self._tenant_id:
                    self._catalogue, self._catalogue_by_id = catalogue, None
            return catalogues

        return DataLoader(load)

    @cached_property
    def streak_settings(self) -> DataLoader[int, model.StreakSettings | None]:
        async def load(tenant_ids: Sequence[int]) -> list[model.StreakSettings | None]:
            return [await self._reads.streak_settings(t) for t in tenant_ids]

        return DataLoader(load)

    async def completions_seen_by(self, caller: model.Caller) -> frozenset[int]:
        """What masking depends on: a user token's own completions (keys see everything)."""
        standing = None
        if not caller.is_key and caller.user_id is not None:
            standing = await self.standing_by_user_id.load(caller.user_id)
        return queries.seen_completions(caller, standing)

    def prime_standing(self, standing: Standing) -> Any:
        return self.standing_by_user_id.clear(standing.user.id).prime(standing.user.id, standing)
