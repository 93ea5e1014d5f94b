"""The WAL reaches the database file through the background checkpointer, not through commits."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import eventually

from app.persistence.database import SqliteDatabase
from app.workers.checkpoint import WalCheckpointer


def write_a_megabyte(path: Path) -> sqlite3.Connection:
    """Kept open: the last connection to close would checkpoint by itself."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE blob (data BLOB)")
    conn.executemany("INSERT INTO blob VALUES (?)", [(b"x" * 4096,) for _ in range(256)])
    return conn


async def test_the_checkpointer_moves_the_wal_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "laurel.sqlite3"
    database = SqliteDatabase(str(path))
    writer = write_a_megabyte(path)
    before = path.stat().st_size
    worker = WalCheckpointer(database, interval=0.05)
    worker.start()

    async def moved() -> bool:
        return path.stat().st_size - before > 1_000_000

    try:
        await eventually(moved, what="the checkpoint")
    finally:
        await worker.stop()
        await database.close()
        writer.close()
