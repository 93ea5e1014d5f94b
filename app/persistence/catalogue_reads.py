"""A tenant's whole catalogue for the read side, decoded once and checked against the rows on
every read.

The profile and catalogue queries read every achievement of the tenant on every request, and
decoding 200 rows (triggers, attributes, prerequisites) was a fifth of their time. The rows
change rarely (an achievement is saved by its owner, and each save sets `updated_at`) but their
completion counts change with every unlock. So a read that has the tenant's catalogue in hand
asks only for each row's id, `updated_at` and completions: when ids and instants are those it
holds, the decoded achievements are reused with today's counts; otherwise, as on a first read,
the catalogue is read whole, prerequisites folded into the same statement. Either way one
statement, and never a stale definition: the check is against the database, not a clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from app.domain import model
from app.persistence.codec import ACHIEVEMENT_COLUMNS, achievement_from_row, prefixed
from app.persistence.database import Connection

TENANTS_KEPT = 256
_PREREQUISITES = {
    # Prerequisites in the order they were given, as one text: sqlite's group_concat follows
    # the order of the subquery it reads.
    "sqlite": "(SELECT group_concat(prerequisite_id) FROM (SELECT prerequisite_id "
    "FROM achievement_prerequisite p WHERE p.composite_id = a.id ORDER BY p.id))",
    "postgres": "(SELECT string_agg(prerequisite_id::text, ',' ORDER BY p.id) "
    "FROM achievement_prerequisite p WHERE p.composite_id = a.id)",
}
_VERSIONS = "SELECT id, updated_at, completions FROM achievement WHERE tenant_id = $1 ORDER BY id"


@dataclasses.dataclass(frozen=True, slots=True)
class _Catalogue:
    versions: tuple[tuple[int, Any], ...]
    achievements: list[model.Achievement]


class CatalogueReads:
    """Each tenant's catalogue as last read (at most TENANTS_KEPT tenants)."""

    def __init__(self) -> None:
        self._kept: dict[int, _Catalogue] = {}

    async def tenant_achievements(
        self, conn: Connection, tenant_id: int
    ) -> list[model.Achievement]:
        kept = self._kept.get(tenant_id)
        if kept is not None:
            rows = await conn.fetch_values(_VERSIONS, tenant_id)
            if tuple((r[0], r[1]) for r in rows) == kept.versions:
                return self._counted(tenant_id, kept, [r[2] for r in rows])
        return self._keep(tenant_id, await conn.fetch(_whole(conn.dialect), tenant_id))

    def _counted(
        self, tenant_id: int, kept: _Catalogue, counts: Sequence[int]
    ) -> list[model.Achievement]:
        achievements = kept.achievements
        if any(n != a.completions for n, a in zip(counts, achievements, strict=True)):
            achievements = [
                a if a.completions == n else dataclasses.replace(a, completions=n)
                for n, a in zip(counts, achievements, strict=True)
            ]
            self._kept[tenant_id] = _Catalogue(kept.versions, achievements)
        return achievements

    def _keep(self, tenant_id: int, rows: Sequence[dict[str, Any]]) -> list[model.Achievement]:
        achievements = [achievement_from_row(r, _ids(r["prerequisite_ids"])) for r in rows]
        if len(self._kept) >= TENANTS_KEPT and tenant_id not in self._kept:
            self._kept.pop(next(iter(self._kept)))
        versions = tuple((r["id"], r["updated_at"]) for r in rows)
        self._kept[tenant_id] = _Catalogue(versions, achievements)
        return achievements


def _whole(dialect: str) -> str:
    return (
        f"SELECT {prefixed('a', ACHIEVEMENT_COLUMNS)}, a.updated_at, "
        f"{_PREREQUISITES[dialect]} AS prerequisite_ids "
        "FROM achievement a WHERE a.tenant_id = $1 ORDER BY a.id"
    )


def _ids(joined: str | None) -> tuple[int, ...]:
    return tuple(int(i) for i in joined.split(",")) if joined else ()
