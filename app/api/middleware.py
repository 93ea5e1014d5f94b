"""Transport rules every route shares: request ids, the request log, credentials, rate limits.

`TransportMiddleware` runs for every HTTP request, whichever route serves it (GraphQL, and the
REST facade and dashboard to come): it gives the request an id (answered as `X-Request-Id`),
logs one line when it ends, and leaves in the scope who is calling (`caller_of`): a `Caller`,
the refusal that stops it (UNAUTHENTICATED for bad credentials, RATE_LIMITED past its bucket),
or None when no credential came. Routes decide whether they need a caller and answer refusals in
their own format with the status `app/api/errors.py` gives. WebSocket clients authenticate in
`connection_init`, through the same `Gate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.request_log import CLIENT_GONE_STATUS, RequestRecord, start_record
from app.domain.errors import DomainError, ErrorCode, RateLimited
from app.domain.model import Caller
from app.infra.auth import Credentials
from app.infra.metrics import Metrics
from app.infra.ratelimit import Policy, RateLimiter, retry_after

CALLER_KEY = "laurel.caller"

Identity = Caller | DomainError | None


@dataclass(frozen=True, slots=True)
class RatePolicies:
    """API keys belong to backends, which may import in bulk; user tokens face the internet."""

    keys: Policy
    tokens: Policy


class Gate:
    """Who is calling, and whether they may now: the checks every transport makes."""

    def __init__(
        self,
        credentials: Credentials,
        limiter: RateLimiter,
        policies: RatePolicies,
        metrics: Metrics,
    ) -> None:
        self.credentials = credentials
        self.limiter = limiter
        self.policies = policies
        self.metrics = metrics

    async def check(self, api_key: object, token: object) -> Identity:
        """Who is calling, with a rate-limit token taken: what every request and WebSocket
        operation passes through. Invalid credentials and rate limits are refusals."""
        try:
            caller = await self.identify(api_key, token)
            if caller is not None:
                await self._admit(caller)
        except DomainError as refusal:
            return refusal
        return caller

    async def still_valid(self, api_key: object, token: object) -> bool:
        """Whether credentials a connection opened with still hold (no rate-limit token)."""
        try:
            return await self.identify(api_key, token) is not None
        except DomainError:
            return False

    async def identify(self, api_key: object, token: object) -> Caller | None:
        """An API key wins over a token; raises UNAUTHENTICATED for invalid ones."""
        if isinstance(api_key, str) and api_key:
            return await self.credentials.from_api_key(api_key)
        if isinstance(token, str) and token:
            return await self.credentials.from_token(token)
        return None

    async def _admit(self, caller: Caller) -> None:
        """One bucket per credential: a key by its prefix, a user token by tenant and user."""
        policy = self.policies.keys if caller.is_key else self.policies.tokens
        if policy.rate <= 0:
            return
        wait = await self.limiter.acquire(caller.credential, policy)
        if wait > 0:
            self.metrics.rate_limited.labels(caller="key" if caller.is_key else "token").inc()
            seconds = retry_after(wait)
            raise RateLimited(f"rate limit exceeded; retry in {seconds} s", retry_after=seconds)


def bearer_token(headers: Headers) -> str | None:
    authorization = headers.get("authorization", "")
    return authorization[7:].strip() if authorization.lower().startswith("bearer ") else None


def caller_of(connection: HTTPConnection) -> Identity:
    identity = connection.scope.get(CALLER_KEY)
    return identity if isinstance(identity, Caller | DomainError) else None


class TransportMiddleware:
    def __init__(self, app: ASGIApp, gate: Gate, metrics: Metrics) -> None:
        self.app = app
        self.gate = gate
        self.metrics = metrics
        # Each label set's children, looked up once: prometheus_client validates and locks on
        # every `labels` call. Root fields and statuses are a bounded set.
        self._series: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = start_record(scope)
        headers = Headers(scope=scope)
        identity = await self.gate.check(headers.get("x-api-key"), bearer_token(headers))
        scope[CALLER_KEY] = identity
        if isinstance(identity, Caller):
            record.tenant = identity.tenant_id
        status = CLIENT_GONE_STATUS

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = record.request_id
            await send(message)

        try:
            await self.app(scope, receive, answer)
        except Exception:
            record.note_code(ErrorCode.INTERNAL.value)
            self._count(record, 500)
            raise
        self._count(record, status)

    def _count(self, record: RequestRecord, status: int) -> None:
        duration = record.finish(status)
        operation = record.root_fields or "-"
        series = self._series.get((operation, status))
        if series is None:
            series = self._series[operation, status] = (
                self.metrics.requests.labels(operation=operation, status=str(status)),
                self.metrics.request_seconds.labels(operation=operation),
            )
        count, seconds = series
        count.inc()
        seconds.observe(duration)
