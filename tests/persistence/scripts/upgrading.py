"""What the upgrade scripts share: each runs in its own process (Tortoise is initialised once
per process), migrates a new database to an older migration, leaves rows there, migrates to
the newest and prints what a query then finds, as JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from app.persistence.config import tortoise_config


async def upgrade(
    database_url: str, older: str, leave: Callable[[Any], Awaitable[None]], query: str
) -> None:
    config = tortoise_config(database_url)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    try:
        connection = Tortoise.get_connection("default")
        executor = MigrationExecutor(connection, config["apps"])
        await executor.migrate([MigrationTarget("models", older)])
        await leave(connection)
        await MigrationExecutor(connection, config["apps"]).migrate()
        rows = await connection.execute_query_dict(query)
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
    finally:
        await Tortoise.close_connections()
