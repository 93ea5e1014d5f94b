"""The webhook sender against a real socket: the address it connects to is the one it checked,
redirects are not followed, time and reading are bounded."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from webhook_receiver import Receiver, Reply

from app.domain.webhooks.ports import SecretUnavailable
from app.domain.webhooks.urls import DestinationPolicy
from app.infra.secret_box import AesGcmBox, SecretKey
from app.infra.webhook_sender import BlockedAddress, CheckedResolver, HttpSender, retry_after

OPEN = DestinationPolicy(allow_http=True, allow_private=True)
STRICT = DestinationPolicy(allow_http=True)
BODY = b'{"id":"msg_x"}'


def resolving_to(*addresses: str) -> object:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_a_name_resolving_to_loopback_is_blocked_before_connecting(
    receiver: Receiver,
) -> None:
    sender = HttpSender(STRICT, 2, resolver=resolving_to("127.0.0.1"))  # type: ignore[arg-type]
    result = await sender.send(f"http://hooks.example.com:{receiver.port}/h", {}, BODY)
    await sender.close()
    assert (result.status, result.error) == (None, "blocked address")
    assert receiver.received == []


async def test_the_connector_gets_only_the_allowed_addresses_among_those_resolved() -> None:
    resolver = resolving_to("10.0.0.1", "93.184.216.34", "127.0.0.1")
    checked = CheckedResolver(STRICT, resolver)  # type: ignore[arg-type]
    assert [r["host"] for r in await checked.resolve("hooks.example.com", 443)] == ["93.184.216.34"]
    with pytest.raises(BlockedAddress):
        await CheckedResolver(STRICT, resolving_to("10.0.0.1")).resolve("h", 443)  # type: ignore[arg-type]


async def test_a_literal_private_address_is_blocked_at_the_attempt(receiver: Receiver) -> None:
    sender = HttpSender(STRICT, 2)
    result = await sender.send(receiver.url, {}, BODY)
    await sender.close()
    assert (result.status, result.error) == (None, "blocked address")
    assert receiver.received == []


async def test_the_connection_goes_to_the_checked_address_with_the_urls_host(
    receiver: Receiver,
) -> None:
    sender = HttpSender(OPEN, 2, resolver=resolving_to("127.0.0.1"))  # type: ignore[arg-type]
    result = await sender.send(
        f"http://hooks.example.com:{receiver.port}/h", {"webhook-id": "msg_x"}, BODY
    )
    await sender.close()
    assert result.status == 200
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert (request.body, request.headers["webhook-id"]) == (BODY, "msg_x")


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.answer(Reply(302, b"", {"location": "http://127.0.0.1:1/elsewhere"}))
    sender = HttpSender(OPEN, 2)
    result = await sender.send(receiver.url, {}, BODY)
    await sender.close()
    assert result.status == 302
    assert len(receiver.received) == 1


async def test_a_slow_receiver_times_out(receiver: Receiver) -> None:
    never = asyncio.Event()
    receiver.answer(Reply(200, gate=never))
    sender = HttpSender(OPEN, 0.3)
    result = await sender.send(receiver.url, {}, BODY)
    await sender.close()
    never.set()
    assert (result.status, result.error) == (None, "timeout after 0.3 s")
    assert result.duration_ms >= 300


async def test_only_the_start_of_a_large_answer_is_kept(receiver: Receiver) -> None:
    receiver.answer(Reply(500, "é".encode() * 40_000))
    sender = HttpSender(OPEN, 2)
    result = await sender.send(receiver.url, {}, BODY)
    await sender.close()
    assert result.status == 500
    assert result.body is not None and len(result.body.encode()) <= 1024 + 3


async def test_a_closed_port_is_a_refused_connection(receiver: Receiver) -> None:
    port = receiver.port
    await receiver.stop()
    sender = HttpSender(OPEN, 2)
    result = await sender.send(f"http://127.0.0.1:{port}/h", {}, BODY)
    await sender.close()
    assert (result.status, result.error) == (None, "connection refused")


async def test_a_name_that_does_not_resolve_is_blocked() -> None:
    sender = HttpSender(STRICT, 2)
    result = await sender.send("https://hooks.example.invalid/h", {}, BODY)
    await sender.close()
    assert result.error is not None and result.error.startswith("blocked address")


def test_retry_after_takes_seconds_or_a_date() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120
    assert retry_after("Mon, 23 Nov 2026 10:05:00 GMT", now) == 300
    assert retry_after("Mon, 23 Nov 2026 09:00:00 GMT", now) == 0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_secrets_open_only_in_the_row_they_were_sealed_for(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    box = AesGcmBox(SecretKey(None, str(key_file)))
    assert not key_file.exists()
    sealed = box.seal("whsec_abc", b"row:1")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"whsec_abc" not in sealed
    assert box.open(sealed, b"row:1") == "whsec_abc"
    assert box.seal("whsec_abc", b"row:1") != sealed  # a fresh nonce each time
    with pytest.raises(SecretUnavailable):
        box.open(sealed, b"row:2")
    other = AesGcmBox(SecretKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", str(key_file)))
    with pytest.raises(SecretUnavailable):
        other.open(sealed, b"row:1")


def test_a_missing_key_is_not_made_up_to_open_a_secret(tmp_path: Path) -> None:
    key = SecretKey(None, str(tmp_path / "none.key"))
    assert not key.available
    with pytest.raises(SecretUnavailable):
        AesGcmBox(key).open(b"\0" * 40, b"row:1")
    assert not (tmp_path / "none.key").exists()


@pytest.mark.parametrize("configured", ["not base64!", "AAAA"])
def test_a_malformed_key_is_refused(configured: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LAUREL_SECRET_KEY"):
        SecretKey(configured, str(tmp_path / "k"))
