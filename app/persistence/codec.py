"""Rows to domain values and back, shared by the ORM stores and the raw-SQL repositories."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson

from app.domain import model
from app.persistence.triggers import trigger_from_row

USER_COLUMNS = "id, external_id, name, email, tz, attributes, created_at"
ACHIEVEMENT_COLUMNS = (
    "id, key, name, description, badge_url, hidden, status, trigger_kind, metric_id, threshold, "
    "attr_key, attr_value, streak_length, user_attributes, completions"
)


def prefixed(alias: str, columns: str) -> str:
    """Columns qualified by a table alias, for joins."""
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


def placeholders(values: Sequence[Any], start: int = 2) -> str:
    """`$start, $start+1, ...`: one per value, for an IN list after `start - 1` other arguments."""
    return ", ".join(f"${i}" for i in range(start, start + len(values)))


def dump_attributes(attributes: Iterable[model.Attribute]) -> str:
    """The standard library's form (non-ASCII escaped), which stored rows and the SQL that
    matches an attribute's JSON (points_reads.py) share; most events and users have none."""
    pairs = [[a.key, a.value] for a in attributes]
    return json.dumps(pairs, separators=(",", ":")) if pairs else "[]"


def load_attributes(text: str | None) -> tuple[model.Attribute, ...]:
    if not text or text == "[]":
        return ()
    return tuple(model.Attribute(k, v) for k, v in orjson.loads(text))


def as_datetime(value: Any) -> datetime:
    """SQLite hands back text, PostgreSQL a datetime, or text without an offset from its JSON
    (written `AT TIME ZONE 'UTC'`); all mean an aware UTC instant."""
    if isinstance(value, datetime):
        return value
    instant = datetime.fromisoformat(str(value))
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def as_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


def user_from_row(row: Mapping[str, Any]) -> model.User:
    return model.User(
        pk=row["id"],
        id=row["external_id"],
        name=row["name"],
        email=row["email"],
        tz=row["tz"],
        attributes=load_attributes(row["attributes"]),
        created_at=as_datetime(row["created_at"]),
    )


def metric_from_row(row: Mapping[str, Any]) -> model.Metric:
    return model.Metric(id=row["id"], key=row["key"], name=row["name"], unit=row["unit"])


def achievement_from_row(
    row: Mapping[str, Any], prerequisite_ids: tuple[int, ...] = ()
) -> model.Achievement:
    return model.Achievement(
        id=int(row["id"]),
        key=row["key"],
        name=row["name"],
        description=row["description"],
        badge_url=row["badge_url"],
        hidden=bool(row["hidden"]),
        status=model.AchievementStatus(row["status"]),
        trigger=trigger_from_row(row, prerequisite_ids),
        user_attributes=load_attributes(row["user_attributes"]),
        completions=int(row["completions"]),
    )
