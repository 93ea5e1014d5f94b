"""Awaiting many coroutines together without a task for each: what a query plan's lists need.

graphql-core awaits the values of a list's items with `asyncio.gather`, one task per item, so
that their dataloader calls are made before any batch is sent. With 200 achievements that is
200 tasks for values that are, after the first, already in the loader's cache. `lockstep` keeps
the batching and drops the tasks: it starts every coroutine itself (each runs until it waits on
a future or finishes), waits for whichever futures it holds to complete, and resumes the
coroutines whose futures are done, round after round. A coroutine that finishes without
waiting costs one `send`.

The first exception is raised once the coroutines still running have finished (see
`_wind_down`).
"""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import Awaitable, Coroutine
from typing import Any


class _Runner:
    """One coroutine, driven by hand: what it is waiting on, or its result."""

    __slots__ = ("coroutine", "result", "waiting_on")

    def __init__(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        self.coroutine = coroutine
        self.waiting_on: Any = None
        self.result: Any = None

    def step(self, cancel: bool = False) -> bool:
        """Resumes the coroutine (with CancelledError thrown in, when `cancel`); True once it
        has returned (its value in `result`)."""
        try:
            if cancel:
                yielded = self.coroutine.throw(asyncio.CancelledError())
            else:
                yielded = self.coroutine.send(None)
        except StopIteration as stop:
            self.result = stop.value
            return True
        if yielded is not None:
            if not hasattr(yielded, "_asyncio_future_blocking"):
                raise RuntimeError(f"a coroutine yielded {yielded!r}, not an asyncio future")
            # What asyncio's Task does with a future it is handed: the flag is for its own use.
            yielded._asyncio_future_blocking = False
        self.waiting_on = yielded
        return False

    def ready(self) -> bool:
        return self.waiting_on is None or self.waiting_on.done()


async def lockstep(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """The awaitables' results, in their order."""
    runners = [_Runner(_coroutine(awaitable)) for awaitable in awaitables]
    try:
        pending = _round(runners)
        while pending:
            await _until_one_can_go_on(pending)
            pending = _round(pending)
    except Exception:
        await _wind_down(runners, cancel=False)
        raise
    except BaseException:
        await _wind_down(runners, cancel=True)
        raise
    return [runner.result for runner in runners]


async def _until_one_can_go_on(pending: list[_Runner]) -> None:
    if any(runner.waiting_on is None for runner in pending):
        await asyncio.sleep(0)  # what it yielded for: one turn of the loop
    elif not any(runner.waiting_on.done() for runner in pending):
        futures = {runner.waiting_on for runner in pending}
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)


async def _wind_down(runners: list[_Runner], *, cancel: bool) -> None:
    """The coroutines left when one failed, or when this one is cancelled, driven to their
    end so that their cleanup (a connection given back to its pool) runs and may await; one
    that never started is closed.

    When one failed, the others finish their work, unhurried, as graphql-core settles the
    rest of an object whose field failed: a coroutine cancelled where it waits leaves the
    future it waited on pending, and when that future is a database driver's, the driver
    still counts the query as running on a connection already back in the pool. Only when
    this coroutine is cancelled are they cancelled, as tasks are: the future each waits on
    first, then the coroutine."""
    pending = []
    for runner in runners:
        state = inspect.getcoroutinestate(runner.coroutine)
        if state == inspect.CORO_CREATED:
            discard(runner.coroutine)
        elif state == inspect.CORO_SUSPENDED:
            if cancel and runner.waiting_on is not None:
                runner.waiting_on.cancel()
            if not _done_after(runner, cancel=cancel):
                pending.append(runner)
    while pending:
        await _until_one_can_go_on(pending)
        pending = [r for r in pending if not (r.ready() and _done_after(r, cancel=False))]


def _done_after(runner: _Runner, *, cancel: bool) -> bool:
    """Steps a winding-down runner; True once it has finished, however it finished."""
    try:
        return runner.step(cancel)
    except BaseException:
        return True


def _round(runners: list[_Runner]) -> list[_Runner]:
    """Resumes every runner that can go on, in order, and returns those still pending. As
    tasks woken together, all of them run before the first exception is raised."""
    pending, failure = [], None
    for runner in runners:
        try:
            if not (runner.ready() and runner.step()):
                pending.append(runner)
        except Exception as error:
            failure = failure or error
    if failure is not None:
        raise failure
    return pending


def discard(awaitable: Any) -> None:
    """Closes a coroutine that will not be awaited. One that never started is closed with the
    coroutines it was handed (a resolver's, waiting to be completed), or Python would warn
    that they were never awaited."""
    if not isinstance(awaitable, types.CoroutineType):
        return
    frame = awaitable.cr_frame
    if frame is not None and inspect.getcoroutinestate(awaitable) == inspect.CORO_CREATED:
        for value in frame.f_locals.values():
            discard(value)
    awaitable.close()


def _coroutine(awaitable: Awaitable[Any]) -> Coroutine[Any, Any, Any]:
    if isinstance(awaitable, Coroutine):
        return awaitable
    return _awaiting(awaitable)


async def _awaiting(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
