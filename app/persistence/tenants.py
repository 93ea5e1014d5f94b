"""Tenants and their API keys (the `KeyStore` port), through the ORM: this is not a hot path."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from app.domain.model import ApiKeyRole
from app.domain.ports import StoredKey
from app.persistence.models import ApiKey, Tenant

DEFAULT_TENANT_NAME = "default"


class TortoiseKeyStore:
    async def key_by_prefix(self, prefix: str) -> StoredKey | None:
        row = await ApiKey.get_or_none(prefix=prefix, revoked_at=None)
        if row is None:
            return None
        return StoredKey(
            id=row.id,
            tenant_id=row.tenant_id,  # type: ignore[attr-defined]
            role=ApiKeyRole(row.role),
            secret_hash=row.secret_hash,
        )

    async def create_key(
        self, tenant_id: int, prefix: str, secret_hash: str, name: str, role: ApiKeyRole
    ) -> None:
        await ApiKey.create(
            tenant_id=tenant_id, prefix=prefix, secret_hash=secret_hash, name=name, role=role.value
        )

    async def revoke_key(self, tenant_id: int, prefix: str) -> bool:
        changed = await ApiKey.filter(tenant_id=tenant_id, prefix=prefix, revoked_at=None).update(
            revoked_at=datetime.now(UTC)
        )
        return changed > 0

    async def tenant_secret(self, tenant_id: int) -> str | None:
        tenant = await Tenant.get_or_none(id=tenant_id)
        return tenant.token_secret if tenant else None

    async def rotate_tenant_secret(self, tenant_id: int) -> None:
        await Tenant.filter(id=tenant_id).update(token_secret=new_token_secret())

    async def any_key_exists(self) -> bool:
        return await ApiKey.exists()

    async def create_tenant(self, name: str) -> int:
        async with in_transaction():
            tenant = await Tenant.create(name=name, token_secret=new_token_secret())
        return tenant.id

    async def default_tenant(self) -> int:
        tenant = await Tenant.filter(name=DEFAULT_TENANT_NAME).order_by("id").first()
        if tenant is None:
            return await self.create_tenant(DEFAULT_TENANT_NAME)
        return tenant.id


def new_token_secret() -> str:
    return secrets.token_urlsafe(48)
