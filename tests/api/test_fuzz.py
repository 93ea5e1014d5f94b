"""Fuzzing: generated operations and hostile values never make the server fail (500, INTERNAL).

Refusals are fine (4xx, coded errors); what must never happen is an unhandled failure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from conftest import Api, new_tenant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
SCALARS = {
    "DateTime": st.sampled_from(
        ["2026-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00", "9999-12-31T23:59:59Z", "x"]
    ).map(nodes.String),
    "Date": st.sampled_from(["2026-01-01", "0001-01-01", "x"]).map(nodes.String),
    # A file cannot travel in a JSON request: whatever stands in for one must be refused.
    "Upload": st.sampled_from(["file", ""]).map(nodes.String),
}
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_no_failure(response: httpx.Response, sent: str) -> None:
    assert response.status_code < 500, (sent, response.text)
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL" not in codes, (sent, body)
    assert all(codes), (sent, body)


async def send(api: Api, query: str) -> None:
    assert_no_failure(await api.call(query), query)


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS))
async def test_generated_queries(api: Api, query: str) -> None:
    await send(api, query)


@FUZZ
@given(query=mutations(SCHEMA, custom_scalars=SCALARS))
async def test_generated_mutations(api: Api, query: str) -> None:
    await send(api, query)


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
async def test_generated_invalid_queries(api: Api, query: str) -> None:
    await send(api, query)


HOSTILE = [
    "1e308",
    "-1e308",
    "1e309",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "9007199254740993",
    "-0",
    "0.1e-400",
    "true",
    "null",
    "[]",
    "{}",
    '""',
    '"   "',
    r'"\ud800"',
    r'"a\udfffb"',
    r'"\u0000"',
    '"' + "\U0001f600" * 300 + '"',
    '"\u202e\u0301"',
    '"' + "x" * 1_000_000 + '"',
    "[" * 40 + "1" + "]" * 40,
]

TRACK = (
    "mutation($i: TrackEventInput!) { trackEvent(input: $i) { eventId total"
    " achievements { achievedAt } currentStreak { length } } }"
)
CREATE = (
    "mutation($i: CreateAchievementInput!) { createAchievement(input: $i)"
    " { ... on MetricAchievement { key name } } }"
)
IDENTIFY = "mutation($i: UserInput!) { identifyUser(input: $i) { id name email tz } }"
USER = {
    "id": "u1",
    "name": "n",
    "email": "e@example.com",
    "tz": "Europe/Paris",
    "attributes": [{"key": "k", "value": "v"}],
}
BASELINES: list[tuple[str, dict[str, Any]]] = [
    (
        TRACK,
        {
            "metricKey": "m",
            "user": USER,
            "value": 1,
            "attributes": [{"key": "k", "value": "v"}],
            "idempotencyKey": "idem",
            "occurredAt": "2026-01-01T00:00:00Z",
        },
    ),
    (
        CREATE,
        {
            "key": "a",
            "name": "A",
            "trigger": {
                "metric": {
                    "metricKey": "m",
                    "value": 5,
                    "eventAttribute": {"key": "k", "value": "v"},
                }
            },
            "description": "d",
            "badgeUrl": "https://example.com/b.png",
            "hidden": False,
            "userAttributes": [{"key": "k", "value": "v"}],
        },
    ),
    (CREATE, {"key": "s", "name": "S", "trigger": {"streak": {"length": 3}}}),
    (CREATE, {"key": "c", "name": "C", "trigger": {"composite": {"prerequisiteKeys": ["a"]}}}),
    (CREATE, {"key": "p", "name": "P", "trigger": {"api": True}}),
    (IDENTIFY, USER),
]


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaf_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaf_paths(v, (*path, i))]
    return [path]


MARK = "\x00hostile\x00"


def with_hostile(variables: dict[str, Any], path: tuple[Any, ...], raw: str) -> bytes:
    """The JSON body with `raw` spliced in verbatim: NaN and lone surrogates survive only so."""
    copy = json.loads(json.dumps(variables))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = MARK
    return json.dumps(copy).replace(json.dumps(MARK), raw).encode()


async def test_hostile_values_in_every_input_field(http: httpx.AsyncClient) -> None:
    for query, variables in BASELINES:
        for path in leaf_paths(variables):
            api = await new_tenant(http)  # a tenant per field keeps each under the rate limit
            await api.metric("m")
            await api.gql(CREATE, {"i": BASELINES[1][1]})
            for raw in HOSTILE:
                body = with_hostile({"i": variables}, ("i", *path), raw)
                payload = b'{"query": %s, "variables": %s}' % (json.dumps(query).encode(), body)
                response = await http.post(
                    "/graphql",
                    content=payload,
                    headers={"X-API-Key": api.key, "Content-Type": "application/json"},
                )
                assert_no_failure(response, f"{path} = {raw[:60]} in {query[:40]}")


async def test_nul_in_a_literal_is_refused_on_every_backend(api: Api) -> None:
    response = await api.call('mutation { identifyUser(input: {id: "a\\u0000b"}) { id } }')
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
