"""Webhook work in the background: queueing deliveries after commit, and attempting them.

`WebhookFanout` is an outbox consumer: the relay hands it each committed batch, it queues one
delivery per event and subscribed endpoint, and wakes the dispatcher. `WebhookDispatcher`
claims due deliveries (a lease, committed before any request), attempts each in its own task,
and sleeps until the next one falls due: retries are timed to the moment, not to a poll. Other
instances' work and expired leases are picked up within `poll_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from app.domain.announcements import Published
from app.domain.webhooks.delivery import Deliverer
from app.domain.webhooks.fanout import queue_deliveries
from app.domain.webhooks.model import AttemptTrigger, PayloadFormat
from app.domain.webhooks.payloads import Render
from app.domain.webhooks.ports import Due, WebhookStore
from app.workers.background import BackgroundTask

log = logging.getLogger("laurel.webhooks")

PER_ENDPOINT = 8
IN_FLIGHT = 64
# After an attempt ends, how long the loop waits for others to end before claiming again: one
# claim for several free slots rather than one each (a claim is a write transaction).
COALESCE_S = 0.02


class WebhookFanout:
    def __init__(
        self,
        store: WebhookStore,
        formats: Mapping[PayloadFormat, Render],
        *,
        on_queued: Callable[[], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`formats` renders the bodies of each payload format."""
        self._store = store
        self._formats = formats
        self._on_queued = on_queued
        self._clock = clock

    async def consume(self, batch: Sequence[Published]) -> None:
        if batch and await queue_deliveries(self._store, batch, self._clock(), self._formats):
            self._on_queued()


class WebhookDispatcher(BackgroundTask):
    name = "laurel-webhooks"

    def __init__(
        self,
        store: WebhookStore,
        deliverer: Deliverer,
        *,
        lease: timedelta,
        poll_interval: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._deliverer = deliverer
        self._lease = lease
        self._poll_interval = poll_interval
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._refill: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        self._wakeup.set()

    async def _run(self) -> None:
        try:
            while True:
                self._wakeup.clear()
                try:
                    await self._start_due()
                    pause = await self._until_next()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("the webhook dispatcher failed a round; retrying")
                    pause = self._poll_interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), pause)
        finally:
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _start_due(self) -> None:
        room = IN_FLIGHT - len(self._in_flight)
        if room <= 0:
            return
        for due in await self._store.claim_due(self._clock(), self._lease, PER_ENDPOINT, room):
            task = asyncio.create_task(self._attempt(due), name=f"webhook-{due.delivery.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not self._wakeup.is_set() and self._refill is None:
            self._refill = asyncio.get_running_loop().call_later(COALESCE_S, self._wake_to_refill)

    def _wake_to_refill(self) -> None:
        self._refill = None
        self._wakeup.set()

    async def _attempt(self, due: Due) -> None:
        try:
            await self._deliverer.attempt(due, AttemptTrigger.SCHEDULED)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Its lease runs out and the attempt is made again.
            log.exception("webhook delivery %s failed to record an attempt", due.delivery.id)

    async def _until_next(self) -> float:
        """Until the next delivery falls due; one due already waits for room (an attempt that
        ends wakes the loop) or for another instance's leases, so it waits a poll interval."""
        due = await self._store.next_due()
        wait = None if due is None else (due - self._clock()).total_seconds()
        if wait is None or wait <= 0:
            return self._poll_interval
        return min(self._poll_interval, wait)
