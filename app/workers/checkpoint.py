"""SQLite WAL checkpoints on a thread, so that no commit on the event loop pays for one.

A checkpoint copies committed pages from the WAL into the database file and fsyncs both. Left
to SQLite, every thousandth page of WAL makes one unlucky commit do that on the event loop,
stalling every request in flight; here a thread does it twice a second with the GIL released.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from app.workers.background import BackgroundTask

log = logging.getLogger("laurel.checkpoint")

CHECKPOINT_INTERVAL = 0.5


class Checkpointable(Protocol):
    async def checkpoint(self) -> None: ...


class WalCheckpointer(BackgroundTask):
    name = "laurel-wal-checkpoint"

    def __init__(self, database: Checkpointable, *, interval: float = CHECKPOINT_INTERVAL) -> None:
        self._database = database
        self._interval = interval

    async def _run(self) -> None:
        while True:
            try:
                await self._database.checkpoint()
            except Exception:
                log.exception("WAL checkpoint failed; trying again later")
            await asyncio.sleep(self._interval)
