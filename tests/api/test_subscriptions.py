"""`achievementUnlocked` over a real WebSocket (graphql-transport-ws) against real servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any

import httpx
import pytest
import websockets
from conftest import (
    REDIS_URL,
    Api,
    LiveServer,
    eventually,
    new_tenant,
    postgres_only,
    tenant_on,
)
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from tortoise import Tortoise

UNLOCKED = """
subscription($u: String) {
  achievementUnlocked(userId: $u) {
    completionId
    user { id metricTotal(metricKey: "lessons") }
    achievement {
      achievedAt
      progress { current target percent }
      achievement { ... on MetricAchievement { key } ... on ApiAchievement { key }
                    ... on CompositeAchievement { key } }
    }
  }
}
"""

UNLOCKED_API = """
subscription($u: String) {
  achievementUnlocked(userId: $u) {
    completionId user { id }
    achievement { achievedAt achievement { ... on ApiAchievement { key }
                                           ... on CompositeAchievement { key } } }
  }
}
"""

COMPLETE = """
mutation($k: String!, $u: String!) {
  completeAchievement(input: {achievementKey: $k, user: {id: $u}}) {
    completionId newlyCompleted
    alsoCompleted { achievement { ... on CompositeAchievement { key } } }
  }
}
"""


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


class Ended(Exception):
    """The server completed the subscription."""


class Feed:
    """Messages of one running subscription, read with timeouts."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()

    async def next(self, within: float = 10) -> dict[str, Any]:
        item = await asyncio.wait_for(self.messages.get(), within)
        if isinstance(item, BaseException):
            raise item
        return dict(item["achievementUnlocked"])

    async def next_is(self, sentinel: Awaitable[Any], user: str) -> dict[str, Any]:
        """Nothing arrived before `sentinel`'s unlock for `user`: after the sentinel's action,
        the next message is its unlock (events reach a subscriber in commit order)."""
        await sentinel
        message = await self.next()
        assert message["user"]["id"] == user, f"unexpected message: {message!r}"
        return message


async def subscriptions_started(server: LiveServer) -> float:
    async with httpx.AsyncClient(base_url=server.url) as client:
        text = (await client.get("/metrics")).text
    return next(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("laurel_subscriptions_started_total ")
    )


@contextlib.asynccontextmanager
async def subscribed(
    server: LiveServer,
    init: dict[str, Any],
    user_id: str | None = None,
    query: str = UNLOCKED,
) -> AsyncIterator[Feed]:
    transport = WebsocketsTransport(
        url=ws_url(server),
        init_payload=init,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    feed = Feed()

    async def pump() -> None:
        request = GraphQLRequest(query, variable_values={"u": user_id})
        try:
            async with Client(transport=transport) as session:
                async for result in session.subscribe(request):
                    await feed.messages.put(result)
            await feed.messages.put(Ended())
        except Exception as exc:  # handed to the test through the feed
            await feed.messages.put(exc)

    before = await subscriptions_started(server)
    task = asyncio.create_task(pump())

    async def receiving() -> bool:
        """graphql-transport-ws has no "subscribed" message: the server's count says it."""
        return not feed.messages.empty() or await subscriptions_started(server) > before

    await eventually(receiving, what="the subscription")
    try:
        yield feed
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def lessons(api: Api, *thresholds: float) -> None:
    await api.metric("lessons")
    for value in thresholds:
        await api.achievement(f"l{value:g}", {"metric": {"metricKey": "lessons", "value": value}})


async def test_track_event_unlock_is_pushed_with_fresh_data(
    live_api: Api, live_server: LiveServer
) -> None:
    await lessons(live_api, 10, 20)
    async with subscribed(live_server, {"apiKey": live_api.key}) as feed:
        assert "errors" not in await live_api.track("ada", 10)
        first = await feed.next()
        assert "errors" not in await live_api.track("ada", 10)
        second = await feed.next()
        await feed.next_is(live_api.track("zed", 10), "zed")
    assert first["user"] == {"id": "ada", "metricTotal": 10}
    assert first["achievement"]["achievement"] == {"key": "l10"}
    assert first["achievement"]["progress"] == {"current": 10, "target": 10, "percent": 100}
    assert first["achievement"]["achievedAt"]
    # A stale loader would still answer 10 for the second message.
    assert second["user"] == {"id": "ada", "metricTotal": 20}
    assert second["achievement"]["achievement"] == {"key": "l20"}
    assert first["completionId"] != second["completionId"]


async def test_complete_achievement_is_pushed_once_to_that_users_subscribers(
    live_api: Api, live_server: LiveServer
) -> None:
    await live_api.achievement("signup", {"api": True})
    await live_api.achievement("ping", {"api": True})
    async with subscribed(live_server, {"apiKey": live_api.key}, "bob", UNLOCKED_API) as feed:
        await live_api.data(COMPLETE, {"k": "signup", "u": "eve"})
        done = (await live_api.data(COMPLETE, {"k": "signup", "u": "bob"}))["completeAchievement"]
        again = (await live_api.data(COMPLETE, {"k": "signup", "u": "bob"}))["completeAchievement"]
        message = await feed.next()
        ping = await feed.next_is(live_api.data(COMPLETE, {"k": "ping", "u": "bob"}), "bob")
    assert ping["achievement"]["achievement"] == {"key": "ping"}
    assert done["newlyCompleted"] and not again["newlyCompleted"]
    assert message["completionId"] == done["completionId"]
    assert message["user"] == {"id": "bob"}
    assert message["achievement"]["achievement"] == {"key": "signup"}


async def test_composite_cascade_pushes_every_completion(
    live_api: Api, live_server: LiveServer
) -> None:
    await live_api.achievement("a", {"api": True})
    await live_api.achievement("b", {"api": True})
    await live_api.achievement("both", {"composite": {"prerequisiteKeys": ["a", "b"]}})
    async with subscribed(live_server, {"apiKey": live_api.key}, None, UNLOCKED_API) as feed:
        await live_api.data(COMPLETE, {"k": "a", "u": "cy"})
        last = (await live_api.data(COMPLETE, {"k": "b", "u": "cy"}))["completeAchievement"]
        keys = [(await feed.next())["achievement"]["achievement"]["key"] for _ in range(3)]
        await feed.next_is(live_api.data(COMPLETE, {"k": "a", "u": "dan"}), "dan")
    assert last["alsoCompleted"] == [{"achievement": {"key": "both"}}]
    assert sorted(keys) == ["a", "b", "both"]


async def test_backdated_completion_is_not_pushed(live_api: Api, live_server: LiveServer) -> None:
    await live_api.metric("lessons")
    await live_api.achievement("l5", {"metric": {"metricKey": "lessons", "value": 5}}, active=False)
    assert "errors" not in await live_api.track("dee", 10)
    query = '{ achievement(key: "l5") { ... on MetricAchievement { completions } } }'

    async def backdated() -> bool:
        return bool((await live_api.data(query))["achievement"]["completions"])

    async with subscribed(live_server, {"apiKey": live_api.key}) as feed:
        await live_api.activate("l5")
        await eventually(backdated, what="backdating")
        await feed.next_is(live_api.track("eli", 5), "eli")
    assert (await live_api.data(query))["achievement"]["completions"] == 2


async def test_user_token_receives_only_its_own_unlocks(
    live_api: Api, live_server: LiveServer
) -> None:
    await lessons(live_api, 1, 2)
    token_query = 'mutation { createUserToken(userId: "fay") { token } }'
    token = (await live_api.data(token_query))["createUserToken"]["token"]
    async with subscribed(live_server, {"token": token}) as feed:
        await live_api.track("gus", 1)
        await live_api.track("fay", 1)
        message = await feed.next()
        await live_api.track("gus", 1)
        await feed.next_is(live_api.track("fay", 1), "fay")
    assert message["user"]["id"] == "fay"
    async with subscribed(live_server, {"token": token}, "gus") as feed:
        with pytest.raises(TransportQueryError) as refused:
            await feed.next()
    assert refused.value.errors and refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_key_never_receives_another_tenants_unlocks(
    live_api: Api, live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    other = await new_tenant(http)
    other = Api(live_api.client, other.key, other.tenant_id)
    await lessons(live_api, 1, 2)
    await lessons(other, 1, 2)
    async with subscribed(live_server, {"apiKey": live_api.key}) as feed:
        await other.track("hal", 5)
        await live_api.track("hal", 1)
        message = await feed.next()
        await other.track("hal", 5)
        await feed.next_is(live_api.track("ida", 2), "ida")
    # Same user id in both tenants: only the total tells whose unlock this is.
    assert message["user"] == {"id": "hal", "metricTotal": 1}


@pytest.mark.parametrize(
    "init", [{}, {"apiKey": "nope.nope"}, {"token": "not-a-token"}, {"apiKey": 42}]
)
async def test_a_bad_connection_init_is_rejected(
    live_server: LiveServer, init: dict[str, Any]
) -> None:
    async with subscribed(live_server, init) as feed:
        with pytest.raises(TransportError) as rejected:
            await feed.next()
    assert close_code(rejected.value) == 4403, rejected.value


def close_code(error: BaseException | None) -> int | None:
    """The WebSocket close code the server sent, found in the client's exception chain."""
    while error is not None:
        received = getattr(error, "rcvd", None)
        if received is not None:
            return int(received.code)
        error = error.__cause__ or error.__context__
    return None


@pytest.fixture
def rescuer(app: Any, database_url: str, bootstrap_key: str) -> Iterator[LiveServer]:
    """A live server that takes over outbox rows left 0.5 s: only while this test runs, as any
    other instance's rows would otherwise be published to its subscribers, not to theirs."""
    server = LiveServer(database_url, bootstrap_key, env={"LAUREL_OUTBOX_STALE_S": "0.5"})
    yield server
    server.stop()


async def test_a_row_committed_but_never_published_is_published_once(
    app: Any, http: httpx.AsyncClient, rescuer: LiveServer
) -> None:
    """A writer that dies between commit and publish: another relay's poll publishes it."""
    relay = app.state.relay
    async with tenant_on(rescuer, http) as rescuing:
        in_process = Api(http, rescuing.key, rescuing.tenant_id)
        await lessons(rescuing, 1)
        await relay.stop()
        try:
            async with subscribed(rescuer, {"apiKey": rescuing.key}) as feed:
                assert "errors" not in await in_process.track("ivy", 1)
                message = await feed.next(within=10)
                relay.start()
                relay.wake()
                await feed.next_is(rescuing.track("ivo", 1), "ivo")
        finally:
            relay.start()
    assert message["user"]["id"] == "ivy"
    assert message["achievement"]["achievement"] == {"key": "l1"}


async def unpublished(tenant: Api) -> int:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT COUNT(*) AS n FROM outbox_event WHERE type = 'achievement.completed' "
        f"AND tenant_id = {tenant.tenant_id} AND published_at IS NULL"
    )
    return int(rows[0]["n"])


async def test_a_restarted_relay_publishes_what_was_left(app: Any, http: httpx.AsyncClient) -> None:
    """Commit while this instance's relay is down; it publishes once when it starts again."""
    tenant = await new_tenant(http)
    await lessons(tenant, 1)
    relay = app.state.relay
    broker = app.state.services.broker
    await relay.stop()
    try:
        async with broker.subscribe(tenant.tenant_id) as subscriber:
            assert "errors" not in await tenant.track("jo", 1)
            received = asyncio.Queue[Any]()

            async def read() -> None:
                async for notice in subscriber:
                    await received.put(notice)

            reader = asyncio.create_task(read())
            assert await unpublished(tenant) == 1
            relay.start()
            notice = await asyncio.wait_for(received.get(), 5)
            assert "errors" not in await tenant.track("kai", 1)
            sentinel = await asyncio.wait_for(received.get(), 5)
            reader.cancel()
    finally:
        relay.start()
    assert (notice.tenant_id, notice.event.user_id) == (tenant.tenant_id, "jo")
    assert sentinel.event.user_id == "kai", "the first unlock was published twice"


@postgres_only
async def test_two_instances_deliver_exactly_once_through_redis(
    database_url: str, bootstrap_key: str, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(http)
    first = LiveServer(database_url, bootstrap_key, env={"REDIS_URL": REDIS_URL})
    second = LiveServer(database_url, bootstrap_key, env={"REDIS_URL": REDIS_URL})
    try:
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            writer = Api(client, tenant.key, tenant.tenant_id)
            await lessons(writer, 1)
            async with subscribed(first, {"apiKey": tenant.key}) as feed:
                await writer.track("kim", 1)
                await writer.track("lou", 1)
                messages = [await feed.next(), await feed.next()]
                await feed.next_is(writer.track("max", 1), "max")
    finally:
        first.stop()
        second.stop()
    received = sorted((m["user"]["id"], m["achievement"]["achievement"]["key"]) for m in messages)
    assert received == [("kim", "l1"), ("lou", "l1")]
    assert len({m["completionId"] for m in messages}) == 2


async def test_shutdown_ends_subscriptions(
    database_url: str, bootstrap_key: str, http: httpx.AsyncClient
) -> None:
    """Each subscription gets `complete`, then the socket closes as going away (1001)."""
    tenant = await new_tenant(http)
    server = LiveServer(database_url, bootstrap_key)
    url = server.url.replace("http://", "ws://") + "/graphql"
    try:
        async with websockets.connect(
            url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"apiKey": tenant.key}})
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": "subscription { achievementUnlocked { completionId } }"}
            await ws.send(json.dumps({"id": "s1", "type": "subscribe", "payload": payload}))

            async def receiving() -> bool:
                return await subscriptions_started(server) == 1

            await eventually(receiving, what="the subscription")
            server.process.terminate()
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {
                "id": "s1",
                "type": "complete",
            }
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    finally:
        server.stop()
