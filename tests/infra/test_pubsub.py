"""The pub/sub brokers: bounded subscriber queues, per-tenant fan-out, deployments apart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from conftest import REDIS_URL

from app.domain.announcements import AchievementCompleted, Published
from app.infra.pubsub import QUEUE_SIZE, InProcessBroker, SubscriberOverflow, create_broker


def notice(tenant_id: int, completion_id: int) -> Published:
    now = datetime.now(UTC)
    return Published(
        completion_id, tenant_id, AchievementCompleted(completion_id, "u", 1, now), now
    )


async def test_a_slow_subscriber_is_dropped_and_nobody_else_waits() -> None:
    broker = InProcessBroker()
    fast_got: list[int] = []
    async with broker.subscribe(7) as slow, broker.subscribe(7) as fast:

        async def read_fast() -> None:
            async for item in fast:
                fast_got.append(item.id)

        reader = asyncio.create_task(read_fast())
        for completion_id in range(QUEUE_SIZE + 10):
            await broker.publish(notice(7, completion_id))
            await asyncio.sleep(0)
        with pytest.raises(SubscriberOverflow):
            async for _ in slow:
                pass
        await broker.close()
        await asyncio.wait_for(reader, 1)
    assert fast_got == list(range(QUEUE_SIZE + 10))


async def test_the_redis_broker_fans_out_per_tenant() -> None:
    publisher, listener = create_broker(REDIS_URL), create_broker(REDIS_URL)
    await publisher.start()
    await listener.start()
    try:
        async with listener.subscribe(1001) as subscriber:
            await publisher.publish(notice(1002, 1))
            await publisher.publish(notice(1001, 2))
            received = await asyncio.wait_for(anext(aiter(subscriber)), 5)
    finally:
        await publisher.close()
        await listener.close()
    assert (received.tenant_id, received.id) == (1001, 2)


async def test_deployments_on_one_redis_never_hear_each_other() -> None:
    """Redis pub/sub ignores database numbers: the channel must name the database."""
    base = REDIS_URL.rsplit("/", 1)[0]
    ours, theirs = create_broker(f"{base}/11"), create_broker(f"{base}/12")
    neighbour = create_broker(f"{base}/11", namespace="other-deployment")
    for broker in (ours, theirs, neighbour):
        await broker.start()
    try:
        async with ours.subscribe(1001) as subscriber:
            await theirs.publish(notice(1001, 1))
            await neighbour.publish(notice(1001, 2))
            await ours.publish(notice(1001, 3))
            received = await asyncio.wait_for(anext(aiter(subscriber)), 5)
    finally:
        for broker in (ours, theirs, neighbour):
            await broker.close()
    assert received.id == 3
