"""Seed Laurel through its public GraphQL API, and check a benchmark's request before timing it.

Why through the API and not the database: the harness must not depend on Laurel's tables, which
are being written at the same time as it. Many mutations go in one request (aliases) so that
10,000 achievements seed in far fewer round trips; when the server refuses a request as too
complex (Laurel limits aliases per request), the batch shrinks to fit and seeding goes on.
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

    def __init__(self, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []

    def smaller_batch(self, current: int, aliases_per_item: int) -> int | None:
        """The batch to retry with when the server said QUERY_TOO_COMPLEX, else None.

        Laurel's error names the limit (`limitName: aliases`, `limit`); without it, halve.
        """
        for error in self.errors:
            ext = error.get("extensions") if isinstance(error, dict) else None
            if not isinstance(ext, dict) or ext.get("code") != "QUERY_TOO_COMPLEX":
                continue
            limit = ext.get("limit") if ext.get("limitName") == "aliases" else None
            fit = limit // aliases_per_item if isinstance(limit, int) else current // 2
            smaller = min(fit, current - 1)
            return smaller if smaller >= 1 else None
        return None


def _data(resp: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    if resp.status_code != 200 or not isinstance(payload, dict) or payload.get("errors"):
        errors = payload.get("errors") if isinstance(payload, dict) else None
        raise GraphQLError(
            f"{what}: HTTP {resp.status_code}: {resp.text[:1000]}",
            errors if isinstance(errors, list) else None,
        )
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
    start = 0
    while start < achievements:
        count = min(batch, achievements - start)
        variables = achievements_variables(start, count, step)
        try:
            gql(client, achievements_document(count), variables, what=f"achievements a{start}..")
        except GraphQLError as exc:
            batch = _shrink(exc, count, aliases_per_item=2)
            continue
        start += count


def configure_streak(client: httpx.Client) -> None:
    """A daily streak on the metric with freezes: the streak ledger's share of an event."""
    gql(
        client,
        "mutation { configureStreak(input: {frequency: DAILY, metricKeys: "
        f'["{METRIC_KEY}"], freezes: {{startCount: 1, maxCount: 3, autoEarnInterval: 7, '
        "autoEarnAmount: 1}}) { frequency } }",
        what="streak",
    )


def _shrink(exc: GraphQLError, current: int, aliases_per_item: int) -> int:
    """The smaller batch after a too-complex refusal (which changed nothing); re-raise others."""
    smaller = exc.smaller_batch(current, aliases_per_item)
    if smaller is None:
        raise exc
    return smaller


def events_document(events: int) -> str:
    """`events` aliased value-1 trackEvents for the user in $u: one request per user."""
    track = f'trackEvent(input: {{metricKey: "{METRIC_KEY}", user: {{id: $u}}, value: 1}})'
    fields = " ".join(f"e{n}: {track} {{ eventId }}" for n in range(events))
    return f"mutation($u: String!) {{ {fields} }}"


async def _post_events(client: httpx.AsyncClient, user: int, count: int) -> None:
    variables = {"u": f"user-{user}"}
    resp = await client.post(
        "/graphql", json={"query": events_document(count), "variables": variables}
    )
    _data(resp, f"events of user-{user}")


async def _first_user(client: httpx.AsyncClient, events: int) -> int:
    """Seed user-0 alone, learning how many events fit in one request; returns that size."""
    chunk, sent = events, 0
    while sent < events:
        count = min(chunk, events - sent)
        try:
            await _post_events(client, 0, count)
        except GraphQLError as exc:
            chunk = _shrink(exc, count, aliases_per_item=1)
            continue
        sent += count
    return chunk


async def _seed_events(
    base_url: str, api_key: str, users: int, events: int, concurrency: int
) -> None:
    limit = asyncio.Semaphore(concurrency)
    headers = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120.0) as client:
        chunk = await _first_user(client, events) if users else events

        async def one(user: int) -> None:
            async with limit:
                for sent in range(0, events, chunk):
                    await _post_events(client, user, min(chunk, events - sent))

        await asyncio.gather(*(one(u) for u in range(1, users)))


def seed_events(base_url: str, api_key: str, users: int, events: int, concurrency: int) -> None:
    """`events` value-1 events for each of user-0 .. user-(users-1): completions for the reads.

    Users go concurrently (`concurrency` requests in flight), as many events per request as the
    server accepts.
    """
    asyncio.run(_seed_events(base_url, api_key, users, events, concurrency))


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
