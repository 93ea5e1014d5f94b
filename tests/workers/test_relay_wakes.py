"""No wake of the outbox relay is lost, even one that lands as its poll times out.

The relay polls every millisecond, and its polls take only rows older than an hour (none
here): a row is relayed only if the wake after its commit is seen. Each of many commits lands
at a moment of its own against the poll's timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from app.domain.announcements import Published, UserCreated
from app.workers.relay import OutboxRelay

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class PollBlindOutbox:
    """Hands out pending rows only to a woken round (`created_before` unset)."""

    def __init__(self) -> None:
        self.pending: list[Published] = []

    async def claim(
        self,
        limit: int,
        now: datetime,
        lease: timedelta,
        *,
        created_before: datetime | None = None,
    ) -> list[Published]:
        if created_before is not None:
            return []
        batch, self.pending = self.pending[:limit], self.pending[limit:]
        return batch

    async def mark_published(self, ids: Sequence[int], now: datetime) -> None:
        return None

    async def backlog(self, now: datetime) -> tuple[int, float]:
        return len(self.pending), 0.0


class Arrivals:
    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.changed = asyncio.Event()

    async def consume(self, batch: Sequence[Published]) -> None:
        self.ids |= {p.id for p in batch}
        self.changed.set()


async def test_every_commit_is_relayed_whenever_its_wake_lands() -> None:
    outbox, arrivals = PollBlindOutbox(), Arrivals()
    relay = OutboxRelay(
        outbox,
        [arrivals],
        clock=lambda: NOW,
        poll_interval=0.001,
        stale_after=timedelta(hours=1),
        gather=0,
    )
    relay.start()
    try:
        for n in range(1, 301):
            await asyncio.sleep(0.0003 * (n % 7))
            outbox.pending.append(Published(n, 1, UserCreated(f"u{n}"), NOW))
            relay.wake()
            async with asyncio.timeout(5):
                while n not in arrivals.ids:
                    arrivals.changed.clear()
                    await arrivals.changed.wait()
    finally:
        await relay.stop()
