"""graphql-transport-ws with Laurel's rules: every operation on a socket passes the same gate
as an HTTP request, and a socket lives no longer than its credentials.

* Each `subscribe` message re-checks the credentials the connection opened with (through the
  5-second credential cache, so a revocation reaches it within that time) and takes a rate-limit
  token, like an HTTP request; its size is bounded by the HTTP body limit. Refusals are `error`
  messages for that operation; invalid credentials close the socket.
* A watchdog re-checks the credentials every `recheck` seconds and at a user token's expiry,
  and closes the socket (ending its subscriptions) with code 4403 and a reason when they no
  longer hold.
* Refusals before execution (syntax, limits, an ambiguous document) are `error` messages, as the
  protocol has them for validation errors, rather than a closed socket.
* Connections are counted per credential (`OpenSockets`), logged when they open, are refused
  and close, and ended cleanly on shutdown: each subscription gets `complete`, then the socket
  closes with 1001 (going away) instead of uvicorn's 1012.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from app.api.context import Context
from app.api.errors import graphql_error, public_error
from app.domain.errors import DomainError, ErrorCode, Unauthenticated
from app.domain.model import Caller

CREDENTIALS_ENDED = 4403
REFUSED = 4403
TOO_MANY = 4429

log = logging.getLogger("laurel.websocket")


class PayloadTooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


ENDED_REASON = "the connection's credentials were revoked or have expired"


class LaurelTransportWs(BaseGraphQLTransportWSHandler[Context, None]):
    watchdog: asyncio.Task[None] | None = None
    admitted: Caller | None = None
    opened: float = 0.0

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Strawberry's steps, with the refusal's reason on the close frame and in the log, and
        the connection counted against its credential before it is acknowledged."""
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self._refuse(4400, "invalid connection_init payload")
            return
        if self.connection_init_received:
            await self._refuse(4429, "too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as rejection:
            reason = str((rejection.payload or {}).get("reason", "refused"))
            await self._refuse(REFUSED, reason)
            return
        caller = self.context.caller_or_error
        assert isinstance(caller, Caller)
        if not self.context.services.sockets.admit(self, caller):
            await self._refuse(TOO_MANY, "too many open connections for this credential")
            return
        self.admitted, self.opened = caller, time.monotonic()
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self._log("websocket connected")
        self.watchdog = asyncio.create_task(self._watch(), name="laurel-ws-credentials")

    async def _refuse(self, code: int, reason: str) -> None:
        self._log("websocket refused", reason=reason)
        await self.websocket.close(code=code, reason=reason)

    async def end(self, code: int, reason: str) -> None:
        """Completes every operation the client is running, then closes the socket."""
        for operation_id in list(self.operations):
            with contextlib.suppress(Exception):
                await self.send_message({"id": operation_id, "type": "complete"})
            await self.cleanup_operation(operation_id)
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)
            return
        refusal = self._oversized(message) or await self._recheck()
        if refusal is None:
            await super().handle_subscribe(message)
        elif isinstance(refusal, Unauthenticated):
            await self.websocket.close(code=CREDENTIALS_ENDED, reason=ENDED_REASON)
        else:
            error = public_error(graphql_error(refusal), self.context.request_id)
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )

    async def shutdown(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watchdog
        await super().shutdown()
        if self.admitted is not None:
            self.context.services.sockets.release(self, self.admitted)
            self._log("websocket closed", seconds=round(time.monotonic() - self.opened, 3))

    def _log(self, message: str, **fields: object) -> None:
        """JSON fields as the request log has them; never a credential."""
        caller = self.context.caller_or_error
        tenant = caller.tenant_id if isinstance(caller, Caller) else None
        kind = caller.kind.value if isinstance(caller, Caller) else None
        log.info(message, extra={"fields": {"tenant": tenant, "caller": kind, **fields}})

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        """Never close for a bad document: answer it with an `error` message."""
        return None

    def _oversized(self, message: SubscribeMessage) -> DomainError | None:
        limit = self.context.services.max_body_bytes
        payload = message.get("payload") or {}
        size = len(str(payload.get("query") or "")) + len(
            json.dumps(payload.get("variables") or {}, default=str)
        )
        if size <= limit:
            return None
        return PayloadTooLarge(f"the operation is over {limit} bytes")

    async def _recheck(self) -> DomainError | None:
        """The credentials again, and a rate-limit token: refreshed caller, or the refusal."""
        api_key, token = self.context.credentials
        identity = await self.context.services.gate.check(api_key, token)
        if isinstance(identity, Caller):
            self.context.caller_or_error = identity
            return None
        return identity or Unauthenticated(ENDED_REASON)

    async def _watch(self) -> None:
        services = self.context.services
        api_key, token = self.context.credentials
        while True:
            await asyncio.sleep(self._until_next_check(services.credential_recheck_s))
            if not await services.gate.still_valid(api_key, token):
                await self.websocket.close(code=CREDENTIALS_ENDED, reason=ENDED_REASON)
                return

    def _until_next_check(self, recheck: float) -> float:
        """A user token is checked again the moment it expires."""
        caller = self.context.caller_or_error
        expires = caller.expires_at if isinstance(caller, Caller) else None
        if expires is None:
            return recheck
        left = (expires - self.context.services.clock()).total_seconds()
        return max(0.0, min(recheck, left))
