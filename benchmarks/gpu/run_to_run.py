"""How much the H100 latencies moved between two runs of measure_latency.py.

    python benchmarks/gpu/run_to_run.py   (prints Markdown)

Both runs: the same script, on a fresh H100 machine each time, 2026-11-26.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent


def medians(path: Path, mode: str) -> dict:
    data = json.loads(path.read_text())
    return {(c["name"], c["mode"], c["batch"]): c[mode]["median_us"]
            for c in data["cases"] if mode in c}


def main() -> None:
    print("| timing | cases | median change | 90th percentile | largest change (case) |")
    print("|---|---:|---:|---:|---|")
    for mode in ("graph", "eager"):
        one = medians(HERE / "h100_latency.json", mode)
        two = medians(HERE / "h100_latency_run2.json", mode)
        changes = sorted((abs(two[k] - one[k]) / one[k], k) for k in one if k in two and one[k])
        values = [c for c, _ in changes]
        worst, key = changes[-1]
        print(f"| {mode} | {len(values)} | {statistics.median(values):.1%} |"
              f" {values[int(0.9 * (len(values) - 1))]:.1%} | {worst:.0%} ({key[0]}, {key[1]}, batch {key[2]}) |")


if __name__ == "__main__":
    main()
