"""Secrets, message ids and signatures, as Standard Webhooks 1.0 defines them.

A secret is `whsec_` + base64 of 32 random bytes; a signature is `v1,` + base64 of
HMAC-SHA256 keyed with those bytes over `{webhook-id}.{webhook-timestamp}.{body}`. Receivers
verify with any Standard Webhooks library. A message id is `msg_` + a ULID: its time part is
when the event happened, so ids sort by time, and its other 80 bits come from the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MESSAGE_PREFIX = "msg_"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80


def new_secret() -> str:
    """32 bytes from the operating system's CSPRNG."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(keys: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """One signature per secret, space-separated, the current secret's first."""
    return " ".join(sign(key, message_id, timestamp, body) for key in keys)


def trophy_signature(secret: str, body: bytes) -> str:
    """Trophy's `X-Trophy-Signature`: base64 of HMAC-SHA256 keyed with the whole secret as
    shown, over the body alone (no id, no time: it can be replayed, so only TROPHY-format
    endpoints get it, beside the Standard Webhooks headers)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def message_id(at: datetime, entropy: int | None = None) -> str:
    """An event's own number as `entropy` gives it the same id however often it is rendered
    (hashed, so ids do not reveal counts); None draws the bits at random (test messages)."""
    if entropy is None:
        bits = secrets.randbits(_RANDOM_BITS)
    else:
        digest = hashlib.sha256(b"laurel-event:%d" % entropy).digest()
        bits = int.from_bytes(digest[: _RANDOM_BITS // 8], "big")
    value = (int(at.timestamp() * 1000) << _RANDOM_BITS) | bits
    chars = [_CROCKFORD[(value >> (5 * i)) & 31] for i in range(26)]
    return MESSAGE_PREFIX + "".join(reversed(chars))
