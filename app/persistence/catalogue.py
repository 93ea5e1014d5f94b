"""Achievement rows as domain values, with their prerequisites: the reads every store shares."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from app.domain import model
from app.persistence.codec import ACHIEVEMENT_COLUMNS, achievement_from_row, placeholders
from app.persistence.database import Connection


async def with_prerequisites(
    conn: Connection, rows: Sequence[dict[str, Any]]
) -> list[model.Achievement]:
    """One query for the prerequisites of every composite among `rows`, none when there is none."""
    composite_ids = [
        r["id"] for r in rows if r["trigger_kind"] == model.TriggerKind.COMPOSITE.value
    ]
    links: dict[int, list[int]] = defaultdict(list)
    if composite_ids:
        for link in await conn.fetch(
            "SELECT composite_id, prerequisite_id FROM achievement_prerequisite "
            f"WHERE composite_id IN ({placeholders(composite_ids, 1)}) ORDER BY id",
            *composite_ids,
        ):
            links[link["composite_id"]].append(link["prerequisite_id"])
    return [achievement_from_row(r, tuple(links.get(r["id"], ()))) for r in rows]


async def achievements_where(
    conn: Connection, condition: str, *args: Any
) -> list[model.Achievement]:
    """Achievements matching an SQL condition on the `achievement` table (parameters from $1)."""
    rows = await conn.fetch(
        f"SELECT {ACHIEVEMENT_COLUMNS} FROM achievement WHERE {condition}", *args
    )
    return await with_prerequisites(conn, rows)


async def achievements_by_ids(
    conn: Connection, tenant_id: int, ids: Sequence[int]
) -> list[model.Achievement]:
    if not ids:
        return []
    return await achievements_where(
        conn, f"tenant_id = $1 AND id IN ({placeholders(ids)})", tenant_id, *ids
    )


class CatalogueRows:
    """The `CatalogueReads` port, inside a transaction."""

    _conn: Connection

    async def achievement_by_key(self, tenant_id: int, key: str) -> model.Achievement | None:
        found = await achievements_where(self._conn, "tenant_id = $1 AND key = $2", tenant_id, key)
        return found[0] if found else None

    async def achievements_by_ids(
        self, tenant_id: int, ids: Sequence[int]
    ) -> list[model.Achievement]:
        return await achievements_by_ids(self._conn, tenant_id, ids)
