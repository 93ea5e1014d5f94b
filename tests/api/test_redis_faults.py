"""A Redis that hangs or refuses costs requests nothing: rate limits and unlocks fall back to the
instance itself, and everything is shared again once Redis answers.

A private redis-server per test, stopped with SIGSTOP (it hangs: connections stay open, nothing
answers) or killed (connections are refused).
"""

from __future__ import annotations

import itertools
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import Api, LiveServer, eventually, free_port, tenant_on
from test_subscriptions import subscriptions_started
from test_websocket_rules import socket
from tortoise import Tortoise

UNLOCKS = "subscription { achievementUnlocked { user { id } } }"
PING = """
mutation($u: String!) {
  completeAchievement(input: {achievementKey: "ping", user: {id: $u}}) { newlyCompleted }
}
"""


@pytest.fixture
def redis_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def redis_server(
    app: Any, database_url: str, bootstrap_key: str, redis_process: tuple[Any, str]
) -> Iterator[LiveServer]:
    env = {
        "REDIS_URL": redis_process[1],
        "LAUREL_REDIS_COOLDOWN_S": "0.3",
        # API keys are unlimited by default, and an unlimited key asks Redis nothing.
        "LAUREL_RATE_LIMIT_PER_SECOND": "1000",
        "LAUREL_OUTBOX_LEASE_S": "1",
    }
    server = LiveServer(database_url, bootstrap_key, env=env)
    yield server
    server.stop()


async def redis_up(server: LiveServer) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        text = (await client.get("/metrics")).text
    return {
        line.split('"')[1]: float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("laurel_redis_up{")
    }


async def unpublished(tenant: Api) -> int:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT COUNT(*) AS n FROM outbox_event WHERE type = 'achievement.completed' "
        f"AND tenant_id = {tenant.tenant_id} AND published_at IS NULL"
    )
    return int(rows[0]["n"])


@pytest.mark.parametrize("fault", ["hung", "refused"])
async def test_requests_and_unlocks_go_on_without_redis_and_share_again_after(
    fault: str,
    redis_process: tuple[subprocess.Popen[bytes], str],
    redis_server: LiveServer,
    http: httpx.AsyncClient,
) -> None:
    process, _ = redis_process
    async with tenant_on(redis_server, http) as tenant:
        await tenant.metric()
        for n in range(1, 4):
            await tenant.achievement(f"l{n}", {"metric": {"metricKey": "lessons", "value": n}})
        await tenant.achievement("ping", {"api": True})
        async with socket(redis_server, {"apiKey": tenant.key}) as ws:
            await ws.run(UNLOCKS)

            async def receiving() -> bool:
                return await subscriptions_started(redis_server) == 1

            await eventually(receiving, what="the subscription")
            if fault == "hung":
                process.send_signal(signal.SIGSTOP)
            else:
                process.kill()
                process.wait(timeout=10)
            for _ in range(3):
                assert "errors" not in await tenant.track("ada", 1)
            # Unlocks reach this instance's subscribers at once.
            for _ in range(3):
                message = await ws.receive()
                assert message["payload"]["data"]["achievementUnlocked"]["user"]["id"] == "ada"
            assert await redis_up(redis_server) == {"rate limiting": 0.0, "event fan-out": 0.0}
            # Their outbox rows wait for Redis, to reach the other instances too.
            assert await unpublished(tenant) == 3
            if fault != "hung":
                return
            process.send_signal(signal.SIGCONT)

            users = (f"bob{n}" for n in itertools.count())

            async def shared_again() -> bool:
                """A new unlock each time, until one is published through Redis again."""
                await tenant.data(PING, {"u": next(users)})
                return (
                    await redis_up(redis_server)
                    == {
                        "rate limiting": 1.0,
                        "event fan-out": 1.0,
                    }
                    and await unpublished(tenant) == 0
                )

            await eventually(shared_again, what="Redis coming back")
