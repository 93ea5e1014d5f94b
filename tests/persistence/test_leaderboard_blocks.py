"""Blocks and shelves of a leaderboard group against a sorted list: after any moves, between
groups too, with blocks and shelves small enough to split and merge, every row's place and every
page is the list's."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.leaderboard_ports import Move, Standing
from app.domain.leaderboard_ranks import Counting, Place
from app.domain.leaderboards import TiePolicy
from app.domain.ports import UserProfile
from app.persistence import leaderboard_blocks as blocks
from app.persistence import leaderboard_places as places
from app.persistence import leaderboard_rebalance as rebalancing
from app.persistence.database import Connection, Database
from app.persistence.engine_transaction import SqlTransaction
from app.persistence.leaderboard_reads import SqlLeaderboardReads
from app.persistence.leaderboard_rebalance import SqlLeaderboardUpkeep, rebalance_group, rebuild
from app.persistence.models import Leaderboard
from app.persistence.transaction import Transactions

RUN = date(2026, 3, 1)
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
USERS = [f"u{n:02}" for n in range(16)]
# In a plan, the "group" of a user who leaves the board instead of moving (a lost streak).
LEAVES = "-"

moves = st.lists(
    st.tuples(
        st.sampled_from(USERS),
        st.sampled_from([-9.0, -3.0, -1.0, 0.0, 1.0, 2.0, 5.0, 9.0]),
        st.integers(0, 3),
        st.sampled_from(["a", "a", "a", "b", LEAVES]),
        st.sampled_from([1, 1, 1, 2]),
        st.sampled_from([False, False, True]),
    ),
    min_size=1,
    max_size=80,
)


def sort_key(user: str, standing: Standing) -> tuple[float, datetime, bytes]:
    return (-standing.value, standing.reached_at, user.encode())


def reference_place(rows: dict[str, Standing], user: str, counting: Counting) -> Place:
    """Every count by brute force; those `counting` does not want left out, as storage does."""
    mine = rows[user]
    others = [(u, s) for u, s in rows.items() if u != user]
    greater = {s.value for _, s in others if s.value > mine.value}
    ahead = sum(1 for u, s in others if sort_key(u, s) < sort_key(user, mine))
    return Place(
        ahead if counting.wants_ahead else None,
        sum(1 for _, s in others if s.value > mine.value) if counting.wants_greater else None,
        len(greater) if counting.wants_distinct else None,
    )


async def check_blocks(
    database: Database, board_id: int, group: str, *, rebalanced: bool = False
) -> None:
    """Each block counts the rows between its key and the next block's, each shelf those of
    the blocks between its key (a block's) and the next shelf's; the group all. With
    `rebalanced`, the group is rebalanced first and looked at before that commits: the
    session's other servers rebalance with blocks of their own size, and would join these
    small blocks again."""
    async with database.transaction() as conn:
        found = await blocks.find_group(conn, board_id, RUN, group)
        assert found is not None
        if rebalanced:
            await rebalance_group(conn, found.id)
        assert found is not None
        keys = await conn.fetch(
            "SELECT sort_value, reached_at, external_id, rows FROM leaderboard_block "
            f"WHERE group_id = $1 ORDER BY {blocks.ASCENDING}",
            found.id,
        )
        shelves = await conn.fetch(
            "SELECT sort_value, reached_at, external_id, rows FROM leaderboard_shelf "
            f"WHERE group_id = $1 ORDER BY {blocks.ASCENDING}",
            found.id,
        )
        entries = await conn.fetch(
            f"SELECT sort_value, reached_at, external_id FROM leaderboard_entry "
            f"WHERE {blocks.IN_GROUP} ORDER BY {blocks.ASCENDING}",
            *found.entries(),
        )
    assert float(keys[0]["sort_value"]) == blocks.FIRST.sort_value
    assert sum(int(k["rows"]) for k in keys) == found.rows == len(entries)
    assert not rebalanced or all(int(k["rows"]) <= blocks.SPLIT_AT for k in keys)
    position = 0
    for block, following in zip(keys, [*keys[1:], None], strict=True):
        held = 0
        while position < len(entries) and (
            following is None
            or blocks.Key.from_row(entries[position]).args() < blocks.Key.from_row(following).args()
        ):
            held, position = held + 1, position + 1
        assert held == block["rows"]
    starts = [blocks.Key.from_row(block).args() for block in keys]
    assert float(shelves[0]["sort_value"]) == blocks.FIRST.sort_value
    for shelf, following in zip(shelves, [*shelves[1:], None], strict=True):
        start = blocks.Key.from_row(shelf).args()
        assert start in starts, "a shelf starts where a block does"
        end = blocks.Key.from_row(following).args() if following is not None else None
        inside = [
            block
            for block, key in zip(keys, starts, strict=True)
            if key >= start and (end is None or key < end)
        ]
        assert sum(int(block["rows"]) for block in inside) == shelf["rows"]
        assert not rebalanced or len(inside) <= blocks.SHELF_SPLIT_AT


async def leave(
    tx: SqlTransaction,
    board_id: int,
    user_pk: int,
    user: str,
    rows: dict[str, dict[str, Standing]],
    counting: Counting,
) -> None:
    """The reference keeps a user who left at 0, in no group, reached when it was."""
    group = next((g for g, held in rows.items() if user in held and g != LEAVES), None)
    left = await tx.leave_board(board_id, RUN, user_pk, counting)
    if group is None:
        assert left is None
        return
    assert left is not None and left.group == group
    assert left.before_place == reference_place(rows[group], user, counting)
    before = rows[group].pop(user)
    assert left.before == before
    rows[LEAVES][user] = Standing(0.0, before.reached_at)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocks, "SPLIT_AT", 4)
    monkeypatch.setattr(blocks, "SHELF_SPLIT_AT", 4)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=moves,
    counting=st.builds(Counting, st.sampled_from(list(TiePolicy)), st.none() | st.integers(1, 8)),
)
async def test_places_and_pages_are_those_of_a_sorted_list(
    plan: list[tuple[str, float, int, str, int, bool]],
    counting: Counting,
    small_blocks: None,
    transactions: Transactions[SqlTransaction],
    database: Database,
    tenant: int,
) -> None:
    board = await Leaderboard.create(
        tenant_id=tenant,
        key=uuid.uuid4().hex,
        name="b",
        rank_by="METRIC",
        start=RUN,
        created_at=AT,
    )
    rows: dict[str, dict[str, Standing]] = {"a": {}, "b": {}, LEAVES: {}}
    pks: dict[str, int] = {}
    upkeep = SqlLeaderboardUpkeep(database)
    for user, delta, second, group, times, rebalance in plan:
        async with transactions() as tx:  # `times` moves in one transaction: pending counts
            stored = (await tx.upsert_user(tenant, UserProfile(user), AT)).user
            pks[user] = stored.pk
            move = Move(
                board.id,
                RUN,
                group,
                stored.pk,
                user,
                AT + timedelta(seconds=second),
                RUN,
                delta=delta,
            )
            for _ in range(times):
                if group == LEAVES:
                    await leave(tx, board.id, stored.pk, user, rows, counting)
                    continue
                stays = user in rows[group]
                expected_before = reference_place(rows[group], user, counting) if stays else None
                before = next((g.pop(user) for g in rows.values() if user in g), None)
                moved = await tx.move_on_board(move, counting, noted=False)
                if stays:
                    assert moved.before_place == expected_before
                rows[group][user] = move.applied_to(before)
                assert moved.after == rows[group][user]
                assert moved.after_place == reference_place(rows[group], user, counting)
                assert moved.rows == len(rows[group])
        if rebalance:
            await upkeep.rebalance()
    reads = SqlLeaderboardReads(database)
    for group, standing in rows.items():
        if not standing or group == LEAVES:
            continue
        await check_blocks(database, board.id, group, rebalanced=True)
        if len(standing) % 2:  # a rebuild counts what the moves counted
            async with database.transaction() as conn:
                joined = await blocks.join_group(conn, board.id, RUN, group)
                await rebuild(conn, joined.id, counting)
            await check_blocks(database, board.id, group)
        ordered = sorted(standing, key=lambda u: sort_key(u, standing[u]))
        for user in ordered:
            entry = await reads.entry(board.id, RUN, pks[user], counting)
            assert entry is not None and entry.place == reference_place(standing, user, counting)
            assert await reads.position_of(board.id, RUN, group, user) == ordered.index(user)
        uncapped = replace(counting, cap=None)
        for start in range(len(ordered)):
            page = await reads.page(board.id, RUN, group, start, 3, uncapped)
            assert [r.user_id for r in page.rows] == ordered[start : start + 3]
            assert page.first is not None and page.first.ahead == start
            wanted = reference_place(standing, ordered[start], uncapped)
            # the top row's counts are all known to be 0; others are counted as wanted
            top = Place(0, 0, 0)
            assert page.first == (top if start == 0 else replace(wanted, ahead=start))


COUNTING = Counting(TiePolicy.FIRST_COME, None)


async def _six_rows_in_blocks_of_two(
    transactions: Transactions[SqlTransaction],
    database: Database,
    tenant: int,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Leaderboard, list[int]]:
    """u0 (value 10) to u5 (value 5), cut into blocks of two rows; returns the users' pks."""
    monkeypatch.setattr(blocks, "SPLIT_AT", 2)
    monkeypatch.setattr(blocks, "SHELF_SPLIT_AT", 2)
    board = await Leaderboard.create(
        tenant_id=tenant, key=uuid.uuid4().hex, name="b", rank_by="METRIC", start=RUN, created_at=AT
    )
    pks = []
    for n in range(6):
        async with transactions() as tx:
            user = (await tx.upsert_user(tenant, UserProfile(f"u{n}"), AT)).user
            pks.append(user.pk)
            move = Move(board.id, RUN, "a", user.pk, f"u{n}", AT, RUN, delta=10.0 - n)
            await tx.move_on_board(move, COUNTING, noted=False)
    assert await SqlLeaderboardUpkeep(database).rebalance() >= 1
    return board, pks


async def test_a_move_down_across_blocks_counts_its_own_pending_change(
    transactions: Transactions[SqlTransaction],
    database: Database,
    tenant: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first row falls to the bottom: its old block still counts it until commit, which
    its own new rank must not."""
    board, pks = await _six_rows_in_blocks_of_two(transactions, database, tenant, monkeypatch)
    async with transactions() as tx:
        fallen = Move(board.id, RUN, "a", pks[0], "u0", AT, RUN, delta=-20.0)
        moved = await tx.move_on_board(fallen, COUNTING, noted=False)
    assert moved.before_place == Place(0, None, None)
    assert moved.after_place == Place(5, None, None)
    await check_blocks(database, board.id, "a")


async def test_a_move_after_another_in_one_transaction_counts_the_first_ones_change(
    transactions: Transactions[SqlTransaction],
    database: Database,
    tenant: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """u0 falls from the first block to the last; u3, moved next in the same transaction,
    must not count u0 among the rows ahead, though the first block's stored count still does
    until commit (the survey corrects it by the pending changes)."""
    board, pks = await _six_rows_in_blocks_of_two(transactions, database, tenant, monkeypatch)
    async with transactions() as tx:
        fallen = Move(board.id, RUN, "a", pks[0], "u0", AT, RUN, delta=-20.0)
        await tx.move_on_board(fallen, COUNTING, noted=False)
        nudged = Move(board.id, RUN, "a", pks[3], "u3", AT, RUN, delta=0.5)
        moved = await tx.move_on_board(nudged, COUNTING, noted=False)
        risen = Move(board.id, RUN, "a", pks[5], "u5", AT, RUN, delta=3.0)
        overtaking = await tx.move_on_board(risen, COUNTING, noted=False)
    assert (moved.before_place, moved.after_place) == (Place(2, None, None), Place(2, None, None))
    assert (overtaking.before_place, overtaking.after_place) == (
        Place(4, None, None),
        Place(2, None, None),
    )
    await check_blocks(database, board.id, "a")


async def test_offsets_and_counts_read_through_many_shelves(
    transactions: Transactions[SqlTransaction],
    database: Database,
    tenant: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rebuilt into blocks of one or two rows and shelves of one or two blocks, and looked at in
    the rebuild's own transaction (so that no rebalance joins them meanwhile): every offset's
    key and every row's count of rows ahead, before and after a move still pending there."""
    board = await Leaderboard.create(
        tenant_id=tenant, key=uuid.uuid4().hex, name="b", rank_by="METRIC", start=RUN, created_at=AT
    )
    counting = Counting(TiePolicy.FIRST_COME, None)
    values = {f"u{n:02}": float((n * 7) % 11) for n in range(24)}
    for user, value in values.items():
        async with transactions() as tx:
            stored = (await tx.upsert_user(tenant, UserProfile(user), AT)).user
            move = Move(board.id, RUN, "a", stored.pk, user, AT, RUN, delta=value)
            await tx.move_on_board(move, counting, noted=False)
    monkeypatch.setattr(blocks, "SPLIT_AT", 2)
    monkeypatch.setattr(blocks, "SHELF_SPLIT_AT", 2)
    standing = {user: Standing(value, AT) for user, value in values.items()}
    async with database.transaction() as conn:
        joined = await blocks.join_group(conn, board.id, RUN, "a")
        group = await rebuild(conn, joined.id, counting)
        shelves = await conn.fetchrow(
            "SELECT COUNT(*) AS n FROM leaderboard_shelf WHERE group_id = $1", group.id
        )
        assert shelves is not None and int(shelves["n"]) >= 4
        await _check_offsets(conn, group, standing, blocks.Pending())
        # u00 (value 0, last) rises to the top; its counts wait in `pending` until commit.
        old, new = blocks.Key.of(standing["u00"], "u00"), blocks.Key(-20.0, AT, "u00")
        await conn.execute(
            "UPDATE leaderboard_entry SET value = 20, sort_value = -20 "
            "WHERE board_id = $1 AND external_id = 'u00'",
            board.id,
        )
        pending = blocks.Pending()
        await blocks.shifted(conn, group, old, new, counting, pending)
        assert pending.touches(group)
        standing["u00"] = Standing(20.0, AT)
        await _check_offsets(conn, group, standing, pending)


async def _check_offsets(
    conn: Connection, group: blocks.Group, standing: dict[str, Standing], pending: blocks.Pending
) -> None:
    ordered = sorted(standing, key=lambda u: sort_key(u, standing[u]))
    for offset, user in enumerate(ordered):
        key = blocks.Key.of(standing[user], user)
        assert await places.key_at(conn, group, offset, pending) == key
        assert await places.ahead_of(conn, group, key, pending) == offset
    assert await places.key_at(conn, group, len(ordered), pending) is None


# Layouts before and after one rebalance, blocks of at most 8 rows (thin: 1 row) and shelves
# of at most 4 blocks (thin: 1 block), over 12 rows: blocks as the index of their first row
# (0 for the first block) and shelves as the index of their first block.
LAYOUTS = [
    # a thin block joins the one before; one that starts a shelf does not
    (([0, 4, 5, 6, 10], [0, 2]), ([0, 5, 6, 10], [0, 1])),
    # consecutive thin blocks join the same block
    (([0, 4, 5, 6], [0]), ([0, 6], [0])),
    # a thin shelf joins the shelf before it
    (([0, 2, 4, 6, 8, 10], [0, 2, 3]), ([0, 2, 4, 6, 8, 10], [0, 3])),
    # a shelf of too many blocks is cut into shelves of half the most
    (([0, 2, 4, 6, 8, 10], [0]), ([0, 2, 4, 6, 8, 10], [0, 2, 4])),
]


@pytest.mark.parametrize(("before", "after"), LAYOUTS)
async def test_a_rebalance_cuts_and_joins_blocks_and_shelves(
    before: tuple[list[int], list[int]],
    after: tuple[list[int], list[int]],
    transactions: Transactions[SqlTransaction],
    database: Database,
    tenant: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    board = await _twelve_rows(transactions, tenant)
    monkeypatch.setattr(blocks, "SPLIT_AT", 8)
    monkeypatch.setattr(blocks, "SHELF_SPLIT_AT", 4)
    async with database.transaction() as conn:
        group = await _locked_group(conn, board.id)
        await _lay_out(conn, group.id, KEYS, *before)
        await rebalance_group(conn, group.id)
        assert await _layout(conn, group.id, KEYS) == after
    await check_blocks(database, board.id, "a")


# The keys of `_twelve_rows`, the first block's (FIRST) standing in for the top row's.
KEYS = [blocks.FIRST] + [blocks.Key(n - 100.0, AT, f"u{n:02}") for n in range(1, 12)]


async def _twelve_rows(transactions: Transactions[SqlTransaction], tenant: int) -> Leaderboard:
    """A board whose group "a" holds u00 to u11, valued 100 down to 89."""
    board = await Leaderboard.create(
        tenant_id=tenant, key=uuid.uuid4().hex, name="b", rank_by="METRIC", start=RUN, created_at=AT
    )
    counting = Counting(TiePolicy.FIRST_COME, None)
    for n in range(12):
        async with transactions() as tx:
            stored = (await tx.upsert_user(tenant, UserProfile(f"u{n:02}"), AT)).user
            move = Move(board.id, RUN, "a", stored.pk, f"u{n:02}", AT, RUN, delta=100.0 - n)
            await tx.move_on_board(move, counting, noted=False)
    return board


async def _locked_group(conn: Connection, board_id: int) -> blocks.Group:
    """Group "a", locked as a rebalance locks it, so that no other rebalance runs meanwhile."""
    group = await blocks.join_group(conn, board_id, RUN, "a")
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    await conn.fetchrow(f"SELECT id FROM leaderboard_group WHERE id = $1{lock}", group.id)
    return group


async def _lay_out(
    conn: Connection, group_id: int, keys: list[blocks.Key], starts: list[int], shelves: list[int]
) -> None:
    """Blocks starting at those rows and shelves at those blocks, each counting its rows."""
    ends = [*starts[1:], len(keys)]
    sizes = [end - start for start, end in zip(starts, ends, strict=True)]
    shelf_ends = [*shelves[1:], len(starts)]
    for table, layout in (
        ("leaderboard_block", list(zip(starts, sizes, strict=True))),
        (
            "leaderboard_shelf",
            [
                (starts[first], sum(sizes[first:last]))
                for first, last in zip(shelves, shelf_ends, strict=True)
            ],
        ),
    ):
        await conn.execute(f"DELETE FROM {table} WHERE group_id = $1", group_id)
        for row, held in layout:
            await conn.execute(
                f"INSERT INTO {table} (group_id, sort_value, reached_at, external_id, rows) "
                "VALUES ($1, $2, $3, $4, $5)",
                group_id,
                *keys[row].args(),
                held,
            )


async def _layout(
    conn: Connection, group_id: int, keys: list[blocks.Key]
) -> tuple[list[int], list[int]]:
    """The layout as `_lay_out` takes it. Keys are told apart by value and user: every row
    here was reached at AT, and PostgreSQL reads the first key's instant back as naive
    `datetime.min` (asyncpg stores that instant as -infinity)."""
    named = [(key.sort_value, key.user_id) for key in keys]
    found = []
    for table in ("leaderboard_block", "leaderboard_shelf"):
        rows = await conn.fetch(
            f"SELECT sort_value, reached_at, external_id FROM {table} WHERE group_id = $1 "
            f"ORDER BY {blocks.ASCENDING}",
            group_id,
        )
        found.append([named.index((row["sort_value"], row["external_id"])) for row in rows])
    starts, shelves = found
    return starts, [starts.index(row) for row in shelves]


async def test_a_rebalance_cuts_a_few_blocks_a_turn_and_says_when_more_are_left(
    transactions: Transactions[SqlTransaction],
    database: Database,
    tenant: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    board = await _twelve_rows(transactions, tenant)
    monkeypatch.setattr(blocks, "SPLIT_AT", 4)
    monkeypatch.setattr(blocks, "SHELF_SPLIT_AT", 64)
    monkeypatch.setattr(rebalancing, "CUTS_PER_TURN", 1)
    async with database.transaction() as conn:
        group = await _locked_group(conn, board.id)
        await _lay_out(conn, group.id, KEYS, [0, 6], [0])  # two blocks of 6 rows
        assert await rebalance_group(conn, group.id) is True
        assert await rebalance_group(conn, group.id) is False
        assert await _layout(conn, group.id, KEYS) == ([0, 2, 4, 6, 8, 10], [0])


async def test_a_move_notes_its_day_of_history_only_when_asked(
    transactions: Transactions[SqlTransaction], database: Database, tenant: int
) -> None:
    """Events note each move's day (User.leaderboard's history); a backfill notes nothing."""
    board = await Leaderboard.create(
        tenant_id=tenant, key=uuid.uuid4().hex, name="b", rank_by="METRIC", start=RUN, created_at=AT
    )
    counting = Counting(TiePolicy.FIRST_COME, None)
    days = {}
    for user, noted in (("quiet", False), ("noted", True)):
        for delta in (1.0, 2.0):  # a new row, then (surveyed) a stored row that moves
            async with transactions() as tx:
                stored = (await tx.upsert_user(tenant, UserProfile(user), AT)).user
                move = Move(board.id, RUN, "a", stored.pk, user, AT, RUN, delta=delta)
                await tx.move_on_board(move, counting, noted=noted)
        async with database.connection() as conn:
            found = await conn.fetch(
                "SELECT d.value, d.rank, d.previous_value FROM leaderboard_day d "
                "JOIN leaderboard_entry e ON e.id = d.entry_id "
                "WHERE e.board_id = $1 AND e.external_id = $2",
                board.id,
                user,
            )
        days[user] = [(float(r["value"]), r["rank"], r["previous_value"]) for r in found]
    assert days == {"quiet": [], "noted": [(3.0, 1, None)]}
