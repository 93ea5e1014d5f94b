"""The event engine's rules over in-memory storage: what completes, what is announced, what a
replay returns, and that a failed operation leaves nothing behind."""

from __future__ import annotations

import pytest
from fakes import FakeDatabase, FakeDefinitions, SteppingClock

from app.domain.announcements import AchievementCompleted, StreakGrew, UserCreated
from app.domain.engine import Committed, EventEngine
from app.domain.errors import BadUserInput, Conflict, NotFound
from app.domain.model import (
    Achievement,
    AchievementStatus,
    ApiTrigger,
    Attribute,
    Caller,
    CallerKind,
    CompositeTrigger,
    MetricTrigger,
    StreakSettings,
)
from app.domain.outcomes import CompleteAchievement, TrackEvent
from app.domain.ports import UserProfile
from app.domain.streaks import StreakFrequency

TENANT = 1
SERVER = Caller(tenant_id=TENANT, kind=CallerKind.SERVER)
ACTIVE = AchievementStatus.ACTIVE


def achievement(key: str, trigger: object, **extra: object) -> Achievement:
    return Achievement(id=0, key=key, name=key, status=ACTIVE, trigger=trigger, **extra)  # type: ignore[arg-type]


class World:
    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.clock = SteppingClock()
        self.committed_log: list[Committed] = []
        self.engine = EventEngine(
            self.db, FakeDefinitions(self.db), clock=self.clock, on_commit=self.committed
        )
        self.lessons = self.db.add_metric("lessons")

    def committed(self, committed: Committed) -> None:
        self.committed_log.append(committed)

    def metric_achievement(self, key: str, threshold: float, **extra: object) -> Achievement:
        return self.db.add_achievement(
            achievement(key, MetricTrigger(self.lessons.id, threshold), **extra)
        )

    async def track(self, user: str, value: float, **extra: object) -> list[str]:
        outcome = await self.engine.track_event(
            SERVER,
            TrackEvent("lessons", UserProfile(user), value, **extra),  # type: ignore[arg-type]
        )
        return [u.achievement.key for u in outcome.unlocks]

    def announced(self) -> list[tuple[str, int]]:
        """The completions announced, as (user, achievement)."""
        events = [p.event for p in self.db.state.outbox]
        return [
            (e.user_id, e.achievement_id) for e in events if isinstance(e, AchievementCompleted)
        ]


@pytest.fixture
def world() -> World:
    return World()


async def test_an_event_completes_each_threshold_it_crosses_once(world: World) -> None:
    five, ten = world.metric_achievement("five", 5), world.metric_achievement("ten", 10)
    assert await world.track("ada", 4) == []
    assert await world.track("ada", 7) == ["five", "ten"]
    assert await world.track("ada", -20) == []
    assert await world.track("ada", 30) == []
    assert world.announced() == [("ada", five.id), ("ada", ten.id)]
    assert [c.completions for c in world.committed_log] == [0, 2, 0, 0]
    assert all(c.events == 1 for c in world.committed_log)


async def test_composites_cascade_in_the_same_operation(world: World) -> None:
    a = world.metric_achievement("a", 1)
    b = world.db.add_achievement(achievement("b", ApiTrigger()))
    both = world.db.add_achievement(achievement("both", CompositeTrigger((a.id, b.id))))
    top = world.db.add_achievement(achievement("top", CompositeTrigger((both.id,))))
    assert await world.track("ada", 1) == ["a"]
    outcome = await world.engine.complete_achievement(
        SERVER, CompleteAchievement("b", UserProfile("ada"))
    )
    assert outcome.newly_completed
    assert [u.achievement.key for u in outcome.also_completed] == ["both", "top"]
    assert [a for _, a in world.announced()] == [a.id, b.id, both.id, top.id]


async def test_a_second_completion_reports_the_first(world: World) -> None:
    world.db.add_achievement(achievement("signup", ApiTrigger()))
    command = CompleteAchievement("signup", UserProfile("ada"))
    first = await world.engine.complete_achievement(SERVER, command)
    world.clock.advance(seconds=5)
    again = await world.engine.complete_achievement(SERVER, command)
    assert (first.newly_completed, again.newly_completed) == (True, False)
    assert again.unlock.completion_id == first.unlock.completion_id
    assert again.unlock.completed_at == first.unlock.completed_at
    assert len(world.announced()) == 1


async def test_attribute_filters_hold_until_the_user_matches(world: World) -> None:
    pro = [Attribute("plan", "pro")]
    gated = world.metric_achievement("gated", 5, user_attributes=tuple(pro))
    assert await world.track("ada", 10) == []
    identified = await world.engine.identify(SERVER, UserProfile("ada", attributes=tuple(pro)))
    user = identified.user
    assert user.attributes == tuple(pro)
    assert world.announced() == [("ada", gated.id)]


async def test_a_failed_operation_stores_and_announces_nothing(world: World) -> None:
    """The user is written before the attribute check refuses: the refusal takes it back."""
    world.metric_achievement("one", 1)
    pro = (Attribute("plan", "pro"),)
    world.db.add_achievement(achievement("vip", ApiTrigger(), user_attributes=pro))
    with pytest.raises(BadUserInput):
        await world.engine.complete_achievement(
            SERVER, CompleteAchievement("vip", UserProfile("ada", name="Ada"))
        )
    with pytest.raises(NotFound):
        await world.engine.track_event(SERVER, TrackEvent("nope", UserProfile("ada"), 1))
    assert world.db.state.users == {}
    assert world.db.state.outbox == []
    assert world.committed_log == []


async def test_a_replay_returns_the_first_answer_and_changes_nothing(world: World) -> None:
    world.metric_achievement("one", 1)
    first = await world.engine.track_event(
        SERVER, TrackEvent("lessons", UserProfile("ada"), 1, idempotency_key="k")
    )
    replay = await world.engine.track_event(
        SERVER, TrackEvent("lessons", UserProfile("ada"), 1, idempotency_key="k")
    )
    assert (replay.replayed, replay.event_id, replay.total) == (True, first.event_id, 1)
    assert [u.completion_id for u in replay.unlocks] == [u.completion_id for u in first.unlocks]
    assert len(world.db.state.events) == 1
    assert len(world.announced()) == 1
    with pytest.raises(Conflict):
        await world.engine.track_event(
            SERVER, TrackEvent("lessons", UserProfile("ada"), 2, idempotency_key="k")
        )


async def test_a_key_past_its_window_is_a_new_request(world: World) -> None:
    first = await world.engine.track_event(
        SERVER, TrackEvent("lessons", UserProfile("ada"), 1, idempotency_key="k")
    )
    world.clock.advance(hours=25)
    later = await world.engine.track_event(
        SERVER, TrackEvent("lessons", UserProfile("ada"), 1, idempotency_key="k")
    )
    assert (later.replayed, later.total) == (False, 2)
    assert later.event_id != first.event_id


async def test_new_users_and_growing_streaks_are_announced_once(world: World) -> None:
    world.db.state.streak_settings[TENANT] = StreakSettings(
        StreakFrequency.DAILY, (world.lessons.id,)
    )
    await world.track("ada", 1)
    await world.track("ada", 1)
    await world.engine.identify(SERVER, UserProfile("bob"))
    await world.engine.identify(SERVER, UserProfile("bob", name="Bob"))
    events = [p.event for p in world.db.state.outbox]
    assert events[0] == UserCreated("ada")
    assert isinstance(events[1], StreakGrew) and events[1].type.value == "streak.started"
    assert events[1].streak.length == 1
    assert events[2:] == [UserCreated("bob")]
    assert [c.announced for c in world.committed_log] == [2, 0, 1, 0]
