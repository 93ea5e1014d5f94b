"""Browser frontends on other origins: preflights answered for the configured origins only, and
the same list guards WebSockets (which CORS does not cover)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from conftest import LiveServer
from websockets.exceptions import InvalidStatus

FRONT = "http://front.example:8080"


@pytest.fixture(scope="module")
def cors_server(app: Any, database_url: str, bootstrap_key: str) -> Iterator[LiveServer]:
    server = LiveServer(database_url, bootstrap_key, env={"LAUREL_CORS_ORIGINS": f"{FRONT}/"})
    yield server
    server.stop()


def preflight(server: LiveServer, origin: str) -> httpx.Response:
    return httpx.options(
        f"{server.url}/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-api-key",
        },
    )


def test_a_configured_origin_gets_its_preflight_and_its_answers(cors_server: LiveServer) -> None:
    response = preflight(cors_server, FRONT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONT
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "x-api-key", "content-type"} <= set(
        allowed.replace(" ", "").split(",")
    )
    answer = httpx.post(
        f"{cors_server.url}/graphql", json={"query": "{ __typename }"}, headers={"Origin": FRONT}
    )
    assert answer.headers["access-control-allow-origin"] == FRONT
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


def test_another_origin_is_refused(cors_server: LiveServer) -> None:
    response = preflight(cors_server, "http://evil.example")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    answer = httpx.post(
        f"{cors_server.url}/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": "http://evil.example"},
    )
    assert "access-control-allow-origin" not in answer.headers


async def open_socket(server: LiveServer, origin: str | None) -> str:
    url = server.url.replace("http://", "ws://") + "/graphql"
    headers = {"Origin": origin} if origin else {}
    async with websockets.connect(
        url,
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
        origin=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        return "open"


@pytest.mark.parametrize("origin", [FRONT, None, "same"])
async def test_websockets_from_allowed_origins_open(
    cors_server: LiveServer, origin: str | None
) -> None:
    sent = cors_server.url if origin == "same" else origin
    assert await open_socket(cors_server, sent) == "open"


async def test_a_websocket_from_another_origin_is_refused(cors_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await open_socket(cors_server, "http://evil.example")
    assert refused.value.response.status_code == 403
