"""Run wrk and read its --latency report.

Why text parsing: wrk's own summary is what people compare by eye with perf-floor.md and
perf-baseline.md, so the figures here come from the same lines they read. The check counters that
wrk_common.lua prints in done() are parsed alongside.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

WRK = os.environ.get("WRK", "/usr/bin/wrk")

_TIME_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_BAD = re.compile(r"^bad_responses: (-?\d+)", re.MULTILINE)
_FIRST_BAD = re.compile(r"^first_bad: (.*)$", re.MULTILINE)


class WrkError(RuntimeError):
    """wrk failed or printed something this parser does not understand."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run. Latencies in ms; bad_responses is -1 when the script did not check."""

    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    duration_s: float
    non_2xx: int
    socket_errors: int
    timeouts: int
    bad_responses: int
    first_bad: str

    @property
    def clean(self) -> bool:
        """True when requests completed, all 200s without GraphQL errors, none failed or timed out.

        A timed-out request is missing from wrk's latency distribution, so its p99 flatters.
        """
        failures = self.non_2xx + self.socket_errors + self.timeouts
        return self.requests > 0 and self.bad_responses <= 0 and failures == 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _to_ms(value: str, unit: str) -> float:
    return float(value) * _TIME_MS[unit]


def _percentiles(text: str) -> dict[str, float]:
    found = {m[1]: _to_ms(m[2], m[3]) for m in _PERCENTILE.finditer(text)}
    missing = {"50", "75", "90", "99"} - found.keys()
    if missing:
        raise WrkError(f"no latency percentiles {sorted(missing)} (was --latency given?)\n{text}")
    return found


def _socket_errors(text: str) -> tuple[int, int]:
    """(connect + read + write errors, timeouts); wrk omits the line when all are 0."""
    m = _SOCKET.search(text)
    if not m:
        return 0, 0
    return int(m[1]) + int(m[2]) + int(m[3]), int(m[4])


def parse(text: str) -> WrkResult:
    """Read one wrk --latency report (plus wrk_common.lua's done() lines)."""
    rps, total = _RPS.search(text), _REQUESTS.search(text)
    if not rps or not total:
        raise WrkError(f"no 'Requests/sec' or 'N requests in' line in wrk output\n{text}")
    pct = _percentiles(text)
    non_2xx, bad, first_bad = _NON_2XX.search(text), _BAD.search(text), _FIRST_BAD.search(text)
    socket_errors, timeouts = _socket_errors(text)
    return WrkResult(
        rps=float(rps[1]),
        p50_ms=pct["50"],
        p75_ms=pct["75"],
        p90_ms=pct["90"],
        p99_ms=pct["99"],
        requests=int(total[1]),
        duration_s=_to_ms(total[2], total[3]) / 1000.0,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=socket_errors,
        timeouts=timeouts,
        bad_responses=int(bad[1]) if bad else -1,
        first_bad=first_bad[1] if first_bad else "",
    )


def run(
    url: str, script: Path, connections: int, duration_s: int, env: dict[str, str]
) -> tuple[WrkResult, str]:
    """One `wrk -t1` run; returns the parsed result and wrk's raw output.

    -t1 as in perf-floor.md: wrk shares the 2 cores with the server, and one thread keeps its
    share small and the same for Laurel and the floor. The request timeout is raised from wrk's
    2 s so that a slow server's slow requests are measured, not dropped from the percentiles.
    """
    argv = [WRK, "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", "-s", str(script)]
    argv += ["--timeout", f"{max(10, duration_s)}s"]
    proc = subprocess.run(
        [*argv, url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=duration_s + 60,
        check=False,
    )
    if proc.returncode != 0:
        raise WrkError(f"wrk exited {proc.returncode}: {proc.stderr.strip() or proc.stdout}")
    return parse(proc.stdout), proc.stdout
