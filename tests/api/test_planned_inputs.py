"""`planned_input` must build exactly what Strawberry's own conversion builds, for every shape
of field Laurel's inputs use: scalars, defaults, omitted and null values, enums, datetimes,
nested inputs and lists of them."""

import enum
from datetime import datetime
from typing import Any

import pytest
import strawberry

from app.api.inputs import planned_input


class Color(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


def echo_schema(planned: bool) -> strawberry.Schema:
    @strawberry.input
    class Tag:
        key: str
        weight: float = 1.0

    @strawberry.input
    class Thing:
        name: str
        count: int | None
        when: datetime | None = None
        color: Color | None = None
        main: Tag | None = None
        tags: list[Tag] | None = None
        labels: list[str] | None = None

    if planned:
        planned_input(Tag)
        planned_input(Thing)

    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, thing: Thing) -> str:
            return repr(thing)

    return strawberry.Schema(query=Query, types=[strawberry.enum(Color)])


DOCUMENT = "query($t: Thing!) { echo(thing: $t) }"
VALUES: list[dict[str, Any]] = [
    {"name": "a"},
    {"name": "a", "count": None, "when": None, "main": None, "tags": None},
    {"name": "b", "count": 3, "when": "2026-01-02T03:04:05+02:00", "color": "BLUE"},
    {"name": "c", "main": {"key": "k"}, "tags": [{"key": "x", "weight": 2}, {"key": "y"}]},
    {"name": "d", "tags": [], "labels": ["p", "q"]},
]


@pytest.mark.parametrize("value", VALUES)
def test_planned_conversion_matches_strawberry(value: dict[str, Any]) -> None:
    expected = echo_schema(planned=False).execute_sync(DOCUMENT, {"t": value})
    actual = echo_schema(planned=True).execute_sync(DOCUMENT, {"t": value})
    assert expected.errors is None
    assert actual.errors is None
    assert actual.data == expected.data


def test_literal_arguments_convert_the_same() -> None:
    document = '{ echo(thing: {name: "e", color: RED, tags: [{key: "z"}]}) }'
    expected = echo_schema(planned=False).execute_sync(document)
    assert echo_schema(planned=True).execute_sync(document).data == expected.data
    assert expected.data is not None and "Color.RED" in expected.data["echo"]
