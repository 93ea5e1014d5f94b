"""Users: the upsert every event, completion and identification starts with.

The two dialects need different statements and sit side by side under `upsert_user`:
PostgreSQL has concurrent writers, so one `INSERT .. ON CONFLICT DO UPDATE` decides; SQLite has
one writer at a time, so reading first is exact, and a known user whose request says nothing new
costs one read and no write. `PG_UPSERT_USER` is also the first step of the one-statement event
(`app/persistence/events.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.domain.ports import UpsertedUser, UserProfile
from app.persistence.codec import USER_COLUMNS, dump_attributes, user_from_row
from app.persistence.database import Row
from app.persistence.transaction import Statements

INSERT_USER = (
    "INSERT INTO app_user (tenant_id, external_id, name, email, tz, attributes, created_at) "
    "VALUES ($1, $2, $3, $4, COALESCE($5, 'UTC'), COALESCE($6, '[]'), $7) "
)
PG_UPSERT_USER = (
    f"{INSERT_USER}ON CONFLICT (tenant_id, external_id) DO UPDATE SET "
    "name = COALESCE(excluded.name, app_user.name), "
    "email = COALESCE(excluded.email, app_user.email), "
    "tz = CASE WHEN $5 IS NULL THEN app_user.tz ELSE excluded.tz END, "
    "attributes = CASE WHEN $6 IS NULL THEN app_user.attributes ELSE excluded.attributes END "
    f"RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted"
)


class UserRows(Statements):
    async def upsert_user(
        self, tenant_id: int, profile: UserProfile, now: datetime
    ) -> UpsertedUser:
        upsert = self._upsert_user_postgres if self._pg else self._upsert_user_sqlite
        upserted = await upsert(tenant_id, profile, now)
        if upserted.created:
            self._new_users[tenant_id] += 1
        return upserted

    async def lock_users_named(self, tenant_id: int, user_ids: Sequence[str]) -> None:
        """On PostgreSQL, first a transaction-scoped advisory lock per name, taken in one order
        by every caller, so two such transactions over the same users, created or not, queue
        instead of deadlocking; then the rows of those who exist, in pk order, the order
        backdating takes them in. One round trip: the two subqueries of a select without
        FROM run once each, in the order of its columns. SQLite has one writer at a time:
        nothing to lock."""
        if not self._pg or not user_ids:
            return
        await self._conn.execute(
            "SELECT (SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT "
            "hashtextextended($1::text || ':' || n, 0) AS k FROM unnest($2::text[]) AS n "
            "ORDER BY k) AS names) AS locked) AS names, "
            "ARRAY(SELECT id FROM app_user WHERE tenant_id = $1::integer "
            "AND external_id = ANY($2::text[]) ORDER BY id FOR UPDATE) AS rows",
            str(tenant_id),
            list(user_ids),
        )

    async def _upsert_user_postgres(
        self, tenant_id: int, profile: UserProfile, now: datetime
    ) -> UpsertedUser:
        attributes = stored_attributes(profile)
        before = await self.attributes_before(tenant_id, profile.id, attributes)
        row = await self._conn.fetchrow(
            PG_UPSERT_USER, *user_arguments(tenant_id, profile, attributes, now)
        )
        assert row is not None
        return upserted_from(row, attributes, before)

    async def _upsert_user_sqlite(
        self, tenant_id: int, profile: UserProfile, now: datetime
    ) -> UpsertedUser:
        attributes = stored_attributes(profile)
        row = await self._conn.fetchrow(
            f"SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 AND external_id = $2",
            tenant_id,
            profile.id,
        )
        if row is None:
            row = await self._conn.fetchrow(
                f"{INSERT_USER}RETURNING {USER_COLUMNS}",
                *user_arguments(tenant_id, profile, attributes, now),
            )
            assert row is not None
            return UpsertedUser(user_from_row(row), True, attributes_changed=attributes is not None)
        given = {
            "name": profile.name,
            "email": profile.email,
            "tz": profile.tz,
            "attributes": attributes,
        }
        changes = {k: v for k, v in given.items() if v is not None and v != row[k]}
        if changes:
            assignments = ", ".join(f"{column} = ${i + 2}" for i, column in enumerate(changes))
            row = await self._conn.fetchrow(
                f"UPDATE app_user SET {assignments} WHERE id = $1 RETURNING {USER_COLUMNS}",
                row["id"],
                *changes.values(),
            )
            assert row is not None
        return UpsertedUser(user_from_row(row), False, attributes_changed="attributes" in changes)

    async def attributes_before(
        self, tenant_id: int, external_id: str, attributes: str | None
    ) -> Row | None:
        """On PostgreSQL only a request that sets attributes needs the old ones, to tell whether
        they changed."""
        if attributes is None:
            return None
        return await self._conn.fetchrow(
            "SELECT attributes FROM app_user WHERE tenant_id = $1 AND external_id = $2",
            tenant_id,
            external_id,
        )


def stored_attributes(profile: UserProfile) -> str | None:
    """None leaves the stored attributes alone."""
    return None if profile.attributes is None else dump_attributes(profile.attributes)


def user_arguments(
    tenant_id: int, profile: UserProfile, attributes: str | None, now: datetime
) -> tuple[object, ...]:
    """$1 to $7 of INSERT_USER."""
    return (tenant_id, profile.id, profile.name, profile.email, profile.tz, attributes, now)


def upserted_from(row: Row, attributes: str | None, before: Row | None) -> UpsertedUser:
    """A PostgreSQL upsert's row: `inserted` says whether it created the user."""
    created = bool(row["inserted"])
    changed = attributes is not None and (before is None or before["attributes"] != attributes)
    return UpsertedUser(user=user_from_row(row), created=created, attributes_changed=changed)
