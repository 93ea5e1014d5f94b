"""The collector runs full collections on its own, so that cyclic garbage does not pile up."""

from __future__ import annotations

import gc

from conftest import eventually

from app.workers.collector import GarbageCollector


async def test_full_collections_happen_without_anyone_asking() -> None:
    full: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(info["collected"])

    gc.callbacks.append(note)
    collector = GarbageCollector(interval=0.01)
    collector.start()
    try:

        async def collected() -> bool:
            return len(full) >= 2

        await eventually(collected, what="full collections")
    finally:
        await collector.stop()
        gc.callbacks.remove(note)
