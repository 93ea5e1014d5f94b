"""What points cost trackEvent: the same event with and without points triggers, in one run.

    .venv/bin/python bench/points.py --backend sqlite      # or postgres
    .venv/bin/python bench/points.py --backend postgres --triggers 5 --pairs 3

Two Laurel servers, each with its own fresh database and the same 10 metric achievements on
`lessons`: one also has a points system with `--triggers` METRIC triggers on that metric (steps
of 1, 2, 5, 10 and 25 lessons, times `--step-scale`: with 1, every event awards at least once,
as "XP per lesson" does; with 10, about one event in ten, as the achievements), the other none.
wrk sends the same trackEvent (track.lua) to each in turn, `--pairs` interleaved pairs; the
report is the median of the per-pair throughput ratios, with points over without, and of the
CPU per request. Why two Laurels and not the floor: the question is what points add to Laurel's
own event path, and both sides then drift with the machine alike. Other options (duration,
connections, users, database) are run.py's.
"""

from __future__ import annotations

import os
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import cpu
import httpx
import report
import run
import seed
import servers
import wrkrun

STEPS = (1, 2, 5, 10, 25)
TARGET = 0.9


def seed_points(client: httpx.Client, triggers: int, scale: int = 1) -> None:
    """A points system with `triggers` ACTIVE METRIC triggers on the benchmark's metric, their
    steps STEPS times `scale`."""
    seed.gql(
        client,
        'mutation { createPointsSystem(input: {key: "xp", name: "XP"}) { id } }',
        what="points system",
    )
    for index in range(triggers):
        step = scale * STEPS[index % len(STEPS)] * (1 + index // len(STEPS))
        key = f"per-{index}"
        seed.gql(
            client,
            'mutation($k: String!, $t: Float!) { createPointsTrigger(systemKey: "xp", input: '
            f'{{key: $k, points: 10, type: {{metric: {{metricKey: "{seed.METRIC_KEY}", '
            "metricThreshold: $t}}}) { __typename } "
            'setPointsTriggerStatus(systemKey: "xp", key: $k, status: ACTIVE) { __typename } }',
            {"k": key, "t": float(step)},
            what=f"points trigger {key}",
        )


def prepare(cfg: run.Config, server: servers.Server, triggers: int, scale: int) -> None:
    headers = {"X-API-Key": cfg.api_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=120.0) as client:
        seed.seed_definitions(client, cfg.achievements, cfg.threshold_step, cfg.seed_batch)
        if triggers:
            seed_points(client, triggers, scale)
        document = seed.script_document(run.BENCH / "track.lua")
        seed.check_request(client, document, 0, f"{server.spec.name} request")


def measure(cfg: run.Config, server: servers.Server, duration: int) -> report.Measured:
    """One wrk run, with the server's CPU per request: steadier than req/s on a busy machine."""
    servers.ensure_alive(server)
    env = run.wrk_env(cfg, laurel=True)
    pids = {"server": server.pid}
    before = cpu.sample(pids)
    result, _ = wrkrun.run(
        server.base_url + "/graphql", run.BENCH / "track.lua", cfg.connections, duration, env
    )
    run.warn_unclean(server.spec.name, result)
    return report.Measured(result, cpu.usage(before, cpu.sample(pids), "server"))


def database(cfg: run.Config, name: str) -> Any:
    if cfg.backend == "postgres":
        return servers.postgres_database(cfg.pg_url, f"laurel_bench_{name}_{os.getpid()}")
    return servers.sqlite_database()


def start_laurel(
    stack: ExitStack, cfg: run.Config, name: str, logs: Path
) -> tuple[str, servers.Server]:
    """A Laurel named `name` on a fresh database of its own, its log in `logs/<name>.log`,
    stopped and its database dropped when `stack` closes; returns its database URL too."""
    url = stack.enter_context(database(cfg, name))
    spec = run.laurel_spec(cfg, url)
    spec.name = f"laurel-{name}"
    server = stack.enter_context(
        servers.running(spec, Path(logs / f"{name}.log"), cfg.startup_timeout)
    )
    return url, server


def take_option(args: list[str], name: str, default: int) -> int:
    """Takes this script's own option out of run.py's."""
    if name not in args:
        return default
    at = args.index(name)
    value = int(args[at + 1])
    del args[at : at + 2]
    return value


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    triggers, scale = take_option(args, "--triggers", 5), take_option(args, "--step-scale", 1)
    cfg = run.parse_args(args)
    logs = cfg.results_dir / "points"
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        started = {}
        for name, count in (("points", triggers), ("plain", 0)):
            _, server = start_laurel(stack, cfg, name, logs)
            prepare(cfg, server, count, scale)
            started[name] = server
        for server in started.values():
            measure(cfg, server, cfg.warmup)
        ratios, cpu_ratios, rows = [], [], []
        for index in range(cfg.pairs):
            with_points = measure(cfg, started["points"], cfg.duration)
            without = measure(cfg, started["plain"], cfg.duration)
            ratios.append(with_points.result.rps / without.result.rps)
            cpu_ratios.append(without.cpu_us_per_req / with_points.cpu_us_per_req)
            rows.append(
                f"| {index + 1} | {with_points.result.rps:,.0f} | {without.result.rps:,.0f} "
                f"| {ratios[-1]:.3f} | {with_points.cpu_us_per_req:,.0f} "
                f"| {without.cpu_us_per_req:,.0f} | {cpu_ratios[-1]:.3f} |"
            )
            run.log(rows[-1])
    median = statistics.median(ratios)
    verdict = "PASS" if median >= TARGET else "FAIL"
    print(
        f"## trackEvent with {triggers} points triggers (steps x{scale}) vs none, {cfg.backend}, "
        f"{cfg.achievements} achievements, c={cfg.connections}, {cfg.duration} s x {cfg.pairs}\n"
    )
    print(
        "| pair | with points req/s | without req/s | ratio "
        "| µs CPU/req with | µs CPU/req without | CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nmedian throughput ratio {median:.3f} (target >= {TARGET}): {verdict}")
    print(f"median CPU ratio (without / with) {statistics.median(cpu_ratios):.3f}")
    return 0 if verdict == "PASS" or not cfg.strict else 1


if __name__ == "__main__":
    sys.exit(main())
