"""Badge images in SQL: one row per (tenant, bytes), served by id."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.badges import Badge
from app.persistence.database import Database, Row

COLUMNS = "id, content_type, extension, size, width, height, sha256"


def _badge(row: Row) -> Badge:
    return Badge(
        id=row["id"],
        content_type=row["content_type"],
        extension=row["extension"],
        size=int(row["size"]),
        width=int(row["width"]),
        height=int(row["height"]),
        sha256=row["sha256"],
    )


class SqlBadgeStore:
    """The `BadgeStore` port."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def keep(self, tenant_id: int, badge: Badge, data: bytes) -> Badge:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO badge_image (id, tenant_id, sha256, content_type, extension, size, "
                "width, height, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                "ON CONFLICT (tenant_id, sha256) DO NOTHING",
                badge.id,
                tenant_id,
                badge.sha256,
                badge.content_type,
                badge.extension,
                badge.size,
                badge.width,
                badge.height,
                data,
                datetime.now(UTC),
            )
            row = await conn.fetchrow(
                f"SELECT {COLUMNS} FROM badge_image WHERE tenant_id = $1 AND sha256 = $2",
                tenant_id,
                badge.sha256,
            )
        assert row is not None
        return _badge(row)

    async def image(self, badge_id: str) -> tuple[Badge, bytes] | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {COLUMNS}, data FROM badge_image WHERE id = $1", badge_id
            )
        return (_badge(row), bytes(row["data"])) if row else None
