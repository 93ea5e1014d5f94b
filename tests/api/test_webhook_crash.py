"""Deliveries survive a crash: kill -9 with deliveries pending, restart, and every event arrives
with the webhook-id it had. A server that could not open its endpoints' secrets refuses to start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import FAST_WORKERS, ROOT, Api, LiveServer, eventually, throwaway_database
from webhook_receiver import Receiver, Reply

KEY = "crash.key"
# Retries a second apart: the kill comes while deliveries wait for their next attempt, or while
# one is in flight (its lease, the 2 s limit and a 10 s margin, runs out after the restart).
SLOW_RETRIES = {
    "LAUREL_WEBHOOK_RETRY_SCHEDULE": ",".join(["1"] * 9),
    "LAUREL_WEBHOOK_TIMEOUT_S": "2",
}


@pytest.fixture
def crash_database(app: Any) -> Iterator[str]:
    with throwaway_database("laurel_crash") as url:
        yield url


async def start(url: str, log: Path) -> LiveServer:
    return await asyncio.to_thread(LiveServer, url, KEY, SLOW_RETRIES, log)


async def test_pending_deliveries_arrive_after_a_kill_with_their_ids(
    crash_database: str, tmp_path: Path
) -> None:
    receiver = Receiver()
    await receiver.start()
    receiver.answer(Reply(500, b"not yet"))
    server = await start(crash_database, tmp_path / "first.log")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            api = Api(client, KEY, 0)
            created = await api.data(
                "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, "
                "eventTypes: [USER_CREATED]}) { secret } }",
                {"u": receiver.url},
            )
            secret = created["createWebhookEndpoint"]["secret"]
            await api.metric("lessons")
            for n in range(5):
                await api.track(f"user-{n}", 1)
            refused = await receiver.wait_for(5)
        server.process.kill()  # SIGKILL: no shutdown, no cleanup
        server.process.wait()
    except BaseException:
        server.stop()
        raise
    first_ids = {r.webhook_id for r in refused}
    assert len(first_ids) == 5

    receiver.answer(Reply(200))
    restarted = await start(crash_database, tmp_path / "second.log")
    try:

        async def all_arrived() -> bool:
            delivered = {r.webhook_id for r in receiver.received[len(refused) :]}
            return delivered >= first_ids

        await eventually(all_arrived, within=30, what="every pending delivery after the restart")
    finally:
        restarted.stop()
        await receiver.stop()
    later = receiver.received[len(refused) :]
    assert {r.json["data"]["user"]["id"] for r in later} >= {f"user-{n}" for n in range(5)}
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert "webhook" in logs  # the log was written
    assert secret not in logs and "whsec_" not in logs


def test_a_server_with_endpoints_and_no_secret_key_refuses_to_start(
    crash_database: str, tmp_path: Path
) -> None:
    server = LiveServer(crash_database, KEY)
    try:
        created = httpx.post(
            f"{server.url}/graphql",
            headers={"X-API-Key": KEY},
            json={
                "query": 'mutation { createWebhookEndpoint(input: {url: "https://example.com/h", '
                "eventTypes: [USER_CREATED]}) { secret } }"
            },
        )
        assert "errors" not in created.json()
    finally:
        server.stop()
    environment = {
        **os.environ,
        **FAST_WORKERS,
        "DATABASE_URL": crash_database,
        "LAUREL_BOOTSTRAP_ADMIN_KEY": KEY,
        "LAUREL_SECRET_KEY": "",
        "LAUREL_SECRET_KEY_FILE": str(tmp_path / "missing.key"),
    }
    run = subprocess.run(
        [str(Path(sys.executable).with_name("laurel")), "serve", "--port", "1"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "LAUREL_SECRET_KEY" in run.stderr
    assert "AAECAwQF" not in run.stderr + run.stdout
