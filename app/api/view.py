"""The HTTP and WebSocket view: authentication into the context, errors as GraphQL JSON."""

from __future__ import annotations

import json
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.api.context import Context, Services
from app.api.limits import BodyTooLarge, limit_body
from app.api.loaders import Loaders
from app.api.request_log import record_of, start_record
from app.domain.errors import DomainError, Unauthenticated
from app.domain.model import Caller, CallerKind
from app.infra.ratelimit import Policy, RateLimiter, retry_after


class LaurelGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        rate_limiter: RateLimiter | None = None,
        rate_policies: dict[str, Policy] | None = None,
        max_body_bytes: int = 1024 * 1024,
        **options: Any,
    ) -> None:
        super().__init__(schema, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL], **options)
        self.rate_limiter = rate_limiter
        self.rate_policies = rate_policies or {}
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Like Strawberry's, but transport errors answer as GraphQL JSON, never plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        record = start_record(Request(scope=scope))
        try:
            limited = limit_body(scope, receive, self.max_body_bytes)
            response = await self.run(Request(scope=scope, receive=limited))
        except HTTPException as exc:
            response = error_response(exc.reason, "BAD_REQUEST", exc.status_code)
        except BodyTooLarge:
            message = f"the request body is over {self.max_body_bytes} bytes"
            response = error_response(message, "PAYLOAD_TOO_LARGE", 413)
        except Exception:
            record.codes.append("INTERNAL")
            record.finish(500)
            raise
        if response.status_code >= 400 and not record.codes:
            record.codes.append(_first_code(response))
        response.headers["X-Request-Id"] = record.request_id
        await response(scope, receive, send)
        record.finish(response.status_code)

    def decode_json(self, data: str | bytes) -> object:
        """A body that is not a JSON object or array, nests too deep, or holds a lone surrogate
        (JSON allows the escape; no database stores it) is a 400, not a crash. orjson refuses
        the last two itself, and NaN and Infinity, and parses several times faster than json."""
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return decoded

    def encode_json(self, data: object) -> str:
        """orjson, except for integers beyond 64 bits, which only the standard library writes.
        Text, not bytes: the WebSocket protocol sends its messages as text frames."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    async def process_result(self, request: Request, result: Any) -> Any:
        record_of(request).note_result(result)
        return await super().process_result(request, result)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = request.app.state.services
        record = record_of(request)
        caller = await _authenticate(services, request.headers)
        tenant_id = caller.tenant_id if isinstance(caller, Caller) else None
        record.tenant = tenant_id
        return Context(
            services=services,
            request=request,
            response=response,
            request_id=record.request_id,
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
        data = kwargs["request_data"]
        record_of(kwargs["request"]).note_operation(getattr(data, "operation_name", None))
        refusal = await self._rate_limit(context.caller_or_error, kwargs["sub_response"])
        return refusal or await super().execute_operation(*args, **kwargs)

    async def _rate_limit(self, caller: Caller, sub_response: Any) -> ExecutionResult | None:
        """One bucket per credential: a key by its prefix, a user token by its tenant and user."""
        kind = "token" if caller.kind is CallerKind.USER else "key"
        policy = self.rate_policies.get(kind)
        if self.rate_limiter is None or policy is None or policy.rate <= 0:
            return None
        credential = (
            f"user:{caller.tenant_id}:{caller.user_id}"
            if kind == "token"
            else f"key:{caller.credential_id}"
        )
        wait = await self.rate_limiter.acquire(credential, policy)
        if wait <= 0:
            return None
        seconds = retry_after(wait)
        sub_response.status_code = 429
        sub_response.headers["Retry-After"] = str(seconds)
        error = GraphQLError(
            f"rate limit exceeded; retry in {seconds} s",
            extensions={"code": "RATE_LIMITED", "retryAfter": seconds},
        )
        return ExecutionResult(data=None, errors=[error])

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params or {}
        if not isinstance(params, dict):
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        caller = await _credentials_from(
            context.services, params.get("apiKey"), params.get("token")
        )
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


def _first_code(response: Response) -> str:
    try:
        body = json.loads(bytes(getattr(response, "body", b"")))
        return str(body["errors"][0]["extensions"]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return f"HTTP_{response.status_code}"


def error_response(message: str, code: str, status: int) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)
