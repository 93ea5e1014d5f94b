"""Schemathesis against the Trophy facade's own OpenAPI document, on a live server: no 5xx, and
every answer (status, content type, body) as the document says.

Its "schema-valid request accepted" check is left out: a valid request may still be refused for
the state it meets (completing a metric achievement, an idempotency key reused), which no schema
can say. The seed is fixed so that a failure replays; the tenant has a metric, achievements of
each kind and a streak, so that generated requests reach more than 404s.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from conftest import Api, LiveServer

CHECKS_LEFT_OUT = "positive_data_acceptance"
EXAMPLES_PER_OPERATION = "25"


async def seed(api: Api) -> None:
    await api.metric("lessons")
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    await api.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}})
    await api.achievement("feedback", {"api": True})
    await api.achievement("streak-2", {"streak": {"length": 2}})
    await api.achievement("both", {"composite": {"prerequisiteKeys": ["first", "feedback"]}})
    await api.track("0", 1)


async def test_the_facade_holds_to_its_openapi_document(
    live_server: LiveServer, live_api: Api, tmp_path: Path
) -> None:
    await seed(live_api)
    run = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{live_server.url}/trophy/v1/openapi.json",
        "--header",
        f"X-API-KEY: {live_api.key}",
        "--max-examples",
        EXAMPLES_PER_OPERATION,
        "--seed",
        "1",
        "--exclude-checks",
        CHECKS_LEFT_OUT,
        "--generation-database",
        "none",
        "--no-color",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(run.communicate(), timeout=600)
    report = output.decode()
    assert run.returncode == 0, report
    assert "No issues found" in report, report
