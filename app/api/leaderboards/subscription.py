"""`leaderboardChanged`: a group's top rows, pushed when a committed change reaches them and
when the clock turns the run.

Announcements only mark the standings dirty; each message is the group's state read afresh
after the last one, so a burst of changes makes one message, and a change that leaves the top
rows as they were makes none.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.leaderboards.schema import readable_board, reader_zone
from app.api.leaderboards.types import LeaderboardStandings
from app.api.lifetime import counted
from app.domain import leaderboard_views as views
from app.domain.announcements import Announcement, Published
from app.domain.errors import NotFound
from app.domain.leaderboard_news import LeaderboardMoved
from app.domain.leaderboards import Leaderboard
from app.domain.model import Caller
from app.infra.pubsub import SubscriberOverflow

# At most one message per this many seconds; the latest state is sent.
COALESCE_S = 1.0


class _ChangeSignal:
    """Reads the tenant's announcements in a task of its own and raises a flag on the ones
    that concern the watched group, so waiting for a change can share a deadline with the
    clock."""

    def __init__(
        self, subscriber: AsyncIterator[Published], concerns: Callable[[Announcement], bool]
    ) -> None:
        self._flag = asyncio.Event()
        self._reader = asyncio.create_task(self._read(subscriber, concerns))

    async def _read(
        self, subscriber: AsyncIterator[Published], concerns: Callable[[Announcement], bool]
    ) -> None:
        async for published in subscriber:
            if concerns(published.event):
                self._flag.set()

    async def wait(self, within: float | None) -> bool:
        """Until a change is flagged or `within` seconds pass; False once the broker has closed.
        A broker overflow is raised here."""
        flagged = asyncio.ensure_future(self._flag.wait())
        try:
            await asyncio.wait(
                {flagged, self._reader}, timeout=within, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            flagged.cancel()
        if self._reader.done():
            self._reader.result()
            return False
        self._flag.clear()
        return True

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, SubscriberOverflow):
            await self._reader


@strawberry.type
class LeaderboardSubscriptions:
    @strawberry.subscription(
        description=(
            "A leaderboard group's top `limit` in the current run: the current state at once, "
            "then after each committed change to it (rows, ranks or values), at most one message "
            "per second with the latest state, and the new run's standings when the next run "
            "opens. A user token may subscribe to boards it can read."
        )
    )
    async def leaderboard_changed(
        self,
        info: Info,
        key: str,
        breakdown_value: Annotated[
            str | None,
            strawberry.argument(description="As for Query.leaderboard."),
        ] = None,
        limit: Annotated[int, strawberry.argument(description="1 to 100.")] = 10,
    ) -> AsyncGenerator[LeaderboardStandings, None]:
        caller = permissions.any_caller(info)
        views.check_page_limit(limit)
        board = await _watched(info, caller, key)
        group = views.group_read(board, breakdown_value)
        zone = await reader_zone(info, caller, None)
        services = info.context.services

        def concerns(event: Announcement) -> bool:
            return (
                isinstance(event, LeaderboardMoved)
                and event.board_id == board.id
                and event.group == group
            )

        async with services.broker.subscribe(caller.tenant_id) as subscriber:
            changes = _ChangeSignal(subscriber, concerns)
            try:
                with counted(services.metrics):
                    last: object = None
                    sent_at = -COALESCE_S
                    while True:
                        board = await _watched(info, caller, key)
                        now = services.clock()
                        standings = await _standings(info, board, now, zone, breakdown_value, limit)
                        seen = _what_changes(board, standings, now)
                        if seen != last:
                            yield LeaderboardStandings.of(standings, now)
                            last, sent_at = seen, time.monotonic()
                        turn = _seconds_until(views.next_turn(board, now, zone), now)
                        if not await changes.wait(turn):
                            return
                        await asyncio.sleep(max(0.0, sent_at + COALESCE_S - time.monotonic()))
            finally:
                await changes.close()


def _what_changes(board: Leaderboard, standings: views.Standings, now: datetime) -> object:
    """What a new message must differ in: the rows watched (who, rank, value) and the run
    with its status; `participants` alone moving (a newcomer below them) sends nothing."""
    ranks = tuple((r.user_id, r.rank, r.value) for r in standings.rankings)
    return (ranks, standings.run, board.run_status(standings.run, now), board.status(now))


async def _watched(info: Info, caller: Caller, key: str) -> Leaderboard:
    """Read anew before each message: a board archived or removed meanwhile ends the stream."""
    board = await readable_board(info, caller, key)
    if board is None:
        raise NotFound(f"no leaderboard {key!r}")
    return board


async def _standings(
    info: Info,
    board: Leaderboard,
    now: datetime,
    zone: str | None,
    breakdown_value: str | None,
    limit: int,
) -> views.Standings:
    return await views.standings(
        info.context.services.leaderboard_reads,
        board,
        views.run_for_reader(board, now, None, zone),
        breakdown_value=breakdown_value,
        offset=0,
        limit=limit,
    )


def _seconds_until(turn: datetime | None, now: datetime) -> float | None:
    return None if turn is None else max(0.0, (turn - now).total_seconds())
