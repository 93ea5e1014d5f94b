"""Domain errors, each carrying the public code a caller sees.

`ErrorCode` is every code Laurel answers with, transport refusals included; the API layer turns
codes into HTTP statuses and `extensions.code` in one place (`app/api/errors.py`).
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"
    BAD_REQUEST = "BAD_REQUEST"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


class DomainError(Exception):
    code = ErrorCode.INTERNAL

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class Contention(Conflict):
    """The database refused a transaction to break a cycle of locks with another one: nothing
    of it was stored, and running it again may succeed."""

    def __init__(
        self,
        message: str = "a concurrent request held what this one needed; "
        "nothing was stored, and the request may be sent again",
        **extensions: Any,
    ) -> None:
        super().__init__(message, reason="CONTENTION", **extensions)


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(message, retryAfter=retry_after, **extensions)
        self.retry_after = retry_after
