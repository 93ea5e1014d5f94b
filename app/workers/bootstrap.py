"""First start: make sure the default tenant has an ADMIN key (`LAUREL_BOOTSTRAP_ADMIN_KEY`)."""

from __future__ import annotations

import logging

from app.domain.model import ApiKeyRole
from app.domain.ports import TenantDirectory
from app.infra.auth import generate_key, hash_secret, split_key

log = logging.getLogger("laurel.bootstrap")


async def ensure_admin_key(keys: TenantDirectory, bootstrap_key: str | None) -> str | None:
    """Return a newly made key to print once, or None when keys exist or the key was given."""
    if await keys.any_key_exists():
        return None
    tenant_id = await keys.default_tenant()
    if bootstrap_key is not None:
        prefix, secret = split_key(bootstrap_key)
        await keys.create_key(tenant_id, prefix, hash_secret(secret), "bootstrap", ApiKeyRole.ADMIN)
        log.info("created the bootstrap ADMIN key %s", prefix)
        return None
    new = generate_key()
    await keys.create_key(tenant_id, new.prefix, new.secret_hash, "bootstrap", ApiKeyRole.ADMIN)
    return new.key
