"""The outbox relay: hands each committed announcement to every consumer, after its commit.

The engine calls `wake()` after a commit that announced something, so events go out at once:
within `gather` (5 ms), the time the relay waits after a wake so that the commits of a busy
moment travel in one batch, instead of two relay transactions for each one of them.
Every `poll_interval` the relay also looks for rows older than `stale_after`: those an instance
left behind when it crashed between commit and relay. Younger rows are left to the instance
that wrote them, which was woken for them; on start the relay takes every pending row.

Each batch is claimed (a lease, committed at once), handed to the consumers with no transaction
open, then marked published. A consumer that fails leaves the batch unmarked: its rows are
claimed again once the lease expires, so consumers see an event at least once and drop repeats
by its id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from app.domain.announcements import Published
from app.domain.ports import DeliveryDeferred, OutboxStore
from app.workers.background import WakeableTask

log = logging.getLogger("laurel.relay")

POLL_INTERVAL = 1.0
STALE_AFTER = timedelta(seconds=2)
LEASE = timedelta(seconds=30)
BATCH = 100
GATHER = 0.005


class OutboxConsumer(Protocol):
    """Takes a batch of committed events. Raising means "not taken", and it comes again;
    `DeliveryDeferred` says so quietly (the consumer has logged why)."""

    async def consume(self, batch: Sequence[Published]) -> None: ...


class OutboxRelay(WakeableTask):
    name = "laurel-outbox-relay"

    def __init__(
        self,
        outbox: OutboxStore,
        consumers: Sequence[OutboxConsumer],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_interval: float = POLL_INTERVAL,
        stale_after: timedelta = STALE_AFTER,
        lease: timedelta = LEASE,
        gather: float = GATHER,
    ) -> None:
        super().__init__()
        self._outbox = outbox
        self._consumers = tuple(consumers)
        self._clock = clock
        self._poll_interval = poll_interval
        self._stale_after = stale_after
        self._lease = lease
        self._gather = gather

    async def _run(self) -> None:
        woken = True
        while True:
            self._wakeup.clear()
            try:
                await self.publish_pending(everything=woken)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the outbox relay failed a round; retrying")
            woken = await self._sleep()

    async def _sleep(self) -> bool:
        """True when woken by a commit (after gathering what commits meanwhile), False when
        the poll interval passed. A wake that lands as the wait times out counts (see
        `_round_done`): else the round after it, which clears the event, would leave that
        commit's rows to a poll."""
        if not await self._round_done(self._poll_interval):
            return False
        if self._gather:
            await asyncio.sleep(self._gather)
        return True

    async def publish_pending(self, *, everything: bool = True) -> int:
        """Relays batches until none is left; returns how many rows it relayed."""
        published = 0
        while True:
            now = self._clock()
            cutoff = None if everything else now - self._stale_after
            batch = await self._outbox.claim(BATCH, now, self._lease, created_before=cutoff)
            deferred = False
            for consumer in self._consumers:
                try:
                    await consumer.consume(batch)
                except DeliveryDeferred:
                    deferred = True
            if not deferred:
                await self._outbox.mark_published([p.id for p in batch], self._clock())
            published += len(batch)
            if len(batch) < BATCH:
                return published
