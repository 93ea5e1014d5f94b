"""Completion rows and the counters beside them, through `CompletionRows`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from app.domain.model import Achievement, AchievementStatus, ApiTrigger, CompositeTrigger, Trigger
from app.domain.ports import AchievementDraft, UserProfile
from app.persistence.configuration import TortoiseConfigStore
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.transaction import Transactions

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def active(tenant: int, key: str, trigger: Trigger | None = None) -> Achievement:
    config = TortoiseConfigStore()
    draft = AchievementDraft(key, key, None, None, False, (), trigger or ApiTrigger())
    created = await config.create_achievement(tenant, draft)
    return await config.save_achievement(
        tenant, replace(created, status=AchievementStatus.ACTIVE), backdate=False
    )


async def counted(tenant: int, key: str) -> int:
    found = await TortoiseConfigStore().achievement_by_key(tenant, key)
    assert found is not None
    return found.completions


async def test_each_pair_is_inserted_once_and_counted_once(
    transactions: Transactions[SqlTransaction], tenant: int
) -> None:
    one, two = await active(tenant, "one"), await active(tenant, "two")
    async with transactions() as tx:
        ada = (await tx.upsert_user(tenant, UserProfile("ada"), NOW)).user
        bob = (await tx.upsert_user(tenant, UserProfile("bob"), NOW)).user
        grants = [(ada.pk, one.id), (bob.pk, one.id), (ada.pk, two.id)]
        first = await tx.insert_completions(tenant, grants, NOW, backdated=False)
        again = await tx.insert_completions(tenant, grants, NOW, backdated=True)
    assert [(c.user_pk, c.achievement_id) for c in first] == sorted(grants)
    assert again == []
    assert (await counted(tenant, "one"), await counted(tenant, "two")) == (2, 1)
    async with transactions() as tx:
        stored = await tx.completion_of(ada.pk, one.id)
    assert stored is not None and stored.id == first[0].id


async def test_counters_move_only_when_the_transaction_commits(
    transactions: Transactions[SqlTransaction], tenant: int
) -> None:
    one = await active(tenant, "one")
    with pytest.raises(RuntimeError):
        async with transactions() as tx:
            ada = (await tx.upsert_user(tenant, UserProfile("ada"), NOW)).user
            await tx.insert_completions(tenant, [(ada.pk, one.id)], NOW, backdated=False)
            raise RuntimeError("rolled back")
    assert await counted(tenant, "one") == 0


async def test_composites_follow_each_users_own_completions(
    transactions: Transactions[SqlTransaction], tenant: int
) -> None:
    a, b = await active(tenant, "a"), await active(tenant, "b")
    need_a = await active(tenant, "need-a", CompositeTrigger((a.id,)))
    need_ab = await active(tenant, "need-ab", CompositeTrigger((a.id, b.id)))
    async with transactions() as tx:
        ada = (await tx.upsert_user(tenant, UserProfile("ada"), NOW)).user
        bob = (await tx.upsert_user(tenant, UserProfile("bob"), NOW)).user
        await tx.insert_completions(
            tenant, [(ada.pk, a.id), (bob.pk, b.id), (bob.pk, a.id)], NOW, backdated=False
        )
        # Ada completed a, Bob b: Bob also has a from before, so he now meets need-ab.
        found = await tx.composites_completed_by(tenant, [(ada.pk, a.id), (bob.pk, b.id)])
    assert [(user, composite.key) for user, composite in found] == sorted(
        [(ada.pk, need_a.key), (bob.pk, need_ab.key)]
    )
