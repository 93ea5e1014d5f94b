"""trackEvent with two webhook endpoints on a slow receiver, against trackEvent with none.

Two Laurel servers, each on a database of its own and seeded alike (metric `lessons`, N metric
achievements); one has two endpoints (USER_CREATED and ACHIEVEMENT_COMPLETED) on a receiver that
answers each request after `--delay` s (200 ms). wrk runs interleaved pairs (with endpoints,
then without) of bench/track.lua; the figure is the median ratio of their throughputs, which the
issue wants at 0.9 or more. Meanwhile the hooked server's /metrics is sampled for the outbox
lag and the deliveries waiting, and the receiver counts what arrived (deliveries per second).

    .venv/bin/python bench/webhooks.py --backend sqlite --pairs 3 --duration 10
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import seed
import servers
import wrkrun
from prometheus_client.parser import text_string_to_metric_families

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = Path(sys.executable).parent
KEY = "benchadm." + "w" * 32
SECRET_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
UVICORN = ["--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop", "--http", "httptools"]


def laurel(name: str, database_url: str) -> servers.ServerSpec:
    return servers.ServerSpec(
        name=name,
        argv=[str(VENV_BIN / "uvicorn"), "app.main:app", *UVICORN, "--log-level", "warning"],
        cwd=REPO,
        env={
            "DATABASE_URL": database_url,
            "LAUREL_BOOTSTRAP_ADMIN_KEY": KEY,
            "LAUREL_LOG_LEVEL": "WARNING",
            "LAUREL_SECRET_KEY": SECRET_KEY,
            "LAUREL_WEBHOOK_ALLOW_PRIVATE": "1",
            "LAUREL_WEBHOOK_ALLOW_HTTP": "1",
            "LAUREL_METRICS_INTERVAL_S": "0.5",
        },
        health=servers.http_ok("/healthz"),
    )


def database(backend: str, name: str) -> Any:
    if backend == "sqlite":
        return servers.sqlite_database()
    return servers.postgres_database("postgres://postgres@127.0.0.1:5432", name)


def gauges(base_url: str) -> dict[str, float]:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    wanted = {
        "laurel_outbox_lag_seconds",
        "laurel_webhook_pending",
        "laurel_webhook_overdue_seconds",
    }
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in wanted
    }


def received(receiver_url: str) -> int:
    return int(httpx.get(f"{receiver_url}/stats", timeout=5).json()["received"])


class Sampler(threading.Thread):
    """The largest outbox lag and delivery backlog seen while a run goes on."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.peak: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for name, figure in gauges(self.base_url).items():
                self.peak[name] = max(self.peak.get(name, 0.0), figure)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--achievements", type=int, default=10)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--delay", type=float, default=0.2, help="the receiver's answer time, s")
    args = p.parse_args()
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    script = BENCH / "track.lua"
    env = {"LAUREL_API_KEY": KEY, "BENCH_USERS": "1000"}
    with ExitStack() as stack:
        port = servers.free_port()
        receiver = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "slow_receiver.py"),
                "--port",
                str(port),
                "--delay",
                str(args.delay),
            ]
        )
        stack.callback(receiver.terminate)
        receiver_url = f"http://127.0.0.1:{port}"
        started = {}
        for name in ("hooked", "plain"):
            url = stack.enter_context(database(args.backend, f"laurel_bench_{name}"))
            log_path = results / f"{stamp}-webhooks-{name}.log"
            started[name] = stack.enter_context(servers.running(laurel(name, url), log_path, 60))
        for name, server in started.items():
            with httpx.Client(
                base_url=server.base_url, headers={"X-API-Key": KEY}, timeout=60
            ) as client:
                seed.seed_definitions(client, args.achievements, 10.0, 25)
                if name == "hooked":
                    for path in ("a", "b"):
                        seed.gql(
                            client,
                            "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, "
                            "eventTypes: [USER_CREATED, ACHIEVEMENT_COMPLETED]}) { secret } }",
                            {"u": f"{receiver_url}/{path}"},
                            "create an endpoint",
                        )
        for server in started.values():
            wrkrun.run(server.base_url + "/graphql", script, args.connections, 2, env)
        ratios, deliveries, peaks = [], [], []
        for index in range(args.pairs):
            sampler = Sampler(started["hooked"].base_url)
            before = received(receiver_url)
            sampler.start()
            hooked, _ = wrkrun.run(
                started["hooked"].base_url + "/graphql",
                script,
                args.connections,
                args.duration,
                env,
            )
            sampler.done.set()
            sampler.join()
            deliveries.append((received(receiver_url) - before) / args.duration)
            plain, _ = wrkrun.run(
                started["plain"].base_url + "/graphql", script, args.connections, args.duration, env
            )
            ratios.append(hooked.rps / plain.rps)
            peaks.append(sampler.peak)
            print(
                f"pair {index + 1}: with endpoints {hooked.rps:.0f} req/s, without "
                f"{plain.rps:.0f} req/s, ratio {ratios[-1]:.3f}; "
                f"{deliveries[-1]:.1f} deliveries/s; peak outbox lag "
                f"{sampler.peak.get('laurel_outbox_lag_seconds', 0):.2f} s, deliveries waiting "
                f"{sampler.peak.get('laurel_webhook_pending', 0):.0f}, most overdue "
                f"{sampler.peak.get('laurel_webhook_overdue_seconds', 0):.1f} s"
            )
        median = statistics.median(ratios)
        print(
            f"\n{args.backend}: trackEvent with two endpoints / without = {median:.3f} (median of "
            f"{args.pairs} pairs; target >= 0.9: {'PASS' if median >= 0.9 else 'FAIL'}); "
            f"deliveries {statistics.median(deliveries):.1f}/s; peak outbox lag "
            f"{max(p.get('laurel_outbox_lag_seconds', 0) for p in peaks):.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
