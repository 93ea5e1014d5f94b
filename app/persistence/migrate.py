"""Start-up work done once, however many instances start together.

Several instances racing `CREATE TABLE` on PostgreSQL crash one of them (measured), and two
instances making the first ADMIN key at once would both insert it; so start-up runs under a
session advisory lock on PostgreSQL, and under an exclusive file lock on SQLite.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.executor import MigrationExecutor

from app.persistence.config import sqlite_file, tortoise_config

log = logging.getLogger(__name__)

# An arbitrary constant that names Laurel's migration lock among PostgreSQL advisory locks.
MIGRATION_LOCK_ID = 0x1A07E1


async def migrate(database_url: str) -> None:
    """Bring the schema to the newest migration. Tortoise must be initialised; the caller holds
    `startup_lock`."""
    connection = Tortoise.get_connection("default")
    apps = tortoise_config(database_url)["apps"]
    await MigrationExecutor(connection, apps).migrate()
    log.debug("database schema is up to date")


@asynccontextmanager
async def startup_lock(database_url: str) -> AsyncIterator[None]:
    """One instance at a time through start-up work (migrating, making the first key)."""
    async with _exclusive(database_url, Tortoise.get_connection("default")):
        yield


@asynccontextmanager
async def _exclusive(database_url: str, connection: Any) -> AsyncIterator[None]:
    if database_url.startswith("sqlite://"):
        lock_path = Path(sqlite_file(database_url) + ".migrate-lock")
        # Waiting for another process's lock happens off the event loop.
        handle = await asyncio.to_thread(lock_path.open, "w")
        try:
            await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
            yield
        finally:
            handle.close()  # closing the file releases the lock
        return
    async with connection.acquire_connection() as raw:
        await raw.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        try:
            yield
        finally:
            await raw.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
