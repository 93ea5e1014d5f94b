"""Reading Trophy's requests into Laurel's commands.

Only the shape is checked here: a body that is not JSON, a field of the wrong type or missing is
a 400, a query parameter that does not parse a 422 (as Trophy answers them). What the values
mean (an id's length, a time zone, an attribute) is the domain's to judge, as it is for GraphQL
(422 when refused). Fields Trophy defines that Laurel has no use for (`signUpDate`,
`deviceTokens`, `subscribeToEmails`) are type-checked and ignored.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from starlette.requests import Request

from app.api.body import BodyTooLarge, limit_body
from app.api.trophy.endpoint import MalformedRequest
from app.domain.attributes import Attribute
from app.domain.errors import BadUserInput, DomainError, ErrorCode
from app.domain.ports import UserProfile

DEFAULT_HISTORY_PERIODS = 7
MAX_HISTORY_PERIODS = 366

T = TypeVar("T")


class TooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


async def json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object, read no further than `max_bytes`."""
    try:
        limited = Request(request.scope, limit_body(request.scope, request.receive, max_bytes))
        raw = await limited.body()
    except BodyTooLarge:
        raise TooLarge(f"the request body is over {max_bytes} bytes") from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise MalformedRequest("the request body must be a JSON object")
    return body


def required(body: dict[str, Any], field: str) -> object:
    if body.get(field) is None:
        raise MalformedRequest(f"{field} is required")
    return body[field]


def upserted_user(value: object, field: str = "user") -> UserProfile:
    """Trophy's `UpsertedUser`: an id and the fields to set."""
    if not isinstance(value, dict):
        raise MalformedRequest(f"{field} must be an object")
    user_id = value.get("id")
    if not isinstance(user_id, str):
        raise MalformedRequest(f"{field}.id must be a string")
    return updated_user(user_id, value, field)


def updated_user(user_id: str, body: dict[str, Any], field: str = "user") -> UserProfile:
    """Trophy's `UpdatedUser`, for the user `user_id`."""
    _optional(body, "signUpDate", str, field)
    _optional(body, "subscribeToEmails", bool, field)
    tokens = _optional(body, "deviceTokens", list, field)
    if tokens is not None and not all(isinstance(t, str) for t in tokens):
        raise MalformedRequest(f"{field}.deviceTokens must be a list of strings")
    return UserProfile(
        id=user_id,
        name=_optional(body, "name", str, field),
        email=_optional(body, "email", str, field),
        tz=_optional(body, "tz", str, field),
        attributes=string_map(body.get("attributes"), f"{field}.attributes"),
    )


def number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRequest(f"{field} must be a number")
    return float(value)


def string_map(value: object, field: str) -> tuple[Attribute, ...] | None:
    """A JSON object of strings, as Laurel's attribute pairs; None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise MalformedRequest(f"{field} must be an object of strings")
    return tuple(Attribute(key=k, value=v) for k, v in value.items())


def attribute_query(text: str | None) -> tuple[Attribute, ...] | None:
    """`key:value,key:value` (Trophy's `userAttributes` query parameter)."""
    if text is None:
        return None
    pairs = []
    for item in text.split(","):
        key, colon, value = item.partition(":")
        if not colon or not key:
            raise BadUserInput("userAttributes must be key:value pairs separated by commas")
        pairs.append(Attribute(key=key, value=value))
    return tuple(pairs)


def history_periods(text: str | None) -> int:
    if text is None:
        return DEFAULT_HISTORY_PERIODS
    try:
        periods = int(text)
    except ValueError:
        raise BadUserInput("historyPeriods must be an integer") from None
    if not 1 <= periods <= MAX_HISTORY_PERIODS:
        raise BadUserInput(f"historyPeriods must be 1-{MAX_HISTORY_PERIODS}")
    return periods


_TYPE_NAMES = {str: "string", bool: "boolean", list: "list"}


def _optional(body: dict[str, Any], name: str, kind: type[T], field: str) -> T | None:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise MalformedRequest(f"{field}.{name} must be a {_TYPE_NAMES[kind]}")
    return value
