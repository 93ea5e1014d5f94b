"""Group commit over in-memory storage: single events that arrive while one is being written
share the next transaction, and each keeps its own outcome and its own refusal.

The first transaction is held open by a gate until the test has queued the others, so what
shares a transaction is decided by the test, not by timing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from fakes import FakeDatabase, FakeDefinitions, FakeTransaction, SteppingClock

from app.domain.engine import Committed, EventEngine
from app.domain.errors import Conflict
from app.domain.model import Achievement, AchievementStatus, Caller, CallerKind, MetricTrigger
from app.domain.outcomes import EventOutcome, TrackEvent
from app.domain.ports import NewEvent, RecordedEvent, UserProfile

TENANT = 1
SERVER = Caller(tenant_id=TENANT, kind=CallerKind.SERVER)


class FailingGroups(FakeTransaction):
    """A transaction whose statement for several events at once fails."""

    async def record_events(
        self, events: Sequence[tuple[UserProfile, NewEvent]]
    ) -> list[RecordedEvent]:
        raise RuntimeError("the grouped statement failed")


class GatedDatabase:
    """The fake database, counting transactions; the first waits for `release`."""

    def __init__(self, transaction: type[FakeTransaction] = FakeTransaction) -> None:
        self.db = FakeDatabase()
        self.release = asyncio.Event()
        self.opened = 0
        self._transaction = transaction

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[FakeTransaction]:
        self.opened += 1
        if self.opened == 1:
            await self.release.wait()
        async with self.db.transaction() as tx:
            yield self._transaction(tx.s)


class World:
    def __init__(
        self, *, transaction: type[FakeTransaction] = FakeTransaction, **engine: bool | int
    ):
        self.gated = GatedDatabase(transaction)
        self.committed: list[Committed] = []
        self.engine = EventEngine(
            self.gated,
            FakeDefinitions(self.gated.db),
            clock=SteppingClock(),
            on_commit=self.committed.append,
            **engine,
        )
        self.lessons = self.gated.db.add_metric("lessons")
        three = MetricTrigger(self.lessons.id, 3)
        self.gated.db.add_achievement(
            Achievement(0, "three", "three", status=AchievementStatus.ACTIVE, trigger=three)
        )

    def send(
        self, user: str, value: float = 1, key: str | None = None
    ) -> asyncio.Task[EventOutcome]:
        command = TrackEvent("lessons", UserProfile(user), value, idempotency_key=key)
        return asyncio.create_task(self.engine.track_event(SERVER, command))

    async def alone(self, user: str, key: str | None = None) -> asyncio.Task[EventOutcome]:
        """An event sent by itself: it finds nobody to share with and waits at the gate."""
        task = self.send(user, key=key)
        await self.queued(task)
        return task

    async def queued(self, *tasks: asyncio.Task[EventOutcome]) -> None:
        """Lets every task run up to where it waits (the gate or its lane): a handful of turns
        of the event loop, no clock."""
        for _ in range(20):
            await asyncio.sleep(0)
        assert not any(task.done() for task in tasks)


async def test_events_that_arrive_during_a_write_share_the_next_transaction() -> None:
    world = World()
    first = await world.alone("ada")
    rest = [world.send(user) for user in ("ada", "bob", "ada")]
    await world.queued(first, *rest)
    world.gated.release.set()
    outcomes = await asyncio.gather(first, *rest)
    assert world.gated.opened == 2
    assert [o.total for o in outcomes] == [1, 2, 1, 3]
    assert [[u.achievement.key for u in o.unlocks] for o in outcomes] == [[], [], [], ["three"]]
    assert [(c.events, c.completions) for c in world.committed] == [(1, 0), (3, 1)]
    assert len(world.gated.db.state.events) == 4


async def test_events_sent_together_share_the_first_transaction() -> None:
    """Requests read in one turn of the event loop reach the lane before its first write."""
    world = World()
    tasks = [world.send(user) for user in ("ada", "bob", "ada")]
    await world.queued(*tasks)
    world.gated.release.set()
    assert [o.total for o in await asyncio.gather(*tasks)] == [1, 1, 2]
    assert world.gated.opened == 1
    assert [c.events for c in world.committed] == [3]


async def test_a_refused_event_fails_alone_and_the_ones_after_it_run_next() -> None:
    world = World()
    first = await world.alone("ada", key="k")
    before, reused, after = world.send("cid"), world.send("bob", 5, key="k"), world.send("bob")
    await world.queued(first, before, reused, after)
    world.gated.release.set()
    assert (await first).total == 1
    with pytest.raises(Conflict):
        await reused
    assert ((await before).total, (await after).total) == (1, 1)
    assert [c.events for c in world.committed] == [1, 1, 1]
    assert world.gated.db.state.users.keys() == {(TENANT, "ada"), (TENANT, "bob"), (TENANT, "cid")}


async def test_a_request_cancelled_while_it_waits_stores_nothing() -> None:
    world = World()
    first = await world.alone("ada")
    cancelled, kept = world.send("bob"), world.send("cid")
    await world.queued(first, cancelled, kept)
    cancelled.cancel()
    world.gated.release.set()
    await asyncio.gather(first, kept)
    assert cancelled.cancelled()
    assert sorted(user for _, user in world.gated.db.state.users) == ["ada", "cid"]


async def test_a_group_that_fails_as_a_whole_runs_each_event_alone() -> None:
    world = World(transaction=FailingGroups)
    first = await world.alone("ada")
    rest = [world.send(user) for user in ("bob", "cid")]
    await world.queued(first, *rest)
    world.gated.release.set()
    assert [o.total for o in await asyncio.gather(first, *rest)] == [1, 1, 1]
    assert world.gated.opened == 4
    assert [c.events for c in world.committed] == [1, 1, 1]


async def test_a_second_writer_takes_what_arrives_while_the_first_is_busy() -> None:
    world = World(parallel_groups=2)
    first = await world.alone("ada")
    second = await world.send("bob")
    assert second.total == 1 and not first.done()
    third = world.send("cid")
    await world.queued(first)
    assert third.done()
    world.gated.release.set()
    assert (await first).total == 1
    assert world.gated.opened == 3


async def test_without_group_commit_every_event_has_its_own_transaction() -> None:
    world = World(group_commit=False)
    first, *rest = [world.send(user) for user in ("ada", "bob", "cid")]
    await world.queued(first)
    assert all(task.done() for task in rest)
    world.gated.release.set()
    await first
    assert world.gated.opened == 3
    assert [c.events for c in world.committed] == [1, 1, 1]
