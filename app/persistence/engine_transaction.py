"""The event engine's `Transaction`: every aggregate's statements in one transaction."""

from __future__ import annotations

from app.persistence.catalogue import CatalogueRows
from app.persistence.completions import CompletionRows
from app.persistence.events import EventRows
from app.persistence.idempotency import IdempotencyRows
from app.persistence.leaderboards import LeaderboardRows
from app.persistence.outbox import OutboxRows
from app.persistence.points_writes import PointsRows
from app.persistence.streaks import StreakRows


class SqlTransaction(
    EventRows,
    CompletionRows,
    StreakRows,
    IdempotencyRows,
    PointsRows,
    LeaderboardRows,
    OutboxRows,
    CatalogueRows,
):
    pass
