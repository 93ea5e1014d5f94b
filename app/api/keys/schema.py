from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.common import ApiKeyRole
from app.api.context import Info
from app.domain.validation import check_name


@strawberry.input
class CreateApiKeyInput:
    name: str
    role: ApiKeyRole


@strawberry.type
class CreatedApiKey:
    key: str = strawberry.field(description="The whole key, shown this once: <prefix>.<secret>")
    prefix: str
    name: str
    role: ApiKeyRole


@strawberry.type
class KeyMutations:
    @strawberry.mutation
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreatedApiKey:
        caller = permissions.admin(info)
        check_name(input.name)
        created = await info.context.services.credentials.create_key(
            caller.tenant_id, input.name, input.role
        )
        return CreatedApiKey(
            key=created.key, prefix=created.prefix, name=input.name, role=input.role
        )

    @strawberry.mutation
    async def revoke_api_key(self, info: Info, prefix: str) -> bool:
        caller = permissions.admin(info)
        return await info.context.services.credentials.revoke_key(caller.tenant_id, prefix)

    @strawberry.mutation(
        description="Invalidate every user token of the tenant by rotating the secret that "
        "signs them."
    )
    async def rotate_user_token_secret(self, info: Info) -> bool:
        caller = permissions.admin(info)
        await info.context.services.credentials.rotate_token_secret(caller.tenant_id)
        return True
