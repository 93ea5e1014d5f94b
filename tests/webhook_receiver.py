"""A webhook receiver on 127.0.0.1 for tests: a small HTTP/1.1 server in the test's event loop.

Each request is recorded (headers, raw body) and answered from a script of responses, the last
one repeated; a response may wait for a gate the test opens. Tests wait on what it received
(`wait_for`), never on a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    gate: asyncio.Event | None = None


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: list[Reply] = [Reply()]
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def answer(self, *replies: Reply) -> None:
        """Answer the next requests with these, then keep answering with the last."""
        self._script = list(replies)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def of_type(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.json["type"] == kind]

    async def wait_for(
        self, count: int, kind: str | None = None, within: float = 15.0, *, distinct: bool = False
    ) -> list[Received]:
        """Waits until `count` requests (of `kind`, when given) have arrived; returns them.
        With `distinct`, counts webhook ids instead, each by its first delivery: delivery is
        at least once, and a receiver drops repeats by their id."""
        deadline = time.monotonic() + within

        def matching() -> list[Received]:
            found = list(self.received) if kind is None else self.of_type(kind)
            if not distinct:
                return found
            first: dict[str, Received] = {}
            for received in found:
                first.setdefault(received.webhook_id, received)
            return list(first.values())

        async with self._changed:
            while len(matching()) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{count} {kind or 'requests'} not received: {self.received}"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
        return matching()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            reply = self._script.pop(0) if len(self._script) > 1 else self._script[0]
            async with self._changed:
                self.received.append(Received(headers, body, path))
                self._changed.notify_all()
            if reply.gate is not None:
                await reply.gate.wait()
            extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
            writer.write(
                f"HTTP/1.1 {reply.status} X\r\ncontent-length: {len(reply.body)}\r\n"
                f"connection: close\r\n{extra}\r\n".encode()
                + reply.body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
