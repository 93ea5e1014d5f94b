"""How each trigger kind is stored and queried: its columns, its row form, and its SQL.

The domain's trigger classes (`app/domain/triggers.py`) state each rule; this module holds the
one SQL form of the same rule per kind, used wherever storage must find who has reached what:

* `reached(a, user)`: the user (an SQL expression for a user pk) has reached the trigger of
  achievement row `a` (`Trigger.reached`). Backdating asks it per user of one achievement, an
  attribute change per achievement of one user, the composite cascade for the composites of
  completed prerequisites.
* `metric_crossed(...)`: a total's move crossed a metric threshold (`MetricTrigger.crossed`),
  the event path's index range.

tests/persistence checks that the SQL and the domain rules agree on the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from app.domain.attributes import Attribute
from app.domain.triggers import (
    ApiTrigger,
    CompositeTrigger,
    MetricTrigger,
    StreakTrigger,
    Trigger,
    TriggerKind,
)

Row = Mapping[str, Any]

TRIGGER_COLUMNS = ("metric_id", "threshold", "attr_key", "attr_value", "streak_length")


class KindStorage(Protocol):
    def columns(self, trigger: Trigger) -> dict[str, object]:
        """This kind's values of TRIGGER_COLUMNS; the others keep their defaults."""
        ...

    def from_row(self, row: Row, prerequisite_ids: tuple[int, ...]) -> Trigger: ...
    def reached(self, a: str, user: str) -> str: ...


class MetricStorage:
    def columns(self, trigger: Trigger) -> dict[str, object]:
        assert isinstance(trigger, MetricTrigger)
        attribute = trigger.event_attribute
        return {
            "metric_id": trigger.metric_id,
            "threshold": trigger.threshold,
            "attr_key": attribute.key if attribute else "",
            "attr_value": attribute.value if attribute else "",
        }

    def from_row(self, row: Row, prerequisite_ids: tuple[int, ...]) -> Trigger:
        attribute = Attribute(row["attr_key"], row["attr_value"]) if row["attr_key"] else None
        return MetricTrigger(
            metric_id=int(row["metric_id"]),
            threshold=float(row["threshold"]),
            event_attribute=attribute,
        )

    def reached(self, a: str, user: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM metric_total mt WHERE mt.user_id = "
            f"{user} AND mt.metric_id = {a}.metric_id AND mt.attr_key = {a}.attr_key "
            f"AND mt.attr_value = {a}.attr_value AND mt.total >= {a}.threshold)"
        )


class StreakStorage:
    def columns(self, trigger: Trigger) -> dict[str, object]:
        assert isinstance(trigger, StreakTrigger)
        return {"streak_length": trigger.length}

    def from_row(self, row: Row, prerequisite_ids: tuple[int, ...]) -> Trigger:
        return StreakTrigger(length=int(row["streak_length"]))

    def reached(self, a: str, user: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM streak_state ss WHERE ss.user_id = "
            f"{user} AND ss.longest >= {a}.streak_length)"
        )


class ApiStorage:
    def columns(self, trigger: Trigger) -> dict[str, object]:
        return {}

    def from_row(self, row: Row, prerequisite_ids: tuple[int, ...]) -> Trigger:
        return ApiTrigger()

    def reached(self, a: str, user: str) -> str:
        return "1 = 0"


class CompositeStorage:
    """Prerequisites live in achievement_prerequisite, not in columns."""

    def columns(self, trigger: Trigger) -> dict[str, object]:
        return {}

    def from_row(self, row: Row, prerequisite_ids: tuple[int, ...]) -> Trigger:
        return CompositeTrigger(prerequisite_ids=prerequisite_ids)

    def reached(self, a: str, user: str) -> str:
        return (
            "NOT EXISTS (SELECT 1 FROM achievement_prerequisite pp WHERE pp.composite_id = "
            f"{a}.id AND NOT EXISTS (SELECT 1 FROM completion pc WHERE pc.user_id = {user} "
            "AND pc.achievement_id = pp.prerequisite_id))"
        )


STORAGE: dict[TriggerKind, KindStorage] = {
    TriggerKind.METRIC: MetricStorage(),
    TriggerKind.STREAK: StreakStorage(),
    TriggerKind.API: ApiStorage(),
    TriggerKind.COMPOSITE: CompositeStorage(),
}


def trigger_columns(trigger: Trigger) -> dict[str, object]:
    columns: dict[str, object] = {
        "trigger_kind": trigger.kind.value,
        "metric_id": None,
        "threshold": None,
        "attr_key": "",
        "attr_value": "",
        "streak_length": None,
    }
    columns.update(STORAGE[trigger.kind].columns(trigger))
    return columns


def trigger_from_row(row: Row, prerequisite_ids: tuple[int, ...] = ()) -> Trigger:
    return STORAGE[TriggerKind(row["trigger_kind"])].from_row(row, prerequisite_ids)


def reached_any(a: str, user: str) -> str:
    """`reached` for an achievement row of any kind."""
    return (
        "("
        + " OR ".join(
            f"({a}.trigger_kind = '{kind.value}' AND {storage.reached(a, user)})"
            for kind, storage in STORAGE.items()
        )
        + ")"
    )


def metric_crossed(a: str, key: str, value: str, before: str, after: str) -> str:
    """A total keyed (`key`, `value`) moved from `before` to `after` across `a`'s threshold;
    the caller also restricts `a` to the event's metric."""
    return (
        f"{a}.attr_key = {key} AND {a}.attr_value = {value} "
        f"AND {a}.threshold > {before} AND {a}.threshold <= {after}"
    )
