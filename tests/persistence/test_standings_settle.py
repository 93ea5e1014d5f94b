"""The watch store behind leaderboard.changed on this run's backend: instances that read the
same due watch announce its news once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from app.domain.leaderboard_watch import Watch, WatchKey
from app.persistence.database import Database
from app.persistence.leaderboard_watch import SqlStandingsWatchStore, StandingsRows
from app.persistence.models import Leaderboard
from app.persistence.transaction import Transactions

RUN = date(2026, 3, 1)
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_a_due_watch_read_by_two_instances_settles_once(
    database: Database, tenant: int
) -> None:
    board = await Leaderboard.create(
        tenant_id=tenant, key=uuid.uuid4().hex, name="b", rank_by="METRIC", start=RUN, created_at=AT
    )
    store = SqlStandingsWatchStore(database)
    transactions = Transactions(database, StandingsRows)

    async def due() -> list[Watch]:
        """This board's due watches, as one instance's clock reads them."""
        return [w for w in await store.due_watches(AT, 1000) if w.key.board_id == board.id]

    await store.mark([WatchKey(board.id, RUN, "")], AT)
    [mine], [theirs] = await due(), await due()
    async with transactions() as tx:
        assert await tx.settle(mine, "[]", AT)
    async with transactions() as tx:
        assert not await tx.settle(theirs, "[]", AT)
    assert await due() == []
