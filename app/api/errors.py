"""The one place where failures become public error codes (SPEC.md section 3).

Domain errors keep their message and code; GraphQL request errors (syntax, validation, variable
coercion) are coded too; anything else is an internal error: masked, logged with the request id,
and returned with that id so an operator can find it.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionContext

from app.domain.errors import DomainError, RateLimited, Unauthenticated

log = logging.getLogger("laurel.errors")

STATUS_BY_CODE = {"UNAUTHENTICATED": 401, "RATE_LIMITED": 429}


def public_error(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return _with_extensions(
            error, original.message, {"code": original.code, **original.extensions}
        )
    if original is None or (isinstance(original, GraphQLError) and error.path is None):
        # Syntax, validation and variable-coercion errors (graphql-core wraps the latter's
        # cause as original_error): the request itself is bad input.
        code = error.extensions.get("code") if error.extensions else None
        return _with_extensions(error, error.message, {"code": code or "BAD_USER_INPUT"})
    log.error("internal error (request %s) at %s", request_id, error.path, exc_info=original)
    return GraphQLError(
        "Internal server error",
        path=error.path,
        extensions={"code": "INTERNAL", "requestId": request_id},
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
    codes = [(e.extensions or {}).get("code") for e in errors]
    for code, status in STATUS_BY_CODE.items():
        if code in codes:
            response.status_code = status
            if code == "RATE_LIMITED":
                retry = next(
                    (e.extensions or {}).get("retryAfter")
                    for e in errors
                    if (e.extensions or {}).get("code") == code
                )
                response.headers["Retry-After"] = str(retry)
            return
    if request_failed and all(e.path is None for e in errors):
        response.status_code = 400


__all__ = ["RateLimited", "Unauthenticated", "code_errors", "code_stream_errors", "public_error"]
