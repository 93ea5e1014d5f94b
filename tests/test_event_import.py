"""`laurel import` against a live server: a file of events through trackEvents, stopped and
resumed without counting anything twice."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT, Api, eventually

LAUREL = str(Path(sys.executable).with_name("laurel"))
EVENTS = 6000
TOTAL = 'query($u: String!) { user(id: $u) { metricTotal(metricKey: "lessons") } }'


def write_events(path: Path, values: list[Any]) -> None:
    lines = [
        json.dumps(
            {
                "metricKey": "lessons",
                "user": {"id": f"user-{n % 3}"},
                "value": value,
                "occurredAt": f"2026-01-{1 + n % 28:02d}T12:00:00Z",
            }
        )
        for n, value in enumerate(values)
    ]
    path.write_text("\n".join(lines) + "\n")


def command(path: Path, api: Api, batch: int) -> list[str]:
    return [
        LAUREL, "import", str(path), "--url", str(api.client.base_url), "--api-key", api.key,
        "--batch-size", str(batch),
    ]  # fmt: skip


def run_import(path: Path, api: Api, batch: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(path, api, batch), cwd=ROOT, capture_output=True, text=True, timeout=120
    )


async def totals(api: Api) -> list[Any]:
    found = [(await api.data(TOTAL, {"u": f"user-{n}"}))["user"] for n in range(3)]
    return [None if user is None else user["metricTotal"] for user in found]


async def test_a_refused_line_stops_the_import_and_a_second_run_resumes(
    live_api: Api, tmp_path: Path
) -> None:
    await live_api.metric()
    events = tmp_path / "events.jsonl"
    values: list[Any] = [1] * 50
    values[30] = 2e15  # line 31: beyond what a total may hold
    write_events(events, values)
    refused = await asyncio.to_thread(run_import, events, live_api, 10)
    assert refused.returncode == 1
    assert "line 31:" in refused.stderr and "the 30 events before it are stored" in refused.stderr
    assert await totals(live_api) == [10, 10, 10]
    values[30] = "one"  # still refused, now by the variable's type
    write_events(events, values)
    refused = await asyncio.to_thread(run_import, events, live_api, 10)
    assert refused.returncode == 1 and "line 31:" in refused.stderr, refused.stderr
    values[30] = 1
    write_events(events, values)
    done = await asyncio.to_thread(run_import, events, live_api, 10)
    assert done.returncode == 0, done.stderr
    assert "imported 50 events" in done.stdout and "30 of them already stored" in done.stdout
    assert await totals(live_api) == [17, 17, 16]


async def test_an_interrupted_import_resumes_without_counting_twice(
    live_api: Api, tmp_path: Path
) -> None:
    await live_api.metric()
    # Far more events than it takes to see some stored: the import must still be running then,
    # however fast the server answers (900 were once imported before the first look).
    events = tmp_path / "year.jsonl"
    write_events(events, [1] * EVENTS)
    process = await asyncio.create_subprocess_exec(
        *command(events, live_api, 5),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        async def some_stored() -> bool:
            return sum(t or 0 for t in await totals(live_api)) >= 60

        await eventually(some_stored)
        assert process.returncode is None, "the import ended before it could be interrupted"
        process.send_signal(signal.SIGKILL)
    finally:
        await asyncio.wait_for(process.wait(), timeout=30)
    interrupted = sum(t or 0 for t in await totals(live_api))
    assert 60 <= interrupted < EVENTS
    done = await asyncio.to_thread(run_import, events, live_api, 100)
    assert done.returncode == 0, done.stderr
    assert f"imported {EVENTS:,} events" in done.stdout
    assert await totals(live_api) == [EVENTS // 3] * 3
