"""Seed Laurel through its public GraphQL API, and check a benchmark's request before timing it.

Why through the API and not the database: the harness must not depend on Laurel's tables, which
are being written at the same time as it. Many mutations go in one request (aliases) so that
10,000 achievements seed in seconds rather than minutes.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx

METRIC_KEY = "lessons"


class GraphQLError(RuntimeError):
    """A seeding or check request failed: the server is up but does not answer as expected."""


def _data(resp: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    if resp.status_code != 200 or not isinstance(payload, dict) or payload.get("errors"):
        raise GraphQLError(f"{what}: HTTP {resp.status_code}: {resp.text[:1000]}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise GraphQLError(f"{what}: no data: {resp.text[:1000]}")
    return data


def gql(
    client: httpx.Client, query: str, variables: dict[str, Any] | None = None, what: str = ""
) -> dict[str, Any]:
    """POST one GraphQL request; raise GraphQLError on any error so seeding never half-works."""
    resp = client.post("/graphql", json={"query": query, "variables": variables or {}})
    return _data(resp, what or query[:60])


def threshold(index: int, step: float) -> float:
    """Threshold of achievement a{index}: step, 2*step, ... so every N sees the same crossing rate.

    With value-1 events and step 10, one event in ten crosses a threshold whatever the number of
    achievements (as long as totals stay below step * N), so the 10 and 10,000 runs do the same
    completion work per event and differ only in how many achievements exist.
    """
    return step * (index + 1)


def achievements_document(count: int) -> str:
    """A mutation creating and activating `count` achievements given as variables $i<j>, $k<j>.

    The text depends on the batch size only, so every full batch sends the same document and the
    server's parser and validation caches (if any) answer after the first. Mutations run in
    order within a request, so each create precedes its activation.
    """
    params, fields = [], []
    for j in range(count):
        params.append(f"$i{j}: CreateAchievementInput!, $k{j}: String!")
        create = f"createAchievement(input: $i{j}) {{ ... on MetricAchievement {{ key }} }}"
        fields.append(f"c{j}: {create}")
        fields.append(f"s{j}: setAchievementStatus(key: $k{j}, status: ACTIVE) {{ __typename }}")
    return f"mutation({', '.join(params)}) {{ {' '.join(fields)} }}"


def achievements_variables(start: int, count: int, step: float) -> dict[str, Any]:
    """Variables of achievements_document(count) for achievements a<start> .. a<start+count-1>."""
    variables: dict[str, Any] = {}
    for j, i in enumerate(range(start, start + count)):
        variables[f"k{j}"] = f"a{i}"
        variables[f"i{j}"] = {
            "key": f"a{i}",
            "name": f"A{i}",
            "trigger": {"metric": {"metricKey": METRIC_KEY, "value": threshold(i, step)}},
        }
    return variables


def seed_definitions(client: httpx.Client, achievements: int, step: float, batch: int) -> None:
    """The metric and `achievements` ACTIVE metric achievements a0, a1, ..."""
    metric = f'createMetric(input: {{key: "{METRIC_KEY}", name: "Lessons"}}) {{ key }}'
    gql(client, f"mutation {{ {metric} }}")
    for start in range(0, achievements, batch):
        count = min(batch, achievements - start)
        variables = achievements_variables(start, count, step)
        gql(client, achievements_document(count), variables, what=f"achievements a{start}..")


def events_document(events: int) -> str:
    """`events` aliased value-1 trackEvents for the user in $u: one request per user."""
    track = f'trackEvent(input: {{metricKey: "{METRIC_KEY}", user: {{id: $u}}, value: 1}})'
    fields = " ".join(f"e{n}: {track} {{ eventId }}" for n in range(events))
    return f"mutation($u: String!) {{ {fields} }}"


async def _user_events(client: httpx.AsyncClient, user: int, events: int) -> None:
    variables = {"u": f"user-{user}"}
    resp = await client.post(
        "/graphql", json={"query": events_document(events), "variables": variables}
    )
    _data(resp, f"events of user-{user}")


async def _seed_events(base_url: str, api_key: str, users: int, events: int) -> None:
    limit = asyncio.Semaphore(8)
    headers = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120.0) as client:

        async def one(user: int) -> None:
            async with limit:
                await _user_events(client, user, events)

        await asyncio.gather(*(one(u) for u in range(users)))


def seed_events(base_url: str, api_key: str, users: int, events: int) -> None:
    """`events` value-1 events for each of user-0 .. user-(users-1): completions for the reads.

    Concurrent across users (8 requests in flight), one request per user.
    """
    asyncio.run(_seed_events(base_url, api_key, users, events))


def wrk_body(document: str, user: int) -> str:
    """The exact bytes wrk_common.lua sends, so the check below tests what wrk will send."""
    return f'{{"query":"{document}","variables":{{"u":"user-{user}"}}}}'


def check_request(client: httpx.Client, document: str, user: int, what: str) -> dict[str, Any]:
    """Send the benchmark's request once; fail before timing if it errors or returns null."""
    resp = client.post(
        "/graphql", content=wrk_body(document, user), headers={"Content-Type": "application/json"}
    )
    data = _data(resp, what)
    nulls = [name for name, value in data.items() if value is None]
    if nulls:
        raise GraphQLError(f"{what}: {nulls} came back null: {resp.text[:500]}")
    return data


def script_document(script: Path) -> str:
    """The GraphQL document of a bench .lua script (its [[...]] string): one source of truth."""
    match = re.search(r"\[\[(.*?)\]\]", script.read_text(), re.DOTALL)
    if not match:
        raise GraphQLError(f"no [[document]] in {script}")
    return match[1]
