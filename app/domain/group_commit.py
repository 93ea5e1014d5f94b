"""Group commit: single trackEvent requests of one tenant that arrive together share a
transaction.

Under load, most of what an event costs is its transaction, not its rules: on PostgreSQL a
lone event is three round trips (`BEGIN`, its statement, `COMMIT`), and on either backend the
commit and the per-transaction work are paid once per transaction. An event that finds nothing
waiting and a writer free first lets the event loop run once, so that the requests already
read from their sockets reach it (SQLite's statements run on the loop without yielding, so
nothing could join a transaction once it has begun). If none did, it runs alone in a
transaction of its own, as it did before group commit: an unloaded server adds one turn of the
loop. Otherwise, and for the events that arrive while all of the tenant's writers (`parallel`)
are busy, they run together, in arrival order, through the batch path of `trackEvents`
(`event_batches.track_chunk`): each with its own idempotency claim, its completions reported on
it, exactly once, at most `CHUNK` to a transaction.

Each request keeps its own result and its own refusal. An event refused while it runs (a
deduction its user's points cannot cover, an idempotency key reused with another input) gets
its error; the events before it in the group commit without it, and those after it run in the
next group. Should a group fail as a whole (contention past its retries, a failing statement),
each of its events runs again alone, so a failure reaches only the request it belongs to.
A request cancelled while it waits is left out; one cancelled while its group runs is stored
all the same, as it would be had it been cancelled between the commit and its response.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.event_batches import CHUNK, track_chunk
from app.domain.event_tracking import CheckedEvent, Committed, Rules, track_in
from app.domain.outcomes import EventOutcome
from app.domain.ports import TransactionFactory

__all__ = ["GroupCommit"]


@dataclass(eq=False, slots=True)
class _Waiting:
    event: CheckedEvent
    result: asyncio.Future[EventOutcome]


@dataclass(slots=True)
class _Lane:
    running: int = 0
    """Writers at work: events running alone and tasks running groups."""
    gathering: bool = False
    """Whether a writer is letting the loop run once before it begins: arrivals join it."""
    waiting: deque[_Waiting] = field(default_factory=deque)


class GroupCommit:
    """Runs single events: alone when nothing else waits, grouped when something does.
    At most `parallel` transactions of one tenant run at once (one on SQLite, which has one
    writer; more on PostgreSQL, where a group spends most of its time waiting on round
    trips). `enabled=False` runs every event alone (the behaviour before group commit)."""

    def __init__(
        self,
        transactions: TransactionFactory,
        rules: Callable[[int], Awaitable[Rules]],
        clock: Callable[[], datetime],
        on_commit: Callable[[Committed], None],
        *,
        enabled: bool = True,
        parallel: int = 1,
    ) -> None:
        self._transactions = transactions
        self._rules = rules
        self._clock = clock
        self._on_commit = on_commit
        self._enabled = enabled
        self._parallel = parallel
        self._lanes: dict[int, _Lane] = {}
        self._drains: set[asyncio.Task[None]] = set()

    async def track(self, tenant_id: int, event: CheckedEvent, now: datetime) -> EventOutcome:
        if not self._enabled:
            return await self._alone(tenant_id, event, await self._rules(tenant_id), now)
        lane = self._lanes.get(tenant_id)
        if lane is None:
            lane = self._lanes[tenant_id] = _Lane()
        if lane.gathering or lane.running >= self._parallel:
            waiting = _Waiting(event, asyncio.get_running_loop().create_future())
            lane.waiting.append(waiting)
            return await waiting.result
        lane.running += 1
        lane.gathering = True
        try:
            await asyncio.sleep(0)
            lane.gathering = False
            if not lane.waiting:
                return await self._alone(tenant_id, event, await self._rules(tenant_id), now)
            waiting = _Waiting(event, asyncio.get_running_loop().create_future())
            lane.waiting.appendleft(waiting)
        finally:
            lane.gathering = False
            self._hand_over(tenant_id, lane)
        return await waiting.result

    def _hand_over(self, tenant_id: int, lane: _Lane) -> None:
        """Ends this writer, or starts a task that runs what waits: a task of its own, so that
        the request that ran before answers at once and no cancellation of one request reaches
        the others' group."""
        if not lane.waiting:
            lane.running -= 1
            return
        drain = asyncio.get_running_loop().create_task(self._drain(tenant_id, lane))
        self._drains.add(drain)
        drain.add_done_callback(self._drains.discard)

    async def _drain(self, tenant_id: int, lane: _Lane) -> None:
        group: list[_Waiting] = []
        try:
            while lane.waiting:
                group = _next_group(lane.waiting)
                if group:
                    await self._run(tenant_id, lane, group)
        finally:
            lane.running -= 1
            for waiting in group:
                waiting.result.cancel()
            if not lane.running:
                for waiting in lane.waiting:
                    waiting.result.cancel()
                lane.waiting.clear()

    async def _run(self, tenant_id: int, lane: _Lane, group: list[_Waiting]) -> None:
        """Settles every event of the group, or puts it back at the head of the lane."""
        try:
            rules, now = await self._rules(tenant_id), self._clock()
        except Exception as error:
            for waiting in group:
                _refuse(waiting, error)
            return
        if len(group) == 1:
            await self._settle_alone(tenant_id, group[0], rules, now)
            return
        try:
            outcomes, refusal = await track_chunk(
                self._transactions,
                tenant_id,
                [waiting.event for waiting in group],
                rules,
                now,
                self._on_commit,
            )
        except Exception:
            for waiting in group:
                await self._settle_alone(tenant_id, waiting, rules, now)
            return
        for waiting, outcome in zip(group, outcomes, strict=False):
            _settle(waiting, outcome)
        if refusal is not None:
            refused = len(outcomes)
            _refuse(group[refused], refusal)
            lane.waiting.extendleft(reversed(group[refused + 1 :]))

    async def _settle_alone(
        self, tenant_id: int, waiting: _Waiting, rules: Rules, now: datetime
    ) -> None:
        try:
            outcome = await self._alone(tenant_id, waiting.event, rules, now)
        except Exception as error:
            _refuse(waiting, error)
        else:
            _settle(waiting, outcome)

    async def _alone(
        self, tenant_id: int, event: CheckedEvent, rules: Rules, now: datetime
    ) -> EventOutcome:
        async with self._transactions() as tx:
            tracked = await track_in(tx, tenant_id, event, rules, now)
        if tracked.stored.events:
            self._on_commit(tracked.stored)
        return tracked.outcome


def _next_group(waiting: deque[_Waiting]) -> list[_Waiting]:
    """Up to `CHUNK` of the events waiting, in arrival order, leaving out the cancelled."""
    group: list[_Waiting] = []
    while waiting and len(group) < CHUNK:
        first = waiting.popleft()
        if not first.result.done():
            group.append(first)
    return group


def _settle(waiting: _Waiting, outcome: EventOutcome) -> None:
    if not waiting.result.done():
        waiting.result.set_result(outcome)


def _refuse(waiting: _Waiting, error: Exception) -> None:
    if not waiting.result.done():
        waiting.result.set_exception(error)
