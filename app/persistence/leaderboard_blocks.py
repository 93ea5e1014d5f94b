"""Order statistics of a leaderboard group without walking it: blocks of consecutive rows.

A group's rows, in their total order (value descending, then reached_at, then the user id's
bytes, i.e. ascending in the row value `(sort_value, reached_at, external_id)`), are cut into
blocks of consecutive rows. A block records the key its rows start at and how many it holds;
the group's first block starts below every key. What stands ahead of a row is the sum of the
blocks before its own plus a count inside its own, so a rank reads at most the group's blocks
(rows / SPLIT_AT to 4 x that) and at most SPLIT_AT index entries, however deep the row stands;
a plain COUNT would walk every row above it. Distinct values above a row (DENSE ranks) are
counted from the group's value table, one row per distinct value.

The cost in writes: a move changes its block's count (two blocks when it crosses one), its
value's count and the group's count, and one move in SPLIT_AT or so splits a block at its
median or merges a thin one into the block before it. Every change to a group runs under its
group row's lock (PostgreSQL; SQLite serialises writers), so counts and splits never race; the
lock is taken late in the operation, after the user's own rows, and held to commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app.domain.leaderboard_ports import Standing
from app.domain.leaderboard_ranks import Counting, Place
from app.persistence.codec import as_datetime
from app.persistence.database import Connection, Row

# A block splits when it grows past this many rows, and merges into the block before it when
# both together hold at most half of it.
SPLIT_AT = 2048

KEY = "(sort_value, reached_at, external_id)"
DESCENDING = "sort_value DESC, reached_at DESC, external_id DESC"
ASCENDING = "sort_value, reached_at, external_id"
IN_GROUP = "board_id = $1 AND run_start = $2 AND grp = $3"


@dataclass(frozen=True, slots=True)
class Key:
    """A row's place in its group's order, as the database compares it."""

    sort_value: float
    reached_at: datetime
    user_id: str

    @classmethod
    def of(cls, standing: Standing, user_id: str) -> Key:
        return cls(-standing.value, standing.reached_at, user_id)

    @classmethod
    def above(cls, value: float) -> Key:
        """Just after every row with a greater value and before every row with this one."""
        return cls(-value, EARLIEST, "")

    @classmethod
    def from_row(cls, row: Row) -> Key:
        return cls(float(row["sort_value"]), as_datetime(row["reached_at"]), row["external_id"])

    def args(self) -> tuple[float, datetime, str]:
        return (self.sort_value, self.reached_at, self.user_id)


EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
FIRST = Key(-math.inf, EARLIEST, "")


@dataclass(frozen=True, slots=True)
class Group:
    """A group's row: `id` names its blocks; the entries are found by board, run and group."""

    id: int
    board_id: int
    run_start: date
    name: str
    rows: int

    def entries(self) -> tuple[int, date, str]:
        return (self.board_id, self.run_start, self.name)


async def find_group(conn: Connection, board_id: int, run_start: date, name: str) -> Group | None:
    row = await conn.fetchrow(
        f"SELECT id, rows FROM leaderboard_group WHERE {IN_GROUP}", board_id, run_start, name
    )
    return Group(int(row["id"]), board_id, run_start, name, int(row["rows"])) if row else None


async def lock_group(conn: Connection, board_id: int, run_start: date, name: str) -> Group:
    """The group's row locked to commit, created with its first block when new."""
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    select = f"SELECT id, rows FROM leaderboard_group WHERE {IN_GROUP}{lock}"
    row = await conn.fetchrow(select, board_id, run_start, name)
    if row is None:
        created = await conn.fetchrow(
            "INSERT INTO leaderboard_group (board_id, run_start, grp, rows) "
            "VALUES ($1, $2, $3, 0) ON CONFLICT (board_id, run_start, grp) DO NOTHING RETURNING id",
            board_id,
            run_start,
            name,
        )
        if created is not None:
            await conn.execute(
                "INSERT INTO leaderboard_block (group_id, sort_value, reached_at, external_id, "
                "rows) VALUES ($1, $2, $3, $4, 0)",
                created["id"],
                *FIRST.args(),
            )
        row = await conn.fetchrow(select, board_id, run_start, name)
    assert row is not None, "inserted above or by a transaction that committed meanwhile"
    return Group(int(row["id"]), board_id, run_start, name, int(row["rows"]))


async def place(conn: Connection, group: Group, key: Key, counting: Counting) -> Place:
    """Where a row keyed `key` stands (the row itself, if stored, is not ahead of itself),
    with the counts `counting` wants."""
    ahead = await ahead_of(conn, group, key) if counting.wants_ahead else None
    greater = None
    if counting.wants_greater:
        greater = await ahead_of(conn, group, Key.above(-key.sort_value))
    distinct = None
    if counting.wants_distinct:
        found = await conn.fetchrow(
            "SELECT COUNT(*) AS n FROM leaderboard_value WHERE group_id = $1 AND sort_value < $2",
            group.id,
            key.sort_value,
        )
        distinct = int(found["n"]) if found else 0
    return Place(ahead, greater, distinct)


async def ahead_of(conn: Connection, group: Group, key: Key) -> int:
    """Rows before `key`: the blocks before its block, and its block's rows before it. The
    block is found first, so that each count below is one index range with both bounds given,
    which both planners keep to (a join to the block found was planned as a walk)."""
    block = Key.from_row(await _block_of(conn, group, key))
    found = await conn.fetchrow(
        "SELECT (SELECT COALESCE(SUM(rows), 0) FROM leaderboard_block "
        f"WHERE group_id = $4 AND {KEY} < ($5, $6, $7)) + "
        f"(SELECT COUNT(*) FROM leaderboard_entry WHERE {IN_GROUP} "
        f"AND {KEY} >= ($5, $6, $7) AND {KEY} < ($8, $9, $10)) AS n",
        *group.entries(),
        group.id,
        *block.args(),
        *key.args(),
    )
    assert found is not None
    return int(found["n"])


async def key_at(conn: Connection, group: Group, offset: int) -> Key | None:
    """The key of the row `offset` rows from the top; None past the last row."""
    if offset >= group.rows:
        return None
    if offset == 0:
        top = await conn.fetchrow(
            f"SELECT sort_value, reached_at, external_id FROM leaderboard_entry WHERE {IN_GROUP} "
            f"ORDER BY {ASCENDING} LIMIT 1",
            *group.entries(),
        )
        return Key.from_row(top) if top else None
    block = await conn.fetchrow(
        f"SELECT sort_value, reached_at, external_id, through - rows AS before FROM "
        f"(SELECT sort_value, reached_at, external_id, rows, "
        f"SUM(rows) OVER (ORDER BY {ASCENDING}) AS through FROM leaderboard_block "
        f"WHERE group_id = $1) AS b WHERE through > $2 ORDER BY {ASCENDING} LIMIT 1",
        group.id,
        offset,
    )
    if block is None:
        return None
    row = await conn.fetchrow(
        f"SELECT sort_value, reached_at, external_id FROM leaderboard_entry WHERE {IN_GROUP} "
        f"AND {KEY} >= ($4, $5, $6) ORDER BY {ASCENDING} LIMIT 1 OFFSET $7",
        *group.entries(),
        *Key.from_row(block).args(),
        offset - int(block["before"]),
    )
    return Key.from_row(row) if row else None


async def added(conn: Connection, group: Group, key: Key, counting: Counting) -> None:
    """Counts a row just stored at `key` as the group's."""
    await _enter(conn, group, await _block_of(conn, group, key))
    if counting.wants_distinct:
        await _count_value(conn, group, key.sort_value, 1)
    await _count(conn, group, 1)


async def removed(conn: Connection, group: Group, key: Key, counting: Counting) -> None:
    """Uncounts a row that stood at `key` (already moved or gone)."""
    await _leave(conn, group, await _block_of(conn, group, key))
    if counting.wants_distinct:
        await _count_value(conn, group, key.sort_value, -1)
    await _count(conn, group, -1)


async def shifted(conn: Connection, group: Group, old: Key, new: Key, counting: Counting) -> None:
    """A row of the group, already stored at `new`, stood at `old`: block counts change only
    when it crossed into another block, which a move seldom does."""
    leaving = await _block_of(conn, group, old)
    entering = await _block_of(conn, group, new)
    if leaving["id"] != entering["id"]:
        await _enter(conn, group, entering)
        await _leave(conn, group, leaving)
    if counting.wants_distinct and old.sort_value != new.sort_value:
        await _count_value(conn, group, new.sort_value, 1)
        await _count_value(conn, group, old.sort_value, -1)


async def _enter(conn: Connection, group: Group, block: Row) -> None:
    """One more row in `block`; past SPLIT_AT rows it splits."""
    counted = await conn.fetchrow(
        "UPDATE leaderboard_block SET rows = rows + 1 WHERE id = $1 RETURNING rows", block["id"]
    )
    assert counted is not None
    if int(counted["rows"]) > SPLIT_AT:
        await _split(conn, group, block, int(counted["rows"]))


async def _leave(conn: Connection, group: Group, block: Row) -> None:
    """One row fewer in `block`; a thin block merges into the one before it."""
    counted = await conn.fetchrow(
        "UPDATE leaderboard_block SET rows = rows - 1 WHERE id = $1 RETURNING rows", block["id"]
    )
    assert counted is not None
    if float(block["sort_value"]) != FIRST.sort_value:
        await _merge(conn, group, block, int(counted["rows"]))


async def _count_value(conn: Connection, group: Group, sort_value: float, delta: int) -> None:
    if delta > 0:
        await conn.execute(
            "INSERT INTO leaderboard_value (group_id, sort_value, rows) VALUES ($1, $2, $3) "
            "ON CONFLICT (group_id, sort_value) DO UPDATE SET rows = leaderboard_value.rows + $3",
            group.id,
            sort_value,
            delta,
        )
        return
    await conn.execute(
        "UPDATE leaderboard_value SET rows = rows + $3 WHERE group_id = $1 AND sort_value = $2",
        group.id,
        sort_value,
        delta,
    )
    await conn.execute(
        "DELETE FROM leaderboard_value WHERE group_id = $1 AND sort_value = $2 AND rows <= 0",
        group.id,
        sort_value,
    )


async def _count(conn: Connection, group: Group, delta: int) -> None:
    await conn.execute(
        "UPDATE leaderboard_group SET rows = rows + $2 WHERE id = $1", group.id, delta
    )


async def _block_of(conn: Connection, group: Group, key: Key) -> Row:
    block = await conn.fetchrow(
        f"SELECT id, sort_value, reached_at, external_id, rows FROM leaderboard_block "
        f"WHERE group_id = $1 AND {KEY} <= ($2, $3, $4) ORDER BY {DESCENDING} LIMIT 1",
        group.id,
        *key.args(),
    )
    assert block is not None, "the first block starts below every key"
    return block


async def _split(conn: Connection, group: Group, block: Row, rows: int) -> None:
    """The block's second half becomes a block of its own, starting at its median row."""
    start = Key.from_row(block)
    median = await conn.fetchrow(
        f"SELECT sort_value, reached_at, external_id FROM leaderboard_entry WHERE {IN_GROUP} "
        f"AND {KEY} >= ($4, $5, $6) ORDER BY {ASCENDING} LIMIT 1 OFFSET $7",
        *group.entries(),
        *start.args(),
        rows // 2,
    )
    assert median is not None, "the block holds `rows` rows"
    await conn.execute(
        "INSERT INTO leaderboard_block (group_id, sort_value, reached_at, external_id, rows) "
        "VALUES ($1, $2, $3, $4, $5)",
        group.id,
        *Key.from_row(median).args(),
        rows - rows // 2,
    )
    await conn.execute(
        "UPDATE leaderboard_block SET rows = $2 WHERE id = $1", block["id"], rows // 2
    )


async def _merge(conn: Connection, group: Group, block: Row, rows: int) -> None:
    """An empty block goes; a thin one joins the block before it when both fit in half a
    split, so a group never holds many more blocks than its rows need."""
    if rows >= SPLIT_AT // 4 and rows > 0:
        return
    before = await conn.fetchrow(
        f"SELECT id, rows FROM leaderboard_block WHERE group_id = $1 AND {KEY} < ($2, $3, $4) "
        f"ORDER BY {DESCENDING} LIMIT 1",
        group.id,
        *Key.from_row(block).args(),
    )
    assert before is not None, "only the first block has none before it"
    if rows > 0 and int(before["rows"]) + rows > SPLIT_AT // 2:
        return
    await conn.execute(
        "UPDATE leaderboard_block SET rows = rows + $2 WHERE id = $1", before["id"], rows
    )
    await conn.execute("DELETE FROM leaderboard_block WHERE id = $1", block["id"])


async def rebuild(conn: Connection, group: Group, counting: Counting) -> Group:
    """The group's counts anew from its rows, in blocks half a split full: for rows loaded in
    bulk (not through moves) and for repairs. Runs in one transaction with the group locked."""
    await conn.execute("DELETE FROM leaderboard_block WHERE group_id = $1", group.id)
    await conn.execute("DELETE FROM leaderboard_value WHERE group_id = $1", group.id)
    total_row = await conn.fetchrow(
        f"SELECT COUNT(*) AS n FROM leaderboard_entry WHERE {IN_GROUP}", *group.entries()
    )
    total = int(total_row["n"]) if total_row else 0
    size = max(1, SPLIT_AT // 2)
    await conn.execute(
        "INSERT INTO leaderboard_block (group_id, sort_value, reached_at, external_id, rows) "
        "VALUES ($1, $2, $3, $4, $5)",
        group.id,
        *FIRST.args(),
        min(size, total),
    )
    await conn.execute(
        "INSERT INTO leaderboard_block (group_id, sort_value, reached_at, external_id, rows) "
        "SELECT $4, sort_value, reached_at, external_id, "
        "CASE WHEN $6 - n + 1 < $5 THEN $6 - n + 1 ELSE $5 END FROM "
        f"(SELECT sort_value, reached_at, external_id, ROW_NUMBER() OVER (ORDER BY {ASCENDING}) "
        f"AS n FROM leaderboard_entry WHERE {IN_GROUP}) AS ordered "
        "WHERE n > $5 AND (n - 1) % $5 = 0",
        *group.entries(),
        group.id,
        size,
        total,
    )
    if counting.wants_distinct:
        await conn.execute(
            "INSERT INTO leaderboard_value (group_id, sort_value, rows) "
            f"SELECT $4, sort_value, COUNT(*) FROM leaderboard_entry WHERE {IN_GROUP} "
            "GROUP BY sort_value",
            *group.entries(),
            group.id,
        )
    await conn.execute("UPDATE leaderboard_group SET rows = $2 WHERE id = $1", group.id, total)
    return Group(group.id, group.board_id, group.run_start, group.name, total)
