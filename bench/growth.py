"""How Laurel holds up as data grows: bytes per stored event, and trackEvent's throughput with
a million stored events and 100,000 users, against the same server on an empty database.

    .venv/bin/python bench/growth.py --backend sqlite      # or postgres
    .venv/bin/python bench/growth.py --backend postgres --events 1000000 --grown-users 100000

Two Laurel servers with the same 10 metric achievements on `lessons`. One database is grown in
bulk, in SQL, straight into the tables: `--grown-users` users (`user-0` ...), each with
`--events` / `--grown-users` events of value 0.5 and the total they add up to (below every
achievement's threshold, so no completion is missing). Bytes per event are the event table's
growth with its indexes (SQLite: the file after a checkpoint; PostgreSQL:
`pg_total_relation_size`). Then wrk sends the same trackEvent to each server in interleaved
pairs, over `--users` of the seeded users (so the grown side updates users with history, and
the empty side creates them); the figure is the median throughput ratio, grown over empty.
Other options (duration, connections, database) are run.py's.
"""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
from contextlib import ExitStack
from urllib.parse import urlsplit

import points
import run

STORED_AT = "2026-01-01 00:00:00+00:00"
VALUE = 0.5


def _rows(count: int, dialect: str) -> str:
    """A row source of `i` from 0 to count - 1."""
    if dialect == "postgres":
        return f"generate_series(0, {count - 1}) AS n(i)"
    return "n"


def _numbers(count: int, dialect: str) -> str:
    if dialect == "postgres":
        return ""
    return f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {count - 1}) "


def grow_statements(dialect: str, users: int, events: int) -> tuple[list[str], list[str]]:
    """Users and their totals, then the events: two lists, so the events' size is measured
    on its own. The benchmark's check request may have created a user already: it is kept."""
    per_user = events // users
    tenant = "(SELECT MIN(id) FROM tenant)"
    metric = "(SELECT id FROM metric WHERE key = 'lessons')"
    people = [
        f"{_numbers(users, dialect)}INSERT INTO app_user (tenant_id, external_id, tz, attributes, "
        f"created_at) SELECT {tenant}, 'user-' || i, 'UTC', '[]', '{STORED_AT}' "
        f"FROM {_rows(users, dialect)} WHERE true ON CONFLICT DO NOTHING",
        "INSERT INTO metric_total (tenant_id, user_id, metric_id, attr_key, attr_value, total, "
        f"prev_total) SELECT tenant_id, id, {metric}, '', '', {per_user * VALUE}, "
        f"{(per_user - 1) * VALUE} FROM app_user WHERE true ON CONFLICT DO NOTHING",
        f"UPDATE tenant SET user_count = user_count + {users} WHERE id = {tenant}",
    ]
    history = [
        f"{_numbers(events, dialect)}INSERT INTO event (tenant_id, user_id, metric_id, value, "
        f"attributes, occurred_at, created_at) SELECT u.tenant_id, u.id, {metric}, {VALUE}, "
        f"'[]', '{STORED_AT}', '{STORED_AT}' FROM {_rows(events, dialect)} JOIN app_user u "
        f"ON u.tenant_id = {tenant} AND u.external_id = 'user-' || (i % {users})",
    ]
    return people, history


def _sqlite_size(conn: sqlite3.Connection) -> int:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    return int(pages) * int(conn.execute("PRAGMA page_size").fetchone()[0])


def grow_sqlite(path: str, users: int, events: int) -> float:
    people, history = grow_statements("sqlite", users, events)
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        for sql in people:
            conn.execute(sql)
        before = _sqlite_size(conn)
        for sql in history:
            conn.execute(sql)
        return (_sqlite_size(conn) - before) / events
    finally:
        conn.close()


def _psql(url: str, sql: str) -> str:
    parts = urlsplit(url)
    argv = ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql]
    argv += ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    argv += ["-U", parts.username or "postgres", "-d", parts.path.lstrip("/")]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def grow_postgres(url: str, users: int, events: int) -> float:
    people, history = grow_statements("postgres", users, events)
    for sql in people:
        _psql(url, sql)
    size = "SELECT pg_total_relation_size('event')"
    before = int(_psql(url, size))
    for sql in history:
        _psql(url, sql)
    _psql(url, "VACUUM ANALYZE event")
    return (int(_psql(url, size)) - before) / events


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    events = points.take_option(args, "--events", 1_000_000)
    grown_users = points.take_option(args, "--grown-users", 100_000)
    cfg = run.parse_args(args)
    logs = cfg.results_dir / "growth"
    logs.mkdir(parents=True, exist_ok=True)
    ratios, rows = [], []
    with ExitStack() as stack:
        started = {}
        per_event = 0.0
        for name in ("grown", "empty"):
            url, server = points.start_laurel(stack, cfg, name, logs)
            points.prepare(cfg, server, 0, 1)
            if name == "grown":
                run.log(f"growing {events:,} events over {grown_users:,} users")
                if cfg.backend == "postgres":
                    per_event = grow_postgres(url, grown_users, events)
                else:
                    per_event = grow_sqlite(url.removeprefix("sqlite://"), grown_users, events)
                run.log(f"{per_event:.0f} bytes per stored event")
            started[name] = server
        for server in started.values():
            points.measure(cfg, server, cfg.warmup)
        for index in range(cfg.pairs):
            grown = points.measure(cfg, started["grown"], cfg.duration)
            empty = points.measure(cfg, started["empty"], cfg.duration)
            ratios.append(grown.result.rps / empty.result.rps)
            rows.append(
                f"| {index + 1} | {grown.result.rps:,.0f} | {empty.result.rps:,.0f} "
                f"| {ratios[-1]:.3f} |"
            )
            run.log(rows[-1])
    print(
        f"## trackEvent with {events:,} stored events and {grown_users:,} users vs an empty "
        f"database, {cfg.backend}, c={cfg.connections}, {cfg.duration} s x {cfg.pairs}\n"
    )
    print(f"bytes per stored event (table and indexes): {per_event:.0f}\n")
    print("| pair | grown req/s | empty req/s | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nmedian throughput ratio {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
