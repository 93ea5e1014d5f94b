"""Reads against the read floor: the profile and catalogue queries of N achievements, in one run.

    .venv/bin/python bench/reads.py --backend sqlite      # or postgres
    .venv/bin/python bench/reads.py --backend postgres --sizes 10,200,2000 --pairs 3

For each N of `--sizes`: a Laurel on a fresh database with metric `lessons` and N metric
achievements (thresholds 10, 20, 30, ...) and one user, `user-0`, whose one event of value N
completes the first tenth of them and leaves progress on the rest; beside it the read floor
(`read_floor_app.py` with N, plain Strawberry serving the same shapes from memory). Both answer
the same two documents (the floor ignores the user id):

  profile    user(id) { achievements(includeIncomplete: true) { achievedAt progress {...}
             achievement { ... on Achievement { key name description badgeUrl completions
             rarity } } } }
  catalogue  achievements { ... on Achievement { key name completions rarity } }

Unloaded: wrk -c1 (one request at a time over one keep-alive connection), `--duration` s,
Laurel then the floor, `--pairs` interleaved pairs; the figure is the median of the per-pair
p50 ratios, Laurel over the floor. Target (issue 20): at most 0.5 with 200 achievements, and
Laurel's time growing with N no faster than the floor's. Other options are run.py's.
"""

from __future__ import annotations

import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

import httpx
import points
import run
import seed
import servers
import wrkrun

TARGET = 0.5
PROFILE = (
    "query($u: String!) { user(id: $u) { achievements(includeIncomplete: true) { achievedAt "
    "progress { current target percent } achievement { ... on Achievement { key name "
    "description badgeUrl completions rarity } } } } }"
)
CATALOGUE = "{ achievements { ... on Achievement { key name completions rarity } } }"
DOCUMENTS = {"profile": PROFILE, "catalogue": CATALOGUE}


def read_floor_spec(cfg: run.Config, achievements: int) -> servers.ServerSpec:
    return servers.ServerSpec(
        name=f"read-floor-{achievements}",
        argv=[
            str(run.VENV_BIN / "uvicorn"),
            "read_floor_app:app",
            "--app-dir",
            str(cfg.floor_dir),
            *run.UVICORN_OPTS,
        ],
        cwd=cfg.floor_dir,
        env={"N": str(achievements)},
        health=servers.graphql_ok(CATALOGUE),
    )


def prepare(cfg: run.Config, server: servers.Server, achievements: int) -> None:
    headers = {"X-API-Key": cfg.api_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=300.0) as client:
        seed.seed_definitions(client, achievements, cfg.threshold_step, cfg.seed_batch)
        seed.gql(
            client,
            'mutation($u: String!, $v: Float!) { trackEvent(input: {metricKey: "'
            + seed.METRIC_KEY
            + '", user: {id: $u}, value: $v}) { eventId } }',
            {"u": "user-0", "v": float(achievements)},
            what="the user's event",
        )
        for name, document in DOCUMENTS.items():
            seed.gql(client, document, {"u": "user-0"}, what=f"{name} check")


def p50(cfg: run.Config, server: servers.Server, document: str, duration: int) -> float:
    servers.ensure_alive(server)
    env = {"LAUREL_API_KEY": cfg.api_key, "BENCH_DOCUMENT": document.replace('"', '\\"')}
    result, _ = wrkrun.run(
        server.base_url + "/graphql", run.BENCH / "document.lua", 1, duration, env
    )
    run.warn_unclean(server.spec.name, result)
    if not result.clean:
        raise wrkrun.WrkError(f"{server.spec.name}: unclean run: {result.first_bad}")
    return result.p50_ms


def measure_size(cfg: run.Config, achievements: int, logs: Path) -> list[str]:
    rows = []
    with ExitStack() as stack:
        _, laurel = points.start_laurel(stack, cfg, f"reads-{achievements}", logs)
        prepare(cfg, laurel, achievements)
        floor = stack.enter_context(
            servers.running(
                read_floor_spec(cfg, achievements),
                logs / f"read-floor-{achievements}.log",
                cfg.startup_timeout,
            )
        )
        for name, document in DOCUMENTS.items():
            for server in (laurel, floor):
                p50(cfg, server, document, cfg.warmup)
            ratios, ours, theirs = [], [], []
            for _ in range(cfg.pairs):
                ours.append(p50(cfg, laurel, document, cfg.duration))
                theirs.append(p50(cfg, floor, document, cfg.duration))
                ratios.append(ours[-1] / theirs[-1])
            ratio = statistics.median(ratios)
            verdict = ("PASS" if ratio <= TARGET else "FAIL") if achievements == 200 else ""
            rows.append(
                f"| {name} | {achievements} | {statistics.median(ours):.2f} "
                f"| {statistics.median(theirs):.2f} | {ratio:.3f} | {verdict} |"
            )
            run.log(rows[-1])
    return rows


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    sizes = [10, 200, 2000]
    if "--sizes" in args:
        at = args.index("--sizes")
        sizes = [int(size) for size in args[at + 1].split(",")]
        del args[at : at + 2]
    cfg = run.parse_args(args)
    if not (cfg.floor_dir / "read_floor_app.py").exists():
        print(f"FAILED: the read floor is not in {cfg.floor_dir} (read_floor_app.py)")
        return 2
    logs = cfg.results_dir / "reads"
    logs.mkdir(parents=True, exist_ok=True)
    rows = [row for size in sizes for row in measure_size(cfg, size, logs)]
    print(
        f"## Reads against the read floor, {cfg.backend}, wrk -c1, {cfg.duration} s x {cfg.pairs}\n"
    )
    print(
        "| query | achievements | Laurel p50 ms | floor p50 ms | ratio (median of pairs) "
        "| target <= 0.5 |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    failed = any("FAIL" in row for row in rows)
    return 1 if failed and cfg.strict else 0


if __name__ == "__main__":
    sys.exit(main())
