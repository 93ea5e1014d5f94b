"""Streak days and each user's latest run: the `StreakWrites` port.

Qualifying days are stored once each (a unique key per user and day); the latest run and the
longest streak are kept beside them, so an in-order event updates them in O(1).
"""

from __future__ import annotations

from datetime import date

from app.domain import model
from app.domain.ports import StreakState
from app.domain.streaks import StreakFrequency, StreakRun
from app.persistence.catalogue import achievements_where
from app.persistence.codec import as_date
from app.persistence.transaction import Statements


class StreakRows(Statements):
    async def streak_state(self, user_pk: int) -> StreakState:
        row = await self._conn.fetchrow(
            "SELECT frequency, run_start, run_last, run_length, longest FROM streak_state "
            "WHERE user_id = $1",
            user_pk,
        )
        if row is None:
            return StreakState(run=None, longest=0, frequency=None)
        run = None
        if row["run_last"] is not None:
            run = StreakRun(
                start=as_date(row["run_start"]),
                last=as_date(row["run_last"]),
                length=int(row["run_length"]),
            )
        return StreakState(run, int(row["longest"]), StreakFrequency(row["frequency"]))

    async def add_streak_day(self, tenant_id: int, user_pk: int, day: date) -> bool:
        row = await self._conn.fetchrow(
            "INSERT INTO streak_day (tenant_id, user_id, day) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id, day) DO NOTHING RETURNING id",
            tenant_id,
            user_pk,
            day,
        )
        return row is not None

    async def streak_days(self, user_pk: int) -> list[date]:
        rows = await self._conn.fetch("SELECT day FROM streak_day WHERE user_id = $1", user_pk)
        return [as_date(r["day"]) for r in rows]

    async def save_streak_state(self, tenant_id: int, user_pk: int, state: StreakState) -> None:
        run = state.run
        assert state.frequency is not None
        await self._conn.execute(
            "INSERT INTO streak_state (tenant_id, user_id, frequency, run_start, run_last, "
            "run_length, longest) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (user_id) DO UPDATE SET frequency = excluded.frequency, "
            "run_start = excluded.run_start, run_last = excluded.run_last, "
            "run_length = excluded.run_length, longest = excluded.longest",
            tenant_id,
            user_pk,
            state.frequency.value,
            run.start if run else None,
            run.last if run else None,
            run.length if run else 0,
            state.longest,
        )

    async def streak_achievements_between(
        self, tenant_id: int, above: int, up_to: int
    ) -> list[model.Achievement]:
        """STREAK achievements whose length a longest streak growing from `above` to `up_to`
        reached: the streak's counterpart of a metric threshold crossing."""
        return await achievements_where(
            self._conn,
            "tenant_id = $1 AND trigger_kind = 'STREAK' AND status = 'ACTIVE' "
            "AND streak_length > $2 AND streak_length <= $3",
            tenant_id,
            above,
            up_to,
        )
