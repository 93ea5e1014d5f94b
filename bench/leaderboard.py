"""Leaderboards at a million participants: a rank and pages, and what moving on such a board
costs trackEvent.

    .venv/bin/python bench/leaderboard.py --backend sqlite      # or postgres
    .venv/bin/python bench/leaderboard.py --backend postgres --participants 1000000 --pairs 3

Two Laurel servers on fresh databases, each with `lessons`, its 10 metric achievements and
`--participants` users (`user-0` ...) loaded in bulk, in SQL. One also has an ACTIVE perpetual
board `big` ranking `lessons` (its backfill called off), on which every user has a row (values:
integers spread with about ten users to a value; instants: a day's seconds), loaded in bulk
too; its group's blocks and shelves are then rebuilt from the rows
(leaderboard_rebalance.rebuild), as events would have built them.

Latency, unloaded: one request at a time over one keep-alive connection, `--samples` of each,
over users ranked near the middle of the board:
  rank    user(id) { leaderboard(key: "big") { rank value } }
  around  leaderboard(key: "big", aroundUserId, offset: -5, limit: 11): 11 rows
  top     leaderboard(key: "big", limit: 10)
Targets: rank and around at most 10 ms p50, top at most 3 ms p50. For scale, the same is
measured of `{ leaderboards { key } }`, a request that ranks nothing (the baseline row).

Throughput: wrk sends the same trackEvent (track.lua, over `--users` of the seeded users, each
of whom moves on the board) to each server in interleaved pairs; the figure is the median ratio,
with the board over without. Target: at least 0.8. Other options are run.py's.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import date

import growth
import httpx
import points
import run
import seed
from tortoise import Tortoise

from app.domain.leaderboard_ranks import Counting
from app.domain.leaderboards import TiePolicy
from app.persistence import leaderboard_blocks as blocks
from app.persistence.config import tortoise_config
from app.persistence.database import open_database
from app.persistence.leaderboard_rebalance import rebuild

BOARD = "big"
RUN_START = "2026-01-01"
RANK_TARGET_MS, TOP_TARGET_MS, THROUGHPUT_TARGET = 10.0, 3.0, 0.8
RANK = 'query($u: String!) { user(id: $u) { leaderboard(key: "big") { rank value } } }'
AROUND = (
    'query($u: String!) { leaderboard(key: "big", aroundUserId: $u, offset: -5, limit: 11) '
    "{ participants rankings { rank value user { id } } } }"
)
BASELINE = "{ leaderboards { key } }"
TOP = '{ leaderboard(key: "big", limit: 10) { participants rankings { rank value user { id } } } }'
MIDDLE = (
    'query($o: Int!) { leaderboard(key: "big", offset: $o, limit: 50) '
    "{ rankings { user { id } } } }"
)


def create_board(client: httpx.Client) -> None:
    seed.gql(
        client,
        'mutation { createLeaderboard(input: {key: "big", name: "Big", '
        f'rankBy: {{metricKey: "{seed.METRIC_KEY}"}}, start: "{RUN_START}", timeZone: "UTC"}}) '
        '{ key } setLeaderboardStatus(key: "big", status: ACTIVE) { status } }',
        what="leaderboard",
    )


def load_statements(dialect: str, participants: int, board: bool) -> list[str]:
    """Users (the check request's user is kept), and with `board` their rows on it."""
    people, _ = growth.grow_statements(dialect, participants, participants)
    if not board:
        return [people[0], people[2]]
    # The rows are seeded here, as a finished backfill would leave them: the board's own
    # backfill (of the users about to be loaded) is called off first.
    statements = [
        f"UPDATE leaderboard SET backfill_after = NULL WHERE key = '{BOARD}'",
        people[0],
        people[2],
    ]
    if dialect == "postgres":
        reached = "TIMESTAMPTZ '2026-01-01 00:00:00+00' + (u.id % 86400) * INTERVAL '1 second'"
    else:
        reached = (
            "strftime('%Y-%m-%d %H:%M:%S', '2026-01-01', '+' || (u.id % 86400) || ' seconds') "
            "|| '+00:00'"
        )
    value = f"((CAST(u.id AS BIGINT) * 7919) % {max(1, participants // 10)})"
    statements.append(
        "INSERT INTO leaderboard_entry (board_id, run_start, grp, user_id, external_id, value, "
        f"sort_value, reached_at) SELECT b.id, '{RUN_START}', '', u.id, u.external_id, "
        f"{value}, -{value}, {reached} FROM app_user u JOIN leaderboard b "
        f"ON b.tenant_id = u.tenant_id AND b.key = '{BOARD}' ON CONFLICT DO NOTHING"
    )
    return statements


def load(cfg: run.Config, url: str, participants: int, board: bool) -> None:
    statements = load_statements(cfg.backend, participants, board)
    if cfg.backend == "postgres":
        for sql in statements:
            growth._psql(url, sql)
        growth._psql(url, "VACUUM ANALYZE")
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite://"), isolation_level=None, timeout=60)
        try:
            for sql in statements:
                conn.execute(sql)
            conn.execute("ANALYZE")
        finally:
            conn.close()
    if board:
        asyncio.run(rebuild_board(url))


async def rebuild_board(url: str) -> None:
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    database = open_database(url)
    try:
        async with database.transaction() as conn:
            found = await conn.fetchrow("SELECT id FROM leaderboard WHERE key = $1", BOARD)
            assert found is not None, "created through the API"
            joined = await blocks.join_group(
                conn, int(found["id"]), date.fromisoformat(RUN_START), ""
            )
            group = await rebuild(conn, joined.id, Counting(TiePolicy.SHARED, None))
        run.log(f"board {BOARD!r}: {group.rows:,} rows")
    finally:
        await database.close()
        await Tortoise.close_connections()


def latencies(
    client: httpx.Client, query: str, users: list[str], samples: int
) -> tuple[float, float]:
    """p50 and p99 in ms, one request at a time."""
    taken = []
    for index in range(samples):
        variables = {"u": users[index % len(users)]} if "$u" in query else {}
        started = time.perf_counter()
        seed.gql(client, query, variables, what="latency sample")
        taken.append((time.perf_counter() - started) * 1000)
    taken.sort()
    return statistics.median(taken), taken[min(len(taken) - 1, int(len(taken) * 0.99))]


def measure_reads(cfg: run.Config, base_url: str, participants: int, samples: int) -> list[str]:
    headers = {"X-API-Key": cfg.api_key}
    lines = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
        middle = seed.gql(client, MIDDLE, {"o": participants // 2}, what="middle users")
        users = [r["user"]["id"] for r in middle["leaderboard"]["rankings"]]
        rank = seed.gql(client, RANK, {"u": users[0]})["user"]["leaderboard"]["rank"]
        run.log(f"reading around {users[0]} (rank {rank:,})")
        base50, base99 = latencies(client, BASELINE, users, samples)
        lines.append(f"| baseline (no ranking) | {base50:.2f} | {base99:.2f} | | |")
        for name, query, target in (
            ("rank", RANK, RANK_TARGET_MS),
            ("around (11 rows)", AROUND, RANK_TARGET_MS),
            ("top 10", TOP, TOP_TARGET_MS),
        ):
            latencies(client, query, users, max(20, samples // 10))
            p50, p99 = latencies(client, query, users, samples)
            verdict = "PASS" if p50 <= target else "FAIL"
            lines.append(f"| {name} | {p50:.2f} | {p99:.2f} | {target:g} | {verdict} |")
            run.log(lines[-1])
    return lines


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    participants = points.take_option(args, "--participants", 1_000_000)
    samples = points.take_option(args, "--samples", 300)
    cfg = run.parse_args(args)
    logs = cfg.results_dir / "leaderboard"
    logs.mkdir(parents=True, exist_ok=True)
    ratios, rows = [], []
    with ExitStack() as stack:
        started = {}
        for name in ("board", "plain"):
            url, server = points.start_laurel(stack, cfg, name, logs)
            points.prepare(cfg, server, 0, 1)
            if name == "board":
                headers = {"X-API-Key": cfg.api_key}
                with httpx.Client(base_url=server.base_url, headers=headers) as client:
                    create_board(client)
            run.log(f"{name}: loading {participants:,} users")
            load(cfg, url, participants, board=name == "board")
            started[name] = server
        reads = measure_reads(cfg, started["board"].base_url, participants, samples)
        for server in started.values():
            points.measure(cfg, server, cfg.warmup)
        for index in range(cfg.pairs):
            with_board = points.measure(cfg, started["board"], cfg.duration)
            without = points.measure(cfg, started["plain"], cfg.duration)
            ratios.append(with_board.result.rps / without.result.rps)
            rows.append(
                f"| {index + 1} | {with_board.result.rps:,.0f} | {without.result.rps:,.0f} "
                f"| {ratios[-1]:.3f} |"
            )
            run.log(rows[-1])
    median = statistics.median(ratios)
    verdict = "PASS" if median >= THROUGHPUT_TARGET else "FAIL"
    print(f"## Leaderboard of {participants:,} participants, {cfg.backend}\n")
    print("| read | p50 ms | p99 ms | target p50 ms | |\n|---|---|---|---|---|")
    print("\n".join(reads))
    print(
        f"\n## trackEvent moving users on it vs no board, c={cfg.connections}, "
        f"{cfg.duration} s x {cfg.pairs}\n"
    )
    print("| pair | with board req/s | without req/s | ratio |\n|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nmedian throughput ratio {median:.3f} (target >= {THROUGHPUT_TARGET}): {verdict}")
    failed = verdict == "FAIL" or any("FAIL" in line for line in reads)
    return 1 if failed and cfg.strict else 0


if __name__ == "__main__":
    sys.exit(main())
