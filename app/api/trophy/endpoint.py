"""What every facade endpoint shares: the caller from the transport middleware, Trophy's error
bodies and status codes, JSON answers, and no exception left to crash a request.

Trophy answers `{"error": "..."}` with 400 for a request it cannot read, 422 for one it reads but
refuses, and 401/403/404 as usual; Laurel's codes map onto those (`STATUS`), so a domain error
means the same here as over GraphQL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.api.context import Services
from app.api.errors import HTTP_STATUS, refusal_headers
from app.api.loaders import Loaders
from app.api.middleware import caller_of
from app.api.request_log import record_of
from app.domain.errors import DomainError, ErrorCode, Unauthenticated
from app.domain.model import Caller

log = logging.getLogger("laurel.trophy")

STATUS: dict[ErrorCode, int] = {**HTTP_STATUS, ErrorCode.BAD_USER_INPUT: 422}
NO_KEY = "send your API key in the X-API-KEY header"
TENANT_HEADER = (
    "Laurel does not take a Tenant-ID header: each tenant has its own API keys, "
    "so use a key of the tenant you mean"
)


class MalformedRequest(DomainError):
    """A request the facade cannot read: not JSON, a field of the wrong type, one missing."""

    code = ErrorCode.BAD_REQUEST


class Call:
    """One request as a handler sees it: who asks, the services, and this request's loaders."""

    def __init__(self, request: Request, caller: Caller, services: Services) -> None:
        self.request = request
        self.caller = caller
        self.services = services
        self.loaders = Loaders(services.reads, caller.tenant_id)

    @property
    def tenant_id(self) -> int:
        return self.caller.tenant_id

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value


Handler = Callable[[Call], Awaitable[Response]]


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def error_response(error: DomainError) -> Any:
    return json_response({"error": error.message}, STATUS[error.code], refusal_headers(error))


def endpoint(name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around `handler`; `name` labels its log line and metrics."""

    async def run(request: Request) -> Response:
        record = record_of(request)
        record.note_operation(name)
        record.root_fields = name
        try:
            return await handler(Call(request, _caller(request), request.app.state.services))
        except DomainError as error:
            record.note_code(error.code.value)
            response: Response = error_response(error)
            return response
        except Exception:
            record.note_code(ErrorCode.INTERNAL.value)
            log.exception("internal error (request %s) in %s", record.request_id, name)
            body = {"error": "Internal server error", "requestId": record.request_id}
            failed: Response = json_response(body, 500)
            return failed

    return run


def _caller(request: Request) -> Caller:
    identity = caller_of(request)
    if isinstance(identity, DomainError):
        raise identity
    if identity is None:
        raise Unauthenticated(NO_KEY)
    if "tenant-id" in request.headers:
        raise MalformedRequest(TENANT_HEADER)
    return identity
