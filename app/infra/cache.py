"""A small per-process cache whose entries expire, for values other instances may change.

Each instance keeps its own copy; a change made on another instance reaches this one when the
entry expires, and one made here is applied at once by `forget`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock() + self._seconds, value)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def forget_where(self, stale: Callable[[V], bool]) -> None:
        self._entries = {k: e for k, e in self._entries.items() if not stale(e[1])}
