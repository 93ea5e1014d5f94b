"""Webhook deliveries to a real receiver on 127.0.0.1, verified as a receiver would verify them
(the `standardwebhooks` library): signatures, retries, disabling, rotation, the log."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from conftest import Api, TestClock, eventually
from standardwebhooks import Webhook, WebhookVerificationError
from test_metrics import scrape, value
from trophy import WebhooksAchievementCompletedPayload, WebhooksStreakStartedPayload
from webhook_receiver import Receiver, Reply

ENDPOINT = """
mutation($i: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $i) {
    secret endpoint { id url status disabledReason eventTypes payloadFormat description }
  }
}
"""
DELIVERIES = """
query($e: ID!, $s: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $e, status: $s) {
    id webhookId eventType status payload nextAttemptAt endpoint { id status }
    attempts { trigger responseStatus responseBody error durationMs attemptedAt }
  }
}
"""


@pytest_asyncio.fixture
async def witness() -> AsyncIterator[Receiver]:
    """A second endpoint's receiver: once it has an event, that event's deliveries are queued
    for every endpoint, so a test can tell that another endpoint was passed over."""
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


async def create_endpoint(
    api: Api, url: str, types: list[str] | None = None, **extra: Any
) -> tuple[str, str]:
    data = await api.data(
        ENDPOINT, {"i": {"url": url, "eventTypes": types or ["ACHIEVEMENT_COMPLETED"], **extra}}
    )
    created = data["createWebhookEndpoint"]
    return created["endpoint"]["id"], created["secret"]


async def deliveries(api: Api, endpoint_id: str, status: str | None = None) -> list[Any]:
    data = await api.data(DELIVERIES, {"e": endpoint_id, "s": status})
    return list(data["webhookDeliveries"])


async def first_lesson(api: Api) -> None:
    await api.metric("lessons")
    await api.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}})


async def test_a_completion_arrives_signed_as_standard_webhooks_says(
    api: Api, receiver: Receiver
) -> None:
    await first_lesson(api)
    endpoint_id, secret = await create_endpoint(
        api, receiver.url, ["ACHIEVEMENT_COMPLETED", "USER_CREATED"]
    )
    assert secret.startswith("whsec_")
    await api.track("ada", 1)

    [created] = await receiver.wait_for(1, "user.created")
    [completed] = await receiver.wait_for(1, "achievement.completed")
    verifier = Webhook(secret)
    for request in (created, completed):
        verifier.verify(request.body, request.headers)
        assert request.json["id"] == request.webhook_id
        assert request.webhook_id.startswith("msg_") and len(request.webhook_id) == 30
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("Laurel-Webhooks/")
        assert "x-api-key" not in request.headers
    data = completed.json["data"]
    assert data["user"] == {
        "id": "ada",
        "name": None,
        "email": None,
        "tz": "UTC",
        "attributes": [],
        "createdAt": created.json["data"]["user"]["createdAt"],
    }
    assert data["achievement"] == {
        "id": data["achievement"]["id"],
        "key": "first",
        "name": "first",
        "description": None,
        "badgeUrl": None,
        "status": "ACTIVE",
        "trigger": "METRIC",
        "hidden": False,
        "metricKey": "lessons",
        "metricValue": 1.0,
        "eventAttribute": None,
    }
    assert completed.json["timestamp"].endswith("Z") and data["achievedAt"].endswith("Z")
    with pytest.raises(WebhookVerificationError):
        verifier.verify(completed.body.replace(b"ada", b"eve"), completed.headers)

    async def both_logged() -> bool:
        return len(await deliveries(api, endpoint_id, "SUCCEEDED")) == 2

    await eventually(both_logged, what="both deliveries logged as SUCCEEDED")
    logged = await deliveries(api, endpoint_id)
    assert [d["eventType"] for d in logged] == ["ACHIEVEMENT_COMPLETED", "USER_CREATED"]
    assert [d["webhookId"] for d in logged] == [completed.webhook_id, created.webhook_id]
    assert logged[0]["payload"].encode() == completed.body


async def test_failed_attempts_are_retried_with_the_same_id(api: Api, receiver: Receiver) -> None:
    await first_lesson(api)
    endpoint_id, secret = await create_endpoint(api, receiver.url)
    receiver.answer(Reply(500, b"down"), Reply(503, b"busy"), Reply(200))
    await api.track("ada", 1)

    attempts = await receiver.wait_for(3)
    assert len({a.webhook_id for a in attempts}) == 1
    assert len({a.headers["webhook-signature"] for a in attempts}) >= 1
    for attempt in attempts:
        Webhook(secret).verify(attempt.body, attempt.headers)

    async def logged() -> bool:
        return bool(await deliveries(api, endpoint_id, "SUCCEEDED"))

    await eventually(logged, what="the delivery succeeding")
    [delivery] = await deliveries(api, endpoint_id)
    assert [a["responseStatus"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["attempts"][0]["responseBody"] == "down"
    assert {a["trigger"] for a in delivery["attempts"]} == {"SCHEDULED"}
    assert delivery["nextAttemptAt"] is None
    assert delivery["webhookId"] == attempts[0].webhook_id


async def test_gone_disables_the_endpoint(api: Api, receiver: Receiver, witness: Receiver) -> None:
    await first_lesson(api)
    endpoint_id, _ = await create_endpoint(api, receiver.url)
    receiver.answer(Reply(410, b"gone"))
    await api.track("ada", 1)
    await receiver.wait_for(1)

    async def disabled() -> bool:
        [delivery] = await deliveries(api, endpoint_id)
        return bool(delivery["status"] == "FAILED")

    await eventually(disabled, what="the delivery failing")
    [delivery] = await deliveries(api, endpoint_id)
    assert delivery["endpoint"]["status"] == "DISABLED"
    endpoint = await api.data(
        "query($id: ID!) { webhookEndpoint(id: $id) { status disabledReason } }",
        {"id": endpoint_id},
    )
    assert endpoint["webhookEndpoint"] == {"status": "DISABLED", "disabledReason": "GONE"}
    await create_endpoint(api, witness.url)
    await api.track("bob", 1)
    await witness.wait_for(1)
    assert len(await deliveries(api, endpoint_id)) == 1
    assert len(receiver.received) == 1


async def endpoint_state(api: Api, endpoint_id: str) -> Any:
    data = await api.data(
        "query($id: ID!) { webhookEndpoint(id: $id) { status disabledReason "
        "secretCreatedAt previousSecretExpiresAt } }",
        {"id": endpoint_id},
    )
    return data["webhookEndpoint"]


async def set_status(api: Api, endpoint_id: str, status: str) -> Any:
    data = await api.data(
        "mutation($id: ID!, $s: WebhookEndpointStatus!) { setWebhookEndpointStatus(id: $id, "
        "status: $s) { status disabledReason } }",
        {"id": endpoint_id, "s": status},
    )
    return data["setWebhookEndpointStatus"]


async def test_a_disabled_endpoint_keeps_its_pending_deliveries_until_enabled(
    api: Api, receiver: Receiver, witness: Receiver
) -> None:
    await first_lesson(api)
    endpoint_id, _ = await create_endpoint(api, receiver.url)
    await create_endpoint(api, witness.url)
    gate = asyncio.Event()
    receiver.answer(Reply(500, gate=gate), Reply(200))
    await api.track("ada", 1)
    [first] = await receiver.wait_for(1)
    assert await set_status(api, endpoint_id, "DISABLED") == {
        "status": "DISABLED",
        "disabledReason": "MANUAL",
    }
    gate.set()

    async def waiting() -> bool:
        [delivery] = await deliveries(api, endpoint_id)
        return len(delivery["attempts"]) == 1

    await eventually(waiting, what="the failed attempt being logged")
    [delivery] = await deliveries(api, endpoint_id)
    assert (delivery["status"], delivery["nextAttemptAt"]) == ("PENDING", None)
    await api.track("bob", 1)  # no delivery is queued for a disabled endpoint
    await witness.wait_for(2)
    assert len(await deliveries(api, endpoint_id)) == 1

    assert (await set_status(api, endpoint_id, "ENABLED"))["status"] == "ENABLED"
    _, resumed = await receiver.wait_for(2)
    assert resumed.webhook_id == first.webhook_id
    assert resumed.json["data"]["user"]["id"] == "ada"

    async def succeeded() -> bool:
        return len(await deliveries(api, endpoint_id, "SUCCEEDED")) == 1

    await eventually(succeeded, what="the resumed delivery succeeding")


async def test_rotation_signs_with_both_secrets_during_the_overlap(
    api: Api, receiver: Receiver
) -> None:
    await first_lesson(api)
    await api.achievement("second", {"metric": {"metricKey": "lessons", "value": 2}})
    endpoint_id, old = await create_endpoint(api, receiver.url)
    rotate = """
    mutation($id: ID!, $o: Int!) { rotateWebhookSecret(id: $id, overlapSeconds: $o) {
      secret previousSecretExpiresAt endpoint { previousSecretExpiresAt } } }
    """
    rotated = (await api.data(rotate, {"id": endpoint_id, "o": 3600}))["rotateWebhookSecret"]
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    assert rotated["previousSecretExpiresAt"] == rotated["endpoint"]["previousSecretExpiresAt"]
    await api.track("ada", 1)
    [overlapping] = await receiver.wait_for(1)
    assert len(overlapping.headers["webhook-signature"].split()) == 2
    Webhook(new).verify(overlapping.body, overlapping.headers)
    Webhook(old).verify(overlapping.body, overlapping.headers)

    newest = (await api.data(rotate, {"id": endpoint_id, "o": 0}))["rotateWebhookSecret"]
    assert newest["previousSecretExpiresAt"] is None
    await api.track("ada", 1)
    _, alone = await receiver.wait_for(2)
    assert len(alone.headers["webhook-signature"].split()) == 1
    Webhook(newest["secret"]).verify(alone.body, alone.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(alone.body, alone.headers)


async def test_redelivery_sends_the_same_id_and_body_once(api: Api, receiver: Receiver) -> None:
    await first_lesson(api)
    endpoint_id, secret = await create_endpoint(api, receiver.url)
    await api.track("ada", 1)
    [sent] = await receiver.wait_for(1)

    async def logged() -> bool:
        return len(await deliveries(api, endpoint_id, "SUCCEEDED")) == 1

    await eventually(logged, what="the delivery succeeding")
    [delivery] = await deliveries(api, endpoint_id)
    receiver.answer(Reply(500, b"not now"))
    redelivered = await api.data(
        "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status webhookId "
        "attempts { trigger responseStatus } } }",
        {"d": delivery["id"]},
    )
    again = redelivered["redeliverWebhook"]
    assert again["status"] == "FAILED"
    assert [a["trigger"] for a in again["attempts"]] == ["SCHEDULED", "REDELIVERY"]
    [_, repeat] = receiver.received
    assert (repeat.webhook_id, repeat.body) == (sent.webhook_id, sent.body)
    Webhook(secret).verify(repeat.body, repeat.headers)
    assert len(receiver.received) == 2  # a failed redelivery is not retried

    await set_status(api, endpoint_id, "DISABLED")
    assert (
        await api.error_code(
            "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status } }",
            {"d": delivery["id"]},
        )
        == "BAD_USER_INPUT"
    )


async def test_a_test_event_reaches_even_a_disabled_endpoint(api: Api, receiver: Receiver) -> None:
    endpoint_id, secret = await create_endpoint(api, receiver.url)
    await set_status(api, endpoint_id, "DISABLED")
    sent = await api.data(
        "mutation($e: ID!) { sendTestWebhook(endpointId: $e) { eventType status webhookId "
        "attempts { trigger responseStatus durationMs } endpoint { id } } }",
        {"e": endpoint_id},
    )
    delivery = sent["sendTestWebhook"]
    assert delivery["eventType"] == "WEBHOOK_TEST"
    assert delivery["status"] == "SUCCEEDED"
    assert delivery["attempts"][0]["trigger"] == "TEST"
    [request] = receiver.received
    Webhook(secret).verify(request.body, request.headers)
    assert request.json["type"] == "webhook.test"
    assert request.json["data"]["endpointId"] == endpoint_id
    assert request.webhook_id == delivery["webhookId"]


async def test_each_of_twenty_concurrent_completions_arrives_once(
    api: Api, receiver: Receiver
) -> None:
    await api.achievement("feedback", {"api": True})
    endpoint_id, _ = await create_endpoint(api, receiver.url)
    complete = (
        'mutation($u: String!) { completeAchievement(input: {achievementKey: "feedback", '
        "user: {id: $u}}) { newlyCompleted } }"
    )
    await asyncio.gather(*(api.data(complete, {"u": f"user-{n}"}) for n in range(20)))
    arrived = await receiver.wait_for(20)

    async def all_logged() -> bool:
        return len(await deliveries(api, endpoint_id, "SUCCEEDED")) == 20

    await eventually(all_logged, what="20 deliveries logged")
    ids = [r.webhook_id for r in receiver.received]
    assert len(ids) == len(set(ids)) == 20
    assert {r.json["data"]["user"]["id"] for r in arrived} == {f"user-{n}" for n in range(20)}


async def test_backdated_completions_send_nothing(api: Api, receiver: Receiver) -> None:
    await api.metric("lessons")
    await api.track("ada", 5)
    endpoint_id, _ = await create_endpoint(api, receiver.url)
    await api.achievement("five", {"metric": {"metricKey": "lessons", "value": 5}})

    async def backdated() -> bool:
        data = await api.data('{ user(id: "ada") { achievements { achievedAt } } }')
        return len(data["user"]["achievements"]) == 1

    await eventually(backdated, what="ada's backdated completion")
    await api.track("bob", 5)  # a live completion, committed after the backdated one
    [only] = await receiver.wait_for(1)
    assert only.json["data"]["user"]["id"] == "bob"
    [delivery] = await deliveries(api, endpoint_id)
    assert delivery["webhookId"] == only.webhook_id


async def test_streaks_announce_when_they_start_and_grow(api: Api, receiver: Receiver) -> None:
    await api.metric("lessons")
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    await create_endpoint(api, receiver.url, ["STREAK_STARTED", "STREAK_EXTENDED"])
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    await api.track("ada", 1, occurredAt=yesterday)
    [started] = await receiver.wait_for(1, "streak.started")
    await api.track("ada", 1)
    await api.track("ada", 1)  # the same day again: no longer
    [extended] = await receiver.wait_for(1, "streak.extended")
    today = datetime.now(UTC).date()
    assert extended.json["data"]["streak"] == {
        "length": 2,
        "frequency": "DAILY",
        "started": (today - timedelta(days=1)).isoformat(),
        "periodStart": today.isoformat(),
        "periodEnd": today.isoformat(),
        "expires": f"{today + timedelta(days=2)}T00:00:00.000Z",
        "freezes": None,
    }
    assert started.json["data"]["streak"]["length"] == 1
    assert started.json["data"]["user"]["id"] == "ada"
    await api.track("bob", 1)
    await receiver.wait_for(2, "streak.started")
    assert len(receiver.of_type("streak.extended")) == 1


async def test_attempts_are_counted_by_result(api: Api, receiver: Receiver) -> None:
    """Test events are attempted by the instance that serves the request: this one."""

    def attempts(text: str, result: str) -> float:
        return value(text, "laurel_webhook_attempts_total", result=result)

    before = await scrape(api.client)
    endpoint_id, _ = await create_endpoint(api, receiver.url)
    receiver.answer(Reply(500), Reply(200))
    send = "mutation($e: ID!) { sendTestWebhook(endpointId: $e) { status } }"
    for expected in ("FAILED", "SUCCEEDED"):
        sent = await api.data(send, {"e": endpoint_id})
        assert sent["sendTestWebhook"]["status"] == expected
    after = await scrape(api.client)
    assert attempts(after, "refused") - attempts(before, "refused") == 1
    assert attempts(after, "success") - attempts(before, "success") == 1
    assert "laurel_webhook_pending" in after and "laurel_webhook_overdue_seconds" in after


async def test_an_endpoint_failing_for_days_is_disabled(
    api: Api, receiver: Receiver, clock: TestClock
) -> None:
    """Test events are attempted by this instance, whose clock the test moves."""
    endpoint_id, _ = await create_endpoint(api, receiver.url)
    receiver.answer(Reply(500))
    send = "mutation($e: ID!) { sendTestWebhook(endpointId: $e) { status } }"
    await api.data(send, {"e": endpoint_id})
    with clock.moved(timedelta(days=4, hours=23)):
        await api.data(send, {"e": endpoint_id})
    assert (await endpoint_state(api, endpoint_id))["status"] == "ENABLED"
    with clock.moved(timedelta(days=5)):
        await api.data(send, {"e": endpoint_id})
    state = await endpoint_state(api, endpoint_id)
    assert (state["status"], state["disabledReason"]) == ("DISABLED", "FAILING")
    await set_status(api, endpoint_id, "ENABLED")  # the count starts afresh
    with clock.moved(timedelta(days=5, hours=1)):
        await api.data(send, {"e": endpoint_id})
    assert (await endpoint_state(api, endpoint_id))["status"] == "ENABLED"


async def test_trophy_format_endpoints_get_trophys_bodies_and_signature(
    api: Api, receiver: Receiver
) -> None:
    await first_lesson(api)
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    _, secret = await create_endpoint(
        api, receiver.url, ["ACHIEVEMENT_COMPLETED", "STREAK_STARTED"], payloadFormat="TROPHY"
    )
    await api.track("ada", 1)
    [completed] = await receiver.wait_for(1, "achievement.completed")
    [started] = await receiver.wait_for(1, "streak.started")
    for request in (completed, started):
        mac = hmac.new(secret.encode(), request.body, hashlib.sha256).digest()
        assert request.headers["x-trophy-signature"] == base64.b64encode(mac).decode()
        Webhook(secret).verify(request.body, request.headers)
    achievement = WebhooksAchievementCompletedPayload.model_validate(completed.json)
    assert (achievement.user.id, achievement.achievement.key) == ("ada", "first")
    assert achievement.achievement.achieved_at is not None
    assert achievement.achievement.metric_name == "lessons"
    streak = WebhooksStreakStartedPayload.model_validate(started.json)
    assert (streak.streak.length, streak.streak.frequency) == (1, "daily")
