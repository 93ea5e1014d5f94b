"""The GraphQL view over HTTP and WebSocket: the caller into the context, errors as GraphQL JSON.

Who is calling was decided by `TransportMiddleware` (HTTP) or is decided here from
`connection_init` (WebSocket), by the same `Gate`; this view only refuses operations without a
caller, in GraphQL's shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException
from graphql import ExecutionResult
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.api import graphiql
from app.api.body import BodyTooLarge, limit_body
from app.api.context import NO_CREDENTIALS, Context, Services
from app.api.errors import HTTP_STATUS, error_response, graphql_error, refusal_headers
from app.api.express import ExpressLane, is_plain_json_post
from app.api.loaders import Loaders
from app.api.middleware import caller_of
from app.api.request_log import CLIENT_GONE, record_of
from app.api.websocket import LaurelTransportWs
from app.domain.errors import DomainError, ErrorCode, Unauthenticated
from app.domain.model import Caller

if TYPE_CHECKING:
    from app.api.schema import LaurelSchema

log = logging.getLogger("laurel.websocket")

# Multipart requests (badge uploads) may be larger than others, and must carry an API key: a
# header no cross-site form can send, so a browser page cannot post one on a user's behalf.
MULTIPART_MAX_BYTES = 2 * 1024 * 1024
MULTIPART_NEEDS_KEY = "multipart requests must send an X-API-Key header"


class LaurelGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = LaurelTransportWs

    def __init__(
        self,
        schema: LaurelSchema,
        *,
        max_body_bytes: int = 1024 * 1024,
        allowed_origins: Collection[str] = (),
        express: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(
            schema,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            multipart_uploads_enabled=True,
            **options,
        )
        self.max_body_bytes = max_body_bytes
        # Strawberry checks WebSocket origins (CORS does not cover them) against this list;
        # pages on Laurel's own origin and clients that send no Origin are always let in.
        self.allowed_origins = frozenset(allowed_origins)
        self.express = ExpressLane(self, schema, schema.documents) if express else None
        self._lanes: tuple[Any, Any] | None = None

    async def render_graphql_ide(self, request: Request) -> Response:
        """Laurel's own GraphiQL page, whose files Laurel serves (no CDN)."""
        return graphiql.page()

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        allowed = super().is_websocket_origin_allowed(request, origin)
        if not allowed:
            log.info("websocket refused", extra={"fields": {"reason": "origin", "origin": origin}})
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Like Strawberry's, but transport errors answer as GraphQL JSON, never plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope)
        record = record_of(request)
        multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
        limit = MULTIPART_MAX_BYTES if multipart else self.max_body_bytes
        try:
            if multipart and "x-api-key" not in request.headers:
                raise HTTPException(400, MULTIPART_NEEDS_KEY)
            limited = Request(scope=scope, receive=limit_body(scope, receive, limit))
            response = None
            if self.express is not None and is_plain_json_post(limited):
                response = await self.express.answer(limited)
            self._count_lane(request, express=response is not None)
            if response is None:
                response = await self.run(limited)
        except HTTPException as exc:
            record.note_code(ErrorCode.BAD_REQUEST.value)
            response = error_response(exc.reason, ErrorCode.BAD_REQUEST)
            response.status_code = exc.status_code
        except StarletteHTTPException as exc:  # a multipart body Starlette cannot parse
            record.note_code(ErrorCode.BAD_REQUEST.value)
            response = error_response(str(exc.detail), ErrorCode.BAD_REQUEST)
            response.status_code = exc.status_code
        except BodyTooLarge:
            record.note_code(ErrorCode.PAYLOAD_TOO_LARGE.value)
            message = f"the request body is over {limit} bytes"
            response = error_response(message, ErrorCode.PAYLOAD_TOO_LARGE)
        except ClientDisconnect:
            # Nobody is left to answer: the request log's line (status 499) is all there is.
            record.note_code(CLIENT_GONE)
            return
        await response(scope, receive, send)

    def _count_lane(self, request: Request, *, express: bool) -> None:
        """laurel_graphql_requests_total, its two series looked up once (the metrics are the
        services', which exist once the app has started)."""
        if self._lanes is None:
            lanes = request.app.state.services.metrics.graphql_lanes
            self._lanes = (lanes.labels(lane="standard"), lanes.labels(lane="express"))
        self._lanes[express].inc()

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
        identity = caller_of(request) if isinstance(request, Request) else None
        tenant_id = identity.tenant_id if isinstance(identity, Caller) else None
        request_id = record_of(request).request_id if isinstance(request, Request) else "-"
        return Context(
            services=services,
            request=request,
            response=response,
            request_id=request_id,
            loaders=Loaders(services.reads, tenant_id),
            caller_or_error=identity,
        )

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """No operation runs without a caller: the refusal's status and code (401 for missing
        or bad credentials, 429 past the rate limit)."""
        context: Context = kwargs["context"]
        data = kwargs["request_data"]
        record_of(kwargs["request"]).note_operation(getattr(data, "operation_name", None))
        identity = context.caller_or_error
        if isinstance(identity, Caller):
            return await super().execute_operation(*args, **kwargs)
        refusal = identity if isinstance(identity, DomainError) else Unauthenticated(NO_CREDENTIALS)
        sub_response = kwargs["sub_response"]
        sub_response.status_code = HTTP_STATUS[refusal.code]
        for name, value in refusal_headers(refusal).items():
            sub_response.headers[name] = value
        return ExecutionResult(data=None, errors=[graphql_error(refusal)])

    async def on_ws_connect(self, context: Context) -> Any:
        """The connection_init payload's credentials, through the same gate as HTTP; a refusal
        carries its code and reason (the handler puts the reason on the close frame)."""
        params = context.connection_params or {}
        if not isinstance(params, dict):
            params = {}
        context.credentials = (params.get("apiKey"), params.get("token"))
        identity = await context.services.gate.check(*context.credentials)
        if not isinstance(identity, Caller):
            refusal = identity or Unauthenticated(
                'send {"apiKey": ...} or {"token": ...} in connection_init'
            )
            raise ConnectionRejectionError(
                {"code": refusal.code.value, "reason": refusal.message[:120]}
            )
        context.caller_or_error = identity
        context.loaders = Loaders(context.services.reads, identity.tenant_id)
        return None
