"""Flatness: does trackEvent slow down with the number of achievements defined?

    .venv/bin/python bench/compare.py bench/results/<10-achievements>.jsonl \
        bench/results/<10000-achievements>.jsonl

Compares the floor-normalised throughput ratios of two run.py results (same backend, scenario
and connections), and checks issue 4's target: the larger run >= 0.9x the smaller. Why the
ratios and not req/s: the two runs happen minutes apart on a shared machine that drifts 20-30 %,
and each run's own floor cancels that drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from report import MIN_FLATNESS


def summary(path: Path) -> dict[str, Any]:
    """The last summary record of a results file (an interrupted run has none)."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    found = [r for r in records if r.get("kind") == "summary"]
    if not found:
        sys.exit(f"{path}: no summary record (was the run interrupted?)")
    last: dict[str, Any] = found[-1]
    return last


def comparable(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Reasons the two runs should not be compared (empty when they can)."""
    return [
        f"{key} differs: {a.get(key)} vs {b.get(key)}"
        for key in ("backend", "scenario", "connections", "dry_floor")
        if a.get(key) != b.get(key)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path, nargs=2, help="two run.py .jsonl files")
    args = parser.parse_args(argv)
    small, large = sorted((summary(p) for p in args.results), key=lambda s: s["achievements"])
    for problem in comparable(small, large):
        print(f"warning: {problem}")
    flatness = large["ratio"] / small["ratio"]
    verdict = "PASS" if flatness >= MIN_FLATNESS else "FAIL"
    print("| achievements | Laurel req/s | floor req/s | ratio | Laurel p99 ms |")
    print("|---|---|---|---|---|")
    for s in (small, large):
        print(
            f"| {s['achievements']:,} | {s['laurel_rps']:,.0f} | {s['floor_rps']:,.0f} "
            f"| {s['ratio']:.2f} | {s['laurel_p99_ms']:.2f} |"
        )
    print(
        f"\nflatness {large['achievements']:,} vs {small['achievements']:,} achievements: "
        f"{flatness:.2f} (>= {MIN_FLATNESS}): {verdict}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
