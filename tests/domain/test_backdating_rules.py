"""Backdating over in-memory storage: who gets an achievement when its bar moves, in batches,
silently, with the composites that follow."""

from __future__ import annotations

from fakes import FakeDatabase, FakeDefinitions, SteppingClock

from app.domain.announcements import AchievementCompleted
from app.domain.backdating import run_backdate_batch
from app.domain.engine import EventEngine
from app.domain.model import (
    Achievement,
    AchievementStatus,
    ApiTrigger,
    Caller,
    CallerKind,
    CompositeTrigger,
    MetricTrigger,
)
from app.domain.outcomes import TrackEvent
from app.domain.ports import UserProfile

TENANT = 1
SERVER = Caller(tenant_id=TENANT, kind=CallerKind.SERVER)


def inactive(key: str, trigger: object) -> Achievement:
    return Achievement(
        id=0,
        key=key,
        name=key,
        status=AchievementStatus.INACTIVE,
        trigger=trigger,  # type: ignore[arg-type]
    )


async def seed(db: FakeDatabase, totals: dict[str, float]) -> None:
    engine = EventEngine(db, FakeDefinitions(db), clock=SteppingClock())
    for user, value in totals.items():
        await engine.track_event(SERVER, TrackEvent("lessons", UserProfile(user), value))


async def drain(db: FakeDatabase, batch_size: int = 500) -> list[int]:
    completed = []
    while (result := await run_backdate_batch(db, batch_size=batch_size)) is not None:
        completed.append(result.completed)
    return completed


async def test_users_who_reached_the_bar_complete_silently_in_batches() -> None:
    db = FakeDatabase()
    lessons = db.add_metric("lessons")
    await seed(db, {f"u{i}": float(i) for i in range(10)})
    five = db.add_achievement(inactive("five", MetricTrigger(lessons.id, 5)))
    db.set_status(five.id, AchievementStatus.ACTIVE)
    db.queue_backdate(TENANT, five.id)

    assert await drain(db, batch_size=3) == [3, 2]
    done = {u for (u, a) in db.state.completions if a == five.id}
    assert done == {db.user(TENANT, f"u{i}").pk for i in range(5, 10)}
    assert not [p for p in db.state.outbox if isinstance(p.event, AchievementCompleted)]
    assert db.state.backdated == {c.id for c in db.state.completions.values()}
    assert db.state.achievements[five.id].completions == 5


async def test_composites_follow_their_backdated_prerequisite_silently() -> None:
    db = FakeDatabase()
    lessons = db.add_metric("lessons")
    await seed(db, {"ada": 5, "bob": 1})
    five = db.add_achievement(inactive("five", MetricTrigger(lessons.id, 5)))
    both = db.add_achievement(inactive("both", CompositeTrigger((five.id,))))
    db.set_status(both.id, AchievementStatus.ACTIVE)
    db.set_status(five.id, AchievementStatus.ACTIVE)
    db.queue_backdate(TENANT, five.id)

    await drain(db)
    ada = db.user(TENANT, "ada").pk
    assert set(db.state.completions) == {(ada, five.id), (ada, both.id)}
    assert not [p for p in db.state.outbox if isinstance(p.event, AchievementCompleted)]


async def test_what_stored_data_cannot_meet_or_is_not_active_is_skipped() -> None:
    db = FakeDatabase()
    lessons = db.add_metric("lessons")
    await seed(db, {"ada": 5})
    api = db.add_achievement(inactive("api", ApiTrigger()))
    db.set_status(api.id, AchievementStatus.ACTIVE)
    locked = db.add_achievement(inactive("locked", MetricTrigger(lessons.id, 1)))
    db.set_status(locked.id, AchievementStatus.LOCKED)
    db.queue_backdate(TENANT, api.id)
    db.queue_backdate(TENANT, locked.id)

    assert await drain(db) == [0, 0]
    assert db.state.completions == {}
    assert db.state.finished_jobs == set(db.state.jobs)
