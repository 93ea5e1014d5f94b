from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.users.payloads import IdentifyPayload
from app.api.users.types import User, UserInput, UserToken
from app.domain.validation import check_user_id


async def _identify(info: Info, input: UserInput) -> IdentifyPayload:
    caller = permissions.key_holder(info)
    outcome = await info.context.services.engine.identify(caller, input.to_domain())
    info.context.loaders.standing_by_user_id.clear(outcome.user.id)
    return IdentifyPayload(outcome=outcome)


@strawberry.type
class UserQueries:
    @strawberry.field
    async def user(self, info: Info, id: str) -> User | None:
        permissions.reader_of_user(info, id)
        standing = await info.context.loaders.standing_by_user_id.load(id)
        return User(model=standing.user) if standing else None


@strawberry.type
class UserMutations:
    @strawberry.mutation(
        deprecation_reason="Use identify: it also reports what identifying the user awarded."
    )
    async def identify_user(self, info: Info, input: UserInput) -> User:
        payload = await _identify(info, input)
        return User(model=payload.outcome.user)

    @strawberry.mutation(
        description="Create or update a user with identifyUser's semantics, and report what "
        "that awarded."
    )
    async def identify(self, info: Info, input: UserInput) -> IdentifyPayload:
        return await _identify(info, input)

    @strawberry.mutation
    async def create_user_token(
        self, info: Info, user_id: str, ttl_seconds: int = 3600
    ) -> UserToken:
        caller = permissions.key_holder(info)
        check_user_id(user_id)
        token, expires_at = await info.context.services.credentials.issue_token(
            caller.tenant_id, user_id, ttl_seconds
        )
        return UserToken(token=token, expires_at=expires_at)
