"""User tokens (docs/api.md): read their own user and the catalogue; never write."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from conftest import Api, TestClock, new_tenant

TOKEN = """mutation($u: String!, $t: Int!) {
  createUserToken(userId: $u, ttlSeconds: $t) { token expiresAt } }"""
READ_SELF = """query($id: String!) { user(id: $id) { id metricTotal(metricKey: "lessons")
  achievements(includeIncomplete: true) { achievement { ... on Achievement { key } } } } }"""
READ_ALL = """{ achievements { ... on Achievement { key } } metrics { key }
  streakSettings { frequency metrics { key } } }"""


async def issue(api: Api, user: str = "u1", ttl: int = 3600, **who: Any) -> str:
    data = await api.data(TOKEN, {"u": user, "t": ttl}, **who)
    return str(data["createUserToken"]["token"])


async def world(api: Api) -> None:
    await api.metric("lessons")
    await api.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}})
    await api.data(
        'mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) '
        "{ frequency } }"
    )
    for user, value in (("u1", 3), ("u2", 5)):
        assert "errors" not in await api.track(user, value)


async def refused(
    api: Api, query: str, variables: dict[str, Any] | None = None, **who: Any
) -> tuple[int, str]:
    response = await api.call(query, variables, **who)
    body = response.json()
    assert body.get("errors"), body
    return response.status_code, str(body["errors"][0]["extensions"]["code"])


async def tenant_secret(tenant_id: int) -> str:
    from app.persistence.tenants import TortoiseKeyStore

    secret = await TortoiseKeyStore().tenant_secret(tenant_id)
    assert secret is not None
    return secret


async def test_token_reads_its_own_user_and_the_catalogue(api: Api) -> None:
    await world(api)
    token = await issue(api)
    user = (await api.data(READ_SELF, {"id": "u1"}, token=token))["user"]
    assert user["id"] == "u1" and user["metricTotal"] == 3
    assert [r["achievement"]["key"] for r in user["achievements"]] == ["first"]
    everything = await api.data(READ_ALL, token=token)
    assert everything == {
        "achievements": [{"key": "first"}],
        "metrics": [{"key": "lessons"}],
        "streakSettings": {"frequency": "DAILY", "metrics": [{"key": "lessons"}]},
    }
    assert await api.data(READ_ALL, key=await api.server_key()) == everything


async def test_token_for_a_user_not_yet_seen_reads_null(api: Api) -> None:
    await world(api)
    token = await issue(api, "newcomer")
    assert (await api.data(READ_SELF, {"id": "newcomer"}, token=token))["user"] is None


async def test_server_key_issues_tokens_with_the_asked_lifetime(api: Api) -> None:
    await world(api)
    before = datetime.now(UTC)
    data = await api.data(TOKEN, {"u": "u1", "t": 120}, key=await api.server_key())
    expires = datetime.fromisoformat(data["createUserToken"]["expiresAt"])
    assert before + timedelta(seconds=119) <= expires <= datetime.now(UTC) + timedelta(seconds=121)
    token = data["createUserToken"]["token"]
    assert (await api.data(READ_SELF, {"id": "u1"}, token=token))["user"]["id"] == "u1"


@pytest.mark.parametrize("ttl", [0, -5, 7 * 24 * 3600 + 1])
async def test_ttl_out_of_range_is_refused(api: Api, ttl: int) -> None:
    assert await api.error_code(TOKEN, {"u": "u1", "t": ttl}) == "BAD_USER_INPUT"


@pytest.mark.parametrize("user", ["", "x" * 256])
async def test_bad_user_id_is_refused(api: Api, user: str) -> None:
    assert await api.error_code(TOKEN, {"u": user, "t": 60}) == "BAD_USER_INPUT"


async def test_other_users_are_forbidden(api: Api) -> None:
    await world(api)
    token = await issue(api)
    assert await refused(api, READ_SELF, {"id": "u2"}, token=token) == (200, "FORBIDDEN")
    assert await refused(api, READ_SELF, {"id": "nobody"}, token=token) == (200, "FORBIDDEN")


WRITES = [
    'trackEvent(input: {metricKey: "lessons", user: {id: "u1"}, value: 1}) { total }',
    'completeAchievement(input: {achievementKey: "api", user: {id: "u1"}}) { completionId }',
    'identifyUser(input: {id: "u1", name: "Mallory"}) { id }',
    'createMetric(input: {key: "m2", name: "m2"}) { id }',
    'createUserToken(userId: "u2") { token }',
    'createAchievement(input: {key: "x", name: "x", trigger: {api: true}}) { __typename }',
    'setAchievementStatus(key: "api", status: LOCKED) { __typename }',
    'configureStreak(input: {frequency: WEEKLY, metricKeys: ["lessons"]}) { __typename }',
    'createApiKey(input: {name: "k", role: ADMIN}) { key }',
    "rotateUserTokenSecret",
]


@pytest.mark.parametrize("mutation", WRITES)
async def test_tokens_never_write(api: Api, mutation: str) -> None:
    await world(api)
    await api.achievement("api", {"api": True})
    token = await issue(api)
    assert await refused(api, f"mutation {{ {mutation} }}", token=token) == (200, "FORBIDDEN")
    after = (await api.data(READ_SELF, {"id": "u1"}))["user"]
    assert after["metricTotal"] == 3
    assert [r["achievement"]["key"] for r in after["achievements"]] == ["first", "api"]
    names = await api.data('{ user(id: "u1") { name } metrics { key } }')
    assert names == {"user": {"name": None}, "metrics": [{"key": "lessons"}]}


def tamper_signature(token: str) -> str:
    head, body, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{body}.{flipped}"


def tamper_claims(token: str, **changes: Any) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{encoded}.{signature}"


async def test_tampered_and_garbage_tokens_are_unauthenticated(api: Api) -> None:
    await world(api)
    token = await issue(api)
    secret = await tenant_secret(api.tenant_id)
    forged = [
        tamper_signature(token),
        tamper_claims(token, sub="u2"),
        tamper_claims(token, exp=int((datetime.now(UTC) + timedelta(days=30)).timestamp())),
        jwt.encode(
            {"sub": "u1", "tid": api.tenant_id, "exp": datetime.now(UTC) + timedelta(hours=1)},
            "not-the-secret-" * 4,
            algorithm="HS256",
        ),
        jwt.encode({"sub": "u1", "tid": api.tenant_id}, secret, algorithm="HS256"),  # no expiry
        jwt.encode(
            {"sub": "u1", "tid": api.tenant_id, "exp": datetime.now(UTC) + timedelta(hours=1)},
            secret,
            algorithm="HS512",
        ),
        "garbage",
        token + "x",
    ]
    for bad in forged:
        assert await refused(api, READ_ALL, token=bad) == (401, "UNAUTHENTICATED"), bad
    assert (await api.data(READ_SELF, {"id": "u1"}, token=token))["user"]["id"] == "u1"


async def test_expired_tokens_are_unauthenticated(api: Api, clock: TestClock) -> None:
    await world(api)
    secret = await tenant_secret(api.tenant_id)
    past = datetime.now(UTC) - timedelta(seconds=30)
    crafted = jwt.encode(
        {"sub": "u1", "tid": api.tenant_id, "iat": past, "exp": past}, secret, algorithm="HS256"
    )
    assert await refused(api, READ_ALL, token=crafted) == (401, "UNAUTHENTICATED")
    issued = (await api.data(TOKEN, {"u": "u1", "t": 60}))["createUserToken"]
    short, expires_at = issued["token"], datetime.fromisoformat(issued["expiresAt"])
    with clock.moved(timedelta(seconds=59)):
        assert (await api.data(READ_SELF, {"id": "u1"}, token=short))["user"]["id"] == "u1"
    with clock.moved(expires_at - clock()):
        assert await refused(api, READ_SELF, {"id": "u1"}, token=short) == (
            401,
            "UNAUTHENTICATED",
        )


async def test_a_token_lives_its_whole_ttl_and_says_when_it_ends(
    api: Api, clock: TestClock
) -> None:
    """The token's `exp` is whole seconds: it is the `expiresAt` answered, at least the TTL away,
    and the token is good until that instant."""
    await world(api)
    for fraction in (0, -337, -674):  # issued at three fractions of a second, never ahead
        with clock.stopped(), clock.moved(timedelta(milliseconds=fraction)):
            asked = clock()
            issued = (await api.data(TOKEN, {"u": "u1", "t": 1}))["createUserToken"]
            claims = jwt.decode(issued["token"], options={"verify_signature": False})
            expires_at = datetime.fromisoformat(issued["expiresAt"])
            assert expires_at == datetime.fromtimestamp(claims["exp"], UTC)
            assert expires_at >= asked + timedelta(seconds=1)
            with clock.moved(expires_at - asked - timedelta(microseconds=1)):
                user = await api.data(READ_SELF, {"id": "u1"}, token=issued["token"])
                assert user["user"]["id"] == "u1"
            with clock.moved(expires_at - asked):
                assert await refused(api, READ_SELF, {"id": "u1"}, token=issued["token"]) == (
                    401,
                    "UNAUTHENTICATED",
                )


async def test_another_tenants_token_reads_only_its_own_tenant(
    api: Api, http: httpx.AsyncClient
) -> None:
    await world(api)
    other = await new_tenant(http, "other")
    await other.metric("lessons")
    await other.achievement("theirs", {"api": True})
    assert "errors" not in await other.track("u1", 100)
    theirs = await issue(other)
    user = (await api.data(READ_SELF, {"id": "u1"}, token=theirs))["user"]
    assert user["metricTotal"] == 100
    assert [r["achievement"]["key"] for r in user["achievements"]] == ["theirs"]
    listed = await api.data(READ_ALL, token=theirs)
    assert [a["key"] for a in listed["achievements"]] == ["theirs"]
    assert listed["streakSettings"] is None
    # Claiming this tenant's id with the other tenant's secret does not get in.
    their_secret = await tenant_secret(other.tenant_id)
    forged = jwt.encode(
        {"sub": "u1", "tid": api.tenant_id, "exp": datetime.now(UTC) + timedelta(hours=1)},
        their_secret,
        algorithm="HS256",
    )
    assert await refused(api, READ_SELF, {"id": "u1"}, token=forged) == (401, "UNAUTHENTICATED")
    assert await refused(api, READ_ALL, token=tamper_claims(theirs, tid=api.tenant_id)) == (
        401,
        "UNAUTHENTICATED",
    )


async def test_rotation_invalidates_every_token_of_the_tenant_only(
    api: Api, http: httpx.AsyncClient
) -> None:
    await world(api)
    other = await new_tenant(http, "other")
    old, old_server_issued = await issue(api), await issue(api, "u2", key=await api.server_key())
    theirs = await issue(other)
    assert await refused(api, "mutation { rotateUserTokenSecret }", key=await api.server_key()) == (
        200,
        "FORBIDDEN",
    )
    assert (await api.data(READ_SELF, {"id": "u1"}, token=old))["user"]["id"] == "u1"
    assert (await api.data("mutation { rotateUserTokenSecret }"))["rotateUserTokenSecret"] is True
    for stale in (old, old_server_issued):
        assert await refused(api, READ_ALL, token=stale) == (401, "UNAUTHENTICATED")
    fresh = await issue(api)
    assert (await api.data(READ_SELF, {"id": "u1"}, token=fresh))["user"]["id"] == "u1"
    assert (await other.data(READ_ALL, token=theirs))["achievements"] == []
