"""The webhook rules: retries and disabling, signatures, message ids, allowed destinations."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from app.domain.announcements import AchievementCompleted
from app.domain.errors import BadUserInput
from app.domain.model import Achievement, AchievementStatus, Attribute, MetricTrigger, User
from app.domain.webhooks.events import WebhookEventType
from app.domain.webhooks.model import DeliveryStatus, DisabledReason, Signing
from app.domain.webhooks.payloads import Subjects, body, data_of, instant
from app.domain.webhooks.retries import AttemptResult, RetryPolicy, after_attempt
from app.domain.webhooks.signing import message_id, new_secret, sign, signature_header
from app.domain.webhooks.urls import DestinationPolicy, address_allowed, check_url

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
POLICY = RetryPolicy(schedule=(5.0, 300.0, 1800.0), jitter=0.0, disable_after=timedelta(days=5))
STRICT = DestinationPolicy()


def next_after(result: AttemptResult, attempts_made: int = 1, **kw: object) -> object:
    options: dict[str, object] = {
        "attempts_made": attempts_made,
        "failing_since": None,
        "now": NOW,
        "policy": POLICY,
        "retry": True,
    }
    options.update(kw)
    return after_attempt(result, **options)  # type: ignore[arg-type]


def test_a_2xx_succeeds_and_clears_the_failure_count() -> None:
    state = next_after(AttemptResult(204), failing_since=NOW - timedelta(days=4))
    assert state.status is DeliveryStatus.SUCCEEDED  # type: ignore[attr-defined]
    assert state.failing_since is None  # type: ignore[attr-defined]


def test_failures_follow_the_schedule_then_fail() -> None:
    for made, delay in [(1, 5), (2, 300), (3, 1800)]:
        state = next_after(AttemptResult(500), made)
        assert state.status is DeliveryStatus.PENDING  # type: ignore[attr-defined]
        assert state.next_attempt_at == NOW + timedelta(seconds=delay)  # type: ignore[attr-defined]
        assert state.failing_since == NOW  # type: ignore[attr-defined]
    last = next_after(AttemptResult(None, "timeout"), 4)
    assert (last.status, last.next_attempt_at) == (DeliveryStatus.FAILED, None)  # type: ignore[attr-defined]


def test_gone_fails_at_once_and_disables() -> None:
    state = next_after(AttemptResult(410))
    assert state.status is DeliveryStatus.FAILED  # type: ignore[attr-defined]
    assert state.disable is DisabledReason.GONE  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retry_after_is_honoured_up_to_a_day(status: int) -> None:
    later = next_after(AttemptResult(status, retry_after=600))
    assert later.next_attempt_at == NOW + timedelta(seconds=600)  # type: ignore[attr-defined]
    capped = next_after(AttemptResult(status, retry_after=10 * 86400))
    assert capped.next_attempt_at == NOW + timedelta(days=1)  # type: ignore[attr-defined]
    sooner = next_after(AttemptResult(status, retry_after=1))
    assert sooner.next_attempt_at == NOW + timedelta(seconds=5)  # type: ignore[attr-defined]


def test_retry_after_is_ignored_for_other_statuses() -> None:
    state = next_after(AttemptResult(500, retry_after=600))
    assert state.next_attempt_at == NOW + timedelta(seconds=5)  # type: ignore[attr-defined]


def test_jitter_stretches_each_delay_by_at_most_its_fraction() -> None:
    policy = RetryPolicy(schedule=(100.0,), jitter=0.1)
    rng = random.Random(7)
    for _ in range(200):
        state = next_after(AttemptResult(500), policy=policy, rng=rng)
        delay = (state.next_attempt_at - NOW).total_seconds()  # type: ignore[attr-defined]
        assert 100 <= delay < 110


def test_an_endpoint_failing_for_the_whole_period_is_disabled() -> None:
    almost = next_after(AttemptResult(500), failing_since=NOW - timedelta(days=4, hours=23))
    assert almost.disable is None  # type: ignore[attr-defined]
    over = next_after(AttemptResult(500), failing_since=NOW - timedelta(days=5))
    assert over.disable is DisabledReason.FAILING  # type: ignore[attr-defined]
    assert over.failing_since == NOW - timedelta(days=5)  # type: ignore[attr-defined]


def test_single_attempts_are_never_retried() -> None:
    state = next_after(AttemptResult(500), retry=False)
    assert (state.status, state.next_attempt_at) == (DeliveryStatus.FAILED, None)  # type: ignore[attr-defined]


# A known vector of Standard Webhooks 1.0's construction: the secret's bytes are 0..31.
VECTOR_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
VECTOR_BODY = (
    b'{"id":"msg_01KAQ9ZK3Q9M2V7N4X6R0T1B2C","type":"achievement.completed","timestamp":"2026-'
    b'11-23T10:00:00.123Z","data":{"completionId":"42","user":{"id":"u1","name":"Ada","email":'
    b'null,"tz":"Europe/London","attributes":[{"key":"plan","value":"pro"}],"createdAt":"2026-'
    b'11-01T09:00:00.000Z"},"achievement":{"id":"7","key":"ten-tasks","name":"Ten tasks","desc'
    b'ription":null,"badgeUrl":null,"status":"ACTIVE","trigger":"METRIC","hidden":false,"metri'
    b'cKey":"tasks","metricValue":10.0,"eventAttribute":null},"achievedAt":"2026-11-23T10:00:0'
    b'0.123Z"}}'
)

VECTOR_SIGNATURE = "v1,/y39K+rekEx3c34euEED6sOTrK8AO0Vmp/JqUUJQ8Bc="


def test_signatures_are_what_the_standard_webhooks_library_verifies() -> None:
    msg = "msg_01KAQ9ZK3Q9M2V7N4X6R0T1B2C"
    assert sign(VECTOR_SECRET, msg, 1795428000, VECTOR_BODY) == VECTOR_SIGNATURE
    timestamp = int(NOW.timestamp())
    signature = sign(VECTOR_SECRET, msg, timestamp, VECTOR_BODY)
    expected = Webhook(VECTOR_SECRET).sign(
        "msg_01KAQ9ZK3Q9M2V7N4X6R0T1B2C", NOW, VECTOR_BODY.decode()
    )
    assert signature == expected


json_bodies = st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=8).map(
    lambda data: json.dumps(data, ensure_ascii=False).encode()
)


@given(json_bodies, st.integers(0, 2**33))
def test_any_body_verifies_with_either_secret_during_an_overlap(body: bytes, entropy: int) -> None:
    current, previous = new_secret(), new_secret()
    msg = message_id(NOW, entropy)
    timestamp = int(datetime.now(UTC).timestamp())
    header = signature_header([current, previous], msg, timestamp, body)
    headers = {"webhook-id": msg, "webhook-timestamp": str(timestamp), "webhook-signature": header}
    for secret in (current, previous):
        Webhook(secret).verify(body, headers)
    assert header.split()[0] == sign(current, msg, timestamp, body)


def test_secrets_are_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_message_ids_are_ulids_stable_per_event_and_ordered_by_time() -> None:
    first = message_id(NOW, 41)
    assert first == message_id(NOW, 41) != message_id(NOW, 42)
    assert first.startswith("msg_") and len(first) == 30 and "." not in first
    assert set(first[4:]) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert message_id(NOW, 41) < message_id(NOW + timedelta(milliseconds=1), 1)
    assert message_id(NOW) != message_id(NOW)


def test_the_previous_secret_signs_only_until_its_overlap_ends() -> None:
    signing = Signing("new", "old", NOW + timedelta(hours=1))
    assert signing.active(NOW) == ("new", "old")
    assert signing.active(NOW + timedelta(hours=1)) == ("new",)
    assert Signing("only").active(NOW) == ("only",)


def test_instants_have_milliseconds_and_z() -> None:
    at = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    assert instant(at) == "2026-11-23T10:00:00.123Z"
    assert instant(NOW) == "2026-11-23T10:00:00.000Z"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "https://hooks.example.com:8443/in?x=1",
        "https://8.8.8.8/h",
        "https://[2001:4860:4860::8888]/h",
    ],
)
def test_public_https_urls_are_accepted(url: str) -> None:
    assert check_url(url, STRICT) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "https://127.0.0.1/",
        "https://localhost/",
        "https://LOCALHOST./",
        "https://10.0.0.1/",
        "https://[::ffff:10.0.0.1]/",
        "https://169.254.169.254/",
        "https://user@example.com/",
        "https://:pw@example.com/",
        "//example.com/",
        "example.com",
        "https://example.com:0x10/",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(BadUserInput):
        check_url(url, STRICT)


def test_the_allow_settings_open_http_and_private_addresses() -> None:
    relaxed = DestinationPolicy(allow_http=True, allow_private=True)
    assert check_url("http://127.0.0.1:8080/hook", relaxed)
    assert check_url("http://localhost/hook", relaxed)
    assert address_allowed("10.0.0.1", relaxed)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1::1", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", True),
        ("192.168.0.10", False),
        ("172.31.255.255", False),
        ("100.100.100.100", False),
        ("169.254.169.254", False),
        ("fe80::1%eth0", False),
        ("0.0.0.0", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
    ],
)
def test_addresses_are_allowed_only_when_globally_routable(address: str, allowed: bool) -> None:
    assert address_allowed(address, STRICT) is allowed


def test_a_completion_body_is_byte_for_byte_the_documented_one() -> None:
    completed = datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)
    event = AchievementCompleted(42, "u1", 7, completed)
    user = User(
        pk=1,
        id="u1",
        tz="Europe/London",
        attributes=(Attribute("plan", "pro"),),
        created_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
        name="Ada",
    )
    achievement = Achievement(
        id=7,
        key="ten-tasks",
        name="Ten tasks",
        status=AchievementStatus.ACTIVE,
        trigger=MetricTrigger(metric_id=3, threshold=10),
    )
    subjects = Subjects(users={"u1": user}, achievements={7: achievement}, metric_keys={3: "tasks"})
    data = data_of(event, subjects, completed)
    assert data is not None
    kind = WebhookEventType.ACHIEVEMENT_COMPLETED
    rendered = body("msg_01KAQ9ZK3Q9M2V7N4X6R0T1B2C", kind, completed, data)
    assert rendered.encode() == VECTOR_BODY
    assert data_of(event, Subjects(achievements={7: achievement}), completed) is None
