"""A webhook receiver that answers 200 after a delay, for bench/webhooks.py: counts what it
received (GET /stats), in a process of its own so that it never competes with the measurement
for the bench's event loop."""

from __future__ import annotations

import argparse
import asyncio
import json


class Counts:
    def __init__(self) -> None:
        self.received = 0
        self.ids: set[str] = set()


async def serve(port: int, delay: float) -> None:
    counts = Counts()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                if lines[0].startswith("GET /stats"):
                    body = json.dumps({"received": counts.received, "distinct": len(counts.ids)})
                else:
                    await asyncio.sleep(delay)
                    counts.received += 1
                    counts.ids.add(headers.get("webhook-id", ""))
                    body = "ok"
                writer.write(
                    f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n{body}".encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay))
