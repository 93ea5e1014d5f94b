"""Per-pair figures, their medians, and the verdict against issue 4's targets.

Why ratios per pair: the floor runs right after Laurel in every pair, so each pair's ratio
cancels the minute-to-minute drift of this shared machine; the median of those ratios (not the
ratio of median req/s) is the figure perf-baseline.md's method calls reliable.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from wrkrun import WrkResult

MIN_THROUGHPUT_RATIO = 0.5
MAX_P99_RATIO = 4.0
MAX_UNLOADED_P50_MS = {"sqlite": 1.0, "postgres": 1.5}
MIN_FLATNESS = 0.9


def _ratio(a: float, b: float) -> float:
    """a / b, NaN when b is 0 (a run that completed nothing; the report then says INVALID)."""
    return a / b if b else math.nan


@dataclass(frozen=True)
class Measured:
    """One wrk run of one server with the CPU the interval used (cpu.usage())."""

    result: WrkResult
    cpu: dict[str, float]

    @property
    def cpu_us_per_req(self) -> float:
        return 1e6 * self.cpu["server_cpu_s"] / max(self.result.requests, 1)

    def as_dict(self) -> dict[str, Any]:
        return {**self.result.as_dict(), **self.cpu, "cpu_us_per_req": round(self.cpu_us_per_req)}


@dataclass(frozen=True)
class Pair:
    laurel: Measured
    floor: Measured

    def figures(self) -> dict[str, float]:
        """The figures of one pair; summarize() takes the median of each."""
        lau, flo = self.laurel.result, self.floor.result
        return {
            "laurel_rps": lau.rps,
            "floor_rps": flo.rps,
            "ratio": _ratio(lau.rps, flo.rps),
            "laurel_p50_ms": lau.p50_ms,
            "laurel_p99_ms": lau.p99_ms,
            "floor_p50_ms": flo.p50_ms,
            "floor_p99_ms": flo.p99_ms,
            "p50_ratio": _ratio(lau.p50_ms, flo.p50_ms),
            "p99_ratio": _ratio(lau.p99_ms, flo.p99_ms),
            "laurel_cpu_us": self.laurel.cpu_us_per_req,
            "floor_cpu_us": self.floor.cpu_us_per_req,
            "cpu_ratio": _ratio(self.laurel.cpu_us_per_req, self.floor.cpu_us_per_req),
            "other_cpu_pct": max(self.laurel.cpu["other_cpu_pct"], self.floor.cpu["other_cpu_pct"]),
        }


def summarize(pairs: list[Pair]) -> dict[str, float]:
    """Median of every per-pair figure."""
    rows = [p.figures() for p in pairs]
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


_COLUMNS = [
    ("Laurel req/s", "laurel_rps", "{:,.0f}"),
    ("floor req/s", "floor_rps", "{:,.0f}"),
    ("ratio", "ratio", "{:.2f}"),
    ("Laurel p50 ms", "laurel_p50_ms", "{:.2f}"),
    ("Laurel p99 ms", "laurel_p99_ms", "{:.2f}"),
    ("floor p50 ms", "floor_p50_ms", "{:.2f}"),
    ("floor p99 ms", "floor_p99_ms", "{:.2f}"),
    ("p99 ratio", "p99_ratio", "{:.2f}"),
    ("Laurel CPU µs/req", "laurel_cpu_us", "{:,.0f}"),
    ("floor CPU µs/req", "floor_cpu_us", "{:,.0f}"),
    ("other CPU %", "other_cpu_pct", "{:.0f}"),
]


def table_header() -> str:
    names = ["pair", *(name for name, _, _ in _COLUMNS)]
    return "| " + " | ".join(names) + " |\n|" + "---|" * len(names)


def table_row(label: str, figures: dict[str, float]) -> str:
    cells = [label, *(fmt.format(figures[key]) for _, key, fmt in _COLUMNS)]
    return "| " + " | ".join(cells) + " |"


def pairs_table(pairs: list[Pair], summary: dict[str, float]) -> str:
    rows = [table_row(str(i + 1), p.figures()) for i, p in enumerate(pairs)]
    return "\n".join([table_header(), *rows, table_row("**median**", summary)])


def disturbed(pairs: list[Pair], limit_pct: float) -> str | None:
    """A warning naming the pairs that other work on the machine disturbed, if any.

    The median row hides them (its `other CPU %` is a median too), so they are named here.
    """
    noisy = [
        f"{i + 1} ({p.figures()['other_cpu_pct']:.0f} %)"
        for i, p in enumerate(pairs)
        if p.figures()["other_cpu_pct"] > limit_pct
    ]
    if not noisy:
        return None
    return (
        f"Disturbed pairs (other CPU > {limit_pct:.0f} % of a core): {', '.join(noisy)}; "
        "if the verdict is close, run again or with more --pairs."
    )


def verdicts(
    summary: dict[str, float],
    unloaded_p50_ms: float | None,
    backend: str,
    scenario: str,
    clean: bool,
) -> list[str]:
    """One line per target of issue 4 that a single run can decide.

    A run with errors, timeouts or no completed requests decides nothing: its figures describe a
    server that failed, so every verdict reads INVALID.
    """

    def _verdict(ok: bool) -> str:
        if not clean:
            return "INVALID (errors, timeouts or no requests in some run; see the warnings)"
        return "PASS" if ok else "FAIL"

    lines = [
        f"- throughput ratio {summary['ratio']:.2f} >= {MIN_THROUGHPUT_RATIO}: "
        f"{_verdict(summary['ratio'] >= MIN_THROUGHPUT_RATIO)}",
        f"- p99 ratio {summary['p99_ratio']:.2f} <= {MAX_P99_RATIO}: "
        f"{_verdict(summary['p99_ratio'] <= MAX_P99_RATIO)}",
    ]
    limit = MAX_UNLOADED_P50_MS.get(backend)
    if unloaded_p50_ms is not None and limit is not None:
        lines.append(
            f"- unloaded p50 {unloaded_p50_ms:.2f} ms <= {limit} ms ({backend}): "
            f"{_verdict(unloaded_p50_ms <= limit)}"
        )
    if scenario == "track":
        lines.append(
            f"- flatness (10,000 vs 10 achievements) >= {MIN_FLATNESS}: "
            "needs two runs; see `bench/compare.py`"
        )
    return lines
