"""Runs in its own process (Tortoise is initialised once per process): migrates a new database
to 0002, leaves one published and one pending unlock in the old outbox, migrates to the newest
migration and prints what the general outbox holds, as JSON."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from upgrading import upgrade

ROWS = [
    "INSERT INTO tenant (id, name, token_secret, user_count, created_at) "
    "VALUES (1, 't', 's', 1, '2026-01-01 00:00:00+00:00')",
    "INSERT INTO app_user (id, tenant_id, external_id, tz, attributes, created_at) "
    "VALUES (1, 1, 'ada', 'UTC', '[]', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO achievement (id, tenant_id, key, name, hidden, status, trigger_kind, attr_key, "
    "attr_value, user_attributes, completions, created_at, updated_at) VALUES "
    "(1, 1, 'a', 'A', false, 'ACTIVE', 'API', '', '', '[]', 2, "
    "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'), "
    "(2, 1, 'b', 'B', false, 'ACTIVE', 'API', '', '', '[]', 1, "
    "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO completion (id, tenant_id, user_id, achievement_id, completed_at, backdated) "
    "VALUES (10, 1, 1, 1, '2026-01-02 03:04:05+00:00', false), "
    "(11, 1, 1, 2, '2026-01-02 03:04:06+00:00', false)",
    "INSERT INTO outbox (tenant_id, completion_id, created_at, published_at) VALUES "
    "(1, 10, '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00'), "
    "(1, 11, '2026-01-02 03:04:06+00:00', NULL)",
]


async def leave_unlocks(connection: Any) -> None:
    for statement in ROWS:
        await connection.execute_script(statement)


asyncio.run(
    upgrade(
        sys.argv[1],
        "0002_total_before_last_event",
        leave_unlocks,
        "SELECT tenant_id, type, data, published_at FROM outbox_event ORDER BY id",
    )
)
