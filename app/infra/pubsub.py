"""Fan-out of published domain events: the relay publishes, each WebSocket subscription reads
its own bounded queue.

Without REDIS_URL the broker is in-process (one instance). With it, a message goes to the
tenant's channel `<namespace>:<db>:events:<tenant_id>` and every instance delivers it to its
local subscribers, so a client sees events whichever instance committed them. Redis pub/sub
ignores database numbers, so the channel names the URL's database itself: two deployments on
one Redis, with their own databases (or their own LAUREL_REDIS_NAMESPACE), never hear each
other.

A subscriber that falls QUEUE_SIZE messages behind is dropped (its iteration raises
`SubscriberOverflow`); the publisher and the other subscribers never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.domain.announcements import Published, parse
from app.domain.event_types import EventType
from app.domain.ports import DeliveryDeferred
from app.infra.redis_guard import TIMEOUT, RedisGuard, connect

log = logging.getLogger("laurel.pubsub")

QUEUE_SIZE = 256
DEFAULT_NAMESPACE = "laurel"


def encode(published: Published) -> str:
    """What travels on the bus: the event's ids, not copies of the data it names."""
    return json.dumps(
        {
            "id": published.id,
            "tenantId": published.tenant_id,
            "type": published.event.type.value,
            "data": published.event.to_data(),
            "createdAt": published.created_at.isoformat(),
        }
    )


def decode(raw: str | bytes) -> Published:
    message = json.loads(raw)
    return Published(
        id=int(message["id"]),
        tenant_id=int(message["tenantId"]),
        event=parse(str(message["type"]), message["data"]),
        created_at=datetime.fromisoformat(message["createdAt"]),
    )


class SubscriberOverflow(Exception):
    """The subscriber read too slowly and lost messages; it must subscribe again."""


_CLOSED = object()
_OVERFLOW = object()


class Subscriber:
    """One subscription's bounded queue; iterate it to receive, iteration ends on broker close."""

    def __init__(self, tenant_id: int, size: int = QUEUE_SIZE) -> None:
        self.tenant_id = tenant_id
        self._queue: asyncio.Queue[object] = asyncio.Queue(size)

    def offer(self, published: Published) -> bool:
        """False when the queue is full: the subscriber is then ended with an overflow."""
        try:
            self._queue.put_nowait(published)
        except asyncio.QueueFull:
            self._end(_OVERFLOW)
            return False
        return True

    def close(self) -> None:
        self._end(_CLOSED)

    def _end(self, sentinel: object) -> None:
        """Pending messages are dropped so the sentinel always fits and is read next."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(sentinel)

    def __aiter__(self) -> AsyncIterator[Published]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Published]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            if item is _OVERFLOW:
                raise SubscriberOverflow("too many events queued for this subscriber")
            assert isinstance(item, Published)
            yield item


class Broker(Protocol):
    async def start(self) -> None: ...
    async def publish(self, published: Published) -> None: ...
    def subscribe(self, tenant_id: int) -> Any: ...
    async def close(self) -> None: ...


class _Hub:
    """This instance's subscribers by tenant; delivery never awaits."""

    def __init__(self) -> None:
        self._subscribers: dict[int, set[Subscriber]] = defaultdict(set)
        self.closed = False

    def deliver(self, published: Published) -> None:
        for subscriber in list(self._subscribers.get(published.tenant_id, ())):
            if not subscriber.offer(published):
                log.warning("dropping a slow subscriber of tenant %s", published.tenant_id)
                self._remove(subscriber)

    @asynccontextmanager
    async def subscribe(self, tenant_id: int) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(tenant_id)
        if self.closed:
            subscriber.close()
        else:
            self._subscribers[tenant_id].add(subscriber)
        try:
            yield subscriber
        finally:
            self._remove(subscriber)

    def close(self) -> None:
        self.closed = True
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.close()
        self._subscribers.clear()

    def _remove(self, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(subscriber.tenant_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[subscriber.tenant_id]


class InProcessBroker:
    def __init__(self) -> None:
        self._hub = _Hub()

    async def start(self) -> None:
        return None

    async def publish(self, published: Published) -> None:
        self._hub.deliver(published)

    def subscribe(self, tenant_id: int) -> Any:
        return self._hub.subscribe(tenant_id)

    async def close(self) -> None:
        self._hub.close()


class RedisBroker:
    """One pattern subscription per instance feeds the local hub; publishing is one PUBLISH.

    When Redis does not answer, an event still reaches this instance's subscribers at once
    (local fan-out), and publishing raises `DeliveryDeferred`, so its outbox row is handed on
    again, through Redis, once Redis answers (subscriptions drop the repeat by event id)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        guard: RedisGuard | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self._redis = connect(url, timeout=timeout)
        # The listening connection waits for messages as long as there are none.
        self._listener = Redis.from_url(url, socket_connect_timeout=timeout)
        database = self._redis.connection_pool.connection_kwargs.get("db", 0)
        self._prefix = f"{namespace}:{database}:events:"
        self._guard = guard or RedisGuard("event fan-out")
        self._hub = _Hub()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Waits briefly for the subscription; a Redis that is down delays nothing (the reader
        keeps trying, and events meanwhile reach local subscribers)."""
        self._reader = asyncio.create_task(self._read(), name="laurel-redis-events")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=2)
        except TimeoutError:
            log.warning("Redis did not answer at start; events stay local until it does")

    async def publish(self, published: Published) -> None:
        if self._guard.available:
            try:
                await self._redis.publish(f"{self._prefix}{published.tenant_id}", encode(published))
            except (RedisError, OSError) as error:
                self._guard.failed(error)
            else:
                self._guard.succeeded()
                return
        self._hub.deliver(published)
        raise DeliveryDeferred("Redis does not answer; delivered on this instance only")

    def subscribe(self, tenant_id: int) -> Any:
        return self._hub.subscribe(tenant_id)

    async def close(self) -> None:
        self._hub.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._redis.aclose()
        await self._listener.aclose()

    async def _read(self) -> None:
        """Survives Redis restarts: reconnects and subscribes again after a pause."""
        while True:
            try:
                async with self._listener.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.psubscribe(f"{self._prefix}*")
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "pmessage":
                            self._deliver(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                log.warning("the Redis event subscription failed (%s); retrying in 1 s", error)
                await asyncio.sleep(1)

    def _deliver(self, raw: bytes) -> None:
        try:
            published = decode(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed event message: %r", raw[:200])
            return
        self._hub.deliver(published)


def create_broker(
    redis_url: str | None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    guard: RedisGuard | None = None,
    timeout: float = TIMEOUT,
) -> InProcessBroker | RedisBroker:
    if not redis_url:
        return InProcessBroker()
    return RedisBroker(redis_url, namespace=namespace, guard=guard, timeout=timeout)


class SubscriptionFeed:
    """The outbox consumer that feeds GraphQL subscriptions: each event of the types they
    serve onto the broker (the others, for webhooks only, never cross Redis)."""

    def __init__(self, broker: Broker, types: Collection[EventType]) -> None:
        self._broker = broker
        self._types = frozenset(types)

    async def consume(self, batch: Sequence[Published]) -> None:
        """Every event of the batch is offered, even after one could only be delivered here."""
        deferred: DeliveryDeferred | None = None
        for published in batch:
            if published.event.type not in self._types:
                continue
            try:
                await self._broker.publish(published)
            except DeliveryDeferred as error:
                deferred = error
        if deferred is not None:
            raise deferred
