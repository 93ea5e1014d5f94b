"""`leaderboardChanged` over a real WebSocket (graphql-transport-ws): the first message, one
message per change to the top rows, none for changes below them or in other groups, the new
run's standings when the clock turns it, and bad input.

The server runs in this process on the session's app, so the test clock moves its runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from conftest import Api, TestClock, eventually, free_port
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from test_leaderboards import board, track

WATCH = """
subscription($k: String!, $b: String, $l: Int! = 10) {
  leaderboardChanged(key: $k, breakdownValue: $b, limit: $l) {
    participants breakdownValue run { start status }
    rankings { rank value user { id } }
  }
}
"""
TOKEN = "mutation($u: String!) { createUserToken(userId: $u) { token } }"


@pytest.fixture(scope="module")
async def ws_url(app: Any) -> AsyncIterator[str]:
    """The session's app behind a real socket."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, what="the server")
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await serving


class Watch:
    """Messages of one running subscription, read with timeouts."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()

    async def next(self, within: float = 10) -> dict[str, Any]:
        item = await asyncio.wait_for(self.messages.get(), within)
        if isinstance(item, BaseException):
            raise item
        return dict(item["leaderboardChanged"])

    async def ranks(self) -> list[tuple[str, int, float]]:
        message = await self.next()
        return [(r["user"]["id"], r["rank"], r["value"]) for r in message["rankings"]]


@contextlib.asynccontextmanager
async def watching(url: str, init: dict[str, Any], **variables: Any) -> AsyncIterator[Watch]:
    transport = WebsocketsTransport(
        url=url, init_payload=init, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
    watch = Watch()

    async def pump() -> None:
        try:
            async with Client(transport=transport) as session:
                async for result in session.subscribe(
                    GraphQLRequest(WATCH, variable_values=variables)
                ):
                    await watch.messages.put(result)
        except Exception as exc:  # handed to the test through the queue
            await watch.messages.put(exc)

    task = asyncio.create_task(pump())
    try:
        yield watch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_the_top_rows_are_sent_at_once_and_after_each_change_to_them(
    api: Api, ws_url: str
) -> None:
    await api.metric()
    await board(api, "top")
    await track(api, "ann", 5)
    async with watching(ws_url, {"apiKey": api.key}, k="top", l=2) as watch:
        assert await watch.ranks() == [("ann", 1, 5)]
        await track(api, "bob", 3)
        assert await watch.ranks() == [("ann", 1, 5), ("bob", 2, 3)]
        # third place is below the watched rows: no message, so the next one shows dan
        await track(api, "cy", 1)
        await track(api, "dan", 10)
        assert await watch.ranks() == [("dan", 1, 10), ("ann", 2, 5)]


async def test_a_burst_of_changes_is_sent_as_its_latest_state(api: Api, ws_url: str) -> None:
    await api.metric()
    await board(api, "burst")
    async with watching(ws_url, {"apiKey": api.key}, k="burst") as watch:
        assert await watch.ranks() == []
        await asyncio.gather(*(track(api, f"u{n:02}", n) for n in range(1, 21)))
        final = [(f"u{n:02}", 21 - n, n) for n in range(20, 10, -1)]
        received = 0
        while await watch.ranks() != final:
            received += 1
        assert received < 19, "twenty changes within a moment are not twenty messages"


async def test_other_groups_changes_are_not_sent(api: Api, ws_url: str) -> None:
    await api.metric()
    await board(api, "teams", breakdownAttribute="team")
    red = {"id": "r1", "attributes": [{"key": "team", "value": "red"}]}
    blue = {"id": "b1", "attributes": [{"key": "team", "value": "blue"}]}
    async with watching(ws_url, {"apiKey": api.key}, k="teams", b="red") as watch:
        first = await watch.next()
        assert first["breakdownValue"] == "red" and first["rankings"] == []
        await track(api, blue, 9)
        await track(api, red, 2)
        assert await watch.ranks() == [("r1", 1, 2)]


async def test_the_next_run_is_sent_when_it_opens(api: Api, ws_url: str, clock: TestClock) -> None:
    await api.metric()
    await board(api, "daily", repeat={"runUnit": "DAY"})
    now = clock()
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    with clock.moved(midnight - timedelta(seconds=1.5) - now):
        today = clock().date()
        await track(api, "ann", 4)
        async with watching(ws_url, {"apiKey": api.key}, k="daily") as watch:
            first = await watch.next()
            assert first["run"]["start"] == today.isoformat()
            assert [r["user"]["id"] for r in first["rankings"]] == ["ann"]
            turned = await watch.next()
            assert turned["run"]["start"] == (today + timedelta(days=1)).isoformat()
            assert turned["rankings"] == [] and turned["run"]["status"] == "ACTIVE"


async def test_a_user_token_watches_a_readable_board_only(api: Api, ws_url: str) -> None:
    await api.metric()
    await board(api, "open")
    await board(api, "draft", live=False)
    token = (await api.data(TOKEN, {"u": "ann"}))["createUserToken"]["token"]
    init = {"token": token}
    async with watching(ws_url, init, k="open") as watch:
        assert await watch.ranks() == []
    async with watching(ws_url, init, k="draft") as watch:
        with pytest.raises(TransportQueryError) as refused:
            await watch.next()
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"l": 0}, "limit"), ({"l": 101}, "limit"), ({"b": "red"}, "breakdownValue")],
)
async def test_bad_arguments_are_refused_with_their_field(
    api: Api, ws_url: str, variables: dict[str, Any], field: str
) -> None:
    await api.metric()
    await board(api, "plain")
    async with watching(ws_url, {"apiKey": api.key}, k="plain", **variables) as watch:
        with pytest.raises(TransportQueryError) as refused:
            await watch.next()
    error = refused.value.errors[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
