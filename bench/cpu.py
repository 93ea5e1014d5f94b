"""CPU accounting from /proc: server CPU per request, and how busy the rest of the machine was.

Why: this 2-core machine is shared (other engineers run tests and benchmarks on it), and
perf-baseline.md measured req/s drifting 20-30 % from minute to minute. CPU per request is the
steadier figure, and the foreign CPU of a run says whether to trust it. Linux only; every reader
returns 0 for a process that has gone, so sampling never fails a run.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (which may contain spaces)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()


def process_ticks(pid: int) -> int:
    """utime + stime of one process, all its threads included (aiosqlite's thread, say)."""
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def _all_pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def tree_ticks(root: int) -> int:
    """CPU of a process and its descendants (uvicorn --workers N runs children)."""
    parents: dict[int, int] = {}
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields:
            parents[pid] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return sum(process_ticks(pid) for pid in tree)


def postgres_ticks() -> int:
    """CPU of every process named postgres: the cluster's share of a PostgreSQL run."""
    total = 0
    for pid in _all_pids():
        try:
            comm = (PROC / str(pid) / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "postgres":
            total += process_ticks(pid)
    return total


def machine_busy_ticks() -> int:
    """Non-idle ticks of all CPUs since boot (idle and iowait excluded)."""
    fields = [int(x) for x in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def children_cpu_s() -> float:
    """CPU of reaped children: across a wrk run, that is wrk's own CPU."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Sample:
    """A snapshot; two of them give the CPU of an interval."""

    wall: float
    machine: int
    servers: dict[str, int]
    postgres: int
    children_s: float


def sample(servers: dict[str, int]) -> Sample:
    """Snapshot the machine, each named server's process tree, PostgreSQL and reaped children."""
    return Sample(
        wall=time.monotonic(),
        machine=machine_busy_ticks(),
        servers={name: tree_ticks(pid) for name, pid in servers.items()},
        postgres=postgres_ticks(),
        children_s=children_cpu_s(),
    )


def usage(before: Sample, after: Sample, subject: str) -> dict[str, float]:
    """CPU of the interval in % of one core: subject server, wrk, PostgreSQL, everything else."""
    wall = max(after.wall - before.wall, 1e-9)

    def pct(ticks: float) -> float:
        return round(100.0 * ticks / TICK / wall, 1)

    ours = {name: after.servers[name] - before.servers[name] for name in after.servers}
    wrk_ticks = (after.children_s - before.children_s) * TICK
    pg_ticks = after.postgres - before.postgres
    other = after.machine - before.machine - sum(ours.values()) - wrk_ticks - pg_ticks
    return {
        "server_cpu_pct": pct(ours[subject]),
        "wrk_cpu_pct": pct(wrk_ticks),
        "pg_cpu_pct": pct(pg_ticks),
        "other_cpu_pct": pct(max(other, 0.0)),
        "server_cpu_s": ours[subject] / TICK,
    }


def foreign_busy_pct(servers: dict[str, int], seconds: float = 1.0) -> float:
    """Machine CPU not spent by our (idle) servers over a short window, in % of one core."""
    before = sample(servers)
    time.sleep(seconds)
    after = sample(servers)
    ours = sum(after.servers[n] - before.servers[n] for n in servers)
    return round(100.0 * (after.machine - before.machine - ours) / TICK / seconds, 1)
