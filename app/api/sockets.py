"""This instance's open WebSocket connections, counted by credential and ended together."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from app.domain.model import Caller

GOING_AWAY = 1001


class Endable(Protocol):
    async def end(self, code: int, reason: str) -> None: ...


class OpenSockets:
    """This instance's open WebSocket connections, by credential."""

    def __init__(self, per_credential: int) -> None:
        self.per_credential = per_credential
        self._sockets: set[Endable] = set()
        self._counts: Counter[str] = Counter()

    def admit(self, socket: Endable, caller: Caller) -> bool:
        credential = caller.credential
        if self._counts[credential] >= self.per_credential:
            return False
        self._counts[credential] += 1
        self._sockets.add(socket)
        return True

    def release(self, socket: Endable, caller: Caller) -> None:
        if socket in self._sockets:
            self._sockets.discard(socket)
            self._counts[caller.credential] -= 1

    async def drain(self, reason: str) -> None:
        """Every subscription gets `complete`, then every socket closes as going away."""
        for socket in list(self._sockets):
            await socket.end(GOING_AWAY, reason)
