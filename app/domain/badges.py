"""Badge images Laurel hosts: what may be uploaded, and where it is served from.

The type comes from the bytes, never from the declared content type or file name: PNG, JPEG,
GIF or WebP only (SVG can carry script). Sizes are read from the image's header, not by
decoding it. The same bytes uploaded again in a tenant give the same URL; URLs are random
(128 bits) and differ per tenant even for identical bytes, so nobody learns through a URL
whether another tenant holds an image.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from app.domain.errors import BadUserInput

MAX_BYTES = 1024 * 1024
MAX_PIXELS = 2048
MAX_BADGE_URL = 2048
SERVED_PATH = "/badges/"
NAME_PATTERN = re.compile(r"([0-9a-f]{32})\.(png|jpg|gif|webp)")


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes: the formats browsers show and
    cannot script; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif", "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


@dataclass(frozen=True, slots=True)
class Badge:
    id: str
    content_type: str
    extension: str
    size: int
    width: int
    height: int
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.id}.{self.extension}"


class ImageHeaders(Protocol):
    def size_of(self, data: bytes) -> tuple[int, int]:
        """(width, height) from the header; raises ValueError for what is no such image."""
        ...


class BadgeFiles(Protocol):
    """Where the bytes of badges live when not in the database: a directory or a bucket.
    Names are the badges' file names, random and never reused."""

    async def put(self, name: str, data: bytes, content_type: str) -> None: ...
    async def get(self, name: str) -> bytes | None: ...


class BadgeStore(Protocol):
    async def keep(self, tenant_id: int, badge: Badge, data: bytes) -> Badge:
        """Stores it, or returns the badge the tenant already has for these bytes."""
        ...

    async def image(self, badge_id: str) -> tuple[Badge, bytes] | None: ...


async def upload(
    store: BadgeStore, headers: ImageHeaders, tenant_id: int, data: bytes, new_id: str
) -> Badge:
    """Checks `data` and keeps it under `new_id` unless the tenant has these bytes already."""
    if not data:
        raise BadUserInput("the file is empty", field="file")
    if len(data) > MAX_BYTES:
        raise BadUserInput(f"the file must be at most {MAX_BYTES} bytes", field="file")
    kind = sniff(data)
    if kind is None:
        raise BadUserInput("the file must be a PNG, JPEG, GIF or WebP image", field="file")
    try:
        width, height = headers.size_of(data)
    except ValueError as error:
        raise BadUserInput("the image cannot be read", field="file") from error
    if not (1 <= width <= MAX_PIXELS and 1 <= height <= MAX_PIXELS):
        raise BadUserInput(
            f"the image must be 1 to {MAX_PIXELS} pixels wide and high", field="file"
        )
    badge = Badge(new_id, kind[0], kind[1], len(data), width, height, sha256(data))
    return await store.keep(tenant_id, badge, data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_badge_url(url: str | None, field: str = "badgeUrl") -> str | None:
    """An absolute http or https URL (never `javascript:` or `data:`), at most 2048 characters."""
    if url is None:
        return None
    parts = urlsplit(url)
    if len(url) > MAX_BADGE_URL or parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadUserInput(
            f"{field} must be an absolute http or https URL of at most {MAX_BADGE_URL} characters",
            field=field,
        )
    return url
