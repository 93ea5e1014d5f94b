"""Keeping a group's blocks and shelves near their size, off the event path: a block grown past
SPLIT_AT rows is cut into blocks of half that, and a thin block joins the one before it in its
shelf; a shelf grown past SHELF_SPLIT_AT blocks is cut into shelves of half that, and a thin
shelf joins the one before it.

Moves only add to and take from blocks (leaderboard_blocks), under a lock on their group's
row that lets any number of moves through together; cutting and joining takes that row's
exclusive lock, so it waits for the moves in flight and holds the next ones for as long as it
takes (a few index ranges of at most a block or two, and the group's blocks and shelves). The
counts it writes are then those of the committed rows, and no move adds to a block that is
being cut.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.domain.leaderboard_ranks import Counting
from app.persistence import leaderboard_blocks as blocks
from app.persistence.database import Connection, Database, Row

ASCENDING, KEY = blocks.ASCENDING, blocks.KEY

# Grown blocks cut in one transaction. Each cut reads the block's rows while the group's row is
# locked against moves (on SQLite, while the database is), so a group with many grown blocks
# (a board a million rows strong after an upgrade that shrank SPLIT_AT: 977 blocks, 1.2 s in
# one transaction) is cut over several turns instead.
CUTS_PER_TURN = 32


class SqlLeaderboardUpkeep:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def rebalance(self) -> int:
        """Every group with a block to cut or join, or more blocks than its shelves should
        hold, each in a transaction of its own; returns how many groups were rebalanced.
        Shelves grow only as blocks are cut and thin only as they join, so looking at a
        group's shelves whenever its blocks change keeps them in size; the second test finds
        groups whose shelves were never cut (such as those an upgrade gave one shelf)."""
        async with self._db.connection() as conn:
            due = await conn.fetch(
                "SELECT group_id FROM (SELECT group_id, rows, sort_value, "
                f"LAG(rows) OVER (PARTITION BY group_id ORDER BY {ASCENDING}) AS before "
                "FROM leaderboard_block) AS b WHERE rows > $1 OR (sort_value > $3 "
                "AND rows < $2 AND before + rows <= $1) UNION SELECT group_id "
                "FROM leaderboard_block b GROUP BY group_id HAVING COUNT(*) > $4 * "
                "(SELECT COUNT(*) FROM leaderboard_shelf s WHERE s.group_id = b.group_id) "
                "ORDER BY group_id",
                blocks.SPLIT_AT,
                blocks.SPLIT_AT // 4,
                blocks.FIRST.sort_value,
                blocks.SHELF_SPLIT_AT,
            )
        for row in due:
            more = True
            while more:
                async with self._db.transaction() as conn:
                    more = await rebalance_group(conn, int(row["group_id"]))
                # Requests run between turns: on SQLite a turn holds the event loop too.
                await asyncio.sleep(0)
        return len(due)


async def rebalance_group(conn: Connection, group_id: int) -> bool:
    """One turn: up to CUTS_PER_TURN grown blocks cut, thin ones joined, shelves kept in
    size. Returns whether grown blocks are left for another turn."""
    group = await _lock_exclusively(conn, group_id)
    if group is None:
        return False
    grown = await conn.fetch(
        f"SELECT id, sort_value, reached_at, external_id, rows FROM leaderboard_block "
        f"WHERE group_id = $1 AND rows > $2 ORDER BY {ASCENDING} LIMIT $3",
        group.id,
        blocks.SPLIT_AT,
        CUTS_PER_TURN + 1,
    )
    for block in grown[:CUTS_PER_TURN]:
        await _cut(conn, group, block)
    await _join_thin(conn, group)
    await _shelve(conn, group)
    return len(grown) > CUTS_PER_TURN


async def _lock_exclusively(conn: Connection, group_id: int) -> blocks.Group | None:
    """The group's row locked against every move (they hold it shared) until commit."""
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    found = await conn.fetchrow(
        f"SELECT id, board_id, run_start, grp, rows FROM leaderboard_group WHERE id = $1{lock}",
        group_id,
    )
    return blocks.group_from_row(found) if found else None


async def _cut(conn: Connection, group: blocks.Group, block: Row) -> None:
    """The block's rows in blocks of SPLIT_AT // 2, the first keeping the block's own key."""
    start = blocks.Key.from_row(block)
    following = await conn.fetchrow(
        f"SELECT sort_value, reached_at, external_id FROM leaderboard_block "
        f"WHERE group_id = $1 AND {KEY} > ($2, $3, $4) ORDER BY {ASCENDING} LIMIT 1",
        group.id,
        *start.args(),
    )
    end = blocks.Key.from_row(following) if following else None
    upper = f"AND {KEY} < ($10, $11, $12)" if end else ""
    size = max(1, blocks.SPLIT_AT // 2)
    held = int(block["rows"])
    await conn.execute(
        "INSERT INTO leaderboard_block (group_id, sort_value, reached_at, external_id, rows) "
        "SELECT $4, sort_value, reached_at, external_id, "
        "CASE WHEN $6 - n + 1 < $5 THEN $6 - n + 1 ELSE $5 END FROM "
        f"(SELECT sort_value, reached_at, external_id, ROW_NUMBER() OVER (ORDER BY {ASCENDING}) "
        f"AS n FROM leaderboard_entry WHERE {blocks.IN_GROUP} AND {KEY} >= ($7, $8, $9) "
        f"{upper}) AS ordered WHERE n > $5 AND (n - 1) % $5 = 0",
        *group.entries(),
        group.id,
        size,
        held,
        *start.args(),
        *(end.args() if end else ()),
    )
    await conn.execute(
        "UPDATE leaderboard_block SET rows = $2 WHERE id = $1", block["id"], min(size, held)
    )


async def _join_thin(conn: Connection, group: blocks.Group) -> None:
    """Each thin block, in order, joins the block before it when both fit in SPLIT_AT and
    it starts no shelf (a shelf's first block stays, so the shelf keeps its key). Only the
    thin blocks and the blocks before them are read: the group's row is locked meanwhile."""
    thin = await conn.fetch(
        "SELECT id, sort_value, reached_at, external_id, rows, before_id, before_rows FROM "
        "(SELECT id, sort_value, reached_at, external_id, rows, "
        f"LAG(id) OVER (ORDER BY {ASCENDING}) AS before_id, "
        f"LAG(rows) OVER (ORDER BY {ASCENDING}) AS before_rows "
        "FROM leaderboard_block WHERE group_id = $1) AS b "
        f"WHERE rows < $2 AND before_id IS NOT NULL ORDER BY {ASCENDING}",
        group.id,
        blocks.SPLIT_AT // 4,
    )
    if not thin:
        return
    shelf_starts = {
        blocks.Key.from_row(row).args()
        for row in await conn.fetch(
            "SELECT sort_value, reached_at, external_id FROM leaderboard_shelf WHERE group_id = $1",
            group.id,
        )
    }
    joined_into: dict[int, int] = {}
    rows: dict[int, int] = {}
    for block in thin:
        if blocks.Key.from_row(block).args() in shelf_starts:
            continue
        before = int(block["before_id"])
        before = joined_into.get(before, before)
        held, before_rows = int(block["rows"]), rows.get(before, int(block["before_rows"]))
        if before_rows + held > blocks.SPLIT_AT:
            continue
        rows[before] = before_rows + held
        joined_into[int(block["id"])] = before
        await conn.execute(
            "UPDATE leaderboard_block SET rows = $2 WHERE id = $1", before, rows[before]
        )
        await conn.execute("DELETE FROM leaderboard_block WHERE id = $1", block["id"])


@dataclass
class _Shelf:
    """A shelf as `_shelve` sees it: its row (None for one about to be made), its first key,
    how many blocks and rows it holds, and whether its count is to be written."""

    id: int | None
    key: blocks.Key
    blocks: int
    rows: int
    changed: bool = False


async def _shelve(conn: Connection, group: blocks.Group) -> None:
    """Shelves cut to at most SHELF_SPLIT_AT blocks (into halves of that) and thin ones (a
    quarter or less) joined to the one before when both fit. Each shelf's blocks are counted
    in the database; only the blocks of a shelf being cut are read."""
    cut: list[_Shelf] = []
    for shelf, end in await _shelves_of(conn, group):
        cut += (
            await _chunks(conn, group, shelf, end)
            if shelf.blocks > blocks.SHELF_SPLIT_AT
            else [shelf]
        )
    joined: list[_Shelf] = []
    for shelf in cut:
        previous = joined[-1] if joined else None
        thin = shelf.blocks * 4 <= blocks.SHELF_SPLIT_AT
        if previous and thin and previous.blocks + shelf.blocks <= blocks.SHELF_SPLIT_AT:
            previous.blocks, previous.rows = (
                previous.blocks + shelf.blocks,
                previous.rows + shelf.rows,
            )
            previous.changed = True
            if shelf.id is not None:
                await conn.execute("DELETE FROM leaderboard_shelf WHERE id = $1", shelf.id)
            continue
        joined.append(shelf)
    for shelf in joined:
        if shelf.id is None:
            await blocks.add_span(conn, "leaderboard_shelf", group.id, shelf.key, shelf.rows)
        elif shelf.changed:
            await conn.execute(
                "UPDATE leaderboard_shelf SET rows = $2 WHERE id = $1", shelf.id, shelf.rows
            )


async def _shelves_of(conn: Connection, group: blocks.Group) -> list[tuple[_Shelf, blocks.Key]]:
    """The group's shelves in order, each with the count of its blocks (those from its key to
    the next shelf's) and the next shelf's key (BEYOND for the last)."""
    found = await conn.fetch(
        "SELECT id, sort_value, reached_at, external_id, rows, next_value, next_reached, "
        "next_id, (SELECT COUNT(*) FROM leaderboard_block b WHERE b.group_id = $1 "
        "AND (b.sort_value, b.reached_at, b.external_id) "
        ">= (s.sort_value, s.reached_at, s.external_id) "
        "AND (b.sort_value, b.reached_at, b.external_id) "
        "< (s.next_value, s.next_reached, s.next_id)) AS blocks "
        f"FROM {blocks.shelves_with_next(2)} AS s ORDER BY {ASCENDING}",
        group.id,
        *blocks.BEYOND.args(),
    )
    return [
        (
            _Shelf(int(row["id"]), blocks.Key.from_row(row), int(row["blocks"]), int(row["rows"])),
            blocks.next_key_of(row),
        )
        for row in found
    ]


async def _chunks(
    conn: Connection, group: blocks.Group, shelf: _Shelf, end: blocks.Key
) -> list[_Shelf]:
    """A shelf's blocks (up to `end`) in shelves of SHELF_SPLIT_AT // 2, the first keeping
    the shelf's row."""
    held = await conn.fetch(
        "SELECT sort_value, reached_at, external_id, rows FROM leaderboard_block "
        f"WHERE group_id = $1 AND {KEY} >= ($2, $3, $4) AND {KEY} < ($5, $6, $7) "
        f"ORDER BY {ASCENDING}",
        group.id,
        *shelf.key.args(),
        *end.args(),
    )
    size = max(1, blocks.SHELF_SPLIT_AT // 2)
    chunks = [held[i : i + size] for i in range(0, len(held), size)]
    return [
        _Shelf(
            shelf.id if index == 0 else None,
            blocks.Key.from_row(chunk[0]),
            len(chunk),
            sum(int(block["rows"]) for block in chunk),
            changed=True,
        )
        for index, chunk in enumerate(chunks)
    ]


async def rebuild(conn: Connection, group_id: int, counting: Counting) -> blocks.Group:
    """The group's counts anew from its rows: one block and one shelf holding them all, cut
    as grown ones are. For rows loaded in bulk (not through moves) and for repairs; runs with the
    group's row locked."""
    group = await _lock_exclusively(conn, group_id)
    assert group is not None, "rebuilt groups exist"
    for table in ("leaderboard_block", "leaderboard_shelf", "leaderboard_value"):
        await conn.execute(f"DELETE FROM {table} WHERE group_id = $1", group.id)
    counted = await conn.fetchrow(
        f"SELECT COUNT(*) AS n FROM leaderboard_entry WHERE {blocks.IN_GROUP}", *group.entries()
    )
    total = int(counted["n"]) if counted else 0
    first = await conn.fetchrow(
        "INSERT INTO leaderboard_block (group_id, sort_value, reached_at, external_id, rows) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id, sort_value, reached_at, external_id, rows",
        group.id,
        *blocks.FIRST.args(),
        total,
    )
    assert first is not None
    await _cut(conn, group, first)
    await blocks.add_span(conn, "leaderboard_shelf", group.id, blocks.FIRST, total)
    await _shelve(conn, group)
    if counting.wants_distinct:
        await conn.execute(
            "INSERT INTO leaderboard_value (group_id, sort_value, rows) "
            f"SELECT $4, sort_value, COUNT(*) FROM leaderboard_entry WHERE {blocks.IN_GROUP} "
            "GROUP BY sort_value",
            *group.entries(),
            group.id,
        )
    await conn.execute("UPDATE leaderboard_group SET rows = $2 WHERE id = $1", group.id, total)
    return blocks.Group(group.id, group.board_id, group.run_start, group.name, total)
