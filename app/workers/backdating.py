"""The background task that works off backdating jobs, off the request path.

It wakes when a mutation queued a job on this instance, and otherwise polls, so that jobs queued
on another instance or left over from before a restart are picked up too. Batches are separate
transactions with a yield between them, so requests keep flowing while a large tenant is
processed. A failing job is logged and set aside for a while instead of blocking the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from app.domain.backdating import SETTLE, BackdateFailed, run_backdate_batch
from app.domain.ports import BackdateStoreFactory
from app.workers.background import WakeableTask

log = logging.getLogger("laurel.backdating")

POLL_INTERVAL = 2.0
RETRY_AFTER = 30.0


class BackdateWorker(WakeableTask):
    name = "laurel-backdating"

    def __init__(
        self,
        stores: BackdateStoreFactory,
        *,
        poll_interval: float = POLL_INTERVAL,
        retry_after: float = RETRY_AFTER,
        settle: timedelta = SETTLE,
    ) -> None:
        """`settle` is how long a job waits before its first batch (see `SETTLE`)."""
        super().__init__()
        self._stores = stores
        self._poll_interval = poll_interval
        self._settle = settle
        self._retry_after = retry_after
        self._failed: dict[int, float] = {}

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            await self._drain()
            if await self._round_done(self._poll_interval):
                # A fresh job is not claimed before it has settled (see SETTLE); wait that out.
                await asyncio.sleep(self._settle.total_seconds())

    async def _drain(self) -> None:
        """Batch after batch until no job is pending; never lets an error end the task."""
        while True:
            try:
                result = await run_backdate_batch(
                    self._stores, skip=self._skipped(), settle=self._settle
                )
            except BackdateFailed as exc:
                log.exception("backdating job %s failed; retrying later", exc.job_id)
                self._failed[exc.job_id] = time.monotonic() + self._retry_after
                continue
            except Exception:
                log.exception("backdating could not claim a job; retrying later")
                return
            if result is None:
                return
            if result.finished:
                self._failed.pop(result.job_id, None)
                log.info("backdating job %s finished", result.job_id)
            await asyncio.sleep(0)

    def _skipped(self) -> list[int]:
        now = time.monotonic()
        self._failed = {job: until for job, until in self._failed.items() if until > now}
        return list(self._failed)
