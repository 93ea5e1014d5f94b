"""Events recorded together (trackEvents) on either backend: each event's user is its row as
the events before it in the batch left it, made once, whatever the batch names it by."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.domain.model import Attribute
from app.domain.ports import NewEvent, UserProfile
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.models import Achievement, Metric
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


async def test_events_recorded_together_move_totals_and_cross_thresholds_as_one_by_one(
    transactions: Transactions[SqlTransaction], tenant: int
) -> None:
    """Several users' events, some of them sharing a total, some with an event attribute (a
    second total): recorded in one call and, on a second metric, one event per call, they
    give the same changes and the same crossings, and every event its own id, in order."""
    tagged = (Attribute("level", "b1"),)
    plan = [("ada", 2.0, ()), ("bob", 1.0, tagged), ("cid", 3.0, ()), ("ada", 1.0, tagged)]
    plan += [("bob", 2.0, tagged), ("dan", 1.0, ()), ("cid", 0.5, ())]
    outcomes = []
    for together in (True, False):
        metric = await Metric.create(
            tenant_id=tenant, key=uuid.uuid4().hex, name="m", created_at=AT
        )
        for key, threshold, attribute in (("two", 2.0, ""), ("three", 3.0, ""), ("b1", 2.0, "b1")):
            await Achievement.create(
                tenant_id=tenant,
                key=f"{key}-{metric.id}",
                name=key,
                status="ACTIVE",
                trigger_kind="METRIC",
                metric_id=metric.id,
                threshold=threshold,
                attr_key="level" if attribute else "",
                attr_value=attribute,
            )
        events = [
            (UserProfile(f"{user}-{tenant}"), NewEvent(tenant, metric.id, value, tags, AT, AT))
            for user, value, tags in plan
        ]
        recorded = []
        async with transactions() as tx:
            if together:
                recorded = await tx.record_events(events)
            else:
                for profile, new in events:
                    recorded.append(await tx.record_event(profile, new))
        ids = [r.event_id for r in recorded]
        assert ids == sorted(set(ids))
        outcomes.append(
            [
                (
                    sorted(
                        (c.attribute or Attribute("", ""), c.before, c.after) for c in r.changes
                    ),
                    [a.name for a in r.crossed],
                )
                for r in recorded
            ]
        )
    assert outcomes[0] == outcomes[1]
    assert [crossed for _, crossed in outcomes[0]] == [
        ["two"],
        [],
        ["two", "three"],
        ["three"],
        ["two", "three", "b1"],
        [],
        [],
    ]
