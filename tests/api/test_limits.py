"""Query limits: each one at its value, just under it and just over it (defaults unless stated)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from conftest import Api, LiveServer, tenant_on

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def refusal(body: dict[str, Any], limit_name: str) -> dict[str, Any]:
    errors = [e for e in body.get("errors", []) if e["extensions"].get("limitName") == limit_name]
    assert errors, body
    assert errors[0]["extensions"]["code"] == TOO_COMPLEX
    return dict(errors[0]["extensions"])


async def assert_served(api: Api, query: str) -> None:
    response = await api.call(query)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text


async def assert_refused(api: Api, query: str, limit_name: str) -> dict[str, Any]:
    response = await api.call(query)
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None
    return refusal(response.json(), limit_name)


def aliased(count: int) -> str:
    return "{ " + " ".join(f"m{i}: metrics {{ key }}" for i in range(count)) + " }"


async def test_aliases_at_under_and_over_the_limit(api: Api) -> None:
    await assert_served(api, aliased(14))
    await assert_served(api, aliased(15))
    extensions = await assert_refused(api, aliased(16), "aliases")
    assert (extensions["limit"], extensions["actual"]) == (15, 16)


def statuses(count: int) -> str:
    """`{ achievements ( status : [` count values `] ) { __typename } }`: count + 12 tokens."""
    return "{ achievements(status: [" + " ACTIVE" * count + "]) { __typename } }"


async def test_tokens_at_under_and_over_the_limit(api: Api) -> None:
    await assert_served(api, statuses(1987))
    await assert_served(api, statuses(1988))
    extensions = await assert_refused(api, statuses(1989), "tokens")
    assert extensions["limit"] == 2000 and extensions["actualAtLeast"] > 2000


async def test_a_huge_document_is_refused_by_tokens_before_parsing(api: Api) -> None:
    extensions = await assert_refused(api, statuses(100_000), "tokens")
    assert extensions["actualAtLeast"] == 2001


def typenames(count: int) -> str:
    return "{ " + " __typename" * count + " }"


async def test_selections_at_under_and_over_the_limit(api: Api) -> None:
    await assert_served(api, typenames(99))
    await assert_served(api, typenames(100))
    extensions = await assert_refused(api, typenames(101), "selections")
    assert (extensions["limit"], extensions["actual"]) == (100, 101)


def spread_metrics(spreads: int, keys: int) -> str:
    """metrics is an unbounded list: cost = 10 * (1 + spreads * keys)."""
    return "{ metrics {" + " ...F" * spreads + " } } fragment F on Metric {" + " key" * keys + " }"


async def test_cost_at_under_and_over_the_limit(api: Api) -> None:
    await assert_served(api, spread_metrics(7, 14))
    await assert_served(api, spread_metrics(9, 11))
    extensions = await assert_refused(api, spread_metrics(10, 10), "cost")
    assert (extensions["limit"], extensions["actual"]) == (1000, 1010)


def doubling(levels: int, leaf: str) -> str:
    """Each fragment spreads the next twice: 2^levels copies of the leaf once expanded."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ {leaf} }}"


async def test_doubling_fragments_are_measured_not_expanded(api: Api) -> None:
    extensions = await assert_refused(api, doubling(40, "metrics { key }"), "cost")
    assert extensions["actual"] == 2**40 * 20
    assert (await api.data(doubling(40, "__typename"))) == {"__typename": "Query"}


async def test_nested_lists_multiply_cost(api: Api) -> None:
    query = (
        "{ achievements { ... on CompositeAchievement { prerequisites {"
        " ... on CompositeAchievement { prerequisites { __typename } } } } } }"
    )
    extensions = await assert_refused(api, query, "cost")
    assert extensions["actual"] == 10 * (1 + 10 * (1 + 10))


async def test_cost_counts_fragments_and_survives_unknown_ones(api: Api) -> None:
    body = await api.gql("query { ...F } fragment F on Query { metrics { key } }")
    assert body["data"] == {"metrics": []}, body
    body = await api.gql("query { ...Missing }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


def nested(depth: int) -> str:
    """achievement > (depth - 2) x prerequisites > key: `depth` levels of fields."""
    inner = "... on CompositeAchievement { key }"
    for _ in range(depth - 2):
        inner = f"... on CompositeAchievement {{ prerequisites {{ {inner} }} }}"
    return f'{{ achievement(key: "none") {{ {inner} }} }}'


@pytest.fixture(scope="module")
def uncosted_server(app: Any, database_url: str, bootstrap_key: str) -> Iterator[LiveServer]:
    """Depth can only grow through lists here, so cost is lifted to test depth alone."""
    server = LiveServer(database_url, bootstrap_key, env={"LAUREL_MAX_QUERY_COST": str(10**15)})
    yield server
    server.stop()


@pytest_asyncio.fixture
async def uncosted_api(uncosted_server: LiveServer, http: httpx.AsyncClient) -> AsyncIterator[Api]:
    async with tenant_on(uncosted_server, http) as tenant:
        yield tenant


async def test_depth_at_under_and_over_the_limit(uncosted_api: Api) -> None:
    await assert_served(uncosted_api, nested(9))
    await assert_served(uncosted_api, nested(10))
    extensions = await assert_refused(uncosted_api, nested(11), "depth")
    assert (extensions["limit"], extensions["actual"]) == (10, 11)


async def test_depth_is_refused_with_the_default_cost_too(api: Api) -> None:
    assert (await assert_refused(api, nested(11), "depth"))["actual"] == 11


def padded_body(size: int) -> bytes:
    head, tail = b'{"query": "{ __typename }', b'"}'
    return head + b" " * (size - len(head) - len(tail)) + tail


async def test_body_size_at_and_over_the_limit(api: Api) -> None:
    headers = {"X-API-Key": api.key, "Content-Type": "application/json"}
    at = await api.client.post("/graphql", content=padded_body(1024 * 1024), headers=headers)
    assert at.status_code == 200, at.text
    over = await api.client.post("/graphql", content=padded_body(1024 * 1024 + 1), headers=headers)
    assert over.status_code == 413
    assert over.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_batches_are_refused(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json=[{"query": "{ __typename }"}] * 2, headers={"X-API-Key": api.key}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


INTROSPECTION = "{ __schema { queryType { name } } }"
development_only = pytest.mark.skipif(
    os.environ.get("LAUREL_ENV") == "development", reason="development allows introspection"
)


async def test_admin_keys_may_introspect(api: Api) -> None:
    data = await api.data(INTROSPECTION)
    assert data["__schema"]["queryType"]["name"] == "Query"


@development_only
async def test_server_keys_and_user_tokens_may_not_introspect(api: Api) -> None:
    server_key = await api.server_key()
    token = (await api.data('mutation { createUserToken(userId: "u1") { token } }'))[
        "createUserToken"
    ]["token"]
    for credentials in ({"key": server_key}, {"token": token}):
        response = await api.call(INTROSPECTION, **credentials)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        type_query = await api.call('{ __type(name: "Query") { name } }', **credentials)
        assert type_query.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        plain = await api.gql("{ __typename }", **credentials)
        assert plain == {"data": {"__typename": "Query"}}


async def test_subscriptions_over_plain_http_are_refused(api: Api) -> None:
    response = await api.call("subscription { achievementUnlocked { completionId } }")
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
