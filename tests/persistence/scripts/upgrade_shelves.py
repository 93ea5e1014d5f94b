"""Runs in its own process (Tortoise is initialised once per process): migrates a new database
to 0009, leaves a leaderboard group of five rows in two blocks, migrates to the newest
migration and prints the group's shelves, as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime

from tortoise import Tortoise
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from app.persistence.config import tortoise_config
from app.persistence.models import Leaderboard, LeaderboardBlock, LeaderboardGroup, Tenant

AT = datetime(2026, 1, 1, tzinfo=UTC)


async def main(database_url: str) -> None:
    config = tortoise_config(database_url)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    try:
        connection = Tortoise.get_connection("default")
        executor = MigrationExecutor(connection, config["apps"])
        await executor.migrate([MigrationTarget("models", "0009_leaderboard_clock")])
        tenant = await Tenant.create(name="t", token_secret="s", created_at=AT)
        board = await Leaderboard.create(
            tenant=tenant,
            key="b",
            name="B",
            rank_by="METRIC",
            start=date(2026, 1, 1),
            created_at=AT,
        )
        group = await LeaderboardGroup.create(
            board=board, run_start=date(2026, 1, 1), grp="", rows=5
        )
        earliest = datetime(1, 1, 1, tzinfo=UTC)
        await LeaderboardBlock.create(
            group=group, sort_value=float("-inf"), reached_at=earliest, external_id="", rows=3
        )
        await LeaderboardBlock.create(
            group=group, sort_value=-2.0, reached_at=AT, external_id="ada", rows=2
        )
        await MigrationExecutor(connection, config["apps"]).migrate()
        rows = await connection.execute_query_dict(
            "SELECT group_id, sort_value, external_id, rows FROM leaderboard_shelf ORDER BY id"
        )
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
    finally:
        await Tortoise.close_connections()


asyncio.run(main(sys.argv[1]))
