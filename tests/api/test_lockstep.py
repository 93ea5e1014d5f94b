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


async def test_a_failure_is_raised_after_its_round_and_the_rest_are_cancelled() -> None:
    """As gather_with_cancel: the others are cancelled where they wait, and their cleanup may
    await (a connection given back to its pool) before the failure is raised."""
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    ran_after_failure, closed = [], []

    async def fails() -> None:
        raise ValueError("first")

    async def runs_then_waits() -> None:
        ran_after_failure.append(True)
        try:
            await never
        finally:
            await asyncio.sleep(0)
            closed.append(True)

    with pytest.raises(ValueError, match="first"):
        await lockstep([fails(), runs_then_waits()])
    assert ran_after_failure == [True] and closed == [True]
    assert not never.cancelled(), "a future others may share is left alone"


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


async def test_cancelling_cancels_the_coroutines() -> None:
    closed: list[Any] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            closed.append(True)

    task = asyncio.ensure_future(lockstep([waits_forever(), waits_forever()]))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True, True]
