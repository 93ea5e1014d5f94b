"""A WebSocket is held to what HTTP is held to, and lives no longer than its credentials.

Raw graphql-transport-ws frames over a real socket, so that every message the server sends,
and how it closes, is seen as it is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from conftest import Api, LiveServer, eventually, tenant_on
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

TRACK = (
    'mutation { trackEvent(input: {metricKey: "lessons", user: {id: "ws"}, value: 1}) { total } }'
)


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.ids = 0

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self.ids += 1
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(
            json.dumps({"id": str(self.ids), "type": "subscribe", "payload": payload})
        )
        return str(self.ids)

    async def receive(self, within: float = 10) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), within))
        return message

    async def outcome(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first `next` or `error` of one operation (its `complete` is read too)."""
        operation = await self.run(query, variables)
        message = await self.receive()
        assert message["id"] == operation, message
        if message["type"] == "next":
            assert (await self.receive())["type"] == "complete"
        return message

    async def closed(self, within: float = 10) -> tuple[int, str]:
        """Waits for the server to close the socket; (code, reason)."""
        with pytest.raises(ConnectionClosed) as ended:
            while True:
                await asyncio.wait_for(self.connection.recv(), within)
        frame = ended.value.rcvd
        assert frame is not None, "the socket ended without a close frame"
        return frame.code, frame.reason


@asynccontextmanager
async def socket(server: LiveServer, init: dict[str, Any]) -> AsyncIterator[Socket]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": init}))
        ack = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        yield Socket(connection)


def code_of(message: dict[str, Any]) -> str:
    assert message["type"] == "error", message
    return str(message["payload"][0]["extensions"]["code"])


async def revoke(api: Api, key: str) -> None:
    prefix = key.split(".")[0]
    data = await api.data("mutation($p: String!) { revokeApiKey(prefix: $p) }", {"p": prefix})
    assert data == {"revokeApiKey": True}


async def test_a_revoked_key_runs_nothing_more_and_its_socket_closes(
    live_api: Api, live_server: LiveServer
) -> None:
    await live_api.metric("lessons")
    server_key = await live_api.server_key()
    async with socket(live_server, {"apiKey": server_key}) as ws:
        assert (await ws.outcome(TRACK))["payload"]["data"]["trackEvent"]["total"] == 1
        await revoke(live_api, server_key)
        await ws.run(TRACK)
        code, reason = await ws.closed()
    assert code == 4403 and "revoked" in reason
    total = '{ user(id: "ws") { metricTotal(metricKey: "lessons") } }'
    assert (await live_api.data(total))["user"]["metricTotal"] == 1


async def test_a_subscription_ends_when_its_key_is_revoked(
    live_api: Api, live_server: LiveServer
) -> None:
    server_key = await live_api.server_key()
    async with socket(live_server, {"apiKey": server_key}) as ws:
        await ws.run("subscription { achievementUnlocked { completionId } }")
        await revoke(live_api, server_key)
        code, reason = await ws.closed()
    assert code == 4403 and "revoked" in reason


async def test_a_subscription_ends_when_its_token_expires(
    live_api: Api, live_server: LiveServer
) -> None:
    issued = await live_api.data(
        'mutation { createUserToken(userId: "u", ttlSeconds: 1) { token } }'
    )
    async with socket(live_server, {"token": issued["createUserToken"]["token"]}) as ws:
        await ws.run('subscription { achievementUnlocked(userId: "u") { completionId } }')
        code, reason = await ws.closed()
    assert code == 4403 and "expired" in reason


async def test_a_bad_document_is_an_error_message_not_a_closed_socket(
    live_api: Api, live_server: LiveServer
) -> None:
    deep = (
        "{ achievements { ... on CompositeAchievement { "
        + "prerequisites { ... on CompositeAchievement { " * 6
        + "key"
        + " } }" * 6
        + " } } }"
    )
    async with socket(live_server, {"apiKey": live_api.key}) as ws:
        assert code_of(await ws.outcome("{ metrics { key")) == "BAD_USER_INPUT"
        assert code_of(await ws.outcome(deep)) == "QUERY_TOO_COMPLEX"
        assert (
            code_of(await ws.outcome("query A { metrics { key } } query B { metrics { name } }"))
            == "BAD_REQUEST"
        )
        # Over the body limit, within the frame limit: refused as an operation.
        big = {"x": "a" * (1024 * 1024 + 10_000)}
        assert code_of(await ws.outcome("{ metrics { key } }", big)) == "PAYLOAD_TOO_LARGE"
        # The socket still serves.
        assert (await ws.outcome("{ metrics { key } }"))["type"] == "next"
        # A frame far over the limit is not even read: the socket closes (1009, too big).
        await ws.run("{ metrics { key } }", {"x": "a" * (4 * 1024 * 1024)})
        code, _ = await ws.closed()
    assert code == 1009


async def test_the_rate_limit_holds_on_a_socket(limited_server: LiveServer, http: Any) -> None:
    async with (
        tenant_on(limited_server, http) as tenant,
        socket(limited_server, {"apiKey": tenant.key}) as ws,
    ):
        outcomes = [await ws.outcome("{ __typename }") for _ in range(12)]
    kinds = [m["type"] if m["type"] == "next" else code_of(m) for m in outcomes]
    # The connection took one token of the burst of 5.
    assert kinds.count("next") <= 5
    assert "RATE_LIMITED" in kinds
    refused = next(m for m in outcomes if m["type"] == "error")
    assert refused["payload"][0]["extensions"]["retryAfter"] >= 1


async def test_a_rotated_token_secret_ends_its_tokens_sockets(
    live_api: Api, live_server: LiveServer
) -> None:
    issued = await live_api.data('mutation { createUserToken(userId: "u") { token } }')
    async with socket(live_server, {"token": issued["createUserToken"]["token"]}) as ws:
        assert (await ws.outcome("{ metrics { key } }"))["type"] == "next"
        assert await live_api.data("mutation { rotateUserTokenSecret }") == {
            "rotateUserTokenSecret": True
        }
        code, reason = await ws.closed()
    assert code == 4403 and "revoked" in reason


async def test_refusals_say_why_and_every_connection_is_logged(
    app: Any, database_url: str, bootstrap_key: str, http: Any, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    server = LiveServer(
        database_url, bootstrap_key, env={"LAUREL_MAX_SOCKETS_PER_CREDENTIAL": "2"}, log=log
    )
    try:
        async with tenant_on(server, http) as tenant:
            refused = await raw_init(server, {"apiKey": "nope.nope"})
            assert refused[0] == 4403 and "invalid API key" in refused[1]
            async with (
                socket(server, {"apiKey": tenant.key}),
                socket(server, {"apiKey": tenant.key}),
            ):
                assert await raw_init(server, {"apiKey": tenant.key}) == (
                    4429,
                    "too many open connections for this credential",
                )

            async def admitted_again() -> bool:
                return await raw_init(server, {"apiKey": tenant.key}) is None

            await eventually(admitted_again, what="the closed sockets to be released")
    finally:
        server.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    events = [(e["message"], e.get("reason")) for e in lines if e["logger"] == "laurel.websocket"]
    assert ("websocket refused", "invalid API key") in events
    assert ("websocket refused", "too many open connections for this credential") in events
    assert [m for m, _ in events].count("websocket connected") >= 3
    assert [m for m, _ in events].count("websocket closed") >= 2
    assert tenant.key.split(".")[1] not in log.read_text()


async def raw_init(server: LiveServer, init: dict[str, Any]) -> tuple[int, str] | None:
    """None when the server acknowledges, else its close code and reason."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": init}))
        try:
            reply = json.loads(await asyncio.wait_for(connection.recv(), 10))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
        assert reply["type"] == "connection_ack", reply
        return None
