"""Benchmark Laurel against the Strawberry no-op floor, by perf-floor.md's method.

    .venv/bin/python bench/run.py --backend sqlite --achievements 10 --pairs 3 --duration 10 \
        --connections 16 --scenario track

Starts the floor (floor_app.py, MODE=noop) and Laurel, each on a free port with one worker;
seeds Laurel through GraphQL; warms both; runs interleaved pairs (Laurel, then the floor) of
`wrk -t1 -c<conn> -d<dur>s --latency`; then Laurel alone at -c1. Prints a markdown table and the
medians, and appends JSON lines to bench/results/<timestamp>.jsonl. Why interleaved pairs and
ratios: this machine is shared and drifts, so only figures taken side by side compare.
`--dry-floor` runs a second floor in Laurel's place, to test the harness itself.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from contextlib import AbstractContextManager, ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

import cpu
import httpx
import report
import seed
import servers
import wrkrun
from report import Measured, Pair
from servers import Server, ServerSpec

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_FLOOR_DIR = REPO.parent / "shared" / "bench"
UVICORN_OPTS = ["--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop"]
UVICORN_OPTS += ["--http", "httptools", "--log-level", "warning"]
FLOOR_NOTE = {
    "track": "floor: Strawberry no-op trackEvent mutation (floor_app.py MODE=noop), floor.lua",
    "read": "floor: the no-op floor has only `ok: Boolean` to query, so the read scenario is "
    "compared to its no-op trackEvent MUTATION (floor.lua), the GraphQL-over-HTTP floor",
}


@dataclass(frozen=True)
class Config:
    backend: str
    scenario: str
    achievements: int
    streak: bool
    threshold_step: float
    seed_batch: int
    users: int
    read_users: int
    read_events: int
    seed_concurrency: int
    pairs: int
    duration: int
    connections: int
    warmup: int
    unloaded: int
    pg_url: str
    floor_dir: Path
    laurel_cmd: str | None
    laurel_log_level: str
    dry_floor: bool
    startup_timeout: float
    idle_below: float
    idle_timeout: float
    results_dir: Path
    api_key: str
    strict: bool


def parse_args(argv: list[str] | None = None) -> Config:
    """Command line to Config; --achievements defaults by scenario (10 track, 200 read)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--scenario", choices=["track", "read"], default="track")
    p.add_argument("--achievements", type=int, help="metric achievements to seed (10; read: 200)")
    p.add_argument(
        "--threshold-step",
        type=float,
        default=10.0,
        help="achievement i completes at step*(i+1) (default 10: 1 event in 10 crosses)",
    )
    p.add_argument(
        "--seed-batch",
        type=int,
        default=25,
        help="achievements per seeding request (2 mutations each)",
    )
    p.add_argument(
        "--streak",
        action="store_true",
        help="configure a daily streak on the metric, with freezes (start 1, at most 3, one more "
        "every 7 days), so that each event also advances a streak ledger",
    )
    p.add_argument("--users", type=int, default=1000, help="users trackEvent cycles over")
    p.add_argument("--read-users", type=int, default=200, help="read scenario: users to seed/read")
    p.add_argument("--read-events", type=int, default=30, help="read scenario: events per user")
    p.add_argument(
        "--seed-concurrency", type=int, default=8, help="read scenario: users seeded at once"
    )
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--warmup", type=int, default=2, help="seconds of wrk per server before pairs")
    p.add_argument("--unloaded", type=int, default=8, help="seconds of -c1 on Laurel (0: skip)")
    p.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server; a database laurel_bench_<pid> is created and dropped",
    )
    p.add_argument(
        "--floor-dir",
        type=Path,
        default=Path(os.environ.get("LAUREL_FLOOR_DIR", DEFAULT_FLOOR_DIR)),
        help="folder of floor_app.py",
    )
    p.add_argument(
        "--laurel-cmd",
        help="Laurel's command line instead of uvicorn app.main:app; "
        "{port} is replaced; DATABASE_URL and the key are in its environment",
    )
    p.add_argument(
        "--laurel-log-level",
        default="WARNING",
        help="LAUREL_LOG_LEVEL; INFO adds Laurel's line per request, which the floor never writes",
    )
    p.add_argument(
        "--dry-floor",
        action="store_true",
        help="run a second floor in Laurel's place (tests the harness)",
    )
    p.add_argument("--startup-timeout", type=float, default=60.0)
    p.add_argument(
        "--idle-below",
        type=float,
        default=15.0,
        help="wait before each run until foreign CPU < this %% of a core (0: don't)",
    )
    p.add_argument("--idle-timeout", type=float, default=10.0, help="give up waiting after s")
    p.add_argument("--results-dir", type=Path, default=BENCH / "results")
    p.add_argument("--strict", action="store_true", help="exit 1 on a failed target or error")
    a = p.parse_args(argv)
    achievements = (
        a.achievements if a.achievements is not None else (200 if a.scenario == "read" else 10)
    )
    fields = {k: v for k, v in vars(a).items() if k in Config.__dataclass_fields__}
    fields |= {"achievements": achievements, "api_key": "benchadm." + secrets.token_urlsafe(24)}
    return Config(**fields)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Results:
    """JSON lines, appended and flushed as they come, so an interrupted run keeps what it has."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def write(self, kind: str, **fields: Any) -> None:
        self._file.write(json.dumps({"kind": kind, **fields}, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def floor_spec(cfg: Config, name: str = "floor") -> ServerSpec:
    return ServerSpec(
        name=name,
        argv=[
            str(VENV_BIN / "uvicorn"),
            "floor_app:app",
            "--app-dir",
            str(cfg.floor_dir),
            *UVICORN_OPTS,
        ],
        cwd=cfg.floor_dir,
        env={"MODE": "noop"},
        health=servers.graphql_ok("{ ok }"),
    )


def laurel_spec(cfg: Config, database_url: str) -> ServerSpec:
    """Laurel as issue 4 runs it: app.main:app, 1 worker, uvloop + httptools, from the repo."""
    if cfg.dry_floor:
        return floor_spec(cfg, name="laurel (dry run: a second floor)")
    default = [str(VENV_BIN / "uvicorn"), "app.main:app", *UVICORN_OPTS]
    return ServerSpec(
        name="laurel",
        argv=shlex.split(cfg.laurel_cmd) if cfg.laurel_cmd else default,
        cwd=REPO,
        # WARNING, as the floor's `--log-level warning`: neither side writes a line per request.
        env={
            "DATABASE_URL": database_url,
            "LAUREL_BOOTSTRAP_ADMIN_KEY": cfg.api_key,
            "LAUREL_LOG_LEVEL": cfg.laurel_log_level,
        },
        health=servers.http_ok("/healthz"),
    )


def scripts(cfg: Config) -> tuple[Path, Path]:
    """(Laurel's wrk script, the floor's)."""
    floor = BENCH / "floor.lua"
    if cfg.dry_floor:
        return floor, floor
    return BENCH / ("track.lua" if cfg.scenario == "track" else "user_achievements.lua"), floor


def wrk_env(cfg: Config, laurel: bool) -> dict[str, str]:
    users = cfg.read_users if laurel and cfg.scenario == "read" and not cfg.dry_floor else cfg.users
    return {"LAUREL_API_KEY": cfg.api_key, "BENCH_USERS": str(users)}


def prepare_laurel(cfg: Config, laurel: Server) -> None:
    """Seed definitions (and, for reads, events), then send the benchmark request once."""
    script = scripts(cfg)[0]
    headers = {"X-API-Key": cfg.api_key}
    with httpx.Client(base_url=laurel.base_url, headers=headers, timeout=120.0) as client:
        if not cfg.dry_floor:
            started = time.monotonic()
            seed.seed_definitions(client, cfg.achievements, cfg.threshold_step, cfg.seed_batch)
            log(f"seeded {cfg.achievements} achievements in {time.monotonic() - started:.1f} s")
            if cfg.streak:
                seed.configure_streak(client)
                log("configured a daily streak with freezes")
            if cfg.scenario == "read":
                seed.seed_events(
                    laurel.base_url,
                    cfg.api_key,
                    cfg.read_users,
                    cfg.read_events,
                    cfg.seed_concurrency,
                )
                log(f"seeded {cfg.read_users} users x {cfg.read_events} events")
        seed.check_request(client, seed.script_document(script), 0, f"{laurel.spec.name} request")


def check_floor(floor: Server) -> None:
    with httpx.Client(base_url=floor.base_url, timeout=10.0) as client:
        seed.check_request(client, seed.script_document(BENCH / "floor.lua"), 0, "floor request")


def wait_quiet(cfg: Config, pids: dict[str, int]) -> float:
    """Wait (bounded) for foreign CPU to drop; returns the last reading for the record."""
    if cfg.idle_below <= 0:
        return -1.0
    deadline = time.monotonic() + cfg.idle_timeout
    busy = cpu.foreign_busy_pct(pids)
    while busy > cfg.idle_below and time.monotonic() < deadline:
        busy = cpu.foreign_busy_pct(pids)
    if busy > cfg.idle_below:
        log(f"machine still busy ({busy:.0f}% of a core not ours); measuring anyway")
    return busy


class Bench:
    """The two running servers and what a measurement needs to know about them."""

    def __init__(self, cfg: Config, laurel: Server, floor: Server, results: Results) -> None:
        self.cfg, self.laurel, self.floor, self.results = cfg, laurel, floor, results
        self.pids = {"laurel": laurel.pid, "floor": floor.pid}
        self.scripts = scripts(cfg)

    def measure(self, who: str, connections: int, duration: int, **record: Any) -> Measured:
        """One wrk run against `who` ("laurel" or "floor"), with its CPU, recorded."""
        server, script = (
            (self.laurel, self.scripts[0]) if who == "laurel" else (self.floor, self.scripts[1])
        )
        servers.ensure_alive(server)
        quiet = wait_quiet(self.cfg, self.pids)
        env = wrk_env(self.cfg, laurel=who == "laurel")
        before = cpu.sample(self.pids)
        result, raw = wrkrun.run(server.base_url + "/graphql", script, connections, duration, env)
        measured = Measured(result, cpu.usage(before, cpu.sample(self.pids), who))
        self.results.write(
            "run",
            server=who,
            connections=connections,
            pre_busy_pct=quiet,
            **record,
            **measured.as_dict(),
            wrk_output=raw,
        )
        warn_unclean(who, result)
        servers.ensure_alive(server)
        return measured

    def pair(self, index: int) -> Pair:
        c, d = self.cfg.connections, self.cfg.duration
        laurel = self.measure("laurel", c, d, phase="pair", pair=index)
        floor = self.measure("floor", c, d, phase="pair", pair=index)
        pair = Pair(laurel, floor)
        log(f"pair {index + 1}: " + report.table_row(str(index + 1), pair.figures()))
        return pair


def warn_unclean(who: str, result: wrkrun.WrkResult) -> None:
    if result.requests < 100:
        log(f"WARNING {who}: only {result.requests} requests completed; percentiles are rough")
    if not result.clean:
        log(
            f"WARNING {who}: {result.bad_responses} bad responses, {result.non_2xx} non-2xx, "
            f"{result.socket_errors} socket errors, {result.timeouts} timeouts; "
            f"first: {result.first_bad[:300]}"
        )


def versions() -> dict[str, str]:
    names = [
        "strawberry-graphql",
        "graphql-core",
        "starlette",
        "uvicorn",
        "tortoise-orm",
        "aiosqlite",
        "asyncpg",
        "httpx",
    ]
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def git_commit() -> str | None:
    proc = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def database(cfg: Config) -> AbstractContextManager[str]:
    """A fresh database per run (created even with --dry-floor, to test create and drop)."""
    if cfg.backend == "postgres":
        return servers.postgres_database(cfg.pg_url, f"laurel_bench_{os.getpid()}")
    return servers.sqlite_database()


def warm(bench: Bench) -> None:
    """Fill caches (validation, definitions), pools and the page cache before anything is timed."""
    if bench.cfg.warmup > 0:
        for who in ("laurel", "floor"):
            bench.measure(who, bench.cfg.connections, bench.cfg.warmup, phase="warmup")


def unloaded(bench: Bench) -> tuple[Measured, Measured] | None:
    """Laurel, then the floor, alone at -c1: the latency of one request with nothing queued in
    front of it. The target is in milliseconds, so the floor's own figure says how fast this
    machine is (perf-baseline.md's, where the targets were set: 0.38 ms)."""
    if bench.cfg.unloaded <= 0:
        return None
    return (
        bench.measure("laurel", 1, bench.cfg.unloaded, phase="unloaded"),
        bench.measure("floor", 1, bench.cfg.unloaded, phase="unloaded"),
    )


def title(cfg: Config) -> str:
    what = "trackEvent" if cfg.scenario == "track" else "user achievements (read)"
    dry = " — DRY RUN: Laurel replaced by a second floor" if cfg.dry_floor else ""
    return (
        f"## Laurel vs floor: {what}, {cfg.backend}, {cfg.achievements} achievements, "
        f"c={cfg.connections}, {cfg.duration} s x {cfg.pairs} pairs{dry}"
    )


def render(
    cfg: Config,
    pairs: list[Pair],
    alone: tuple[Measured, Measured] | None,
    summary: dict[str, float],
    results: Path,
) -> tuple[str, bool]:
    """The markdown report, and whether every target passed and every response was clean."""
    lines = [title(cfg), "", FLOOR_NOTE[cfg.scenario], "", report.pairs_table(pairs, summary), ""]
    noisy = report.disturbed(pairs, max(cfg.idle_below, 15.0))
    if noisy:
        lines += [noisy, ""]
    p50 = alone[0].result.p50_ms if alone else None
    for who, measured in zip(("Laurel", "floor"), alone or (), strict=False):
        r = measured.result
        lines.append(
            f"Unloaded ({who} alone, -c1, {cfg.unloaded} s): p50 {r.p50_ms:.2f} ms, "
            f"p99 {r.p99_ms:.2f} ms, {r.rps:,.0f} req/s, "
            f"{measured.cpu_us_per_req:,.0f} µs CPU/req"
        )
    if alone:
        ratio = alone[0].result.p50_ms / alone[1].result.p50_ms
        lines.append(f"Unloaded p50, Laurel / floor: {ratio:.2f}")
    runs = [m for p in pairs for m in (p.laurel, p.floor)] + list(alone or ())
    clean = all(m.result.clean for m in runs)
    verdicts = report.verdicts(summary, p50, cfg.backend, cfg.scenario, clean)
    lines += ["", f"Targets (issue 4, {cfg.scenario}):", *verdicts, "", f"Results: {results}"]
    return "\n".join(lines), clean and not any("FAIL" in v for v in verdicts)


def measure_all(cfg: Config, results: Results, laurel: Server, floor: Server) -> int:
    bench = Bench(cfg, laurel, floor, results)
    warm(bench)
    pairs = [bench.pair(i) for i in range(cfg.pairs)]
    alone = unloaded(bench)
    summary = report.summarize(pairs)
    results.write(
        "summary",
        **{key: round(value, 4) for key, value in summary.items()},
        achievements=cfg.achievements,
        connections=cfg.connections,
        backend=cfg.backend,
        scenario=cfg.scenario,
        dry_floor=cfg.dry_floor,
        unloaded_p50_ms=alone[0].result.p50_ms if alone else None,
        unloaded_p99_ms=alone[0].result.p99_ms if alone else None,
        floor_unloaded_p50_ms=alone[1].result.p50_ms if alone else None,
    )
    text, passed = render(cfg, pairs, alone, summary, results.path)
    print(text)
    return 1 if cfg.strict and not passed else 0


def run(cfg: Config) -> int:
    """Everything between the two servers' start and their stop; ExitStack undoes it in order."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results = Results(cfg.results_dir / f"{stamp}.jsonl")
    record = {k: v for k, v in asdict(cfg).items() if k != "api_key"}
    results.write(
        "meta",
        started=stamp,
        config=record,
        versions=versions(),
        commit=git_commit(),
        cpus=os.cpu_count(),
        argv=sys.argv,
    )
    with ExitStack() as stack:
        stack.callback(results.close)
        db_url = stack.enter_context(database(cfg))
        logs = cfg.results_dir / f"{stamp}"
        floor = stack.enter_context(
            servers.running(floor_spec(cfg), Path(f"{logs}-floor.log"), cfg.startup_timeout)
        )
        laurel = stack.enter_context(
            servers.running(
                laurel_spec(cfg, db_url), Path(f"{logs}-laurel.log"), cfg.startup_timeout
            )
        )
        log(
            f"floor on {floor.base_url} (pid {floor.pid}), laurel on {laurel.base_url} "
            f"(pid {laurel.pid}), database {db_url}"
        )
        check_floor(floor)
        prepare_laurel(cfg, laurel)
        return measure_all(cfg, results, laurel, floor)
    raise AssertionError("unreachable")


def _terminate(signum: int, _frame: object) -> NoReturn:
    """SIGTERM (a CI timeout, kill PID) unwinds like Ctrl-C, so servers and database go."""
    log(f"signal {signum}: stopping servers, dropping the database")
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    if not (cfg.floor_dir / "floor_app.py").exists():
        log(
            f"FAILED: the floor servers are not in {cfg.floor_dir} (floor_app.py); they live "
            "beside the repository, in shared/bench: pass --floor-dir or LAUREL_FLOOR_DIR"
        )
        return 2
    if not Path(wrkrun.WRK).exists():
        log(f"FAILED: wrk is not at {wrkrun.WRK} (Debian: apt-get install wrk; or set WRK)")
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(cfg)
    except (servers.ServerError, seed.GraphQLError, wrkrun.WrkError) as exc:
        log(f"FAILED: {exc}")
        return 2
    except KeyboardInterrupt:
        log("interrupted; servers stopped, database dropped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
