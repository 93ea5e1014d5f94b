"""What an operator sees of tenants and keys from the command line: listings across tenants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.persistence.models import ApiKey, Tenant


@dataclass(frozen=True, slots=True)
class TenantListing:
    id: int
    name: str
    users: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KeyListing:
    prefix: str
    name: str
    role: str
    tenant_id: int
    created_at: datetime
    revoked_at: datetime | None


async def tenants() -> list[TenantListing]:
    return [
        TenantListing(t.id, t.name, t.user_count, t.created_at)
        for t in await Tenant.all().order_by("id")
    ]


async def tenant_by_reference(reference: str) -> int | None:
    """A tenant named by its id or by its name (the oldest of that name)."""
    if reference.isdigit():
        found = await Tenant.get_or_none(id=int(reference))
    else:
        found = await Tenant.filter(name=reference).order_by("id").first()
    return found.id if found else None


async def keys(tenant_id: int | None) -> list[KeyListing]:
    query = ApiKey.all() if tenant_id is None else ApiKey.filter(tenant_id=tenant_id)
    return [
        KeyListing(
            k.prefix,
            k.name,
            k.role,
            k.tenant_id,  # type: ignore[attr-defined]
            k.created_at,
            k.revoked_at,
        )
        for k in await query.order_by("id")
    ]


async def revoke(prefix: str) -> bool:
    changed = await ApiKey.filter(prefix=prefix, revoked_at=None).update(
        revoked_at=datetime.now(UTC)
    )
    return changed > 0
