"""Runs in its own process (Tortoise is initialised once per process): migrates a new database
to 0009, leaves a leaderboard group of five rows in two blocks, migrates to the newest
migration and prints the group's shelves, as JSON."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime
from typing import Any

from upgrading import upgrade

from app.persistence.models import Leaderboard, LeaderboardBlock, LeaderboardGroup, Tenant

AT = datetime(2026, 1, 1, tzinfo=UTC)


async def leave_a_group(connection: Any) -> None:
    tenant = await Tenant.create(name="t", token_secret="s", created_at=AT)
    board = await Leaderboard.create(
        tenant=tenant, key="b", name="B", rank_by="METRIC", start=date(2026, 1, 1), created_at=AT
    )
    group = await LeaderboardGroup.create(board=board, run_start=date(2026, 1, 1), grp="", rows=5)
    earliest = datetime(1, 1, 1, tzinfo=UTC)
    await LeaderboardBlock.create(
        group=group, sort_value=float("-inf"), reached_at=earliest, external_id="", rows=3
    )
    await LeaderboardBlock.create(
        group=group, sort_value=-2.0, reached_at=AT, external_id="ada", rows=2
    )


asyncio.run(
    upgrade(
        sys.argv[1],
        "0009_leaderboard_clock",
        leave_a_group,
        "SELECT group_id, sort_value, external_id, rows FROM leaderboard_shelf ORDER BY id",
    )
)
