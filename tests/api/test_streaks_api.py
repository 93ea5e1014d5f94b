"""Streaks through GraphQL (docs/concepts.md), with `occurredAt` spread over calendar periods.

Expected values are derived here from the calendar with zoneinfo, independently of
app.domain.streaks, so a bug in the period arithmetic cannot hide behind its own output.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import TRACK, Api

AUCKLAND = "Pacific/Auckland"
LOS_ANGELES = "America/Los_Angeles"

CONFIGURE = """
mutation($f: StreakFrequency!, $m: [String!]!) {
  configureStreak(input: {frequency: $f, metricKeys: $m}) { frequency metrics { key } }
}
"""

USER_STREAK = """
query($id: String!) {
  user(id: $id) {
    streak { length frequency started periodStart periodEnd expires }
    achievements(includeIncomplete: true) {
      achievedAt progress { current target percent }
      achievement { ... on StreakAchievement { key } }
    }
  }
}
"""


def local_midnight(day: date, tz: str) -> datetime:
    """Midnight exists in every zone these tests use, so no DST gap handling is needed."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(tz))


def today(tz: str = "UTC") -> date:
    return datetime.now(ZoneInfo(tz)).date()


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def configure(api: Api, frequency: str, metrics: tuple[str, ...] = ("lessons",)) -> None:
    data = await api.data(CONFIGURE, {"f": frequency, "m": list(metrics)})
    assert data["configureStreak"]["frequency"] == frequency


async def track(
    api: Api,
    user: str,
    at: datetime | None = None,
    *,
    value: float = 1,
    metric: str = "lessons",
    tz: str | None = None,
) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": user}
    if tz is not None:
        profile["tz"] = tz
    event: dict[str, Any] = {"metricKey": metric, "user": profile, "value": value}
    if at is not None:
        event["occurredAt"] = at.isoformat()
    body = await api.gql(TRACK, {"i": event})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["trackEvent"]
    return payload


async def user_view(api: Api, user: str) -> dict[str, Any]:
    data = await api.data(USER_STREAK, {"id": user})
    view: dict[str, Any] = data["user"]
    return view


async def streak_of(api: Api, user: str) -> dict[str, Any] | None:
    streak: dict[str, Any] | None = (await user_view(api, user))["streak"]
    return streak


def days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def test_consecutive_days_make_a_daily_streak(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    lengths = [(await track(api, "u", days_ago(d)))["currentStreak"]["length"] for d in (2, 1, 0)]
    assert lengths == [0, 2, 3]  # two days ago alone has lapsed by now
    streak = await streak_of(api, "u")
    assert streak is not None
    now = today()
    assert streak["length"] == 3
    assert streak["frequency"] == "DAILY"
    assert streak["started"] == (now - timedelta(days=2)).isoformat()
    assert streak["periodStart"] == streak["periodEnd"] == now.isoformat()
    assert instant(streak["expires"]) == local_midnight(now + timedelta(days=2), "UTC")


async def test_user_streak_matches_the_payload(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    await track(api, "u", days_ago(1), tz=AUCKLAND)
    payload = await track(api, "u")
    assert payload["currentStreak"]["length"] == 2
    assert await streak_of(api, "u") == payload["currentStreak"]


async def test_expires_is_local_midnight_in_the_users_zone(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    streak = (await track(api, "nz", tz=AUCKLAND))["currentStreak"]
    now = today(AUCKLAND)
    assert streak["periodStart"] == now.isoformat()
    assert instant(streak["expires"]) == local_midnight(now + timedelta(days=2), AUCKLAND)


async def test_a_gap_resets_the_streak(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    await track(api, "u", days_ago(4))
    await track(api, "u", days_ago(3))
    stale = (await track(api, "u", days_ago(3)))["currentStreak"]
    assert stale["length"] == 0
    assert stale["started"] is None and stale["expires"] is None
    fresh = (await track(api, "u"))["currentStreak"]
    assert fresh["length"] == 1
    assert fresh["started"] == today().isoformat()


async def test_yesterdays_run_is_still_live_today(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    await track(api, "u", days_ago(2))
    streak = (await track(api, "u", days_ago(1)))["currentStreak"]
    assert streak["length"] == 2
    assert streak["periodStart"] == today().isoformat()
    assert instant(streak["expires"]) == local_midnight(today() + timedelta(days=1), "UTC")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_backfills_in_any_order_give_the_same_streak(api: Api, seed: int) -> None:
    await api.metric()
    await configure(api, "DAILY")
    offsets = [0, 1, 2, 3, 5, 6, 8, 9, 10, 11]
    for d in sorted(offsets, reverse=True):
        in_order = (await track(api, "ordered", days_ago(d)))["currentStreak"]
    shuffled = offsets[:]
    random.Random(seed).shuffle(shuffled)
    for d in shuffled:
        backfilled = (await track(api, "shuffled", days_ago(d)))["currentStreak"]
    assert in_order["length"] == backfilled["length"] == 4
    assert in_order == backfilled
    assert backfilled["started"] == (today() - timedelta(days=3)).isoformat()
    assert await streak_of(api, "shuffled") == await streak_of(api, "ordered") == backfilled


async def test_a_backfill_bridging_two_runs_joins_them(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    for d in (4, 3, 1, 0):
        await track(api, "u", days_ago(d))
    assert (await streak_of(api, "u") or {})["length"] == 2
    bridged = (await track(api, "u", days_ago(2)))["currentStreak"]
    assert bridged["length"] == 5
    assert bridged["started"] == (today() - timedelta(days=4)).isoformat()


async def test_only_positive_values_on_streak_metrics_count(api: Api) -> None:
    await api.metric("lessons")
    await api.metric("quizzes")
    await api.metric("logins")
    await configure(api, "DAILY", ("lessons", "quizzes"))
    await track(api, "u", days_ago(2), metric="quizzes")
    assert (await track(api, "u", days_ago(1), value=0))["currentStreak"]["length"] == 0
    assert (await track(api, "u", days_ago(1), value=-3))["currentStreak"]["length"] == 0
    logins = await track(api, "u", days_ago(1), metric="logins")
    assert logins["currentStreak"]["length"] == 0
    assert (await track(api, "u", value=0.5))["currentStreak"]["length"] == 1
    assert (await track(api, "u", days_ago(1), metric="quizzes"))["currentStreak"]["length"] == 3


async def test_weekly_streak_counts_iso_weeks(api: Api) -> None:
    await api.metric()
    await configure(api, "WEEKLY")
    for d in (14, 7, 0):
        payload = await track(api, "u", days_ago(d))
    monday = today() - timedelta(days=today().weekday())
    streak = payload["currentStreak"]
    assert streak["length"] == 3
    assert streak["frequency"] == "WEEKLY"
    assert streak["started"] == (monday - timedelta(weeks=2)).isoformat()
    assert streak["periodStart"] == monday.isoformat()
    assert streak["periodEnd"] == (monday + timedelta(days=6)).isoformat()
    assert instant(streak["expires"]) == local_midnight(monday + timedelta(weeks=2), "UTC")
    again = await track(api, "u")
    assert again["currentStreak"] == streak
    assert await streak_of(api, "u") == streak


def month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


async def test_monthly_streak_counts_calendar_months(api: Api) -> None:
    await api.metric()
    await configure(api, "MONTHLY")
    now = today()
    for back in (3, 1, 2):
        noon = datetime.combine(month_start(now, back) + timedelta(days=14), time(12), UTC)
        await track(api, "u", noon)
    payload = await track(api, "u")
    streak = payload["currentStreak"]
    assert streak["length"] == 4
    assert streak["frequency"] == "MONTHLY"
    assert streak["started"] == month_start(now, 3).isoformat()
    assert streak["periodStart"] == month_start(now, 0).isoformat()
    assert streak["periodEnd"] == (month_start(now, -1) - timedelta(days=1)).isoformat()
    assert instant(streak["expires"]) == local_midnight(month_start(now, -2), "UTC")
    assert await streak_of(api, "u") == streak


async def test_days_are_local_to_the_users_zone(api: Api) -> None:
    """Two events an hour apart around Auckland midnight: two days there, one in Los Angeles."""
    await api.metric()
    await configure(api, "DAILY")
    auckland_day = (datetime.now(UTC) - timedelta(hours=1)).astimezone(ZoneInfo(AUCKLAND)).date()
    midnight = local_midnight(auckland_day, AUCKLAND)
    for at in (midnight - timedelta(minutes=30), midnight + timedelta(minutes=30)):
        nz = (await track(api, "nz", at, tz=AUCKLAND))["currentStreak"]
        la = (await track(api, "la", at, tz=LOS_ANGELES))["currentStreak"]
    assert nz["length"] == 2
    assert nz["started"] == (auckland_day - timedelta(days=1)).isoformat()
    assert la["length"] == 1
    assert la["started"] == midnight.astimezone(ZoneInfo(LOS_ANGELES)).date().isoformat()
    assert await streak_of(api, "nz") == nz
    assert await streak_of(api, "la") == la


async def test_an_event_near_utc_midnight_falls_on_different_local_days(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    utc_midnight = local_midnight(today(), "UTC")
    at = utc_midnight - timedelta(minutes=1)
    nz = (await track(api, "nz", at, tz=AUCKLAND))["currentStreak"]
    la = (await track(api, "la", at, tz=LOS_ANGELES))["currentStreak"]
    assert nz["started"] == at.astimezone(ZoneInfo(AUCKLAND)).date().isoformat()
    assert la["started"] == at.astimezone(ZoneInfo(LOS_ANGELES)).date().isoformat()
    assert nz["started"] != la["started"]


async def test_a_user_who_changes_zone_keeps_the_days_of_the_old_one(api: Api) -> None:
    """The same instant is a Los Angeles day and, after the move, the next Auckland day."""
    await api.metric()
    await configure(api, "DAILY")
    la_now = datetime.now(ZoneInfo(LOS_ANGELES))
    noon = datetime.combine(la_now.date(), time(12), tzinfo=ZoneInfo(LOS_ANGELES))
    if noon > la_now:
        noon -= timedelta(days=1)
    first = (await track(api, "u", noon, tz=LOS_ANGELES))["currentStreak"]
    assert first["length"] == 1
    moved = (await track(api, "u", noon, tz=AUCKLAND))["currentStreak"]
    assert moved["length"] == 2
    assert moved["started"] == noon.date().isoformat()
    assert moved["periodStart"] == today(AUCKLAND).isoformat()
    streak = await streak_of(api, "u")
    assert streak == moved


async def test_no_streak_configured_means_null(api: Api) -> None:
    await api.metric()
    payload = await track(api, "u")
    assert payload["currentStreak"] is None
    assert await streak_of(api, "u") is None
    assert (await api.data("{ streakSettings { frequency } }"))["streakSettings"] is None


async def test_streak_achievement_completes_once_when_the_length_is_reached(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    await api.achievement("three", {"streak": {"length": 3}})
    reported = []
    for d in (2, 1, 0, 3):
        payload = await track(api, "u", days_ago(d))
        reported.append([a["achievement"]["key"] for a in payload["achievements"]])
    assert reported == [[], [], ["three"], []]
    rows = (await user_view(api, "u"))["achievements"]
    done = [r for r in rows if r["achievement"].get("key") == "three"]
    assert len(done) == 1 and done[0]["achievedAt"] is not None


async def test_a_backfill_that_merges_runs_completes_the_achievement(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    await api.achievement("four", {"streak": {"length": 4}})
    for d in (4, 3, 1, 0):
        assert (await track(api, "u", days_ago(d)))["achievements"] == []
    payload = await track(api, "u", days_ago(2))
    assert [a["achievement"]["key"] for a in payload["achievements"]] == ["four"]
    assert payload["currentStreak"]["length"] == 5


async def test_streak_achievement_progress_is_the_current_length(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    await api.achievement("five", {"streak": {"length": 5}})
    await track(api, "u", days_ago(1))
    await track(api, "u")
    rows = (await user_view(api, "u"))["achievements"]
    [row] = [r for r in rows if r["achievement"].get("key") == "five"]
    assert row["achievedAt"] is None
    assert row["progress"] == {"current": 2.0, "target": 5.0, "percent": 40.0}


async def test_changing_the_frequency_recomputes_the_streak_before_any_new_event(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    await api.achievement("three", {"streak": {"length": 3}})
    for d in (14, 7, 0):
        daily = (await track(api, "u", days_ago(d)))["currentStreak"]
    assert daily["length"] == 1
    await configure(api, "WEEKLY")
    weekly = await streak_of(api, "u")
    assert weekly is not None
    monday = today() - timedelta(days=today().weekday())
    assert weekly["frequency"] == "WEEKLY"
    assert weekly["length"] == 3
    assert weekly["started"] == (monday - timedelta(weeks=2)).isoformat()
    rows = (await user_view(api, "u"))["achievements"]
    [row] = [r for r in rows if r["achievement"].get("key") == "three"]
    assert row["progress"]["current"] == 3.0
    await configure(api, "DAILY")
    assert (await streak_of(api, "u") or {})["length"] == 1


async def test_a_non_qualifying_event_after_a_frequency_change_shows_the_new_streak(
    api: Api,
) -> None:
    await api.metric()
    await api.metric("logins")
    await configure(api, "DAILY")
    await api.achievement("three", {"streak": {"length": 3}})
    for d in (14, 7, 0):
        await track(api, "u", days_ago(d))
    await configure(api, "WEEKLY")
    payload = await track(api, "u", metric="logins")
    assert payload["currentStreak"]["length"] == 3
    assert payload["currentStreak"]["frequency"] == "WEEKLY"
    # The streak clock re-evaluates the user after the change and completes "three" silently,
    # like backdating; an event that gets there first completes it itself.
    assert [a["achievement"]["key"] for a in payload["achievements"]] in ([], ["three"])
    view = await user_view(api, "u")
    assert [a["achievement"]["key"] for a in view["achievements"] if a["achievedAt"]] == ["three"]
    assert await streak_of(api, "u") == payload["currentStreak"]


async def test_occurred_at_may_not_be_far_in_the_future(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    soon = datetime.now(UTC) + timedelta(minutes=4)
    assert (await track(api, "u", soon))["currentStreak"]["length"] == 1
    late = datetime.now(UTC) + timedelta(minutes=6)
    event = {"metricKey": "lessons", "user": {"id": "u"}, "value": 1}
    event["occurredAt"] = late.isoformat()
    assert await api.error_code(TRACK, {"i": event}) == "BAD_USER_INPUT"
    old = datetime.now(UTC) - timedelta(days=3650)
    assert (await track(api, "u", old))["currentStreak"]["length"] == 1


async def test_recomputing_stale_streaks_costs_the_same_for_2_and_8_users(
    app: Any, api: Api, database: Any
) -> None:
    """Stored streaks from older settings are evaluated on read in batched queries. The settings
    change is made in the database, as another instance would before its streak clock has
    re-evaluated anyone, so the states stay stale while the queries are counted."""
    from test_query_counts import _count

    await api.metric()
    await configure(api, "DAILY")
    users = [f"u{i}" for i in range(8)]
    for user in users:
        await track(api, user, days_ago(7))
        await track(api, user)
    async with database.transaction() as conn:
        await conn.execute(
            "UPDATE streak_config SET frequency = 'WEEKLY', version = version + 1 "
            "WHERE tenant_id = $1",
            api.tenant_id,
        )

    def aliased(ids: list[str]) -> str:
        fields = (f'{u}: user(id: "{u}") {{ streak {{ length frequency }} }}' for u in ids)
        return "{ " + " ".join(fields) + " }"

    data = await api.data(aliased(users))
    assert {(data[u]["streak"]["length"], data[u]["streak"]["frequency"]) for u in users} == {
        (2, "WEEKLY")
    }
    two = await _count(app, api, aliased(users[:2]), {})
    assert two == await _count(app, api, aliased(users), {})


EXTENDED = """
mutation($i: TrackEventInput!) {
  trackEvent(input: $i) { streakExtended idempotentReplayed currentStreak { length } }
}
"""


async def extended(api: Api, user: str, at: datetime, value: float = 1, **extra: Any) -> Any:
    event = {"metricKey": "lessons", "user": {"id": user}, "value": value}
    event |= {"occurredAt": at.isoformat(), **extra}
    payload = (await api.data(EXTENDED, {"i": event}))["trackEvent"]
    return payload["streakExtended"], payload["currentStreak"]["length"]


async def test_the_payload_says_when_an_event_made_the_streak_longer(api: Api) -> None:
    await api.metric()
    await configure(api, "DAILY")
    noon = local_midnight(today(), "UTC") + timedelta(hours=12)
    yesterday = noon - timedelta(days=1)
    assert await extended(api, "ext", yesterday) == (True, 1)
    assert await extended(api, "ext", yesterday + timedelta(minutes=5)) == (False, 1)
    assert await extended(api, "ext", yesterday, value=-1) == (False, 1)
    now = min(noon, datetime.now(UTC))
    assert await extended(api, "ext", now, idempotencyKey="x") == (True, 2)
    assert await extended(api, "ext", now, idempotencyKey="x") == (True, 2)  # a replay


async def test_the_history_lists_periods_current_first(api: Api) -> None:
    await api.metric("lessons")
    await configure(api, "DAILY")
    for ago in (4, 2, 1):
        await track(api, "hana", days_ago(ago))
    history = await api.data(
        'query { user(id: "hana") { streak { freezes history(periods: 5) '
        "{ periodStart periodEnd length usedFreeze } } } }"
    )
    streak = history["user"]["streak"]
    assert streak["freezes"] is None  # freezes are off
    periods = streak["history"]
    first_day = today()
    assert [p["periodStart"] for p in periods] == [
        str(first_day - timedelta(days=n)) for n in range(5)
    ]
    assert [p["length"] for p in periods] == [2, 2, 1, 0, 1]
    assert not any(p["usedFreeze"] for p in periods)
    payload = await api.data(
        "mutation($i: TrackEventInput!) { trackEvent(input: $i) { currentStreak "
        "{ length history(periods: 1) { length } } } }",
        {"i": {"metricKey": "lessons", "user": {"id": "hana"}, "value": 1}},
    )
    assert payload["trackEvent"]["currentStreak"]["history"] == [{"length": 3}]
    for periods_asked in (0, 101):
        code = await api.error_code(
            'query($p: Int!) { user(id: "hana") { streak { history(periods: $p) { length } } } }',
            {"p": periods_asked},
        )
        assert code == "BAD_USER_INPUT"
