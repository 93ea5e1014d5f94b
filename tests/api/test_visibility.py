"""Status and visibility (docs/concepts.md): which caller sees which achievement, per status, and hidden ones masked."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

FIELDS = "... on Achievement { key name description badgeUrl status hidden }"
CATALOGUE = f"query($s: [AchievementStatus!]) {{ achievements(status: $s) {{ {FIELDS} }} }}"
ONE = f"query($k: String!) {{ achievement(key: $k) {{ {FIELDS} }} }}"
USER = f"""query($id: String!, $all: Boolean!) {{ user(id: $id) {{
  achievements(includeIncomplete: $all) {{ achievedAt achievement {{ {FIELDS} }} }} }} }}"""
COMPLETE = """mutation($k: String!, $u: String!) {
  completeAchievement(input: {achievementKey: $k, user: {id: $u}}) { newlyCompleted } }"""
STATUS = """mutation($k: String!, $s: AchievementStatus!) {
  setAchievementStatus(key: $k, status: $s) { ... on Achievement { status } } }"""

ALL_KEYS = [
    "inactive",
    "active",
    "locked",
    "archived",
    "locked_done",
    "inactive_done",
    "archived_done",
]


async def complete(api: Api, key: str, user: str) -> None:
    await api.data(COMPLETE, {"k": key, "u": user})


async def token_for(api: Api, user: str) -> str:
    data = await api.data(
        "mutation($u: String!) { createUserToken(userId: $u) { token } }", {"u": user}
    )
    return str(data["createUserToken"]["token"])


class Roles:
    """The three kinds of caller of one tenant: keyword arguments for `Api.data`."""

    def __init__(
        self, admin: dict[str, Any], server: dict[str, Any], u1: dict[str, Any], u2: dict[str, Any]
    ) -> None:
        self.admin, self.server, self.u1, self.u2 = admin, server, u1, u2


async def identify(api: Api, user: str) -> None:
    await api.data("mutation($u: String!) { identifyUser(input: {id: $u}) { id } }", {"u": user})


async def roles(api: Api) -> Roles:
    for user in ("u1", "u2"):
        await identify(api, user)
    return Roles(
        {},
        {"key": await api.server_key()},
        {"token": await token_for(api, "u1")},
        {"token": await token_for(api, "u2")},
    )


async def statuses_world(api: Api) -> Roles:
    """One achievement per status, and three that u1 completed before their status changed."""
    for key in ALL_KEYS:
        await api.achievement(key, {"api": True})
    for key in ("locked_done", "inactive_done", "archived_done"):
        await complete(api, key, "u1")
    for key, status in [
        ("inactive", "INACTIVE"),
        ("locked", "LOCKED"),
        ("archived", "ARCHIVED"),
        ("locked_done", "LOCKED"),
        ("inactive_done", "INACTIVE"),
        ("archived_done", "ARCHIVED"),
    ]:
        await api.activate(key, status)
    return await roles(api)


async def keys_of(api: Api, query: str, variables: dict[str, Any], **who: Any) -> list[str]:
    data = await api.data(query, variables, **who)
    return [a["key"] for a in data["achievements"]]


async def test_catalogue_per_role(api: Api) -> None:
    who = await statuses_world(api)
    assert await keys_of(api, CATALOGUE, {}, **who.admin) == [
        "inactive",
        "active",
        "locked",
        "locked_done",
        "inactive_done",
    ]
    assert await keys_of(api, CATALOGUE, {}, **who.server) == ["active"]
    assert await keys_of(api, CATALOGUE, {}, **who.u1) == ["active", "locked_done"]
    assert await keys_of(api, CATALOGUE, {}, **who.u2) == ["active"]


async def test_archived_only_for_admin_asking_for_it(api: Api) -> None:
    who = await statuses_world(api)
    archived = {"s": ["ARCHIVED"]}
    assert await keys_of(api, CATALOGUE, archived, **who.admin) == ["archived", "archived_done"]
    for caller in (who.server, who.u1, who.u2):
        assert await keys_of(api, CATALOGUE, archived, **caller) == []
    everything = {"s": ["INACTIVE", "ACTIVE", "LOCKED", "ARCHIVED"]}
    assert await keys_of(api, CATALOGUE, everything, **who.admin) == ALL_KEYS
    assert await keys_of(api, CATALOGUE, everything, **who.server) == ["active"]
    assert await keys_of(api, CATALOGUE, everything, **who.u1) == ["active", "locked_done"]


async def test_status_filter_narrows(api: Api) -> None:
    who = await statuses_world(api)
    assert await keys_of(api, CATALOGUE, {"s": ["LOCKED"]}, **who.admin) == [
        "locked",
        "locked_done",
    ]
    assert await keys_of(api, CATALOGUE, {"s": ["LOCKED"]}, **who.server) == []
    assert await keys_of(api, CATALOGUE, {"s": ["INACTIVE"]}, **who.u1) == []
    assert await keys_of(api, CATALOGUE, {"s": ["ACTIVE"]}, **who.admin) == ["active"]


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("admin", set(ALL_KEYS)),
        ("server", {"active"}),
        ("u1", {"active", "locked_done"}),
        ("u2", {"active"}),
    ],
)
async def test_single_achievement_per_role(api: Api, role: str, visible: set[str]) -> None:
    who = getattr(await statuses_world(api), role)
    for key in [*ALL_KEYS, "no-such-key"]:
        found = (await api.data(ONE, {"k": key}, **who))["achievement"]
        assert (found is not None) == (key in visible), (role, key, found)
        if found is not None:
            assert found["key"] == key


async def test_user_achievements_per_status(api: Api) -> None:
    who = await statuses_world(api)
    for caller in (who.admin, who.server, who.u1):
        done = (await api.data(USER, {"id": "u1", "all": False}, **caller))["user"]["achievements"]
        assert [r["achievement"]["key"] for r in done] == ["locked_done"]
        everything = (await api.data(USER, {"id": "u1", "all": True}, **caller))["user"][
            "achievements"
        ]
        assert [(r["achievement"]["key"], r["achievedAt"] is not None) for r in everything] == [
            ("locked_done", True),
            ("active", False),
        ]
    other = (await api.data(USER, {"id": "u2", "all": True}, **who.u2))["user"]["achievements"]
    assert [r["achievement"]["key"] for r in other] == ["active"]


async def test_archived_is_final_and_the_rest_move_freely(api: Api) -> None:
    await api.achievement("a", {"api": True}, active=False)
    for status in ["ACTIVE", "LOCKED", "INACTIVE", "LOCKED", "ACTIVE", "INACTIVE", "ARCHIVED"]:
        data = await api.data(STATUS, {"k": "a", "s": status})
        assert data["setAchievementStatus"]["status"] == status
    for status in ["INACTIVE", "ACTIVE", "LOCKED"]:
        assert await api.error_code(STATUS, {"k": "a", "s": status}) == "BAD_USER_INPUT"
    listed = await api.data(CATALOGUE, {"s": ["ARCHIVED"]})
    assert [(a["key"], a["status"]) for a in listed["achievements"]] == [("a", "ARCHIVED")]
    assert await api.error_code(STATUS, {"k": "nope", "s": "ACTIVE"}) == "NOT_FOUND"


async def test_only_active_achievements_complete(api: Api) -> None:
    for key, status in [("i", "INACTIVE"), ("l", "LOCKED"), ("r", "ARCHIVED")]:
        await api.achievement(key, {"api": True})
        await api.activate(key, status)
        assert await api.error_code(COMPLETE, {"k": key, "u": "u1"}) == "BAD_USER_INPUT"
    listed = (await api.data(USER, {"id": "u1", "all": False}))["user"]
    assert listed is None or listed["achievements"] == []


async def test_server_and_token_cannot_change_status(api: Api) -> None:
    await api.achievement("a", {"api": True})
    who = await roles(api)
    for caller in (who.server, who.u1):
        assert await api.error_code(STATUS, {"k": "a", "s": "LOCKED"}, **caller) == "FORBIDDEN"
    assert (await api.data(ONE, {"k": "a"}))["achievement"]["status"] == "ACTIVE"


SECRET = {
    "description": "do the secret thing",
    "badgeUrl": "https://example.com/s.png",
    "hidden": True,
}
MASKED = {
    "key": "secret",
    "name": "Hidden achievement",
    "description": None,
    "badgeUrl": None,
    "status": "ACTIVE",
    "hidden": True,
}
REVEALED = {
    "key": "secret",
    "name": "secret",
    "description": SECRET["description"],
    "badgeUrl": SECRET["badgeUrl"],
    "status": "ACTIVE",
    "hidden": True,
}


async def seen(api: Api, **who: Any) -> list[dict[str, Any]]:
    """The secret achievement as the catalogue, the single lookup and the user's list show it."""
    catalogue = (await api.data(CATALOGUE, {}, **who))["achievements"]
    single = (await api.data(ONE, {"k": "secret"}, **who))["achievement"]
    mine = (await api.data(USER, {"id": "u1", "all": True}, **who))["user"]["achievements"]
    return [
        next(a for a in catalogue if a["key"] == "secret"),
        single,
        next(r["achievement"] for r in mine if r["achievement"]["key"] == "secret"),
    ]


async def test_hidden_achievement_is_masked_for_tokens_until_completed(api: Api) -> None:
    await api.achievement("secret", {"api": True}, **SECRET)
    who = await roles(api)
    assert await seen(api, **who.u1) == [MASKED] * 3
    assert await seen(api, **who.admin) == [REVEALED] * 3
    assert await seen(api, **who.server) == [REVEALED] * 3
    await complete(api, "secret", "u1")
    assert await seen(api, **who.u1) == [REVEALED] * 3
    catalogue = (await api.data(CATALOGUE, {}, **who.u2))["achievements"]
    assert catalogue == [MASKED], "another user's completion reveals nothing to u2"


async def test_hidden_prerequisite_is_masked_inside_a_composite(api: Api) -> None:
    await api.achievement("secret", {"api": True}, **SECRET)
    await api.achievement("visible", {"api": True})
    await api.achievement("both", {"composite": {"prerequisiteKeys": ["secret", "visible"]}})
    who = await roles(api)
    query = (
        f'{{ achievement(key: "both") {{ ... on CompositeAchievement {{ '
        f"prerequisites {{ {FIELDS} }} }} }} }}"
    )
    names = [p["name"] for p in (await api.data(query, **who.u1))["achievement"]["prerequisites"]]
    assert names == ["Hidden achievement", "visible"]
    names = [
        p["name"] for p in (await api.data(query, **who.admin))["achievement"]["prerequisites"]
    ]
    assert names == ["secret", "visible"]
    await complete(api, "secret", "u1")
    names = [p["name"] for p in (await api.data(query, **who.u1))["achievement"]["prerequisites"]]
    assert names == ["secret", "visible"]
