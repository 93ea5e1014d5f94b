"""Several instances starting together on an empty database migrate once, none fails."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, healthy_within, throwaway_database

INSTANCES = 4


@pytest.fixture
def empty_database() -> Iterator[str]:
    with throwaway_database("laurel_start") as url:
        yield url


def test_instances_starting_together_all_come_up(empty_database: str, tmp_path: Path) -> None:
    ports: list[int] = []
    while len(ports) < INSTANCES:  # the OS may hand out one free port twice
        port = free_port()
        if port not in ports:
            ports.append(port)
    env = {
        **os.environ,
        "DATABASE_URL": empty_database,
        "LAUREL_BOOTSTRAP_ADMIN_KEY": "start." + uuid.uuid4().hex,
    }
    logs = [tmp_path / f"instance-{port}.log" for port in ports]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        healthy = {port: healthy_within(f"http://127.0.0.1:{port}", 60) for port in ports}
        assert all(healthy.values()), {p: logs[i].read_text()[-2000:] for i, p in enumerate(ports)}
        assert all(p.poll() is None for p in processes)
        key = env["LAUREL_BOOTSTRAP_ADMIN_KEY"]
        for port in ports:
            response = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ metrics { key } }"},
                headers={"X-API-Key": key},
                timeout=10,
            )
            assert response.json() == {"data": {"metrics": []}}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
