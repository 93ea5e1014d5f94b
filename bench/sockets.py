"""Does a server's memory come back after many WebSockets come and go?

Opens `--sockets` connections at once (graphql-transport-ws, connection_init with an API key, one
`achievementUnlocked` subscription each), closes them all, and reads the server's resident set
size once it has let go of every subscription (its `laurel_subscriptions_open` back at 0);
`--cycles` times. Memory that keeps climbing cycle after cycle is held by something; memory that
flattens is the allocator keeping its arenas (CPython returns little to the OS).

    .venv/bin/python bench/sockets.py --sockets 500 --cycles 20 --pause 2 --gc-interval 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from pathlib import Path

import httpx
import servers
import websockets

REPO = Path(__file__).resolve().parent.parent
UVICORN = [str(REPO / ".venv" / "bin" / "uvicorn"), "app.main:app", "--host", "127.0.0.1"]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def open_subscription(url: str, key: str) -> websockets.ClientConnection:
    protocol = websockets.Subprotocol("graphql-transport-ws")
    connection = await websockets.connect(url, subprotocols=[protocol])
    await connection.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key}}))
    await connection.recv()
    query = "subscription { achievementUnlocked { completionId } }"
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return connection


async def open_count(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    return next(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("laurel_subscriptions_open ")
    )


async def until(client: httpx.AsyncClient, wanted: float) -> None:
    deadline = time.monotonic() + 60
    while await open_count(client) != wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"subscriptions never reached {wanted}")
        await asyncio.sleep(0.05)


async def cycles(
    server: servers.Server, key: str, sockets: int, count: int, pause: float
) -> list[int]:
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    readings = []
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for cycle in range(count):
            opened = await asyncio.gather(*(open_subscription(url, key) for _ in range(sockets)))
            await until(client, sockets)
            await asyncio.gather(*(c.close() for c in opened))
            await until(client, 0)
            await asyncio.sleep(pause)
            readings.append(rss_kib(server.pid))
            print(f"cycle {cycle + 1:2}: RSS {readings[-1] / 1024:6.1f} MiB", flush=True)
    return readings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds between cycles (a full collection runs every LAUREL_GC_INTERVAL_S)",
    )
    parser.add_argument("--gc-interval", help="LAUREL_GC_INTERVAL_S for the server")
    args = parser.parse_args()
    key = "benchws." + secrets.token_hex(16)
    with servers.sqlite_database() as database_url:
        spec = servers.ServerSpec(
            name="laurel",
            argv=[*UVICORN, "--port", "{port}", "--log-level", "warning"],
            cwd=REPO,
            env={
                "DATABASE_URL": database_url,
                "LAUREL_BOOTSTRAP_ADMIN_KEY": key,
                "LAUREL_LOG_LEVEL": "WARNING",
                "LAUREL_RATE_LIMIT_PER_SECOND": "0",
                **({"LAUREL_GC_INTERVAL_S": args.gc_interval} if args.gc_interval else {}),
            },
            health=servers.http_ok("/healthz"),
        )
        log_path = REPO / "bench" / "results" / "sockets-laurel.log"
        log_path.parent.mkdir(exist_ok=True)
        with servers.running(spec, log_path, 60) as server:
            start = rss_kib(server.pid)
            print(f"start   : RSS {start / 1024:6.1f} MiB")
            readings = asyncio.run(cycles(server, key, args.sockets, args.cycles, args.pause))
    half = len(readings) // 2
    growth = (readings[-1] - readings[half]) / 1024
    print(
        f"second half of the cycles: {growth:+.1f} MiB ({readings[half] / 1024:.1f} -> "
        f"{readings[-1] / 1024:.1f}); first cycle {readings[0] / 1024:.1f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
