"""lockstep: many coroutines awaited together, without a task each, as gather would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.api.lockstep import lockstep


async def test_results_come_in_order_whatever_finishes_first() -> None:
    async def after(delay: float, value: int) -> int:
        await asyncio.sleep(delay)
        return value

    assert await lockstep([after(0.02, 1), after(0, 2), after(0.01, 3), asyncio.sleep(0, 4)]) == [
        1,
        2,
        3,
        4,
    ]


async def test_every_coroutine_starts_before_any_is_resumed() -> None:
    """What batching loaders need: each coroutine's first request is made before the batch
    they share is sent."""
    loop = asyncio.get_running_loop()
    shared: asyncio.Future[int] = loop.create_future()
    started: list[int] = []

    async def wait_for_batch(index: int) -> int:
        started.append(index)
        if index == 2:
            loop.call_soon(shared.set_result, 10)
        return await shared + index

    assert await lockstep([wait_for_batch(i) for i in range(3)]) == [10, 11, 12]
    assert started == [0, 1, 2]


async def test_a_failure_is_raised_once_the_others_have_finished() -> None:
    """The others finish their work (a query they wait on is not cancelled under a driver
    that still runs it) and their cleanup may await, before the failure is raised."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()
    finished: list[str] = []

    async def fails() -> None:
        raise ValueError("first")

    async def waits_for_its_query() -> None:
        try:
            finished.append(await answer)
        finally:
            await asyncio.sleep(0)
            finished.append("cleaned up")

    loop.call_later(0.01, answer.set_result, "answered")
    with pytest.raises(ValueError, match="first"):
        await lockstep([fails(), waits_for_its_query()])
    assert finished == ["answered", "cleaned up"]
    assert not answer.cancelled()


async def test_waiting_on_each_other_does_not_deadlock() -> None:
    """A coroutine waiting on what a later one sets: resumed when that is done, not after
    every future is."""
    event = asyncio.Event()

    async def waits() -> str:
        await event.wait()
        return "woken"

    async def sets() -> str:
        await asyncio.sleep(0)
        event.set()
        return "set"

    assert await asyncio.wait_for(lockstep([waits(), sets()]), 2) == ["woken", "set"]


async def test_cancelling_cancels_the_coroutines_and_what_they_wait_on() -> None:
    """As task cancellation does: the future each waits on is cancelled, then the coroutine."""
    loop = asyncio.get_running_loop()
    waited: list[asyncio.Future[None]] = []
    closed: list[Any] = []

    async def waits_forever() -> None:
        future: asyncio.Future[None] = loop.create_future()
        waited.append(future)
        try:
            await future
        finally:
            closed.append(True)

    task = asyncio.ensure_future(lockstep([waits_forever(), waits_forever()]))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True, True]
    assert all(future.cancelled() for future in waited)
