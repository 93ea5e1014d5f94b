"""What `trackEvents` gains over `trackEvent`: events per second, one server, one run.

    .venv/bin/python bench/batch.py --backend sqlite      # or postgres
    .venv/bin/python bench/batch.py --backend postgres --batch-size 1000 --senders 2

One Laurel on a fresh database with 10 metric achievements on `lessons` (as run.py seeds them).
Each pair runs, back to back: wrk sending trackEvent (track.lua, c=--connections), then
`--senders` clients each sending `trackEvents` batches of `--batch-size` events (value 1,
cycling over the same users) for the same duration. The figure is the median over `--pairs` of
batched events/s over single events/s (target: at least 10). Batches are sent from Python, not
wrk: one request carries hundreds of events, so the client's own cost per event is small. Other
options (duration, connections, users, database) are run.py's.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from contextlib import ExitStack

import httpx
import points
import run
import seed
import wrkrun

TARGET = 10.0
DOCUMENT = (
    "mutation($e: [TrackEventInput!]!) { trackEvents(input: {events: $e}) "
    "{ results { eventId total } } }"
)


async def send_batches(
    url: str, key: str, size: int, senders: int, users: int, duration: float
) -> float:
    """Events per second that `senders` clients got answered in `duration` seconds."""
    deadline = time.monotonic() + duration
    sent = 0

    async def sender(index: int) -> None:
        nonlocal sent
        async with httpx.AsyncClient(headers={"X-API-Key": key}, timeout=120.0) as client:
            cursor = index * size
            while time.monotonic() < deadline:
                events = [
                    {
                        "metricKey": seed.METRIC_KEY,
                        "user": {"id": f"user-{(cursor + n) % users}"},
                        "value": 1,
                    }
                    for n in range(size)
                ]
                cursor += size
                answer = await client.post(
                    url, json={"query": DOCUMENT, "variables": {"e": events}}
                )
                body = answer.json()
                if answer.status_code != 200 or body.get("errors"):
                    raise SystemExit(f"trackEvents failed: {answer.status_code} {str(body)[:300]}")
                sent += size

    started = time.monotonic()
    await asyncio.gather(*(sender(n) for n in range(senders)))
    return sent / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    size = points.take_option(args, "--batch-size", 100)
    senders = points.take_option(args, "--senders", 2)
    cfg = run.parse_args(args)
    logs = cfg.results_dir / "batch"
    logs.mkdir(parents=True, exist_ok=True)
    rows, ratios = [], []
    with ExitStack() as stack:
        _, server = points.start_laurel(stack, cfg, "batch", logs)
        points.prepare(cfg, server, 0, 1)
        endpoint = server.base_url + "/graphql"
        env = run.wrk_env(cfg, laurel=True)
        wrkrun.run(endpoint, run.BENCH / "track.lua", cfg.connections, cfg.warmup, env)
        asyncio.run(send_batches(endpoint, cfg.api_key, size, senders, cfg.users, cfg.warmup))
        for index in range(cfg.pairs):
            single, _ = wrkrun.run(
                endpoint, run.BENCH / "track.lua", cfg.connections, cfg.duration, env
            )
            run.warn_unclean(server.spec.name, single)
            batched = asyncio.run(
                send_batches(endpoint, cfg.api_key, size, senders, cfg.users, cfg.duration)
            )
            ratios.append(batched / single.rps)
            rows.append(f"| {index + 1} | {single.rps:,.0f} | {batched:,.0f} | {ratios[-1]:.1f} |")
            run.log(rows[-1])
    median = statistics.median(ratios)
    verdict = "PASS" if median >= TARGET else "FAIL"
    print(
        f"## trackEvents ({size} events per batch, {senders} senders) vs trackEvent "
        f"(c={cfg.connections}), {cfg.backend}, {cfg.achievements} achievements, "
        f"{cfg.duration} s x {cfg.pairs}\n"
    )
    print("| pair | trackEvent events/s | trackEvents events/s | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nmedian ratio {median:.1f} (target >= {TARGET:.0f}): {verdict}")
    return 0 if verdict == "PASS" or not cfg.strict else 1


if __name__ == "__main__":
    sys.exit(main())
