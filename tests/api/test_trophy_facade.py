"""The Trophy REST facade (docs/trophy.md), driven by Trophy's own Python SDK, unchanged, against
a live `laurel serve`: every endpoint, its status codes, the SDK's exception classes, and the
same rules as GraphQL (idempotency, exactly once, visibility, tenants).

Configuration (metrics, achievements, streaks) goes through GraphQL, as Trophy's goes through
its dashboard; the SDK does the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from conftest import Api, LiveServer, new_tenant
from trophy import (
    AsyncTrophyApi,
    BadRequestError,
    NotFoundError,
    TrophyApi,
    TrophyApiEnvironment,
    UnauthorizedError,
    UnprocessableEntityError,
    UpsertedUser,
)
from trophy.core.api_error import ApiError

TOKEN = """mutation($u: String!) { createUserToken(userId: $u) { token } }"""
STREAK = """mutation { configureStreak(input: {frequency: DAILY, metricKeys: ["lessons"]}) {
  frequency } }"""


def environment(server: LiveServer) -> TrophyApiEnvironment:
    base = f"{server.url}/trophy/v1"
    return TrophyApiEnvironment(api=base, admin=base)


def sdk(server: LiveServer, key: str, **options: Any) -> AsyncTrophyApi:
    """The SDK with its retries off, so each call shows the status Laurel answered."""
    return AsyncTrophyApi(api_key=key, environment=environment(server), max_retries=0, **options)


@pytest_asyncio.fixture
async def trophy(live_server: LiveServer, live_api: Api) -> AsyncIterator[AsyncTrophyApi]:
    await live_api.metric("lessons")
    yield sdk(live_server, live_api.key)


async def token_for(api: Api, user: str) -> str:
    return str((await api.data(TOKEN, {"u": user}))["createUserToken"]["token"])


async def test_a_metric_event_answers_201_and_its_replay_202_changing_nothing(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await live_api.achievement("five", {"metric": {"metricKey": "lessons", "value": 5}})
    user = UpsertedUser(id="ann", name="Ann", tz="Europe/London")
    first = await trophy.metrics.with_raw_response.event(
        "lessons", user=user, value=6, idempotency_key="lesson-1"
    )
    assert first.status_code == 201
    assert first.data.total == 6
    assert first.data.idempotency_key == "lesson-1"
    assert first.data.idempotent_replayed is False
    assert [a.key for a in first.data.achievements] == ["five"]
    assert first.data.achievements[0].metric_name == "lessons"
    assert first.data.points == {} and first.data.leaderboards == {}

    replay = await trophy.metrics.with_raw_response.event(
        "lessons", user=user, value=6, idempotency_key="lesson-1"
    )
    assert replay.status_code == 202
    assert replay.data.idempotent_replayed is True
    assert replay.data.event_id == first.data.event_id
    assert (await trophy.users.single_metric("ann", "lessons")).current == 6

    plain = await trophy.metrics.with_raw_response.event("lessons", user=user, value=1)
    assert plain.status_code == 201
    assert plain.data.total == 7
    assert plain.data.idempotency_key is None and plain.data.idempotent_replayed is None


async def test_an_idempotency_key_names_one_event_per_user_and_metric(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    """As Trophy scopes it: one lesson id may key events on two metrics, or of two users."""
    await live_api.metric("xp")
    ann, bob = UpsertedUser(id="ann"), UpsertedUser(id="bob")
    runs = [
        ("lessons", ann, 201),
        ("xp", ann, 201),
        ("lessons", bob, 201),
        ("lessons", ann, 202),
    ]
    for metric, user, status in runs:
        answer = await trophy.metrics.with_raw_response.event(
            metric, user=user, value=1, idempotency_key="lesson-7"
        )
        assert answer.status_code == status, (metric, user.id)
    with pytest.raises(ApiError) as conflict:
        await trophy.metrics.event("lessons", user=ann, value=2, idempotency_key="lesson-7")
    assert conflict.value.status_code == 409
    assert "different input" in conflict.value.body["error"]


async def test_concurrent_retries_of_one_keyed_event_count_it_once(
    live_server: LiveServer, trophy: AsyncTrophyApi, live_api: Api
) -> None:
    """The SDK's own retries (on 409 while the first is in flight) end in replays."""
    retrying = AsyncTrophyApi(api_key=live_api.key, environment=environment(live_server))
    user = UpsertedUser(id="eve")
    answers = await asyncio.gather(
        *(
            retrying.metrics.with_raw_response.event(
                "lessons", user=user, value=3, idempotency_key="once"
            )
            for _ in range(12)
        ),
        return_exceptions=True,
    )
    statuses = sorted(a.status_code if not isinstance(a, BaseException) else 409 for a in answers)
    assert statuses.count(201) == 1, statuses
    assert (await trophy.users.single_metric("eve", "lessons")).current == 3


async def test_the_event_reports_the_streak_and_whether_it_grew(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    no_streak = await trophy.metrics.event("lessons", user=UpsertedUser(id="sam"), value=1)
    assert (no_streak.current_streak.length, no_streak.current_streak.extended) == (0, False)

    await live_api.data(STREAK)
    first = await trophy.metrics.event("lessons", user=UpsertedUser(id="sue"), value=1)
    again = await trophy.metrics.event("lessons", user=UpsertedUser(id="sue"), value=1)
    assert (first.current_streak.length, first.current_streak.extended) == (1, True)
    assert (again.current_streak.length, again.current_streak.extended) == (1, False)
    assert first.current_streak.frequency == "daily"
    today = datetime.now(UTC).date()
    assert first.current_streak.period_start == today.isoformat()
    assert first.current_streak.expires == (today + timedelta(days=1)).isoformat()


async def test_completing_an_api_achievement_answers_201_once_completed(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await live_api.achievement("feedback", {"api": True})
    await live_api.achievement("five", {"metric": {"metricKey": "lessons", "value": 5}})
    user = UpsertedUser(id="kim", tz="Asia/Tokyo")
    done = await trophy.achievements.with_raw_response.complete("feedback", user=user)
    assert done.status_code == 201
    assert done.data.achievement.key == "feedback"
    assert done.data.achievement.trigger == "api"
    assert done.data.achievement.achieved_at is not None
    again = await trophy.achievements.complete("feedback", user=user)
    assert again.completion_id == done.data.completion_id

    with pytest.raises(NotFoundError):
        await trophy.achievements.complete("nothing-like-it", user=user)
    with pytest.raises(UnprocessableEntityError) as refused:
        await trophy.achievements.complete("five", user=user)
    assert "API achievements" in refused.value.body["error"]


async def test_the_catalogue_lists_active_achievements_with_rarity(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await live_api.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}})
    await live_api.achievement(
        "pro-only", {"api": True}, userAttributes=[{"key": "plan", "value": "pro"}]
    )
    await live_api.achievement("draft", {"api": True}, active=False)
    await live_api.achievement("streak-3", {"streak": {"length": 3}})
    await live_api.achievement("both", {"composite": {"prerequisiteKeys": ["first", "streak-3"]}})
    await trophy.metrics.event("lessons", user=UpsertedUser(id="a"), value=1)
    await trophy.users.identify("b")

    listed = {a.key: a for a in await trophy.achievements.all_()}
    assert set(listed) == {"first", "pro-only", "streak-3", "both"}
    assert (listed["first"].completions, listed["first"].rarity) == (1, 50.0)
    assert (listed["first"].metric_value, listed["first"].metric_name) == (1.0, "lessons")
    assert listed["streak-3"].streak_length == 3
    assert listed["both"].trigger == "achievement"
    assert set(listed["both"].achievement_ids or []) == {listed["first"].id, listed["streak-3"].id}
    assert [(p.key, p.value) for p in listed["pro-only"].user_attributes] == [("plan", "pro")]

    free = await trophy.achievements.all_(user_attributes="plan:free")
    assert {a.key for a in free} == {"first", "streak-3", "both"}
    pro = await trophy.achievements.all_(user_attributes="plan:pro,team:red")
    assert "pro-only" in {a.key for a in pro}
    with pytest.raises(UnprocessableEntityError):
        await trophy.achievements.all_(user_attributes="plan")


async def test_a_users_achievements_with_and_without_the_incomplete(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await live_api.achievement("one", {"metric": {"metricKey": "lessons", "value": 1}})
    await live_api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}})
    await trophy.metrics.event("lessons", user=UpsertedUser(id="lee"), value=4)

    done = await trophy.users.achievements("lee")
    assert [(a.key, a.completions) for a in done] == [("one", 1)]
    assert done[0].achieved_at is not None
    every = await trophy.users.achievements("lee", include_incomplete="true")
    assert [(a.key, a.achieved_at is None) for a in every] == [("one", False), ("ten", True)]
    assert every[1].model_extra == {"progress": {"current": 4.0, "target": 10.0, "percent": 40.0}}
    with pytest.raises(NotFoundError):
        await trophy.users.achievements("nobody")


async def test_identify_creates_then_updates_and_get_reads_the_user(
    trophy: AsyncTrophyApi,
) -> None:
    created = await trophy.users.identify(
        "zoe", name="Zoe", email="zoe@example.com", tz="America/Denver", attributes={"plan": "pro"}
    )
    assert (created.id, created.name, created.tz) == ("zoe", "Zoe", "America/Denver")
    assert created.attributes == {"plan": "pro"}
    assert created.control is False
    await trophy.users.identify("zoe", name="Zoë")
    found = await trophy.users.get("zoe")
    assert (found.name, found.email, found.attributes) == (
        "Zoë",
        "zoe@example.com",
        {"plan": "pro"},
    )
    assert found.created == created.created

    with pytest.raises(UnprocessableEntityError) as refused:
        await trophy.users.identify("zoe", tz="Mars/Olympus")
    assert "time zone" in refused.value.body["error"]
    assert (await trophy.users.get("zoe")).tz == "America/Denver"
    with pytest.raises(ApiError) as missing:
        await trophy.users.get("nobody")
    assert missing.value.status_code == 404


async def test_a_users_metrics_carry_totals_and_each_metrics_ladder(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await live_api.metric("minutes")
    await live_api.achievement("ten", {"metric": {"metricKey": "lessons", "value": 10}})
    await live_api.achievement("two", {"metric": {"metricKey": "lessons", "value": 2}})
    await live_api.achievement("hour", {"metric": {"metricKey": "minutes", "value": 60}})
    await trophy.metrics.event("lessons", user=UpsertedUser(id="max"), value=3)

    metrics = {m.key: m for m in await trophy.users.all_metrics("max")}
    assert (metrics["lessons"].current, metrics["minutes"].current) == (3, 0)
    ladder = [(a.key, a.achieved_at is not None) for a in metrics["lessons"].achievements]
    assert ladder == [("two", True), ("ten", False)]
    assert [a.key for a in metrics["minutes"].achievements] == ["hour"]
    one = await trophy.users.single_metric("max", "minutes")
    assert (one.key, one.current, one.name) == ("minutes", 0, "minutes")
    with pytest.raises(NotFoundError):
        await trophy.users.single_metric("max", "steps")


async def test_the_streak_has_its_history_oldest_period_first(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await trophy.users.identify("ivy")
    with pytest.raises(NotFoundError) as unconfigured:
        await trophy.users.streak("ivy")
    await live_api.data(STREAK)
    now = datetime.now(UTC)
    for days_ago in (3, 1, 0):
        at = (now - timedelta(days=days_ago)).isoformat()
        body = await live_api.track("ivy", 1, occurredAt=at)
        assert "errors" not in body, body

    streak = await trophy.users.streak("ivy", history_periods=4)
    assert (streak.length, streak.frequency) == (2, "daily")
    today = now.date()
    history = [(p.period_start, p.length) for p in streak.streak_history]
    assert history == [
        ((today - timedelta(days=n)).isoformat(), length)
        for n, length in ((3, 1), (2, 0), (1, 1), (0, 2))
    ]
    assert len((await trophy.users.streak("ivy")).streak_history) == 7
    with pytest.raises(UnprocessableEntityError):
        await trophy.users.streak("ivy", history_periods=0)
    with pytest.raises(NotFoundError):
        await trophy.users.streak("nobody")
    assert "no streak" in unconfigured.value.body["error"]


async def test_the_sdks_errors_for_bad_keys_and_tenant_headers(
    live_server: LiveServer, trophy: AsyncTrophyApi, live_api: Api
) -> None:
    with pytest.raises(UnauthorizedError) as unknown:
        await sdk(live_server, "lk_nope.nope").achievements.all_()
    assert unknown.value.body == {"error": unknown.value.body["error"]}
    with pytest.raises(BadRequestError) as tenant:
        await sdk(live_server, live_api.key, tenant_id="acme").metrics.event(
            "lessons", user=UpsertedUser(id="x"), value=1
        )
    assert "Tenant-ID" in tenant.value.body["error"]
    with pytest.raises(UnprocessableEntityError):
        await trophy.metrics.event("lessons", user=UpsertedUser(id=""), value=1)
    with pytest.raises(ApiError) as no_metric:  # the SDK declares no 404 for events
        await trophy.metrics.event("steps", user=UpsertedUser(id="x"), value=1)
    assert no_metric.value.status_code == 404


async def test_the_sync_client_works_as_documented(live_server: LiveServer, live_api: Api) -> None:
    await live_api.metric("lessons")
    client = TrophyApi(api_key=live_api.key, environment=environment(live_server))
    answer = await asyncio.to_thread(
        client.metrics.event, "lessons", user=UpsertedUser(id="sync"), value=2
    )
    assert answer.total == 2


async def test_tenants_see_only_their_own(
    live_server: LiveServer, trophy: AsyncTrophyApi, http: httpx.AsyncClient
) -> None:
    await trophy.metrics.event("lessons", user=UpsertedUser(id="shared-id"), value=5)
    other = await new_tenant(http)
    theirs = sdk(live_server, other.key)
    with pytest.raises(ApiError) as hidden:
        await theirs.users.get("shared-id")
    assert hidden.value.status_code == 404
    with pytest.raises(ApiError) as no_metric:
        await theirs.metrics.event("lessons", user=UpsertedUser(id="shared-id"), value=1)
    assert no_metric.value.status_code == 404
    assert await theirs.achievements.all_() == []
    assert (await trophy.users.single_metric("shared-id", "lessons")).current == 5


async def test_user_tokens_read_their_own_user_and_write_nothing(
    live_server: LiveServer, trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await live_api.achievement(
        "secret", {"metric": {"metricKey": "lessons", "value": 9}}, hidden=True
    )
    await trophy.users.identify("tia")
    token = await token_for(live_api, "tia")
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{live_server.url}/trophy/v1", headers=bearer) as web:
        own = await web.get("/users/tia/achievements", params={"includeIncomplete": "true"})
        assert own.status_code == 200
        assert [(a["key"], a["name"], a["description"]) for a in own.json()] == [
            ("secret", "Hidden achievement", None)
        ]
        other = await web.get("/users/someone-else")
        assert other.status_code == 403 and "own user" in other.json()["error"]
        write = await web.post("/metrics/lessons/event", json={"user": {"id": "tia"}, "value": 1})
        assert write.status_code == 403
    assert (await trophy.users.single_metric("tia", "lessons")).current == 0


async def test_malformed_requests_get_400_and_change_nothing(
    live_server: LiveServer, trophy: AsyncTrophyApi, live_api: Api
) -> None:
    headers = {"X-API-KEY": live_api.key}
    async with httpx.AsyncClient(base_url=f"{live_server.url}/trophy/v1", headers=headers) as web:
        bodies: list[Any] = [
            b"{not json",
            b"[1]",
            {"value": 1},
            {"user": {"id": "raw"}},
            {"user": {"id": "raw"}, "value": "1"},
            {"user": {"id": "raw"}, "value": True},
            {"user": {"id": 7}, "value": 1},
            {"user": {"id": "raw", "attributes": {"plan": 1}}, "value": 1},
            {"user": {"id": "raw", "deviceTokens": "abc"}, "value": 1},
        ]
        for body in bodies:
            sent = {"content": body} if isinstance(body, bytes) else {"json": body}
            answer = await web.post("/metrics/lessons/event", **sent)
            assert answer.status_code == 400, (body, answer.text)
            assert set(answer.json()) == {"error"}
        huge = await web.post(
            "/metrics/lessons/event", content=b'{"v": "' + b"x" * (2 << 20) + b'"}'
        )
        assert huge.status_code == 413
        periods = await web.get("/users/raw/streak", params={"historyPeriods": "x"})
        assert periods.status_code == 422
        unknown = await web.get("/leaderboards/top")
        assert (unknown.status_code, unknown.json()) == (404, {"error": "no such endpoint"})
        wrong = await web.delete("/users/raw")
        assert wrong.status_code == 405 and "error" in wrong.json()
    with pytest.raises(ApiError):
        await trophy.users.get("raw")


async def test_rate_limits_answer_429_with_retry_after(
    limited_server: LiveServer, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(http)
    headers = {"X-API-KEY": tenant.key}
    async with httpx.AsyncClient(
        base_url=f"{limited_server.url}/trophy/v1", headers=headers
    ) as web:
        answers = [await web.get("/achievements") for _ in range(8)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused, [a.status_code for a in answers]
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert "rate limit" in refused[0].json()["error"]


async def test_the_openapi_document_describes_every_endpoint(live_server: LiveServer) -> None:
    async with httpx.AsyncClient() as web:
        answer = await web.get(f"{live_server.url}/trophy/v1/openapi.json")
    document = answer.json()
    assert document["servers"] == [{"url": f"{live_server.url}/trophy/v1"}]
    served = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert served == {
        ("POST", "/metrics/{key}/event"),
        ("POST", "/achievements/{key}/complete"),
        ("GET", "/achievements"),
        ("GET", "/users/{id}"),
        ("PUT", "/users/{id}"),
        ("GET", "/users/{id}/achievements"),
        ("GET", "/users/{id}/metrics"),
        ("GET", "/users/{id}/metrics/{key}"),
        ("GET", "/users/{id}/streak"),
    }


async def test_events_and_completions_report_points_as_trophys_sdk_reads_them(
    trophy: AsyncTrophyApi, live_api: Api
) -> None:
    await live_api.achievement("badge", {"api": True})
    await live_api.data('mutation { createPointsSystem(input: {key: "xp", name: "XP"}) { id } }')
    await live_api.data(
        'mutation { createPointsLevel(systemKey: "xp", input: {key: "one", name: "One", '
        "points: 10}) { key } }"
    )
    for key, kind in (
        ("per-lesson", '{metric: {metricKey: "lessons", metricThreshold: 1}}'),
        ("on-badge", '{achievement: {achievementKey: "badge"}}'),
    ):
        await live_api.data(
            f'mutation {{ createPointsTrigger(systemKey: "xp", input: {{key: "{key}", '
            f"points: 10, type: {kind}}}) {{ __typename }} "
            f'setPointsTriggerStatus(systemKey: "xp", key: "{key}", status: ACTIVE)'
            " { __typename } }"
        )
    event = await trophy.metrics.event("lessons", user=UpsertedUser(id="ann"), value=1)
    xp = event.points["xp"]
    assert (xp.key, xp.name, xp.total, xp.added) == ("xp", "XP", 10, 10)
    assert xp.level is not None and xp.level.key == "one"
    [award] = xp.awards
    assert (award.awarded, award.total, award.boosts) == (10, 10, [])
    assert award.trigger is not None
    assert (award.trigger.type, award.trigger.status) == ("metric", "active")
    assert (award.trigger.metric_name, award.trigger.metric_threshold) == ("lessons", 1)
    done = await trophy.achievements.complete("badge", user=UpsertedUser(id="ann"))
    assert done.points["xp"].added == 10 and done.points["xp"].total == 20
    assert done.points["xp"].level is None  # the level did not change
    trigger = done.points["xp"].awards[0].trigger
    assert trigger is not None and trigger.type == "achievement"
    assert trigger.achievement_name == "badge"
    again = await trophy.achievements.complete("badge", user=UpsertedUser(id="ann"))
    assert again.points == {}
