"""Credentials: API keys (`<prefix>.<secret>`, only a hash stored) and signed user tokens.

Key secrets are 256 random bits, so a fast hash is enough (slow KDFs are for guessable
passwords); comparison is constant-time. Verified keys are cached for a few seconds so that a
request does not pay a database round trip for its key; a revocation reaches other instances
within that time, and this instance at once.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from app.domain.errors import BadUserInput, Unauthenticated
from app.domain.model import ApiKeyRole, Caller, CallerKind
from app.domain.ports import KeyStore
from app.infra.cache import TtlCache

KEY_CACHE_SECONDS = 5.0
MAX_PREFIX = 32  # the stored column's width
TOKEN_ALGORITHM = "HS256"
MAX_TOKEN_TTL = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str
    prefix: str
    secret_hash: str


def generate_key() -> NewKey:
    prefix = "lrl_" + secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(key=f"{prefix}.{secret}", prefix=prefix, secret_hash=hash_secret(secret))


def split_key(key: str) -> tuple[str, str]:
    prefix, dot, secret = key.partition(".")
    if not dot or not prefix or not secret or len(prefix) > MAX_PREFIX:
        raise Unauthenticated("malformed API key")
    return prefix, secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Credentials:
    """Turns the credentials of a request into a `Caller`, or refuses with UNAUTHENTICATED."""

    def __init__(
        self, keys: KeyStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        """`clock` decides when tokens are issued and when they have expired."""
        self._keys = keys
        self._clock = clock
        self._verified: TtlCache[str, Caller] = TtlCache(KEY_CACHE_SECONDS)
        self._secrets: TtlCache[int, str] = TtlCache(KEY_CACHE_SECONDS)

    async def from_api_key(self, key: str) -> Caller:
        digest = hash_secret(key)
        cached = self._verified.get(digest)
        if cached is not None:
            return cached
        prefix, secret = split_key(key)
        stored = await self._keys.key_by_prefix(prefix)
        if stored is None or not hmac.compare_digest(stored.secret_hash, hash_secret(secret)):
            raise Unauthenticated("invalid API key")
        kind = CallerKind.ADMIN if stored.role is ApiKeyRole.ADMIN else CallerKind.SERVER
        caller = Caller(tenant_id=stored.tenant_id, kind=kind, credential_id=prefix)
        self._verified.put(digest, caller)
        return caller

    async def from_token(self, token: str) -> Caller:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            tenant_id = int(unverified["tid"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            raise Unauthenticated("invalid token") from exc
        secret = await self._tenant_secret(tenant_id)
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[TOKEN_ALGORITHM],
                options={"require": ["exp", "sub", "tid"], "verify_exp": False},
            )
            expired = float(claims["exp"]) <= self._clock().timestamp()
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise Unauthenticated("invalid token") from exc
        if expired:
            raise Unauthenticated("token expired")
        return Caller(
            tenant_id=tenant_id,
            kind=CallerKind.USER,
            user_id=str(claims["sub"]),
            expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
        )

    async def issue_token(
        self, tenant_id: int, user_id: str, ttl_seconds: int
    ) -> tuple[str, datetime]:
        if not 1 <= ttl_seconds <= MAX_TOKEN_TTL:
            raise BadUserInput(
                f"ttlSeconds must be between 1 and {MAX_TOKEN_TTL}", field="ttlSeconds"
            )
        secret = await self._tenant_secret(tenant_id)
        now = self._clock()
        expires = _whole_second_after(now + timedelta(seconds=ttl_seconds))
        claims = {"sub": user_id, "tid": tenant_id, "iat": now, "exp": expires}
        return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM), expires

    async def rotate_token_secret(self, tenant_id: int) -> None:
        await self._keys.rotate_tenant_secret(tenant_id)
        self._secrets.forget(tenant_id)

    async def create_key(self, tenant_id: int, name: str, role: ApiKeyRole) -> NewKey:
        new = generate_key()
        await self._keys.create_key(tenant_id, new.prefix, new.secret_hash, name, role)
        return new

    async def revoke_key(self, tenant_id: int, prefix: str) -> bool:
        if not 1 <= len(prefix) <= MAX_PREFIX:
            raise BadUserInput(f"prefix must be 1-{MAX_PREFIX} characters", field="prefix")
        revoked = await self._keys.revoke_key(tenant_id, prefix)
        # Drop cached verifications, so this instance refuses the key at once.
        self._verified.forget_where(lambda caller: caller.credential_id == prefix)
        return revoked

    async def _tenant_secret(self, tenant_id: int) -> str:
        cached = self._secrets.get(tenant_id)
        if cached is not None:
            return cached
        secret = await self._keys.tenant_secret(tenant_id)
        if secret is None:
            raise Unauthenticated("invalid token")
        self._secrets.put(tenant_id, secret)
        return secret


def _whole_second_after(instant: datetime) -> datetime:
    """A JWT's `exp` is whole seconds and PyJWT truncates: rounding up instead keeps a token
    valid for at least the TTL asked (a 1 s token issued at x.995 would otherwise end at x+1),
    and the `expiresAt` answered is the instant the token itself carries."""
    return datetime.fromtimestamp(math.ceil(instant.timestamp()), UTC)
