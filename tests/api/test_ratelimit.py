"""Rate limits per credential: a flooding key is refused (429, Retry-After); others are not."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from conftest import BURST, REDIS_URL, SLOW, Api, LiveServer, new_tenant, tenant_on

QUERY = "{ __typename }"


@pytest_asyncio.fixture
async def limited(limited_server: LiveServer, http: httpx.AsyncClient) -> AsyncIterator[Api]:
    async with tenant_on(limited_server, http) as tenant:
        yield tenant


async def flood(api: Api, count: int, **credentials: Any) -> list[httpx.Response]:
    return list(await asyncio.gather(*(api.call(QUERY, **credentials) for _ in range(count))))


def assert_limited(responses: list[httpx.Response]) -> None:
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == BURST, statuses
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) == len(responses) - BURST, statuses
    for response in refused:
        assert int(response.headers["Retry-After"]) >= 1
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] == int(response.headers["Retry-After"])


async def test_a_flooding_key_is_limited_while_another_key_is_served(
    limited: Api, http: httpx.AsyncClient
) -> None:
    # Made in-process, so the limited server sees only the flood.
    other = await Api(http, limited.key, limited.tenant_id).server_key()
    assert_limited(await flood(limited, BURST + 5))
    assert [r.status_code for r in await flood(limited, BURST, key=other)] == [200] * BURST


async def test_user_tokens_have_their_own_buckets(limited: Api) -> None:
    token = (await limited.data('mutation { createUserToken(userId: "u1") { token } }'))[
        "createUserToken"
    ]["token"]
    assert_limited(await flood(limited, BURST + 3, token=token))
    second = await limited.data('mutation { createUserToken(userId: "u2") { token } }')
    served = await flood(limited, 2, token=second["createUserToken"]["token"])
    assert [r.status_code for r in served] == [200, 200]


async def test_the_default_limits_do_not_refuse_ordinary_traffic(api: Api) -> None:
    responses = await flood(api, 50)
    assert {r.status_code for r in responses} == {200}


@pytest.fixture(scope="module")
def redis_servers(app: Any, database_url: str, bootstrap_key: str) -> Iterator[list[LiveServer]]:
    env = {**SLOW, "REDIS_URL": REDIS_URL}
    servers = [LiveServer(database_url, bootstrap_key, env=env) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


async def test_with_redis_the_bucket_is_shared_by_every_instance(
    redis_servers: list[LiveServer], http: httpx.AsyncClient
) -> None:
    pytest.importorskip("redis")
    tenant = await new_tenant(http, f"redis-{uuid.uuid4().hex[:6]}")
    responses: list[httpx.Response] = []
    for index in range(BURST + 3):
        server = redis_servers[index % 2]
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            responses.append(await Api(client, tenant.key, tenant.tenant_id).call(QUERY))
    assert_limited(responses)
