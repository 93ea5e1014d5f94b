"""/metrics: what an operator watches, counted where it happens, added up across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from conftest import (
    BURST,
    FAST_WORKERS,
    ROOT,
    Api,
    LiveServer,
    eventually,
    free_port,
    healthy_within,
    postgres_only,
    tenant_on,
)
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_a_request_is_labelled_only_by_fields_the_schema_has(api: Api) -> None:
    """The names of a document that fails validation are the client's: as labels, they would
    grow the series without bound."""
    before = await scrape(api.client)
    body = await api.gql('{ madeUp1 user(id: "ada") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    after = await scrape(api.client)
    assert value(after, "laurel_requests_total", operation="madeUp1,user", status="400") == 0
    grown = value(after, "laurel_requests_total", operation="user", status="400") - value(
        before, "laurel_requests_total", operation="user", status="400"
    )
    assert grown == 1


async def test_requests_events_and_completions_are_counted(api: Api) -> None:
    await api.metric()
    await api.achievement("one", {"metric": {"metricKey": "lessons", "value": 1}})
    before = await scrape(api.client)
    assert "errors" not in await api.track("ada", 1)
    assert "errors" not in await api.track("ada", 1, idempotencyKey="k")
    assert "errors" not in await api.track("ada", 1, idempotencyKey="k")  # a replay
    after = await scrape(api.client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("laurel_requests_total", operation="trackEvent", status="200") == 3
    assert grew("laurel_request_duration_seconds_count", operation="trackEvent") == 3
    assert grew("laurel_events_tracked_total") == 2
    assert grew("laurel_completions_total") == 1
    for gauge in (
        "laurel_outbox_backlog",
        "laurel_outbox_lag_seconds",
        "laurel_subscriptions_open",
    ):
        assert any(name == gauge for name, _ in samples(after)), gauge


async def test_rate_limit_refusals_are_counted(limited_server: LiveServer, http: Any) -> None:
    async with tenant_on(limited_server, http) as tenant:
        for _ in range(BURST + 2):
            await tenant.call("{ __typename }")
        text = await scrape(tenant.client)
    assert value(text, "laurel_rate_limited_total", caller="key") >= 2


@postgres_only
async def test_the_pool_is_watched(api: Api) -> None:
    async def sampled() -> bool:
        return value(await scrape(api.client), "laurel_database_connections", state="open") >= 1

    await eventually(sampled, what="a pool sample")


@postgres_only
def test_workers_add_up(database_url: str, bootstrap_key: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("laurel")),
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "LAUREL_BOOTSTRAP_ADMIN_KEY": bootstrap_key,
            # Endpoints other tests made are in this database: their secrets need the key.
            "LAUREL_SECRET_KEY": FAST_WORKERS["LAUREL_SECRET_KEY"],
        },
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert healthy_within(url, 60)
        for _ in range(20):
            # A new connection each time, so that both workers take some.
            httpx.post(
                f"{url}/graphql",
                json={"query": "{ __typename }"},
                headers={"X-API-Key": bootstrap_key},
            )
        # Each scrape lands on either worker, and each adds up both.
        counts = {
            value(
                httpx.get(f"{url}/metrics").text,
                "laurel_requests_total",
                operation="__typename",
                status="200",
            )
            for _ in range(6)
        }
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert counts == {20}
