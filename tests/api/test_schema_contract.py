"""schema.graphql is what the code serves, and it honours every name and type of the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    build_schema,
)

from app.api.schema import schema_sdl

ROOT = Path(__file__).resolve().parents[2]
# The team's contract lives beside the repository, not in it: without it, there is nothing to
# check against.
CONTRACT = ROOT.parent / "shared" / "CONTRACT.graphql"
needs_contract = pytest.mark.skipif(
    not CONTRACT.exists(), reason=f"the GraphQL contract is not at {CONTRACT}"
)


def test_checked_in_schema_is_exported_from_the_code() -> None:
    assert (ROOT / "schema.graphql").read_text() == schema_sdl(), "run `make schema`"


def _output_compatible(served: GraphQLType, promised: GraphQLType) -> bool:
    """A served output may be stricter (non-null) than promised, never looser or different."""
    if isinstance(promised, GraphQLNonNull):
        return isinstance(served, GraphQLNonNull) and _output_compatible(
            served.of_type, promised.of_type
        )
    if isinstance(served, GraphQLNonNull):
        served = served.of_type
    if isinstance(promised, GraphQLList):
        return isinstance(served, GraphQLList) and _output_compatible(
            served.of_type, promised.of_type
        )
    return not isinstance(served, GraphQLList) and getattr(served, "name", None) == promised.name  # type: ignore[union-attr]


def _same(served: GraphQLType, promised: GraphQLType) -> bool:
    return str(served) == str(promised)


def _problems(served: GraphQLSchema, contract: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    for name, promised in contract.type_map.items():
        if name.startswith("__"):
            continue
        actual = served.type_map.get(name)
        if actual is None:
            problems.append(f"type {name} is missing")
            continue
        if type(actual) is not type(promised):
            problems.append(f"{name} is a {type(actual).__name__}, not {type(promised).__name__}")
            continue
        if isinstance(promised, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(actual, GraphQLObjectType | GraphQLInterfaceType)
            problems += _field_problems(name, actual, promised)
            missing = {i.name for i in promised.interfaces} - {i.name for i in actual.interfaces}
            problems += [f"{name} does not implement {i}" for i in sorted(missing)]
        elif isinstance(promised, GraphQLInputObjectType):
            assert isinstance(actual, GraphQLInputObjectType)
            for field_name, field in promised.fields.items():
                got = actual.fields.get(field_name)
                if got is None or not _same(got.type, field.type):
                    problems.append(
                        f"input {name}.{field_name}: {got and got.type} != {field.type}"
                    )
            extra = [
                f
                for f, v in actual.fields.items()
                if f not in promised.fields and isinstance(v.type, GraphQLNonNull)
            ]
            problems += [f"input {name}.{f} is new and required" for f in extra]
            if promised.is_one_of and not actual.is_one_of:
                problems.append(f"input {name} lost @oneOf")
        elif isinstance(promised, GraphQLEnumType):
            assert isinstance(actual, GraphQLEnumType)
            missing_values = set(promised.values) - set(actual.values)
            problems += [f"enum {name} lacks {v}" for v in sorted(missing_values)]
        elif isinstance(promised, GraphQLUnionType):
            assert isinstance(actual, GraphQLUnionType)
            missing_members = {t.name for t in promised.types} - {t.name for t in actual.types}
            problems += [f"union {name} lacks {m}" for m in sorted(missing_members)]
        else:
            assert isinstance(promised, GraphQLScalarType)
    return problems


def _field_problems(
    name: str,
    actual: GraphQLObjectType | GraphQLInterfaceType,
    promised: GraphQLObjectType | GraphQLInterfaceType,
) -> list[str]:
    problems = []
    for field_name, field in promised.fields.items():
        got = actual.fields.get(field_name)
        if got is None:
            problems.append(f"{name}.{field_name} is missing")
            continue
        if not _output_compatible(got.type, field.type):
            problems.append(f"{name}.{field_name}: {got.type} is not compatible with {field.type}")
        for arg_name, arg in field.args.items():
            got_arg = got.args.get(arg_name)
            if got_arg is None or not _same(got_arg.type, arg.type):
                problems.append(
                    f"{name}.{field_name}({arg_name}:) is {got_arg and got_arg.type}, not {arg.type}"
                )
            elif arg.default_value != got_arg.default_value:
                problems.append(f"{name}.{field_name}({arg_name}:) default changed")
        extra = [
            a
            for a, v in got.args.items()
            if a not in field.args
            and isinstance(v.type, GraphQLNonNull)
            and v.default_value is None
        ]
        problems += [f"{name}.{field_name}({a}:) is new and required" for a in extra]
    return problems


@needs_contract
def test_served_schema_honours_the_contract() -> None:
    served = build_schema(schema_sdl())
    contract = build_schema(CONTRACT.read_text())
    assert _problems(served, contract) == []


@needs_contract
def test_the_contract_check_notices_a_broken_schema() -> None:
    contract = build_schema(CONTRACT.read_text())
    broken = build_schema(
        schema_sdl().replace(
            "metricTotal(metricKey: String!): Float!", "metricTotal(metricKey: String!): Float"
        )
    )
    assert _problems(broken, contract) == ["User.metricTotal: Float is not compatible with Float!"]


# Wave-2 areas that are built, each checked with the files it depends on (the contract's README).
AREAS = {
    "webhooks": ["webhooks.graphql"],
    "badges": ["badges.graphql"],
    "streak-freezes": ["streak-freezes.graphql"],
    "points": ["points.graphql"],
    "leaderboards": ["points.graphql", "leaderboards.graphql"],
}


@needs_contract
@pytest.mark.parametrize("area", sorted(AREAS))
def test_served_schema_implements_each_built_area(area: str) -> None:
    parts = [CONTRACT.read_text()] + [
        (CONTRACT.parent / "contract" / name).read_text() for name in AREAS[area]
    ]
    served = build_schema(schema_sdl())
    assert _problems(served, build_schema("\n".join(parts))) == []
