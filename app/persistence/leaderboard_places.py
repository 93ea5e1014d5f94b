"""Where a row stands in its leaderboard group, read from the group's shelves and blocks
(leaderboard_blocks): the rows ahead of a key, the key at an offset, and the survey of a row
about to move, each in a constant number of statements whatever the group's size."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.leaderboard_ranks import Counting, Place
from app.persistence.codec import prefixed
from app.persistence.database import Connection
from app.persistence.leaderboard_blocks import (
    ASCENDING,
    BEYOND,
    DESCENDING,
    FIRST,
    IN_GROUP,
    KEY,
    NOTHING_PENDING,
    Group,
    Key,
    Pending,
    holders_of,
    next_key_of,
    shelves_with_next,
)


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
    """Rows before `key`: the shelves before its shelf, its shelf's blocks before its block,
    and its block's rows before it, in one statement, so that a reader sees one state even
    while a rebalance joins blocks. Within a transaction that has counts pending (it holds the
    group's shared lock, so nothing is rebalanced meanwhile), the block and shelf are found
    first and the block's key corrects the sum."""
    if not pending.touches(group):
        found = await conn.fetchrow(
            f"SELECT {_ahead(5)} AS n", *group.entries(), group.id, *key.args()
        )
        assert found is not None
        return int(found["n"])
    (held,) = await holders_of(conn, group, key)
    found = await conn.fetchrow(
        "SELECT (SELECT COALESCE(SUM(rows), 0) FROM leaderboard_shelf "
        f"WHERE group_id = $4 AND {KEY} < ($5, $6, $7)) + "
        "(SELECT COALESCE(SUM(rows), 0) FROM leaderboard_block "
        f"WHERE group_id = $4 AND {KEY} >= ($5, $6, $7) AND {KEY} < ($8, $9, $10)) + "
        f"(SELECT COUNT(*) FROM leaderboard_entry WHERE {IN_GROUP} "
        f"AND {KEY} >= ($8, $9, $10) AND {KEY} < ($11, $12, $13)) AS n",
        *group.entries(),
        group.id,
        *held.shelf.args(),
        *held.block.args(),
        *key.args(),
    )
    assert found is not None
    return int(found["n"]) + pending.ahead_of_block(group, held.block_id, key)


@dataclass(frozen=True, slots=True)
class Survey:
    """A row about to move within its group, surveyed before it moves: where it stands, the
    counts at its new key (which still see the row at its old one), and whether both keys lie
    in one block (then no block count changes)."""

    before: Place
    after_seen: Place
    one_block: bool


async def survey(
    conn: Connection,
    group: Group,
    before: Key,
    after: Key,
    counting: Counting,
    pending: Pending = NOTHING_PENDING,
) -> Survey:
    """All in one statement, for a counting that wants no distinct values (each place is
    `place` of that key). The new key's counts are the old key's plus or minus the rows
    between the two when both lie in one block (a move is mostly small), so only the old key's
    counts sum shelves and blocks and scan a block. With counts pending on the group (earlier
    moves of this transaction), the statement also names the block each summed key falls in,
    and the pending changes of the blocks before it correct the sum, as `ahead_of` does."""
    assert not counting.wants_distinct, "distinct values are counted apart"
    pairs: list[tuple[Key, Key]] = []
    if counting.wants_ahead:
        pairs.append((before, after))
    if counting.wants_greater:
        pairs.append((Key.above(-before.sort_value), Key.above(-after.sort_value)))
    args: list[object] = [*group.entries(), group.id]
    corrected = pending.touches(group)

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
        if corrected:
            columns += [
                f"{_block_sql(at_old)} AS old_block{i}",
                f"{_block_sql(at_new)} AS new_block{i}",
            ]
    at_old, at_new = mark(before), mark(after)
    columns.append(
        f"CASE WHEN {_block_sql(at_old)} = {_block_sql(at_new)} THEN 1 ELSE 0 END AS one_block"
    )
    found = await conn.fetchrow(f"SELECT {', '.join(columns)}", *args)
    assert found is not None

    def counted(column: str, i: int, key: Key) -> int:
        n = int(found[f"{column}{i}"])
        if corrected:
            n += pending.ahead_of_block(group, int(found[f"{column}_block{i}"]), key)
        return n

    olds, news = [], []
    for i, (old, new) in enumerate(pairs):
        olds.append(counted("old", i, old))
        if found[f"new{i}"] is not None:
            news.append(counted("new", i, new))
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


def _block_sql(mark: int, columns: str = "id", table: str = "leaderboard_block") -> str:
    """The block (or shelf) of group $4 holding the key ($mark, ...)."""
    return (
        f"(SELECT {columns} FROM {table} WHERE group_id = $4 "
        f"AND {KEY} <= (${mark}, ${mark + 1}, ${mark + 2}) ORDER BY {DESCENDING} LIMIT 1)"
    )


def _ahead(mark: int) -> str:
    """Rows of group $4 (entries: $1-$3) before the key ($mark, ...): summed shelves, then
    the blocks of the key's own shelf, then the rows of the key's own block."""
    key = f"(${mark}, ${mark + 1}, ${mark + 2})"
    block_of = _block_sql(mark, "sort_value, reached_at, external_id")
    shelf_of = _block_sql(mark, "sort_value, reached_at, external_id", "leaderboard_shelf")
    return (
        f"((SELECT COALESCE(SUM(rows), 0) FROM leaderboard_shelf "
        f"WHERE group_id = $4 AND {KEY} < {shelf_of}) + "
        f"(SELECT COALESCE(SUM(rows), 0) FROM leaderboard_block "
        f"WHERE group_id = $4 AND {KEY} >= {shelf_of} AND {KEY} < {block_of}) + "
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
    """The block holding the row `offset` rows from the top, and that row's offset in it: the
    shelf holding it first, then the block among that shelf's."""
    if not pending.touches(group):
        block = await conn.fetchrow(_BLOCK_AT, group.id, offset, *BEYOND.args())
        assert block is not None, "offset is below the group's rows"
        return Key.from_row(block), offset - int(block["before"])
    shelves = await conn.fetch(
        f"SELECT * FROM {shelves_with_next(2)} AS s ORDER BY {ASCENDING}",
        group.id,
        *BEYOND.args(),
    )
    through, start, end = 0, FIRST, BEYOND
    for shelf in shelves:
        rows = int(shelf["rows"]) + pending.shelves[int(shelf["id"])]
        if through + rows > offset:
            start, end = Key.from_row(shelf), next_key_of(shelf)
            break
        through += rows
    found = start, offset - through
    for block in await conn.fetch(
        f"SELECT id, sort_value, reached_at, external_id, rows FROM leaderboard_block "
        f"WHERE group_id = $1 AND {KEY} >= ($2, $3, $4) AND {KEY} < ($5, $6, $7) "
        f"ORDER BY {ASCENDING}",
        group.id,
        *start.args(),
        *end.args(),
    ):
        rows = int(block["rows"]) + pending.blocks[int(block["id"])]
        if through + rows > offset:
            return Key.from_row(block), offset - through
        through += rows
    return found


# `_block_at` for committed counts, in one statement: the shelf whose rows reach past the
# offset ($2), and the first block of that shelf (up to the next shelf's key, or BEYOND:
# $3-$5) whose rows do.
_BLOCK_AT = (
    "WITH shelf AS (SELECT sort_value AS shelf_value, reached_at AS shelf_reached, "
    "external_id AS shelf_id, through - rows AS before, next_value, next_reached, next_id "
    f"FROM {shelves_with_next(3, f', SUM(rows) OVER (ORDER BY {ASCENDING}) AS through')} AS s "
    f"WHERE through > $2 ORDER BY {ASCENDING} LIMIT 1), "
    "inside AS (SELECT b.sort_value, b.reached_at, b.external_id, b.rows, "
    f"SUM(b.rows) OVER (ORDER BY {prefixed('b', ASCENDING)}) AS through "
    "FROM leaderboard_block b, shelf WHERE b.group_id = $1 "
    "AND (b.sort_value, b.reached_at, b.external_id) "
    ">= (shelf.shelf_value, shelf.shelf_reached, shelf.shelf_id) "
    "AND (b.sort_value, b.reached_at, b.external_id) "
    "< (shelf.next_value, shelf.next_reached, shelf.next_id)) "
    "SELECT inside.sort_value, inside.reached_at, inside.external_id, "
    "shelf.before + inside.through - inside.rows AS before FROM inside, shelf "
    f"WHERE shelf.before + inside.through > $2 ORDER BY {prefixed('inside', ASCENDING)} LIMIT 1"
)
