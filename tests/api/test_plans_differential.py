"""Query plans answer exactly what graphql-core answers: generated documents, run both ways.

One tenant holds a bit of everything (achievements of each trigger, one of them secret, a
streak, a points system, a leaderboard, users with events and completions). Documents come from
hypothesis-graphql over the served schema, with their ids and keys drawn from that data so
that they reach it, and from a list written by hand for what generation rarely makes
(fragments, aliases, `@include`/`@skip` with variables, errors inside lists and under non-null
fields). Each runs through the served schema's own execution path twice, once with plans and
once with graphql-core's executor, for an admin key and for a user's token; the two JSON
answers (data and errors, with their messages, locations, paths and codes) must be identical
bytes. Mutations, written by hand, are those that answer the same on the same data.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from conftest import Api, new_tenant
from graphql import ArgumentNode, DocumentNode, StringValueNode, print_ast, visit
from graphql.language import Visitor
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from app.api.context import Context
from app.api.limits import Limits
from app.api.loaders import Loaders
from app.api.schema import build_schema
from app.domain.model import Caller, CallerKind

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
USERS = ["ada", "bob", "cy", "nobody"]
KEYS = ["first", "tenth", "streak-2", "feedback", "both", "secret", "xp", "weekly", "lessons", "no"]
IDS = {"id", "userId", "aroundUserId"}
KEYED = {"key", "metricKey", "systemKey", "achievementKey"}
# Generous limits, so that generated documents are run rather than refused as too costly.
ROOMY = Limits(
    max_depth=30, max_aliases=200, max_tokens=100_000, max_cost=10**12, max_selections=10_000
)
PLANNED = build_schema(ROOMY, query_plans=True)
REFERENCE = build_schema(ROOMY, query_plans=False)

HANDWRITTEN = [
    "{ achievements { __typename ... on Achievement { key name completions rarity } } }",
    """query($u: String!, $full: Boolean!, $lean: Boolean!) {
      user(id: $u) { id tz
        achievements(includeIncomplete: true) { achievedAt progress @include(if: $full) {
          current target percent }
          achievement { ...Named ... on MetricAchievement { metricValue metric { key } }
                        ... on CompositeAchievement { prerequisites { ...Named } } } }
        streak @skip(if: $lean) { length frequency } } }
    fragment Named on Achievement { key name description badgeUrl hidden status trigger }""",
    """{ a: user(id: "ada") { total: metricTotal(metricKey: "lessons") }
         b: user(id: "ada") { total: metricTotal(metricKey: "no-such-metric") }
         c: user(id: "nobody") { id } }""",
    """{ achievements { ... on CompositeAchievement { key prerequisites {
         ... on Achievement { key completionsByDay(days: 3) { day completions } } } } } }""",
    """{ user(id: "ada") { points(systemKey: "xp") { total awards { awarded } }
                         leaderboard(key: "weekly") { rank value } } }""",
    '{ leaderboard(key: "weekly", limit: 5) { participants rankings { rank value user { id } } } }',
    "{ achievements { ... on StreakAchievement { streakLength } __typename } metrics { key } }",
    '{ user(id: "ada") { metricTotal(metricKey: "no") } streakSettings { frequency } }',
    '{ __typename user(id: "bob") { __typename achievements { __typename } } }',
    "{ pointsSystems { key levels { key } } leaderboards { key status } }",
]
VARIABLES = [
    {"u": "ada", "full": True, "lean": False},
    {"u": "bob", "full": False, "lean": True},
    {"u": "nobody", "full": True, "lean": True},
]


SHARED_LOAD_FAILS = (
    "{ achievements { ... on CompositeAchievement { completionsByDay(days: 0) "
    "{ completions } } ... on MetricAchievement { metric { key } } } "
    'achievement(key: "first") { ... on MetricAchievement { metric { key } } } }'
)
FAILED_BRANCH = [(["achievements", 4, "completionsByDay"], "BAD_USER_INPUT")]


@dataclass
class World:
    api: Api
    callers: list[Caller]


@pytest.fixture(scope="module")
async def world(http: httpx.AsyncClient) -> World:
    api = await new_tenant(http, "plans")
    await api.metric()
    await api.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}})
    await api.achievement("tenth", {"metric": {"metricKey": "lessons", "value": 10}})
    await api.achievement("streak-2", {"streak": {"length": 2}})
    await api.achievement("feedback", {"api": True})
    await api.achievement("both", {"composite": {"prerequisiteKeys": ["first", "feedback"]}})
    await api.achievement("secret", {"metric": {"metricKey": "lessons", "value": 3}}, hidden=True)
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    await api.data('mutation { createPointsSystem(input: {key: "xp", name: "XP"}) { key } }')
    await api.data(
        'mutation { createPointsTrigger(systemKey: "xp", input: {key: "per", points: 5, type: '
        '{metric: {metricKey: "lessons", metricThreshold: 1}}}) { __typename } '
        'setPointsTriggerStatus(systemKey: "xp", key: "per", status: ACTIVE) { __typename } }'
    )
    await api.data(
        'mutation { createLeaderboard(input: {key: "weekly", name: "Weekly", rankBy: '
        '{metricKey: "lessons"}, start: "2026-01-01", timeZone: "UTC"}) { key } '
        'setLeaderboardStatus(key: "weekly", status: ACTIVE) { status } }'
    )
    for user, value in (("ada", 4), ("bob", 1), ("cy", 12)):
        assert "errors" not in await api.track(user, value)
    await api.data(
        'mutation { completeAchievement(input: {achievementKey: "feedback", user: {id: "ada"}}) '
        "{ __typename } }"
    )
    callers = [
        Caller(api.tenant_id, CallerKind.ADMIN, credential_id="diff"),
        Caller(api.tenant_id, CallerKind.USER, user_id="ada", credential_id="diff"),
    ]
    return World(api, callers)


async def answer(schema: Any, app: Any, caller: Caller, query: str, variables: Any) -> Answer:
    """What a client would get, through the schema's whole operation (limits, validation,
    execution, error codes) with a request context of its own."""
    services = app.state.services
    context = Context(
        services=services,
        request=None,
        response=None,
        request_id="diff",
        loaders=Loaders(services.reads, caller.tenant_id),
        caller_or_error=caller,
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    return Answer(result.data, [dict(error.formatted) for error in result.errors or []])


@dataclass
class Answer:
    data: Any
    errors: list[dict[str, Any]]

    def json(self) -> bytes:
        return orjson.dumps({"data": self.data, "errors": self.errors})


def raced(error: dict[str, Any], answer: Answer, common: list[dict[str, Any]]) -> bool:
    """Whether an error may be on one side only: a field error that nulls a position by
    propagation ends the work below it, and what sibling branches still running below it
    record before that is decided by I/O timing, in graphql-core as much as in a plan. So an
    error is allowed on one side only when a position above it is null in the data, nulled by
    an error both sides have from another branch below that position."""
    path = error.get("path") or []
    for depth in range(len(path)):
        prefix, node = path[:depth], answer.data
        for key in prefix:
            node = None if node is None else node[key]
        if node is not None:
            continue
        for other in common:
            theirs = other.get("path") or []
            if theirs[:depth] == prefix and theirs[: depth + 1] != path[: depth + 1]:
                return True
    return False


async def assert_same(app: Any, world: World, query: str, variables: Any = None) -> None:
    """Byte for byte, but for errors raced as `raced` says, and for the order of errors, which
    follows the order their queries answer in."""
    for caller in world.callers:
        planned = await answer(PLANNED, app, caller, query, variables)
        try:
            reference = await answer(REFERENCE, app, caller, query, variables)
        except asyncio.CancelledError:
            # graphql-core cancels the tasks of a branch that failed, and with them a
            # dataloader future other branches wait on: the operation itself fails
            # (test_a_failing_branch_leaves_shared_loads_to_the_others pins the plan's answer).
            reject()
        if planned.json() == reference.json():
            continue
        assert orjson.dumps(planned.data) == orjson.dumps(reference.data), (query, caller.kind)
        mine, theirs = (
            [orjson.dumps(e) for e in planned.errors],
            [orjson.dumps(e) for e in reference.errors],
        )
        common = [e for e, raw in zip(planned.errors, mine, strict=True) if raw in theirs]
        # In what order independent branches record their errors follows which of their
        # queries answers first, on PostgreSQL's several connections: compared as sets.
        assert sorted(raw for raw in mine if raw in theirs) == sorted(
            raw for raw in theirs if raw in mine
        )
        for side, errors, raws, others in (
            (planned, planned.errors, mine, theirs),
            (reference, reference.errors, theirs, mine),
        ):
            for error, raw in zip(errors, raws, strict=True):
                assert raw in others or raced(error, side, common), (query, caller.kind, error)


class _Known(Visitor):
    """Puts the tenant's own ids and keys into a generated document's string arguments."""

    def __init__(self, draw: Any) -> None:
        super().__init__()
        self.draw = draw

    def enter_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
        if not isinstance(node.value, StringValueNode):
            return None
        pool = USERS if node.name.value in IDS else KEYS if node.name.value in KEYED else None
        if pool is None:
            return None
        value = StringValueNode(value=self.draw(st.sampled_from(pool)))
        return ArgumentNode(name=node.name, value=value)


@st.composite
def documents(draw: Any) -> str:
    generated: DocumentNode = draw(queries(SCHEMA, print_ast=lambda document: document))
    return print_ast(visit(generated, _Known(draw)))


@pytest.mark.parametrize("query", HANDWRITTEN)
async def test_handwritten_documents_answer_the_same_both_ways(
    app: Any, world: World, query: str
) -> None:
    for variables in VARIABLES if "$" in query else [None]:
        await assert_same(app, world, query, variables)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=documents())
async def test_generated_documents_answer_the_same_both_ways(
    app: Any, world: World, query: str
) -> None:
    await assert_same(app, world, query)


async def test_a_failing_branch_leaves_shared_loads_to_the_others(app: Any, world: World) -> None:
    """Two branches wait on one load (the metric of "first"), and one of them fails under a
    non-null field: the plan answers with that error and a null response, where graphql-core's
    executor cancels the shared load and the operation fails outright."""
    planned = await answer(PLANNED, app, world.callers[0], SHARED_LOAD_FAILS, None)
    assert planned.data is None
    assert [(e["path"], e["extensions"]["code"]) for e in planned.errors] == FAILED_BRANCH
    with pytest.raises(asyncio.CancelledError):
        await answer(REFERENCE, app, world.callers[0], SHARED_LOAD_FAILS, None)


async def test_the_served_schema_runs_plans(world: World) -> None:
    """Over HTTP, the same document is answered, coded, rather than failing the request."""
    response = await world.api.call(SHARED_LOAD_FAILS)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == FAILED_BRANCH


# Mutations that answer the same on the same data: replays of a first response (run once
# before, so that both sides replay it), refusals that store nothing, and root fields run one
# after the other, the second refused under its non-null payload. Each with whether it answers
# data at all.
REPLAYED = (
    'trackEvent(input: {metricKey: "lessons", user: {id: "ada"}, value: 2, '
    'idempotencyKey: "diff-replay"})'
)
PAYLOAD = """{ __typename eventId metricKey total idempotencyKey idempotentReplayed streakExtended
  currentStreak { length frequency } points { added total levelChanged system { key } }
  achievements { achievedAt progress { percent } achievement { ...Named } } }"""
NAMED = "fragment Named on Achievement { key name rarity completions }"
MUTATIONS = [
    (f"mutation {{ {REPLAYED} {PAYLOAD} }} {NAMED}", True),
    (
        f"mutation {{ first: {REPLAYED} {{ total }} again: {REPLAYED} {{ t: total eventId }} }}",
        True,
    ),
    (
        'mutation { trackEvent(input: {metricKey: "no-such", user: {id: "ada"}, value: 1}) '
        "{ total } }",
        False,
    ),
    (
        f"mutation {{ a: {REPLAYED} {{ total }} "
        'b: trackEvent(input: {metricKey: "lessons", user: {id: ""}, value: 1}) { total } }',
        False,
    ),
    (
        'mutation { completeAchievement(input: {achievementKey: "feedback", user: {id: "ada"}}) '
        "{ completionId newlyCompleted points { added } alsoCompleted { achievedAt } "
        "achievement { achievedAt achievement { ... on ApiAchievement { key completions } } } } }",
        True,
    ),
]


@pytest.mark.parametrize(("mutation", "answers_data"), MUTATIONS)
async def test_mutations_answer_the_same_both_ways(
    app: Any, world: World, mutation: str, answers_data: bool
) -> None:
    first = await answer(PLANNED, app, world.callers[0], mutation, None)
    assert (first.data is not None) == answers_data, first.errors
    await assert_same(app, world, mutation)
