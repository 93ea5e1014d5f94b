"""Who may call what (docs/api.md, credentials and roles), for every transport: each rule takes
the caller and returns it, or refuses with FORBIDDEN. Resolvers call one of these first."""

from __future__ import annotations

from app.api.context import Info
from app.domain.errors import Forbidden
from app.domain.model import Caller


def require_key(caller: Caller) -> Caller:
    """ADMIN or SERVER keys: what may write events, completions, users and tokens."""
    if not caller.is_key:
        raise Forbidden("user tokens cannot do this; use an API key")
    return caller


def require_admin(caller: Caller) -> Caller:
    if not caller.is_admin:
        raise Forbidden("this needs an ADMIN key")
    return caller


def require_reader_of(caller: Caller, user_id: str) -> Caller:
    """A user token reads only its own user; keys read any user of their tenant."""
    if not caller.is_key and caller.user_id != user_id:
        raise Forbidden("a user token may read only its own user")
    return caller


def any_caller(info: Info) -> Caller:
    return info.context.caller


def key_holder(info: Info) -> Caller:
    return require_key(info.context.caller)


def admin(info: Info) -> Caller:
    return require_admin(info.context.caller)


def reader_of_user(info: Info, user_id: str) -> Caller:
    return require_reader_of(info.context.caller, user_id)
