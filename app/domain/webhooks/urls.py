"""Which URLs an endpoint may have and which addresses a delivery may connect to (SSRF).

A URL is checked when it is set: its form, and its host when that is a literal address or
`localhost` (names are not resolved then). Every attempt checks again the address the
connection will actually use, after resolution (`address_allowed`), so a name that later
resolves to a private address (DNS rebinding) gets nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.domain.errors import BadUserInput

MAX_URL = 2048
FIELD = "url"


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """`allow_http` and `allow_private` are for tests and receivers on a private network."""

    allow_http: bool = False
    allow_private: bool = False


def check_url(url: str, policy: DestinationPolicy) -> str:
    if len(url) > MAX_URL:
        raise BadUserInput(f"url must be at most {MAX_URL} characters", field=FIELD)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise BadUserInput(f"url is not a valid URL: {error}", field=FIELD) from error
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in schemes:
        allowed = " or ".join(schemes)
        raise BadUserInput(f"url must be an absolute {allowed} URL", field=FIELD)
    if not parts.hostname:
        raise BadUserInput("url must name a host", field=FIELD)
    if parts.username is not None or parts.password is not None:
        raise BadUserInput("url must not carry a user name or password", field=FIELD)
    host = parts.hostname.rstrip(".").lower()
    literal = literal_address(host)
    refused = host == "localhost" or host.endswith(".localhost")
    if literal is not None:
        refused = not address_allowed(literal, policy)
    if refused and not policy.allow_private:
        raise BadUserInput(
            "url must point to a public address: loopback, private and link-local "
            "destinations are refused",
            field=FIELD,
        )
    return url


def address_allowed(address: str, policy: DestinationPolicy) -> bool:
    """Whether a connection may go to `address` (an IPv4 or IPv6 literal)."""
    if policy.allow_private:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_address(host: str) -> str | None:
    """The address a URL's host names literally (`10.0.0.1`, `[::1]`), None for a name."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None
