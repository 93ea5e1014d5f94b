"""Webhook requests over HTTP: the destination checked after resolution, no redirects, a time
limit, and only the start of the answer read.

Names are resolved by `CheckedResolver`, which hands the connector only the addresses the
destination policy allows: the check and the connection use the same address, so a name that
resolves differently in between (DNS rebinding) reaches nothing it should not. Literal
addresses, which need no resolution, are checked before the request. TLS verifies the
certificate against the URL's host. No Laurel credential is ever sent.
"""

from __future__ import annotations

import asyncio
import email.utils
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from app.domain.webhooks.retries import AttemptResult
from app.domain.webhooks.urls import DestinationPolicy, address_allowed, literal_address

MAX_READ = 64 * 1024
KEPT = 1024
BLOCKED = "blocked address"

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class BlockedAddress(OSError):
    """The host resolves to no address the policy allows, or does not resolve. An OSError, so
    that the connector reports it as a failed connection."""


class CheckedResolver(AbstractResolver):
    def __init__(self, policy: DestinationPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolve = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await self._resolve(host, port)
        except OSError as error:
            raise BlockedAddress(f"{BLOCKED}: {host} does not resolve") from error
        allowed = [a for a in addresses if address_allowed(a, self._policy)]
        if not allowed:
            raise BlockedAddress(BLOCKED)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=socket.IPPROTO_TCP,
                flags=socket.AI_NUMERICHOST,
            )
            for address in allowed
        ]

    async def close(self) -> None:
        return None


class HttpSender:
    """The `WebhookSender` port."""

    def __init__(
        self, policy: DestinationPolicy, timeout: float, *, resolver: Resolver = resolve
    ) -> None:
        self._policy = policy
        self._timeout = timeout
        self._resolver = CheckedResolver(policy, resolver)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """Made on first use, inside the running event loop."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=self._resolver,
                use_dns_cache=False,
                limit=256,
                ssl=ssl.create_default_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(self._post(url, headers, body), self._timeout)
        except TimeoutError:
            result = AttemptResult(None, f"timeout after {self._timeout:g} s")
        except aiohttp.ClientConnectorError as error:
            result = AttemptResult(None, _connect_error(error))
        except (aiohttp.ClientError, OSError) as error:
            result = AttemptResult(None, f"{type(error).__name__}: {error}"[:KEPT])
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptResult(result.status, result.error, result.retry_after, result.body, elapsed)

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        literal = literal_address(urlsplit(url).hostname or "")
        if literal is not None and not address_allowed(literal, self._policy):
            return AttemptResult(None, BLOCKED)
        async with self._client().post(
            url, data=body, headers=headers, allow_redirects=False
        ) as response:
            read = await response.content.read(MAX_READ)
            return AttemptResult(
                response.status,
                body=read[:KEPT].decode("utf-8", "replace") if read else None,
                retry_after=retry_after(response.headers.get("retry-after")),
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


def _connect_error(error: aiohttp.ClientConnectorError) -> str:
    cause = error.os_error
    if isinstance(cause, BlockedAddress):
        return str(cause)
    if isinstance(error, aiohttp.ClientSSLError) or isinstance(cause, ssl.SSLError):
        return f"TLS error: {getattr(cause, 'reason', None) or cause}"[:KEPT]
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    return f"connection failed: {cause or error}"[:KEPT]
