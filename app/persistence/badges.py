"""Badge images in SQL: one row per (tenant, bytes), served by id. The bytes sit in the row, or,
with `files`, in a directory or bucket under the badge's file name (the row keeps the rest)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.badges import Badge, BadgeFiles
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

    def __init__(self, database: Database, files: BadgeFiles | None = None) -> None:
        self._db = database
        self._files = files

    async def keep(self, tenant_id: int, badge: Badge, data: bytes) -> Badge:
        """The file is written before its row: a row never points at missing bytes. Two uploads
        of the same new bytes at once may leave one unreferenced file, never two rows."""
        existing = await self._by_hash(tenant_id, badge.sha256)
        if existing is not None:
            return existing
        if self._files is not None:
            await self._files.put(badge.file_name, data, badge.content_type)
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
                b"" if self._files is not None else data,
                datetime.now(UTC),
            )
            row = await conn.fetchrow(
                f"SELECT {COLUMNS} FROM badge_image WHERE tenant_id = $1 AND sha256 = $2",
                tenant_id,
                badge.sha256,
            )
        assert row is not None
        return _badge(row)

    async def _by_hash(self, tenant_id: int, sha256: str) -> Badge | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {COLUMNS} FROM badge_image WHERE tenant_id = $1 AND sha256 = $2",
                tenant_id,
                sha256,
            )
        return _badge(row) if row else None

    async def image(self, badge_id: str) -> tuple[Badge, bytes] | None:
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {COLUMNS}, data FROM badge_image WHERE id = $1", badge_id
            )
        if row is None:
            return None
        badge = _badge(row)
        if self._files is None:
            return badge, bytes(row["data"])
        data = await self._files.get(badge.file_name)
        return (badge, data) if data is not None else None
