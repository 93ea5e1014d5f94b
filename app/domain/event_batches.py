"""Many metric events in one request (`trackEvents`): each with trackEvent's rules, in order,
in a few transactions.

Every event is checked before anything is stored, so an invalid one refuses the whole batch
with its position (`extensions.index`) and stores nothing. The events then run in chunks of
`CHUNK`, one transaction each, every event through the same path as a single trackEvent
(`event_tracking.track_in`): its own idempotency key, its completions reported on it, exactly
once. Consecutive events without an idempotency key or user attributes are recorded together
first (`record_events`: one round trip on PostgreSQL) and then followed up one by one, in order
(`follow_up`), which reads nothing the recording wrote.

An event can also be refused while it runs (a deduction its user's points cannot cover, an
idempotency key reused with another input). Its transaction rolls back, the events before it
in that chunk run again and commit, and the refusal names the event (`index`) and how many
events before it are stored (`stored`, always equal to `index`): a caller fixes that event and
sends the rest, or sends the whole batch again with its idempotency keys.

A chunk first locks every user it names (`lock_users_named`: on PostgreSQL, by name in one
order, then the rows that exist in pk order), so that two batches over the same users queue
instead of deadlocking. Should a lock cycle close all the same (with a single event holding an
idempotency key a batch reuses), the database refuses one transaction (`Contention`) and its
chunk runs again, at most `ATTEMPTS` times in all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from itertools import groupby
from typing import TypeVar

from app.domain.errors import BadUserInput, Contention, DomainError
from app.domain.event_tracking import (
    NOTHING_STORED,
    CheckedEvent,
    Committed,
    Rules,
    Tracked,
    follow_up,
    new_event,
    track_in,
)
from app.domain.outcomes import EventOutcome, TrackEvent
from app.domain.ports import RecordedEvent, Transaction, TransactionFactory

MAX_BATCH = 1000
CHUNK = 100
ATTEMPTS = 3

T = TypeVar("T")

__all__ = ["CHUNK", "MAX_BATCH", "at_index", "check_batch_size", "track_batch", "track_chunk"]


def check_batch_size(commands: Sequence[TrackEvent]) -> None:
    if not 1 <= len(commands) <= MAX_BATCH:
        raise BadUserInput(
            f"a batch holds 1 to {MAX_BATCH} events, not {len(commands)}", field="events"
        )


async def at_index(index: int, check: Awaitable[T]) -> T:
    """The check's result, or its refusal naming the event's position in the batch."""
    try:
        return await check
    except DomainError as error:
        error.extensions["index"] = index
        raise


class _Refused(Exception):
    def __init__(self, position: int, error: DomainError) -> None:
        super().__init__(error.message)
        self.position = position
        self.error = error


async def track_batch(
    transactions: TransactionFactory,
    tenant_id: int,
    events: Sequence[CheckedEvent],
    rules: Rules,
    now: datetime,
    *,
    on_commit: Callable[[Committed], None],
) -> list[EventOutcome]:
    outcomes: list[EventOutcome] = []
    for start in range(0, len(events), CHUNK):
        done, refusal = await track_chunk(
            transactions, tenant_id, events[start : start + CHUNK], rules, now, on_commit
        )
        outcomes += done
        if refusal is not None:
            refusal.extensions.update(index=len(outcomes), stored=len(outcomes))
            raise refusal
    return outcomes


async def track_chunk(
    transactions: TransactionFactory,
    tenant_id: int,
    chunk: Sequence[CheckedEvent],
    rules: Rules,
    now: datetime,
    on_commit: Callable[[Committed], None],
) -> tuple[list[EventOutcome], DomainError | None]:
    """The chunk's outcomes, up to the first event refused (and that refusal)."""
    limit, refusal, attempts = len(chunk), None, 0
    while True:
        try:
            tracked = await _run(transactions, tenant_id, chunk[:limit], rules, now)
        except _Refused as refused:
            limit, refusal = refused.position, refused.error
            continue
        except Contention:
            attempts += 1
            if attempts >= ATTEMPTS:
                raise
            continue
        stored = sum((t.stored for t in tracked), NOTHING_STORED)
        if stored.events:
            on_commit(stored)
        return [t.outcome for t in tracked], refusal


async def _run(
    transactions: TransactionFactory,
    tenant_id: int,
    events: Sequence[CheckedEvent],
    rules: Rules,
    now: datetime,
) -> list[Tracked]:
    if not events:
        return []
    tracked: list[Tracked] = []
    async with transactions() as tx:
        await tx.lock_users_named(tenant_id, sorted({e.command.user.id for e in events}))
        for plain, run in groupby(events, key=_recordable_first):
            batch = list(run)
            recorded = (
                await tx.record_events(
                    [(e.command.user, new_event(tenant_id, e, now)) for e in batch]
                )
                if plain
                else None
            )
            if recorded is not None and len(recorded) > 1:
                await _expect_points(tx, rules, batch, recorded)
            for index, event in enumerate(batch):
                try:
                    tracked.append(
                        await track_in(tx, tenant_id, event, rules, now)
                        if recorded is None
                        else await follow_up(tx, tenant_id, event, recorded[index], rules, now)
                    )
                except DomainError as error:
                    raise _Refused(len(tracked), error) from error
    return tracked


async def _expect_points(
    tx: Transaction,
    rules: Rules,
    events: Sequence[CheckedEvent],
    recorded: Sequence[RecordedEvent],
) -> None:
    """Reads the points of the users whose events have metric triggers, all at once."""
    program = rules.points
    users = [
        r.user.user.pk
        for e, r in zip(events, recorded, strict=True)
        if program.on_metric(e.metric.id)
    ]
    if len(users) > 1:
        await tx.expect_points(users, [system.id for system in program.systems])


def _recordable_first(event: CheckedEvent) -> bool:
    """Whether the event may be recorded together with its neighbours before any of them is
    followed up (`follow_up`): no idempotency key to claim first, no user attributes whose
    change is judged against the stored totals."""
    command = event.command
    return command.idempotency_key is None and command.user.attributes is None
