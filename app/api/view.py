"""The HTTP and WebSocket view: authentication into the context, errors as GraphQL JSON."""

from __future__ import annotations

import uuid
from typing import Any

from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from cross_web import HTTPException
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.api.context import Context, Services
from app.api.loaders import Loaders
from app.domain.errors import DomainError, Unauthenticated
from app.domain.model import Caller


class LaurelGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, **options: Any) -> None:
        super().__init__(
            schema, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL], **options
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Like Strawberry's, but transport errors answer as GraphQL JSON, never plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            response = error_response(exc.reason, "BAD_REQUEST", exc.status_code)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = request.app.state.services
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        caller = await _authenticate(services, request.headers)
        tenant_id = caller.tenant_id if isinstance(caller, Caller) else None
        return Context(
            services=services,
            request=request,
            response=response,
            request_id=request_id[:64],
            loaders=Loaders(services.reads, tenant_id),
            caller_or_error=caller,
        )

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """No operation runs without valid credentials: 401, code UNAUTHENTICATED (SPEC 2)."""
        context: Context = kwargs["context"]
        if not isinstance(context.caller_or_error, Caller):
            kwargs["sub_response"].status_code = 401
            reason = context.caller_or_error or Unauthenticated(
                "send an X-API-Key header or an Authorization: Bearer token"
            )
            return ExecutionResult(
                data=None,
                errors=[GraphQLError(str(reason), extensions={"code": "UNAUTHENTICATED"})],
            )
        return await super().execute_operation(*args, **kwargs)

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params or {}
        if not isinstance(params, dict):
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        caller = await _credentials_from(context.services, params.get("apiKey"), params.get("token"))
        if not isinstance(caller, Caller):
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.caller_or_error = caller
        context.loaders = Loaders(context.services.reads, caller.tenant_id)
        return None


async def _authenticate(services: Services, headers: Any) -> Caller | DomainError | None:
    authorization = headers.get("authorization", "")
    token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    return await _credentials_from(services, headers.get("x-api-key"), token)


async def _credentials_from(
    services: Services, api_key: object, token: object
) -> Caller | DomainError | None:
    try:
        if isinstance(api_key, str) and api_key:
            return await services.credentials.from_api_key(api_key)
        if isinstance(token, str) and token:
            return await services.credentials.from_token(token)
    except DomainError as exc:
        return exc
    return None


def error_response(message: str, code: str, status: int) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)
