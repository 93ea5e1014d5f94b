"""The lifecycle every background worker shares: one task, started with the app, cancelled last."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod


class BackgroundTask(ABC):
    name = "laurel-background"

    _task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @abstractmethod
    async def _run(self) -> None:
        """Runs until cancelled; must survive its own failures."""


class WakeableTask(BackgroundTask):
    """A task that polls for work queued anywhere and can be woken early by this instance (a
    commit that queued some), so that local work starts at once and remote work within a poll."""

    def __init__(self) -> None:
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def _round_done(self, seconds: float) -> bool:
        """After a round that began with `_wakeup.clear()` (so a wake during it is kept): waits
        `seconds` or until woken, whichever comes first; True when woken."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        # A wake that lands while the timeout unwinds counts too.
        return self._wakeup.is_set()
