"""Every GraphQL document the harness sends validates against the team contract
(../shared/CONTRACT.graphql beside the repository),
and seeding shrinks its batches when the server refuses one as too complex.

Why: Laurel is written at the same time as this harness, so the contract is the only thing to
check the documents against before the server exists; a typo would otherwise surface as a
failed benchmark run much later. Run with
`.venv/bin/python -m pytest -p no:cacheprovider bench/test_documents.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import seed
from graphql import GraphQLSchema, build_schema, parse, validate

BENCH = Path(__file__).resolve().parent
CONTRACT = Path(os.environ.get("LAUREL_CONTRACT", BENCH.parent.parent / "shared/CONTRACT.graphql"))


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    if not CONTRACT.exists():
        pytest.skip(f"no contract at {CONTRACT}")
    return build_schema(CONTRACT.read_text())


def _lua(name: str) -> str:
    """A script's document as the server receives it (after JSON unescaping)."""
    return seed.script_document(BENCH / name).replace('\\"', '"')


@pytest.mark.parametrize("script", ["track.lua", "user_achievements.lua"])
def test_wrk_scripts(schema: GraphQLSchema, script: str) -> None:
    assert validate(schema, parse(_lua(script))) == []


def test_seeding_documents(schema: GraphQLSchema) -> None:
    assert validate(schema, parse(seed.achievements_document(3))) == []
    variables = seed.achievements_variables(100, 3, 10.0)
    assert variables["k2"] == "a102" and variables["i2"]["key"] == "a102"
    assert validate(schema, parse(seed.events_document(30))) == []
    assert variables["i2"]["trigger"] == {"metric": {"metricKey": "lessons", "value": 1030.0}}


def test_too_complex_shrinks_the_batch() -> None:
    named = {"code": "QUERY_TOO_COMPLEX", "limitName": "aliases", "limit": 15, "actual": 50}
    assert seed.GraphQLError("x", [{"extensions": named}]).smaller_batch(25, 2) == 7
    unnamed = [{"extensions": {"code": "QUERY_TOO_COMPLEX"}}]
    assert seed.GraphQLError("x", unnamed).smaller_batch(30, 1) == 15
    assert seed.GraphQLError("x", unnamed).smaller_batch(1, 1) is None
    other = [{"message": "boom", "extensions": {"code": "INTERNAL"}}, "junk"]
    assert seed.GraphQLError("x", other).smaller_batch(25, 2) is None
