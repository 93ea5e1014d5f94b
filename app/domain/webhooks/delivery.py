"""One attempt of one delivery: sign, send, record what it did.

The worker calls it for scheduled attempts, the admin use cases for redeliveries and tests.
No transaction is open while the request is in flight: the claim was committed before, and
the outcome is stored after, in one short transaction of its own.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from app.domain.webhooks.model import Attempt, AttemptTrigger, PayloadFormat, Signing
from app.domain.webhooks.ports import (
    Due,
    Outcome,
    SealedSecrets,
    SecretBox,
    SecretUnavailable,
    WebhookSender,
    WebhookStore,
)
from app.domain.webhooks.retries import AttemptResult, RetryPolicy, after_attempt
from app.domain.webhooks.signing import signature_header, trophy_signature


def secret_context(tenant_id: int, endpoint_id: int) -> bytes:
    """What a sealed secret is bound to: a ciphertext copied to another row does not open."""
    return b"laurel-webhook-secret:%d:%d" % (tenant_id, endpoint_id)


def unseal(box: SecretBox, sealed: SealedSecrets, tenant_id: int, endpoint_id: int) -> Signing:
    context = secret_context(tenant_id, endpoint_id)
    previous = box.open(sealed.previous, context) if sealed.previous else None
    return Signing(box.open(sealed.current, context), previous, sealed.previous_expires_at)


class Deliverer:
    def __init__(
        self,
        store: WebhookStore,
        sender: WebhookSender,
        box: SecretBox,
        policy: RetryPolicy,
        *,
        user_agent: str,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        on_attempt: Callable[[AttemptResult], None] = lambda result: None,
    ) -> None:
        """`on_attempt` learns each request's result (metrics)."""
        self._store = store
        self._sender = sender
        self._box = box
        self._policy = policy
        self._user_agent = user_agent
        self._clock = clock
        self._rng = rng
        self._on_attempt = on_attempt

    async def attempt(self, due: Due, trigger: AttemptTrigger) -> None:
        """Scheduled attempts retry on failure; redeliveries and tests are single attempts."""
        delivery, endpoint = due.delivery, due.endpoint
        started = self._clock()
        try:
            signing = unseal(self._box, due.secrets, endpoint.tenant_id, endpoint.id)
        except SecretUnavailable as error:
            return await self._record(due, trigger, started, AttemptResult(None, str(error)))
        timestamp = int(started.timestamp())
        body = delivery.payload.encode()
        headers = {
            "content-type": "application/json",
            "user-agent": self._user_agent,
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                signing.active(started), delivery.webhook_id, timestamp, body
            ),
        }
        if endpoint.payload_format is PayloadFormat.TROPHY:
            headers["x-trophy-signature"] = trophy_signature(signing.current, body)
        result = await self._sender.send(endpoint.url, headers, body)
        self._on_attempt(result)
        return await self._record(due, trigger, started, result)

    async def _record(
        self, due: Due, trigger: AttemptTrigger, started: datetime, result: AttemptResult
    ) -> None:
        now = self._clock()
        state = after_attempt(
            result,
            attempts_made=due.delivery.attempts_made + 1,
            failing_since=due.endpoint.failing_since,
            now=now,
            policy=self._policy,
            retry=trigger is AttemptTrigger.SCHEDULED,
            rng=self._rng,
        )
        attempt = Attempt(
            attempted_at=started,
            trigger=trigger,
            response_status=result.status,
            response_body=result.body,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        outcome = Outcome(
            attempt, state.status, state.next_attempt_at, state.disable, state.failing_since
        )
        await self._store.record(due, outcome)
