"""Input types that convert themselves through a plan built once.

Strawberry's generic conversion resolves every input field's type and GraphQL name again on
every request: about 90 µs for `TrackEventInput`, the largest single cost of `trackEvent` above
the no-op floor. `StrawberryObjectDefinition.from_input` is Strawberry's hook for types that build
their own values; this one does what the generic path does, with the per-field work done once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any, NamedTuple, TypeVar

from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    StrawberryType,
    get_object_definition,
    has_object_definition,
)

T = TypeVar("T", bound=type)
Convert = Callable[[Any, InputContext], Any]


class _Field(NamedTuple):
    graphql_name: str
    python_name: str
    convert: Convert | None
    """None for scalars: graphql-core has parsed them already."""


def planned_input(cls: T) -> T:
    """Installs the planned conversion on a `@strawberry.input` class; not for `Maybe` fields,
    whose null handling Strawberry leaves to the type that sets the hook."""
    definition = get_object_definition(cls, strict=True)
    plan: list[_Field] = []
    implicit_none: dict[str, None] = {}

    def build(target: type, value: Mapping[str, Any], context: InputContext) -> Any:
        if not plan and definition.fields:
            plan.extend(_plan(definition, context))
            implicit_none.update(
                (f.python_name, None)
                for f in definition.fields
                if f.default_value is MISSING and f.default_factory is MISSING
            )
        kwargs: dict[str, Any] = dict(implicit_none)
        for field in plan:
            if field.graphql_name not in value:
                continue
            item = value[field.graphql_name]
            if field.convert is not None and item is not None:
                item = field.convert(item, context)
            kwargs[field.python_name] = item
        return target(**kwargs)

    definition.from_input = build
    return cls


def _plan(definition: Any, context: InputContext) -> list[_Field]:
    fields = []
    for field in definition.fields:
        type_ = field.resolve_type(type_definition=definition)
        if isinstance(type_, StrawberryMaybe):
            raise TypeError(f"{definition.name}.{field.python_name}: Maybe needs Strawberry's path")
        graphql_name = context.config.name_converter.from_field(field)
        fields.append(
            _Field(graphql_name, field.python_name, _converter(type_, graphql_name, context))
        )
    return fields


def _converter(type_: StrawberryType | type, name: str, context: InputContext) -> Convert | None:
    """Nested inputs with a `from_input`, and lists of them, are built directly; anything else
    goes through Strawberry's own conversion."""
    inner = type_.of_type if isinstance(type_, StrawberryOptional) else type_
    if is_scalar(inner, context.scalar_registry):
        return None
    item = inner.of_type if isinstance(inner, StrawberryList) else None
    build = _own_builder(inner if item is None else item)
    if build is None:
        return lambda value, ctx: ctx.convert(value, type_, name)
    if item is None:
        return lambda value, ctx: build(inner, value, ctx)
    return lambda value, ctx: [build(item, v, ctx) for v in value]


def _own_builder(type_: Any) -> Callable[[Any, Mapping[str, Any], InputContext], Any] | None:
    """The type's own `from_input`, called as Strawberry would, minus a per-call lookup."""
    return type_.__strawberry_definition__.from_input if has_object_definition(type_) else None
