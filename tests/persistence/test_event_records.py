"""Events recorded together (trackEvents) on either backend: each event's user is its row as
the events before it in the batch left it, made once, whatever the batch names it by."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.domain.ports import NewEvent, UserProfile
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.models import Metric
from app.persistence.transaction import Transactions

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_each_event_sees_its_user_as_the_events_before_it_left_them(
    transactions: Transactions[SqlTransaction], tenant: int
) -> None:
    metric = await Metric.create(tenant_id=tenant, key=uuid.uuid4().hex, name="m", created_at=AT)
    event = NewEvent(tenant, metric.id, 1.0, (), AT, AT)
    ada, bob = f"ada-{uuid.uuid4().hex}", f"bob-{uuid.uuid4().hex}"
    async with transactions() as tx:
        await tx.upsert_user(tenant, UserProfile(ada, name="Ada"), AT)
    async with transactions() as tx:
        recorded = await tx.record_events(
            [
                (UserProfile(ada), event),
                (UserProfile(ada, name="Ada L.", tz="Pacific/Auckland"), event),
                (UserProfile(ada), event),
                (UserProfile(bob), event),
                (UserProfile(bob), event),
            ]
        )
    users = [r.user for r in recorded]
    assert [u.user.name for u in users[:3]] == ["Ada", "Ada L.", "Ada L."]
    assert [u.user.tz for u in users[:3]] == ["UTC", "Pacific/Auckland", "Pacific/Auckland"]
    assert [u.created for u in users] == [False, False, False, True, False]
    assert users[3].user.pk == users[4].user.pk
    assert [c.after for r in recorded for c in r.changes] == [1.0, 2.0, 3.0, 1.0, 2.0]
