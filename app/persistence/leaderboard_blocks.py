"""Order statistics of a leaderboard group without walking it: blocks of consecutive rows,
and shelves of consecutive blocks.

A group's rows, in their total order (value descending, then reached_at, then the user id's
bytes, i.e. ascending in the row value `(sort_value, reached_at, external_id)`), are cut into
blocks of consecutive rows, and its blocks into shelves of consecutive blocks. A block and a
shelf each record the key their rows start at and how many they hold; the group's first block
and first shelf start below every key, and every shelf starts where a block does. What stands
ahead of a row is the sum of the shelves before its own, plus its shelf's blocks before its own,
plus a count inside its own block: a rank reads about rows / (SPLIT_AT x SHELF_SPLIT_AT)
shelves, SHELF_SPLIT_AT blocks and SPLIT_AT index entries (at a million rows, about 100 of
each), however deep the row stands; a plain COUNT would walk every row above it, and blocks
alone would sum thousands. Distinct values above a row (DENSE ranks) are counted from the
group's value table, kept for DENSE boards only.

The cost in writes: a move that stays in its block changes no count; one that crosses into
another block changes two blocks (and two shelves when it crosses shelves too), and one that
joins or leaves the group a block, a shelf and the group's row. Those changes wait in `Pending`
and are written just before commit, table by table in id order, so moves on one board neither
wait for each other's counts while they run nor deadlock; meanwhile a transaction's own counts
are corrected by what it has pending. Moves hold a shared lock on their group's row (KEY SHARE
on PostgreSQL; SQLite serialises writers): blocks and shelves are cut and joined
(leaderboard_rebalance) only under its exclusive lock, between moves.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from app.domain.leaderboard_ports import Standing
from app.domain.leaderboard_ranks import Counting
from app.persistence.codec import as_date, as_datetime
from app.persistence.database import Connection, Row

# Blocks are cut when they grow past this many rows, into blocks of half of it; shelves when
# they hold more than this many blocks. Measured at a million rows on SQLite: counting the
# rows ahead of a key costs about 52 us, against 153 us with blocks of 2,048 rows and no
# shelves.
SPLIT_AT = 256
SHELF_SPLIT_AT = 64

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
# Above every key a row can have (its values are finite).
BEYOND = Key(math.inf, EARLIEST, "")


def shelves_with_next(beyond: int, also: str = "") -> str:
    """The shelves of group $1 as a subquery, each with `also` and the next shelf's key as
    next_value, next_reached and next_id: BEYOND (parameters $beyond to $beyond + 2) for the
    last, so that a shelf's blocks are one index range even on the last shelf."""
    return (
        f"(SELECT id, sort_value, reached_at, external_id, rows{also}, "
        f"COALESCE(LEAD(sort_value) OVER (ORDER BY {ASCENDING}), ${beyond}) AS next_value, "
        f"COALESCE(LEAD(reached_at) OVER (ORDER BY {ASCENDING}), ${beyond + 1}) AS next_reached, "
        f"COALESCE(LEAD(external_id) OVER (ORDER BY {ASCENDING}), ${beyond + 2}) AS next_id "
        "FROM leaderboard_shelf WHERE group_id = $1)"
    )


def next_key_of(row: Row) -> Key:
    """The next shelf's key, from a row of `shelves_with_next`."""
    return Key(float(row["next_value"]), as_datetime(row["next_reached"]), row["next_id"])


async def add_span(conn: Connection, table: str, group_id: int, start: Key, rows: int) -> None:
    """A block or shelf (`table`) of the group, starting at `start` and holding `rows`."""
    await conn.execute(
        f"INSERT INTO {table} (group_id, sort_value, reached_at, external_id, rows) "
        "VALUES ($1, $2, $3, $4, $5)",
        group_id,
        *start.args(),
        rows,
    )


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


@dataclass(frozen=True, slots=True)
class Holders:
    """The block and the shelf a key falls in."""

    block_id: int
    block: Key
    shelf_id: int
    shelf: Key


@dataclass
class Pending:
    """One transaction's changes to block, shelf and group counts, written by `write` before
    commit."""

    blocks: Counter[int] = field(default_factory=Counter)
    block_keys: dict[int, tuple[int, Key]] = field(default_factory=dict)
    shelves: Counter[int] = field(default_factory=Counter)
    groups: Counter[int] = field(default_factory=Counter)

    def count(self, group: Group, holders: Holders, delta: int) -> None:
        self.blocks[holders.block_id] += delta
        self.block_keys[holders.block_id] = (group.id, holders.block)
        self.shelves[holders.shelf_id] += delta

    def ahead_of_block(self, group: Group, block_id: int, key: Key) -> int:
        """What this transaction added to the group's blocks before block `block_id`, the one
        `key` falls in: those that start at or before `key`, but that block itself."""
        return sum(
            delta
            for pending_id, delta in self.blocks.items()
            if pending_id != block_id
            and self.block_keys[pending_id][0] == group.id
            and self.block_keys[pending_id][1].args() <= key.args()
        )

    def touches(self, group: Group) -> bool:
        return any(owner == group.id for owner, _ in self.block_keys.values())

    def rows(self, group: Group) -> int:
        return group.rows + self.groups[group.id]

    async def write(self, conn: Connection) -> None:
        for table, counts in (
            ("leaderboard_group", self.groups),
            ("leaderboard_shelf", self.shelves),
            ("leaderboard_block", self.blocks),
        ):
            for row_id, delta in sorted(counts.items()):
                if delta:
                    await conn.execute(
                        f"UPDATE {table} SET rows = rows + $2 WHERE id = $1", row_id, delta
                    )
        self.blocks.clear()
        self.block_keys.clear()
        self.shelves.clear()
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
            for table in ("leaderboard_block", "leaderboard_shelf"):
                await add_span(conn, table, int(created["id"]), FIRST, 0)
        row = await conn.fetchrow(select, board_id, run_start, name)
    assert row is not None, "inserted above or by a transaction that committed meanwhile"
    return Group(int(row["id"]), board_id, run_start, name, int(row["rows"]))


async def added(
    conn: Connection, group: Group, key: Key, counting: Counting, pending: Pending
) -> None:
    """Counts a row just stored at `key` as the group's."""
    (held,) = await holders_of(conn, group, key)
    pending.count(group, held, 1)
    pending.groups[group.id] += 1
    if counting.wants_distinct:
        await _count_value(conn, group, key.sort_value, 1)


async def removed(
    conn: Connection, group: Group, key: Key, counting: Counting, pending: Pending
) -> None:
    """Uncounts a row that stood at `key` (already moved or gone)."""
    (held,) = await holders_of(conn, group, key)
    pending.count(group, held, -1)
    pending.groups[group.id] -= 1
    if counting.wants_distinct:
        await _count_value(conn, group, key.sort_value, -1)


async def shifted(
    conn: Connection, group: Group, old: Key, new: Key, counting: Counting, pending: Pending
) -> None:
    """A row of the group, already stored at `new`, stood at `old`: counts change only when
    it crossed into another block, which a move seldom does."""
    leaving, entering = await holders_of(conn, group, old, new)
    if leaving.block_id != entering.block_id:
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


async def holders_of(conn: Connection, group: Group, *keys: Key) -> list[Holders]:
    """The block and the shelf holding each key, in one statement."""
    holding = (
        "SELECT * FROM (SELECT id, sort_value, reached_at, external_id, {which} AS which "
        f"FROM {{table}} WHERE group_id = $1 AND {KEY} <= ({{marks}}) "
        f"ORDER BY {DESCENDING} LIMIT 1) AS h{{which}}"
    )
    parts: list[str] = []
    args: list[object] = [group.id]
    for index, key in enumerate(keys):
        marks = f"${len(args) + 1}, ${len(args) + 2}, ${len(args) + 3}"
        args.extend(key.args())
        for kind, table in enumerate(("leaderboard_block", "leaderboard_shelf")):
            parts.append(holding.format(which=2 * index + kind, table=table, marks=marks))
    rows = await conn.fetch(" UNION ALL ".join(parts), *args)
    found = {int(row["which"]): row for row in rows}
    assert len(found) == 2 * len(keys), "the first block and shelf start below every key"
    return [
        Holders(
            int(found[2 * i]["id"]),
            Key.from_row(found[2 * i]),
            int(found[2 * i + 1]["id"]),
            Key.from_row(found[2 * i + 1]),
        )
        for i in range(len(keys))
    ]
