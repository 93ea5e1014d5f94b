"""The `ConfigStore` port: metrics, achievements, the streak setting. Cold path, so the ORM."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.domain import model
from app.domain.errors import BadUserInput
from app.domain.ports import AchievementDraft
from app.persistence import models
from app.persistence.codec import achievement_from_row, dump_attributes
from app.persistence.streaks import settings_columns, settings_from_row
from app.persistence.triggers import trigger_columns


class TortoiseConfigStore:
    async def metric_by_key(self, tenant_id: int, key: str) -> model.Metric | None:
        row = await models.Metric.get_or_none(tenant_id=tenant_id, key=key)
        return _metric(row) if row else None

    async def metrics(self, tenant_id: int) -> list[model.Metric]:
        return [_metric(r) for r in await models.Metric.filter(tenant_id=tenant_id).order_by("id")]

    async def create_metric(
        self, tenant_id: int, key: str, name: str, unit: str | None
    ) -> model.Metric:
        try:
            row = await models.Metric.create(tenant_id=tenant_id, key=key, name=name, unit=unit)
        except IntegrityError as exc:
            raise BadUserInput(f"a metric with key {key!r} exists already", field="key") from exc
        return _metric(row)

    async def achievement_by_key(self, tenant_id: int, key: str) -> model.Achievement | None:
        row = await models.Achievement.get_or_none(tenant_id=tenant_id, key=key)
        if row is None:
            return None
        return (await self._assemble([row]))[0]

    async def achievements(
        self, tenant_id: int, statuses: frozenset[str] | None
    ) -> list[model.Achievement]:
        query = models.Achievement.filter(tenant_id=tenant_id)
        if statuses is not None:
            query = query.filter(status__in=list(statuses))
        return await self._assemble(await query.order_by("id"))

    async def achievements_by_keys(
        self, tenant_id: int, keys: Sequence[str]
    ) -> list[model.Achievement]:
        rows = await models.Achievement.filter(tenant_id=tenant_id, key__in=list(keys))
        return await self._assemble(rows)

    async def prerequisite_graph(self, tenant_id: int) -> dict[int, tuple[int, ...]]:
        links = await models.Prerequisite.filter(composite__tenant_id=tenant_id).values_list(
            "composite_id", "prerequisite_id"
        )
        graph: dict[int, list[int]] = defaultdict(list)
        for composite_id, prerequisite_id in links:
            graph[composite_id].append(prerequisite_id)
        return {k: tuple(v) for k, v in graph.items()}

    async def create_achievement(
        self, tenant_id: int, draft: AchievementDraft
    ) -> model.Achievement:
        trigger = draft.trigger
        try:
            async with in_transaction():
                row = await models.Achievement.create(
                    tenant_id=tenant_id,
                    key=draft.key,
                    name=draft.name,
                    description=draft.description,
                    badge_url=draft.badge_url,
                    hidden=draft.hidden,
                    status=model.AchievementStatus.INACTIVE.value,
                    user_attributes=dump_attributes(draft.user_attributes),
                    **trigger_columns(trigger),  # type: ignore[arg-type]
                )
                if isinstance(trigger, model.CompositeTrigger):
                    await models.Prerequisite.bulk_create(
                        models.Prerequisite(composite_id=row.id, prerequisite_id=p)
                        for p in trigger.prerequisite_ids
                    )
        except IntegrityError as exc:
            raise BadUserInput(
                f"an achievement with key {draft.key!r} exists already", field="key"
            ) from exc
        return (await self._assemble([row]))[0]

    async def save_achievement(
        self, tenant_id: int, achievement: model.Achievement, *, backdate: bool
    ) -> model.Achievement:
        """Store the new state; when it must backdate, queue the job in the same transaction."""
        async with in_transaction():
            await models.Achievement.filter(tenant_id=tenant_id, id=achievement.id).update(
                name=achievement.name,
                description=achievement.description,
                badge_url=achievement.badge_url,
                hidden=achievement.hidden,
                status=achievement.status.value,
                user_attributes=dump_attributes(achievement.user_attributes),
                updated_at=datetime.now(UTC),
                **trigger_columns(achievement.trigger),
            )
            if backdate:
                await models.BackdateJob.create(
                    tenant_id=tenant_id, achievement_id=achievement.id, created_at=datetime.now(UTC)
                )
        row = await models.Achievement.get(id=achievement.id)
        return (await self._assemble([row]))[0]

    async def streak_settings(self, tenant_id: int) -> model.StreakSettings | None:
        rows = await models.StreakConfig.filter(tenant_id=tenant_id).values()
        return settings_from_row(rows[0]) if rows else None

    async def configure_streak(
        self, tenant_id: int, settings: model.StreakSettings
    ) -> model.StreakSettings:
        now = datetime.now(UTC)
        async with in_transaction() as conn:
            # A write first: on SQLite it waits for the write lock, where a read upgraded to a
            # write later fails at once while another process writes.
            await _reevaluate_all(conn, tenant_id, now)
            row = (
                await models.StreakConfig.select_for_update()
                .using_db(conn)
                .get_or_none(tenant_id=tenant_id)
            )
            version = row.version + 1 if row else 1
            columns = {**settings_columns(settings), "version": version}
            if row is None:
                await models.StreakConfig.create(tenant_id=tenant_id, using_db=conn, **columns)
            else:
                await models.StreakConfig.filter(id=row.id).using_db(conn).update(**columns)
        return dataclasses.replace(settings, version=version)

    async def _assemble(self, rows: Iterable[models.Achievement]) -> list[model.Achievement]:
        rows = list(rows)
        composite_ids = [r.id for r in rows if r.trigger_kind == model.TriggerKind.COMPOSITE.value]
        prerequisites: dict[int, list[int]] = defaultdict(list)
        if composite_ids:
            links = (
                await models.Prerequisite.filter(composite_id__in=composite_ids)
                .order_by("id")
                .values_list("composite_id", "prerequisite_id")
            )
            for composite_id, prerequisite_id in links:
                prerequisites[composite_id].append(prerequisite_id)
        return [
            achievement_from_row(_row_dict(r), tuple(prerequisites.get(r.id, ()))) for r in rows
        ]


def _row_dict(row: models.Achievement) -> dict[str, object]:
    return {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "description": row.description,
        "badge_url": row.badge_url,
        "hidden": row.hidden,
        "status": row.status,
        "trigger_kind": row.trigger_kind,
        "metric_id": row.metric_id,  # type: ignore[attr-defined]
        "threshold": row.threshold,
        "attr_key": row.attr_key,
        "attr_value": row.attr_value,
        "streak_length": row.streak_length,
        "user_attributes": row.user_attributes,
        "completions": row.completions,
    }


def _metric(row: models.Metric) -> model.Metric:
    return model.Metric(id=row.id, key=row.key, name=row.name, unit=row.unit)


async def _reevaluate_all(conn: BaseDBAsyncClient, tenant_id: int, now: datetime) -> None:
    """Every user gets a state due for the streak clock, which evaluates it under the new
    settings: days stored before (of metrics just added, say) count, and with freezes on the
    clock grants for users who never had a streak too. A user with no state has had no event
    since. Raw SQL: due times are compared as the engine stores them."""
    first, second = ("$1", "$2") if conn.capabilities.dialect == "postgres" else ("?", "?")
    await conn.execute_query(
        f"UPDATE streak_state SET due_at = {first} WHERE tenant_id = {second}", [now, tenant_id]
    )
    await conn.execute_query(
        "INSERT INTO streak_state (tenant_id, user_id, version, balance, chain_active, "
        f"longest, due_at) SELECT tenant_id, id, -1, 0, 0, 0, {first} FROM app_user "
        f"WHERE tenant_id = {second} ON CONFLICT (user_id) DO NOTHING",
        [now, tenant_id],
    )
