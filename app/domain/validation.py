"""Input rules shared by every use case: what is BAD_USER_INPUT (docs/api.md, errors)."""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Iterable
from functools import lru_cache

from app.domain.errors import BadUserInput
from app.domain.model import Attribute

KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
MAX_MAGNITUDE = 1e15
MAX_USER_ID = 255
MAX_ATTRIBUTE_KEY = 100
MAX_ATTRIBUTE_VALUE = 255
MAX_USER_NAME = 255
MAX_EMAIL = 320
MAX_ATTRIBUTES = 50
MAX_TEXT = 10_000
MAX_IDEMPOTENCY_KEY = 255


def check_key(key: str, field: str = "key") -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise BadUserInput(
            f"{field} must be 1-100 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'",
            field=field,
        )
    return key


def check_number(value: float, field: str) -> float:
    """Refuse what would poison a stored total: NaN and infinities never compare or add sanely."""
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise BadUserInput(
            f"{field} must be a finite number of magnitude at most 1e15", field=field
        )
    return value


def check_positive(value: float, field: str) -> float:
    check_number(value, field)
    if value <= 0:
        raise BadUserInput(f"{field} must be greater than 0", field=field)
    return value


def check_user_id(user_id: str) -> str:
    if not user_id or len(user_id) > MAX_USER_ID:
        raise BadUserInput("user id must be 1-255 characters", field="user.id")
    return user_id


def check_text(value: str | None, field: str, limit: int = MAX_TEXT) -> str | None:
    if value is not None and len(value) > limit:
        raise BadUserInput(f"{field} must be at most {limit} characters", field=field)
    return value


def check_name(value: str, field: str = "name") -> str:
    if not value.strip() or len(value) > 255:
        raise BadUserInput(f"{field} must be 1-255 characters", field=field)
    return value


def check_attributes(attributes: Iterable[Attribute], field: str) -> tuple[Attribute, ...]:
    """Normalise to one value per key (the last one given wins), sorted for stable hashing."""
    merged: dict[str, str] = {}
    for attribute in attributes:
        if not attribute.key or len(attribute.key) > MAX_ATTRIBUTE_KEY:
            raise BadUserInput(
                f"{field}: attribute keys must be 1-{MAX_ATTRIBUTE_KEY} characters", field=field
            )
        if len(attribute.value) > MAX_ATTRIBUTE_VALUE:
            raise BadUserInput(
                f"{field}: attribute values must be at most {MAX_ATTRIBUTE_VALUE} characters",
                field=field,
            )
        merged[attribute.key] = attribute.value
    if len(merged) > MAX_ATTRIBUTES:
        raise BadUserInput(f"{field}: at most {MAX_ATTRIBUTES} attributes", field=field)
    return tuple(sorted(Attribute(k, v) for k, v in merged.items()))


@lru_cache(maxsize=1024)
def _zone_exists(tz: str) -> bool:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_time_zone(tz: str) -> str:
    if not tz or len(tz) > 64 or not _zone_exists(tz):
        raise BadUserInput(f"unknown time zone {tz[:64]!r}", field="tz")
    return tz


def check_idempotency_key(key: str) -> str:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise BadUserInput("idempotencyKey must be 1-255 characters", field="idempotencyKey")
    return key
