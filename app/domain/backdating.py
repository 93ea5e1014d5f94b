"""Backdating: users who already meet an achievement when its bar moves get it, silently.

A job is queued in the transaction that activated or changed the achievement; it is worked off
here in batches, each its own transaction, so a large tenant never holds a long lock and a job
survives restarts: the cursor (last user pk done) is committed with the batch's completions.
Completions made here announce nothing (no subscription message, no webhook), yet they count,
and the points their ACHIEVEMENT triggers award are stored the same way, silently, and move
POINTS leaderboards as any award does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.domain.completion import Grant, complete
from app.domain.leaderboard_counting import BoardFacts, count_on_boards
from app.domain.leaderboards import Leaderboard
from app.domain.model import Achievement, AchievementStatus, User
from app.domain.outcomes import Unlock
from app.domain.points import PointsProgram
from app.domain.points_awarding import OperationFacts, award_operation
from app.domain.ports import BackdateJob, BackdateStore, BackdateStoreFactory

BATCH_SIZE = 500
# A job waits this long before its first batch, so that every event transaction that began
# before the achievement's change (and so did not see it) has committed before users are scanned;
# otherwise such an event could raise a total behind the scan and the user would never complete.
SETTLE = timedelta(seconds=1)

__all__ = ["BATCH_SIZE", "SETTLE", "BackdateFailed", "BatchResult", "run_backdate_batch"]


@dataclass(frozen=True, slots=True)
class BatchResult:
    job_id: int
    completed: int
    finished: bool


class BackdateFailed(Exception):
    """A batch of this job failed and was rolled back; the job stays pending."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"backdating job {job_id} failed")
        self.job_id = job_id


async def run_backdate_batch(
    stores: BackdateStoreFactory,
    *,
    skip: Collection[int] = (),
    batch_size: int = BATCH_SIZE,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    settle: timedelta = SETTLE,
) -> BatchResult | None:
    """Work one batch of the oldest pending job (not in `skip`) that has waited `settle`;
    None when there is none."""
    now = clock()
    async with stores() as store:
        job = await store.claim_backdate_job(skip, settled_before=now - settle)
        if job is None:
            return None
        try:
            return await _advance(store, job, batch_size, now)
        except Exception as exc:
            raise BackdateFailed(job.id) from exc


async def _advance(
    store: BackdateStore, job: BackdateJob, batch_size: int, now: datetime
) -> BatchResult:
    found = await store.achievements_by_ids(job.tenant_id, [job.achievement_id])
    achievement = found[0] if found else None
    if not _backdatable(achievement):
        await store.advance_backdate_job(job.id, job.cursor, now)
        return BatchResult(job.id, 0, finished=True)
    assert achievement is not None
    users = await store.backdate_candidates(job.tenant_id, achievement, job.cursor, batch_size)
    program = await store.points_program(job.tenant_id)
    if not program.empty:
        await store.lock_users([u.pk for u in users])
    made = await complete(
        store, job.tenant_id, [Grant(u, achievement) for u in users], now, announce_to=None
    )
    boards = await store.leaderboards(job.tenant_id) if not program.empty else ()
    await _award_silently(store, job.tenant_id, program, boards, users, made, now)
    finished = len(users) < batch_size
    cursor = users[-1].pk if users else job.cursor
    await store.advance_backdate_job(job.id, cursor, now if finished else None)
    completed = sum(1 for unlock in made if unlock.achievement.id == achievement.id)
    return BatchResult(job.id, completed, finished)


async def _award_silently(
    store: BackdateStore,
    tenant_id: int,
    program: PointsProgram,
    boards: Sequence[Leaderboard],
    users: Sequence[User],
    made: Sequence[Unlock],
    now: datetime,
) -> None:
    """ACHIEVEMENT triggers award for backdated completions too, and the awards count on
    POINTS boards; all of it announcing nothing."""
    for user in users:
        unlocks = [u for u in made if u.user_pk == user.pk]
        if unlocks:
            facts = OperationFacts(at=now, unlocks=unlocks)
            awarded = await award_operation(
                store, tenant_id, program, user, facts, now, silent=True
            )
            if awarded.changes:
                await count_on_boards(
                    store, boards, user, BoardFacts(now, points=awarded.changes), now
                )


def _backdatable(achievement: Achievement | None) -> bool:
    """Only an ACTIVE achievement completes, and only one that stored data can meet."""
    return (
        achievement is not None
        and achievement.status is AchievementStatus.ACTIVE
        and achievement.trigger.backdatable
    )
