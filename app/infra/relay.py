"""The outbox relay: publishes each committed unlock once, after its transaction committed.

The engine calls `wake()` after a commit that completed something, so unlocks go out at once.
Every POLL_INTERVAL the relay also looks for rows older than STALE_AFTER: those an instance
left behind when it crashed between commit and publish. Younger rows are left to the instance
that wrote them, which was woken for them; on start the relay takes every pending row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.infra.background import BackgroundTask
from app.infra.pubsub import Broker, UnlockNotice
from app.persistence.outbox import OutboxStore, PendingUnlock

log = logging.getLogger("laurel.relay")

POLL_INTERVAL = 1.0
STALE_AFTER = timedelta(seconds=2)
BATCH = 100


class OutboxRelay(BackgroundTask):
    name = "laurel-outbox-relay"

    def __init__(
        self,
        outbox: OutboxStore,
        broker: Broker,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._outbox = outbox
        self._broker = broker
        self._clock = clock
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Called by the engine after a commit; never blocks the request."""
        self._wakeup.set()

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
        """True when woken by a commit, False when the poll interval passed."""
        try:
            await asyncio.wait_for(self._wakeup.wait(), POLL_INTERVAL)
        except TimeoutError:
            return False
        return True

    async def publish_pending(self, *, everything: bool = True) -> int:
        """Publishes batches until none is left; returns how many rows it published."""
        published = 0
        while True:
            now = self._clock()
            cutoff = None if everything else now - STALE_AFTER
            async with self._outbox.claim(BATCH, now, created_before=cutoff) as batch:
                for pending in batch:
                    await self._broker.publish(_notice(pending))
            published += len(batch)
            if len(batch) < BATCH:
                return published


def _notice(pending: PendingUnlock) -> UnlockNotice:
    return UnlockNotice(
        tenant_id=pending.tenant_id,
        completion_id=pending.completion_id,
        user_id=pending.user_id,
        achievement_id=pending.achievement_id,
        completed_at=pending.completed_at,
    )
