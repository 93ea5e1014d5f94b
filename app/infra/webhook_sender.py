"""Webhook requests over HTTP: the destination checked after resolution, no redirects, a time
limit, and only the start of the answer read.

Connections are opened by `CheckedBackend`, which resolves the host itself and connects only to
an address the destination policy allows: the check and the connection use the same address,
so a name that resolves differently in between (DNS rebinding) reaches nothing it should not.
TLS still verifies the certificate against the URL's host. No Laurel credential is ever sent.
"""

from __future__ import annotations

import asyncio
import email.utils
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpcore

from app.domain.webhooks.retries import AttemptResult
from app.domain.webhooks.urls import DestinationPolicy, address_allowed

MAX_READ = 64 * 1024
KEPT = 1024
BLOCKED = "blocked address"

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class BlockedAddress(Exception):
    """The host resolves to no address the policy allows, or does not resolve."""


class CheckedBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self,
        policy: DestinationPolicy,
        resolver: Resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._resolve(host, port)
        except OSError as error:
            raise BlockedAddress(f"{BLOCKED}: {host} does not resolve") from error
        allowed = [a for a in addresses if address_allowed(a, self._policy)]
        if not allowed:
            raise BlockedAddress(BLOCKED)
        return await self._inner.connect_tcp(
            allowed[0], port, timeout, local_address, socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class HttpSender:
    """The `WebhookSender` port."""

    def __init__(
        self, policy: DestinationPolicy, timeout: float, *, resolver: Resolver = resolve
    ) -> None:
        self._timeout = timeout
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=256,
            max_keepalive_connections=64,
            keepalive_expiry=30.0,
            network_backend=CheckedBackend(policy, resolver),
        )

    async def close(self) -> None:
        await self._pool.aclose()

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(self._post(url, headers, body), self._timeout)
        except (TimeoutError, httpcore.TimeoutException):
            result = AttemptResult(None, f"timeout after {self._timeout:g} s")
        except BlockedAddress as error:
            result = AttemptResult(None, str(error))
        except httpcore.ConnectError as error:
            result = AttemptResult(None, _connect_error(error))
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as error:
            result = AttemptResult(None, f"{type(error).__name__}: {error}"[:KEPT])
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptResult(result.status, result.error, result.retry_after, result.body, elapsed)

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        timeouts = {"connect": self._timeout, "read": self._timeout, "write": self._timeout}
        async with self._pool.stream(
            "POST",
            url,
            headers=list(headers.items()),
            content=body,
            extensions={"timeout": timeouts},
        ) as response:
            read = bytearray()
            async for chunk in response.aiter_stream():
                read += chunk
                if len(read) >= MAX_READ:
                    break
        answer = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
        return AttemptResult(
            response.status,
            body=bytes(read[:KEPT]).decode("utf-8", "replace") if read else None,
            retry_after=retry_after(answer.get("retry-after")),
        )


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds, from either form `Retry-After` takes: a number or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _connect_error(error: httpcore.ConnectError) -> str:
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ssl.SSLError | ConnectionRefusedError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLError):
        return f"TLS error: {cause.reason or cause}"[:KEPT]
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    return f"connection failed: {error}"[:KEPT]
