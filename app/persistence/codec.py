"""Rows to domain values and back, shared by the ORM stores and the raw-SQL repositories."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from app.domain import model


def dump_attributes(attributes: Iterable[model.Attribute]) -> str:
    return json.dumps([[a.key, a.value] for a in attributes], separators=(",", ":"))


def load_attributes(text: str | None) -> tuple[model.Attribute, ...]:
    if not text:
        return ()
    return tuple(model.Attribute(k, v) for k, v in json.loads(text))


def as_datetime(value: Any) -> datetime:
    """SQLite hands back text, PostgreSQL a datetime; both mean an aware UTC instant."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def as_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


def achievement_from_row(
    row: Mapping[str, Any], prerequisite_ids: tuple[int, ...] = ()
) -> model.Achievement:
    kind = model.TriggerKind(row["trigger_kind"])
    trigger: model.Trigger
    if kind is model.TriggerKind.METRIC:
        attribute = model.Attribute(row["attr_key"], row["attr_value"]) if row["attr_key"] else None
        trigger = model.MetricTrigger(
            metric_id=int(row["metric_id"]),
            threshold=float(row["threshold"]),
            event_attribute=attribute,
        )
    elif kind is model.TriggerKind.STREAK:
        trigger = model.StreakTrigger(length=int(row["streak_length"]))
    elif kind is model.TriggerKind.API:
        trigger = model.ApiTrigger()
    else:
        trigger = model.CompositeTrigger(prerequisite_ids=prerequisite_ids)
    return model.Achievement(
        id=int(row["id"]),
        key=row["key"],
        name=row["name"],
        description=row["description"],
        badge_url=row["badge_url"],
        hidden=bool(row["hidden"]),
        status=model.AchievementStatus(row["status"]),
        trigger=trigger,
        user_attributes=load_attributes(row["user_attributes"]),
        completions=int(row["completions"]),
    )
