"""The outbox: announced in the operation's transaction, claimed with a lease, marked done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise import Tortoise

from app.domain.announcements import AchievementCompleted
from app.persistence.database import Database
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.outbox import SqlOutboxStore
from app.persistence.transaction import Transactions

LEASE = timedelta(seconds=30)


def completed(n: int) -> AchievementCompleted:
    return AchievementCompleted(n, f"u{n}", n, datetime(2026, 1, 1, tzinfo=UTC))


async def announce(
    transactions: Transactions[SqlTransaction], tenant: int, *ns: int, at: datetime | None = None
) -> None:
    async with transactions() as tx:
        await tx.announce(tenant, [completed(n) for n in ns], at or datetime.now(UTC))


async def mine(claimed: list, tenant: int) -> list[int]:  # type: ignore[type-arg]
    return [p.event.completion_id for p in claimed if p.tenant_id == tenant]


async def test_a_rolled_back_operation_announces_nothing(
    transactions: Transactions[SqlTransaction], database: Database, tenant: int
) -> None:
    with pytest.raises(RuntimeError):
        async with transactions() as tx:
            await tx.announce(tenant, [completed(1)], datetime.now(UTC))
            raise RuntimeError("the operation failed after announcing")
    await announce(transactions, tenant, 2)
    outbox = SqlOutboxStore(database)
    claimed = await outbox.claim(1000, datetime.now(UTC), LEASE)
    assert await mine(claimed, tenant) == [2]
    await outbox.mark_published([p.id for p in claimed], datetime.now(UTC))


async def test_a_lease_keeps_others_off_until_it_expires(
    transactions: Transactions[SqlTransaction], database: Database, tenant: int
) -> None:
    await announce(transactions, tenant, 1, 2)
    outbox = SqlOutboxStore(database)
    now = datetime.now(UTC)
    first = await outbox.claim(1000, now, LEASE)
    assert await mine(first, tenant) == [1, 2]
    assert await mine(await outbox.claim(1000, now + LEASE / 2, LEASE), tenant) == []
    # The relay that took them died before marking them: after the lease they come again.
    again = await outbox.claim(1000, now + 2 * LEASE, LEASE)
    assert [p.id for p in again if p.tenant_id == tenant] == [
        p.id for p in first if p.tenant_id == tenant
    ]
    await outbox.mark_published([p.id for p in again], now)
    assert await mine(await outbox.claim(1000, now + 10 * LEASE, LEASE), tenant) == []


async def test_recent_rows_are_left_to_the_instance_that_wrote_them(
    transactions: Transactions[SqlTransaction], database: Database, tenant: int
) -> None:
    # Written "tomorrow": the session's other relays (the live server's polls leave only the
    # last half second to the writer) never reach it, so what the claims see is the cutoff's.
    now = datetime.now(UTC) + timedelta(days=1)
    await announce(transactions, tenant, 1, at=now)
    outbox = SqlOutboxStore(database)
    assert (
        await mine(await outbox.claim(1000, now, LEASE, created_before=now - LEASE), tenant) == []
    )
    claimed = await outbox.claim(1000, now, LEASE, created_before=now + LEASE)
    assert await mine(claimed, tenant) == [1]
    await outbox.mark_published([p.id for p in claimed], now)


async def test_a_type_this_version_does_not_know_is_left_alone(
    transactions: Transactions[SqlTransaction], database: Database, tenant: int
) -> None:
    await Tortoise.get_connection("default").execute_query(
        "INSERT INTO outbox_event (tenant_id, type, data, created_at) "
        f"VALUES ({tenant}, 'points.changed', '{{}}', '2026-01-01 00:00:00+00:00')"
    )
    await announce(transactions, tenant, 3)
    outbox = SqlOutboxStore(database)
    claimed = await outbox.claim(1000, datetime.now(UTC), LEASE)
    assert await mine(claimed, tenant) == [3]
    await outbox.mark_published([p.id for p in claimed], datetime.now(UTC))


async def test_a_polling_relay_takes_rows_whose_lease_expired_however_recent(
    transactions: Transactions[SqlTransaction], database: Database, tenant: int
) -> None:
    """A relay that deferred or lost a batch leaves it to anyone once the lease is over."""
    await announce(transactions, tenant, 1)
    outbox = SqlOutboxStore(database)
    now = datetime.now(UTC)
    assert await mine(await outbox.claim(1000, now, LEASE), tenant) == [1]
    polled = await outbox.claim(1000, now + 2 * LEASE, LEASE, created_before=now - LEASE)
    assert await mine(polled, tenant) == [1]
    await outbox.mark_published([p.id for p in polled], now)
