"""Rebalancing leaderboard groups in the background, so that events never wait for it: the
structure that ranks a group without walking it is cut and joined here (see the persistence's
leaderboard_rebalance), every `interval` seconds, on whichever instance runs it; rebalancing
twice at once is safe, since each group is rebalanced under its own exclusive lock."""

from __future__ import annotations

import asyncio
import logging

from app.domain.leaderboard_ports import LeaderboardUpkeep
from app.workers.background import BackgroundTask

log = logging.getLogger("laurel.leaderboards")


class LeaderboardRebalancer(BackgroundTask):
    name = "laurel-leaderboard-rebalancer"

    def __init__(self, upkeep: LeaderboardUpkeep, *, interval: float) -> None:
        self._upkeep = upkeep
        self._interval = interval

    async def _run(self) -> None:
        while True:
            try:
                changed = await self._upkeep.rebalance()
                if changed:
                    log.debug("rebalanced %d leaderboard groups", changed)
            except Exception:
                log.exception("rebalancing leaderboards failed; trying again later")
            await asyncio.sleep(self._interval)
