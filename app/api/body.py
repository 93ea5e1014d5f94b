"""The request body limit, enforced while the body streams in."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope


class BodyTooLarge(Exception):
    """The request body passed the size limit; the view answers 413 as GraphQL JSON."""


def limit_body(scope: Scope, receive: Receive, max_bytes: int) -> Receive:
    """Refuses a declared or streamed body over `max_bytes`, so no more than that is ever read.

    Starlette's own limit answers in plain text, whatever the view sends; this one lets the view
    answer as GraphQL does.
    """
    declared = Headers(scope=scope).get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge
        return message

    return limited
