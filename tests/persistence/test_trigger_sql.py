"""The SQL form of each trigger rule agrees with the domain's, on generated data.

Users with random totals, streaks and completions are stored through the repositories; then
the questions storage answers with SQL (who has reached an achievement, which achievements a
user has reached, which thresholds an event crossed) are compared with `Trigger.reached` and
`MetricTrigger.crossed` evaluated in Python on the same data.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.model import (
    AchievementStatus,
    ApiTrigger,
    Attribute,
    CompositeTrigger,
    MetricTrigger,
    StreakSettings,
    StreakTrigger,
    Trigger,
)
from app.domain.ports import AchievementDraft, NewEvent, StreakState, UserProfile
from app.domain.streak_ledger import Ledger
from app.domain.streaks import StreakFrequency
from app.domain.triggers import UserStanding
from app.persistence.backdating import BackdateRows
from app.persistence.configuration import TortoiseConfigStore
from app.persistence.database import Database
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.tenants import TortoiseKeyStore
from app.persistence.transaction import Transactions

NOW = datetime(2026, 3, 1, tzinfo=UTC)
PRO = Attribute("plan", "pro")
GATE = (Attribute("tier", "gold"),)

user_data = st.fixed_dictionaries(
    {
        "events": st.lists(
            st.tuples(st.integers(-3, 6), st.booleans()), max_size=4
        ),  # (value, carries PRO)
        "longest": st.integers(0, 5),
        "api_done": st.booleans(),
    }
)
worlds = st.fixed_dictionaries(
    {
        "users": st.lists(user_data, min_size=1, max_size=6),
        "thresholds": st.lists(st.integers(1, 12), min_size=1, max_size=3),
        "lengths": st.lists(st.integers(1, 5), max_size=2),
    }
)


# Each example stores a tenant's worth of rows: a dozen examples keep the test to seconds.
EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def owed(achievement: Any, standing: UserStanding) -> bool:
    """What the domain says storage must find: reached, and not completed yet."""
    return achievement.id not in standing.completed_ids and achievement.trigger.reached(standing)


async def build(database: Database, world: dict[str, Any]) -> dict[str, Any]:
    """Stores the world through the repositories; returns what Python needs to judge it."""
    tenant = await TortoiseKeyStore().create_tenant(f"sql-{uuid.uuid4().hex[:8]}")
    config = TortoiseConfigStore()
    metric = await config.create_metric(tenant, "lessons", "Lessons", None)
    await config.configure_streak(tenant, _settings(metric.id))
    names = (f"a{i}" for i in itertools.count())
    triggers: list[Trigger] = [MetricTrigger(metric.id, float(t)) for t in world["thresholds"]]
    triggers += [MetricTrigger(metric.id, float(t), PRO) for t in world["thresholds"]]
    triggers += [StreakTrigger(n) for n in world["lengths"]] + [ApiTrigger()]
    achievements = []
    for trigger in triggers:
        created = await config.create_achievement(tenant, _draft(next(names), trigger))
        achievements.append(await _activate(config, tenant, created))
    api = achievements[-1]
    for prerequisites in ((api.id,), (api.id, achievements[0].id)):
        composite = await config.create_achievement(
            tenant, _draft(next(names), CompositeTrigger(prerequisites))
        )
        achievements.append(await _activate(config, tenant, composite))

    users, standings, crossings = [], {}, []
    async with Transactions(database, SqlTransaction)() as tx:
        for number, data in enumerate(world["users"]):
            profile = UserProfile(f"u{number}", attributes=GATE)
            user = (await tx.upsert_user(tenant, profile, NOW)).user
            for value, tagged in data["events"]:
                event = NewEvent(tenant, metric.id, value, (PRO,) if tagged else (), NOW, NOW)
                recorded = await tx.record_event(profile, event)
                crossings.append(recorded)
            ledger = Ledger(NOW.date(), NOW.date(), 0, longest=data["longest"])
            await tx.save_streak_state(tenant, user.pk, StreakState(ledger, 1), None)
            done = [api.id] if data["api_done"] else []
            await tx.insert_completions(tenant, [(user.pk, a) for a in done], NOW, backdated=False)
            totals = {(metric.id, None): 0.0, (metric.id, PRO): 0.0}
            for value, tagged in data["events"]:
                totals[(metric.id, None)] += value
                if tagged:
                    totals[(metric.id, PRO)] += value
            users.append(user)
            standings[user.pk] = UserStanding(
                totals=totals, longest_streak=data["longest"], completed_ids=set(done)
            )
    return {
        "tenant": tenant,
        "users": users,
        "standings": standings,
        "achievements": achievements,
        "crossings": crossings,
    }


@EXAMPLES
@given(world=worlds)
async def test_sql_and_domain_agree_on_who_has_reached_what(
    database: Database, world: dict[str, Any]
) -> None:
    built = await build(database, world)
    tenant, standings = built["tenant"], built["standings"]
    async with Transactions(database, BackdateRows)() as store:
        for achievement in built["achievements"]:
            if not achievement.trigger.backdatable:
                continue
            found = await store.backdate_candidates(tenant, achievement, 0, 1000)
            expected = [u.pk for u in built["users"] if owed(achievement, standings[u.pk])]
            assert [u.pk for u in found] == expected, achievement
    async with Transactions(database, SqlTransaction)() as tx:
        for user in built["users"]:
            # Every achievement is gated on the attribute the users have: all are candidates.
            found = await tx.qualifying_achievements(tenant, user.pk)
            expected = [a.id for a in built["achievements"] if owed(a, standings[user.pk])]
            assert [a.id for a in found] == expected, user


@EXAMPLES
@given(world=worlds)
async def test_sql_and_domain_agree_on_the_thresholds_an_event_crossed(
    database: Database, world: dict[str, Any]
) -> None:
    built = await build(database, world)
    metric_achievements = [a for a in built["achievements"] if isinstance(a.trigger, MetricTrigger)]
    for recorded in built["crossings"]:
        expected = [
            a.id
            for a in metric_achievements
            if any(
                c.attribute == a.trigger.event_attribute and a.trigger.crossed(c.before, c.after)
                for c in recorded.changes
            )
        ]
        assert sorted(a.id for a in recorded.crossed) == expected


def _draft(key: str, trigger: Trigger) -> AchievementDraft:
    return AchievementDraft(
        key=key,
        name=key,
        description=None,
        badge_url=None,
        hidden=False,
        user_attributes=GATE,
        trigger=trigger,
    )


async def _activate(config: TortoiseConfigStore, tenant: int, achievement: Any) -> Any:
    return await config.save_achievement(
        tenant, replace(achievement, status=AchievementStatus.ACTIVE), backdate=False
    )


def _settings(metric_id: int) -> StreakSettings:
    return StreakSettings(frequency=StreakFrequency.DAILY, metric_ids=(metric_id,))
