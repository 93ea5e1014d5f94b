"""Order statistics of a leaderboard group without walking it: blocks of consecutive rows.

A group's rows, in their total order (value descending, then reached_at, then the user id's
bytes, i.e. ascending in the row value `(sort_value, reached_at, external_id)`), are cut into
blocks of consecutive rows. A block records the key its rows start at and how many it holds;
the group's first block starts below every key. What stands ahead of a row is the sum of the
blocks before its own plus a count inside its own, so a rank reads at most the group's blocks
(about rows / SPLIT_AT) and about SPLIT_AT index entries, however deep the row stands; a plain
COUNT would walk every row above it. Distinct values above a row (DENSE ranks) are counted
from the group's value table, kept for DENSE boards only.

The cost in writes: a move that stays in its block changes no count; one that crosses into
another block, or joins or leaves the group, changes two (or one block and the group's row).
Those changes wait in `Pending` and are written just before commit, in id order, so moves on
one board neither wait for each other's blocks while they run nor deadlock; meanwhile a
transaction's own counts are corrected by what it has pending. Moves hold a shared lock on
their group's row (KEY SHARE on PostgreSQL; SQLite serialises writers): blocks are cut and
joined (leaderboard_rebalance) only under its exclusive lock, between moves.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from app.domain.leaderboard_ports import Standing
from app.domain.leaderboard_ranks import Counting, Place
from app.persistence.codec import as_date, as_datetime
from app.persistence.database import Connection, Row

# Blocks are cut when they grow past this many rows, into blocks of half of it.
SPLIT_AT = 2048

KEY = "(sort_value, reached_at, external_id)"
DESCENDING = "sort_value DESC, reached_at DESC, external_id DESC"
ASCENDING = "sort_value, reached_at, external_id"
IN_GROUP = "board_id = $1 AND run_start = $2 AND grp = $3"


@dataclass(frozen=True, slots=True)
class Key:
    """A row's place in its group's order, as the database compares it (text by its bytes,
    which is the order of Python's str for UTF-8)."""

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


def group_from_row(row: Row) -> Group:
    return Group(
        int(row["id"]),
        int(row["board_id"]),
        as_date(row["run_start"]),
        row["grp"],
        int(row["rows"]),
    )


@dataclass
class Pending:
    """One transaction's changes to block and group counts, written by `write` before commit."""

    blocks: Counter[int] = field(default_factory=Counter)
    block_keys: dict[int, tuple[int, Key]] = field(default_factory=dict)
    groups: Counter[int] = field(default_factory=Counter)

    def count(self, group: Group, block: Row, delta: int) -> None:
        self.blocks[int(block["id"])] += delta
        self.block_keys[int(block["id"])] = (group.id, Key.from_row(block))

    def before(self, group: Group, key: Key) -> int:
        """What this transaction added to the group's blocks that start before `key`."""
        return sum(
            delta
            for block_id, delta in self.blocks.items()
            if self.block_keys[block_id][0] == group.id
            and self.block_keys[block_id][1].args() < key.args()
        )

    def touches(self, group: Group) -> bool:
        return any(owner == group.id for owner, _ in self.block_keys.values())

    def rows(self, group: Group) -> int:
        return group.rows + self.groups[group.id]

    async def write(self, conn: Connection) -> None:
        for group_id, delta in sorted(self.groups.items()):
            if delta:
                await conn.execute(
                    "UPDATE leaderboard_group SET rows = rows + $2 WHERE id = $1", group_id, delta
                )
        for block_id, delta in sorted(self.blocks.items()):
            if delta:
                await conn.execute(
                    "UPDATE leaderboard_block SET rows = rows + $2 WHERE id = $1", block_id, delta
                )
        self.blocks.clear()
        self.block_keys.clear()
        self.groups.clear()


NOTHING_PENDING = Pending()


async def find_group(conn: Connection, board_id: int, run_start: date, name: str) -> Group | None:
    row = await conn.fetchrow(
        f"SELECT id, rows FROM leaderboard_group WHERE {IN_GROUP}", board_id, run_start, name
    )
    return Group(int(row["id"]), board_id, run_start, name, int(row["rows"])) if row else None


async def join_group_with_row(
    conn: Connection, board_id: int, run_start: date, name: str, user_pk: int
) -> tuple[Group, Row | None]:
    """`join_group`, and the user's row in the run (whichever group holds it): one statement
    when the group exists already, as it does for every move but a group's first."""
    lock = " FOR KEY SHARE OF g" if conn.dialect == "postgres" else ""
    found = await conn.fetchrow(
        "SELECT g.id AS group_id, g.rows AS group_rows, e.id, e.value, e.reached_at, e.grp "
        "FROM leaderboard_group g LEFT JOIN leaderboard_entry e ON e.board_id = g.board_id "
        "AND e.run_start = g.run_start AND e.user_id = $4 "
        f"WHERE g.board_id = $1 AND g.run_start = $2 AND g.grp = $3{lock}",
        board_id,
        run_start,
        name,
        user_pk,
    )
    if found is not None:
        group = Group(int(found["group_id"]), board_id, run_start, name, int(found["group_rows"]))
        return group, found if found["id"] is not None else None
    current = await conn.fetchrow(
        "SELECT id, value, reached_at, grp FROM leaderboard_entry "
        "WHERE board_id = $1 AND run_start = $2 AND user_id = $3",
        board_id,
        run_start,
        user_pk,
    )
    return await join_group(conn, board_id, run_start, name), current


async def join_group(conn: Connection, board_id: int, run_start: date, name: str) -> Group:
    """The group's row, created with its first block when new, share-locked to commit."""
    lock = " FOR KEY SHARE" if conn.dialect == "postgres" else ""
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


async def place(
    conn: Connection,
    group: Group,
    key: Key,
    counting: Counting,
    pending: Pending = NOTHING_PENDING,
) -> Place:
    """Where a row keyed `key` stands (the row itself, if stored, is not ahead of itself),
    with the counts `counting` wants."""
    ahead = await ahead_of(conn, group, key, pending) if counting.wants_ahead else None
    greater = None
    if counting.wants_greater:
        greater = await ahead_of(conn, group, Key.above(-key.sort_value), pending)
    distinct = None
    if counting.wants_distinct:
        found = await conn.fetchrow(
            "SELECT COUNT(*) AS n FROM leaderboard_value WHERE group_id = $1 AND sort_value < $2",
            group.id,
            key.sort_value,
        )
        distinct = int(found["n"]) if found else 0
    return Place(ahead, greater, distinct)


async def ahead_of(
    conn: Connection, group: Group, key: Key, pending: Pending = NOTHING_PENDING
) -> int:
    """Rows before `key`: the blocks before its block, and its block's rows before it, in one
    statement, so that a reader sees one state even while a rebalance joins blocks. Within a
    transaction that has counts pending (it holds the group's shared lock, so nothing is
    rebalanced meanwhile), the block is found first and its key corrects the sum."""
    if not pending.touches(group):
        found = await conn.fetchrow(
            f"SELECT {_ahead(5)} AS n", *group.entries(), group.id, *key.args()
        )
        assert found is not None
        return int(found["n"])
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
    return int(found["n"]) + pending.before(group, block)


@dataclass(frozen=True, slots=True)
class Survey:
    """A row about to move within its group, surveyed before it moves: where it stands, the
    counts at its new key (which still see the row at its old one), and whether both keys lie
    in one block (then no block count changes)."""

    before: Place
    after_seen: Place
    one_block: bool


async def survey(
    conn: Connection, group: Group, before: Key, after: Key, counting: Counting
) -> Survey:
    """All in one statement, for a transaction with no counts pending on the group (each
    place is `place` of that key) and a counting that wants no distinct values. The new key's
    counts are the old key's plus or minus the rows between the two when both lie in one block
    (a move is mostly small), so only the old key's counts sum blocks and scan a block."""
    assert not counting.wants_distinct, "distinct values are counted apart"
    pairs: list[tuple[Key, Key]] = []
    if counting.wants_ahead:
        pairs.append((before, after))
    if counting.wants_greater:
        pairs.append((Key.above(-before.sort_value), Key.above(-after.sort_value)))
    args: list[object] = [*group.entries(), group.id]

    def mark(key: Key) -> int:
        args.extend(key.args())
        return len(args) - 2

    columns = []
    for i, (old, new) in enumerate(pairs):
        at_old, at_new = mark(old), mark(new)
        low, high = (at_old, at_new) if old.args() <= new.args() else (at_new, at_old)
        one_block = f"{_block_sql(at_old)} = {_block_sql(at_new)}"
        columns += [
            f"{_ahead(at_old)} AS old{i}",
            f"CASE WHEN {one_block} THEN {_between(low, high)} END AS between{i}",
            f"CASE WHEN {one_block} THEN NULL ELSE {_ahead(at_new)} END AS new{i}",
        ]
    at_old, at_new = mark(before), mark(after)
    columns.append(
        f"CASE WHEN {_block_sql(at_old)} = {_block_sql(at_new)} THEN 1 ELSE 0 END AS one_block"
    )
    found = await conn.fetchrow(f"SELECT {', '.join(columns)}", *args)
    assert found is not None
    olds, news = [], []
    for i, (old, new) in enumerate(pairs):
        olds.append(int(found[f"old{i}"]))
        if found[f"new{i}"] is not None:
            news.append(int(found[f"new{i}"]))
        else:
            between = int(found[f"between{i}"])
            news.append(olds[-1] + (between if old.args() <= new.args() else -between))
    return Survey(_place(olds, counting), _place(news, counting), bool(found["one_block"]))


def _place(counts: list[int], counting: Counting) -> Place:
    """The counts of `survey`'s pairs, in their order: ahead, then greater."""
    found = iter(counts)
    ahead = next(found) if counting.wants_ahead else None
    greater = next(found) if counting.wants_greater else None
    return Place(ahead, greater, None)


def _between(low: int, high: int) -> str:
    """Rows of the group from the key ($low, ...) up to, not including, the key ($high, ...)."""
    return (
        f"(SELECT COUNT(*) FROM leaderboard_entry WHERE {IN_GROUP} "
        f"AND {KEY} >= (${low}, ${low + 1}, ${low + 2}) "
        f"AND {KEY} < (${high}, ${high + 1}, ${high + 2}))"
    )


def _block_sql(mark: int, columns: str = "id") -> str:
    """The block of group $4 holding the key ($mark, ...)."""
    return (
        f"(SELECT {columns} FROM leaderboard_block WHERE group_id = $4 "
        f"AND {KEY} <= (${mark}, ${mark + 1}, ${mark + 2}) ORDER BY {DESCENDING} LIMIT 1)"
    )


def _ahead(mark: int) -> str:
    """Rows of group $4 (entries: $1-$3) before the key ($mark, ...): summed blocks, then the
    rows of the key's own block."""
    key = f"(${mark}, ${mark + 1}, ${mark + 2})"
    block_of = _block_sql(mark, "sort_value, reached_at, external_id")
    return (
        f"((SELECT COALESCE(SUM(rows), 0) FROM leaderboard_block "
        f"WHERE group_id = $4 AND {KEY} < {block_of}) + "
        f"(SELECT COUNT(*) FROM leaderboard_entry WHERE {IN_GROUP} "
        f"AND {KEY} >= {block_of} AND {KEY} < {key}))"
    )


async def key_at(
    conn: Connection, group: Group, offset: int, pending: Pending = NOTHING_PENDING
) -> Key | None:
    """The key of the row `offset` rows from the top; None past the last row."""
    if offset >= pending.rows(group):
        return None
    if offset == 0:
        top = await conn.fetchrow(
            f"SELECT sort_value, reached_at, external_id FROM leaderboard_entry WHERE {IN_GROUP} "
            f"ORDER BY {ASCENDING} LIMIT 1",
            *group.entries(),
        )
        return Key.from_row(top) if top else None
    start, skip = await _block_at(conn, group, offset, pending)
    row = await conn.fetchrow(
        f"SELECT sort_value, reached_at, external_id FROM leaderboard_entry WHERE {IN_GROUP} "
        f"AND {KEY} >= ($4, $5, $6) ORDER BY {ASCENDING} LIMIT 1 OFFSET $7",
        *group.entries(),
        *start.args(),
        skip,
    )
    return Key.from_row(row) if row else None


async def lowest_ranked(
    conn: Connection, group: Group, cap: int | None, pending: Pending = NOTHING_PENDING
) -> float | None:
    """The value of the last row a cap of `cap` ranks, once the group holds that many."""
    if cap is None or pending.rows(group) < cap:
        return None
    last = await key_at(conn, group, cap - 1, pending)
    return -last.sort_value if last is not None else None


async def _block_at(
    conn: Connection, group: Group, offset: int, pending: Pending
) -> tuple[Key, int]:
    """The block holding the row `offset` rows from the top, and that row's offset in it."""
    if not pending.touches(group):
        block = await conn.fetchrow(
            f"SELECT sort_value, reached_at, external_id, through - rows AS before FROM "
            f"(SELECT sort_value, reached_at, external_id, rows, "
            f"SUM(rows) OVER (ORDER BY {ASCENDING}) AS through FROM leaderboard_block "
            f"WHERE group_id = $1) AS b WHERE through > $2 ORDER BY {ASCENDING} LIMIT 1",
            group.id,
            offset,
        )
        assert block is not None, "offset is below the group's rows"
        return Key.from_row(block), offset - int(block["before"])
    through = 0
    found = FIRST, offset
    for block in await conn.fetch(
        f"SELECT id, sort_value, reached_at, external_id, rows FROM leaderboard_block "
        f"WHERE group_id = $1 ORDER BY {ASCENDING}",
        group.id,
    ):
        rows = int(block["rows"]) + pending.blocks[int(block["id"])]
        if through + rows > offset:
            return Key.from_row(block), offset - through
        through += rows
    return found


async def added(
    conn: Connection, group: Group, key: Key, counting: Counting, pending: Pending
) -> None:
    """Counts a row just stored at `key` as the group's."""
    pending.count(group, await _block_of(conn, group, key), 1)
    pending.groups[group.id] += 1
    if counting.wants_distinct:
        await _count_value(conn, group, key.sort_value, 1)


async def removed(
    conn: Connection, group: Group, key: Key, counting: Counting, pending: Pending
) -> None:
    """Uncounts a row that stood at `key` (already moved or gone)."""
    pending.count(group, await _block_of(conn, group, key), -1)
    pending.groups[group.id] -= 1
    if counting.wants_distinct:
        await _count_value(conn, group, key.sort_value, -1)


async def shifted(
    conn: Connection, group: Group, old: Key, new: Key, counting: Counting, pending: Pending
) -> None:
    """A row of the group, already stored at `new`, stood at `old`: block counts change only
    when it crossed into another block, which a move seldom does."""
    leaving, entering = await _blocks_of(conn, group, old, new)
    if leaving["id"] != entering["id"]:
        pending.count(group, entering, 1)
        pending.count(group, leaving, -1)
    if counting.wants_distinct and old.sort_value != new.sort_value:
        await _count_value(conn, group, new.sort_value, 1)
        await _count_value(conn, group, old.sort_value, -1)


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


async def _blocks_of(conn: Connection, group: Group, first: Key, second: Key) -> tuple[Row, Row]:
    """The blocks holding two keys, in one statement."""
    holding = (
        f"SELECT * FROM (SELECT id, sort_value, reached_at, external_id, rows, {{n}} AS which "
        f"FROM leaderboard_block WHERE group_id = $1 AND {KEY} <= ({{marks}}) "
        f"ORDER BY {DESCENDING} LIMIT 1) AS b{{n}}"
    )
    rows = await conn.fetch(
        f"{holding.format(n=0, marks='$2, $3, $4')} UNION ALL "
        f"{holding.format(n=1, marks='$5, $6, $7')}",
        group.id,
        *first.args(),
        *second.args(),
    )
    found = {int(row["which"]): row for row in rows}
    assert len(found) == 2, "the first block starts below every key"
    return found[0], found[1]


async def _block_of(conn: Connection, group: Group, key: Key) -> Row:
    block = await conn.fetchrow(
        f"SELECT id, sort_value, reached_at, external_id, rows FROM leaderboard_block "
        f"WHERE group_id = $1 AND {KEY} <= ($2, $3, $4) ORDER BY {DESCENDING} LIMIT 1",
        group.id,
        *key.args(),
    )
    assert block is not None, "the first block starts below every key"
    return block
