"""The one place where failures become public errors: codes, HTTP statuses, GraphQL errors.

Domain errors keep their message and code; GraphQL request errors (syntax, validation, variable
coercion) are coded too; anything else is an internal error: masked, logged with the request id,
and returned with that id so an operator can find it. `HTTP_STATUS` is what every transport
answers for a code that fails a whole request (GraphQL answers 200 for errors in fields, as
GraphQL over HTTP does, except for the codes in `REQUEST_LEVEL`).
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from strawberry.types import ExecutionContext

from app.domain.errors import DomainError, ErrorCode, RateLimited

log = logging.getLogger("laurel.errors")

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL: 500,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.QUERY_TOO_COMPLEX: 400,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
}
# Codes that fail a GraphQL request as a whole, whatever its other fields did.
REQUEST_LEVEL = (ErrorCode.UNAUTHENTICATED, ErrorCode.RATE_LIMITED)


def refusal_headers(error: DomainError) -> dict[str, str]:
    """Headers a refusal carries on any transport: when to retry after a rate limit."""
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return {}


async def http_error(request: Request, exc: Exception) -> Any:
    """Unknown paths and methods, answered as JSON `{"error": ...}` like every other refusal
    outside GraphQL (Trophy's error body)."""
    assert isinstance(exc, HTTPException)
    message = "no such endpoint" if exc.status_code == 404 else exc.detail
    return JSONResponse({"error": message}, exc.status_code, dict(exc.headers or {}))


def graphql_error(error: DomainError) -> GraphQLError:
    return GraphQLError(error.message, extensions={"code": error.code.value, **error.extensions})


def error_response(message: str, code: ErrorCode, headers: dict[str, str] | None = None) -> Any:
    """A GraphQL-shaped body for a request refused before any operation ran."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]},
        HTTP_STATUS[code],
        headers=headers,
    )


def public_error(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return _with_extensions(
            error, original.message, {"code": original.code.value, **original.extensions}
        )
    if original is None or (isinstance(original, GraphQLError) and error.path is None):
        # Syntax, validation and variable-coercion errors (graphql-core wraps the latter's
        # cause as original_error): the request itself is bad input.
        code = error.extensions.get("code") if error.extensions else None
        return _with_extensions(
            error, error.message, {"code": code or ErrorCode.BAD_USER_INPUT.value}
        )
    log.error("internal error (request %s) at %s", request_id, error.path, exc_info=original)
    return GraphQLError(
        "Internal server error",
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL.value, "requestId": request_id},
    )


def _with_extensions(
    error: GraphQLError, message: str, extensions: dict[str, object]
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), **extensions},
    )


def code_errors(context: ExecutionContext) -> None:
    """Codes every error of a finished operation, masks internal ones, and sets the HTTP status
    the codes imply."""
    result = context.result
    if result is None or not result.errors:
        return
    request_context = context.context
    request_id = getattr(request_context, "request_id", "-")
    result.errors = [public_error(e, request_id) for e in result.errors]
    _set_status(request_context, result.errors, request_failed=result.data is None)


def code_stream_errors(context: ExecutionContext, result: Any) -> None:
    """WebSocket results (subscriptions) never reach `code_errors`: each is coded here."""
    errors = getattr(result, "errors", None)
    if errors:
        request_id = getattr(context.context, "request_id", "-")
        result.errors = [public_error(e, request_id) for e in errors]


def _set_status(context: object, errors: list[GraphQLError], *, request_failed: bool) -> None:
    response = getattr(context, "response", None)
    if response is None or not hasattr(response, "status_code"):
        return
    extensions = [e.extensions or {} for e in errors]
    for code in REQUEST_LEVEL:
        found = next((x for x in extensions if x.get("code") == code), None)
        if found is not None:
            response.status_code = HTTP_STATUS[code]
            if "retryAfter" in found:
                response.headers["Retry-After"] = str(found["retryAfter"])
            return
    if request_failed and all(e.path is None for e in errors):
        response.status_code = HTTP_STATUS[ErrorCode.BAD_REQUEST]
