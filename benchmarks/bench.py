"""Speed of inception-cost on this machine (run by hand, not by CI).

    python benchmarks/bench.py [--runs 15]

Uses the interpreter it runs with and the `inception-cost` installed beside it, and prints:
the start of a report against `python -c "import click, yaml"` (paired runs); the wall
time of two commands against a bare `python -c pass` (median of runs); the
in-process time to analyse every built-in; the vectorised core against a per-layer loop;
and a 100,000-variant sweep end to end with its peak memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(command: list, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def child_peak_mb(command: list) -> tuple:
    """(wall seconds, peak resident MB) of one run, measured from a fresh interpreter so
    that this process' own memory (copied by fork) is not counted."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter();"
             " subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True);"
             " print(time.perf_counter() - t,"
             " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True,
                          check=True)
    seconds, peak = done.stdout.split()
    return float(seconds), float(peak)


def analyse_all(runs: int) -> tuple:
    from inception_cost.core.analysis import analyse
    from inception_cost.source.catalog import builtin_names, resolve
    from inception_cost.source.document import load_network

    names = builtin_names()

    def once():
        started = time.perf_counter()
        for name in names:
            path, display = resolve(name)
            analyse(load_network(path, display))
        return time.perf_counter() - started

    once()  # warm: imports and the file cache
    return statistics.median(once() for _ in range(runs)), len(names)


def core_throughput() -> tuple:
    """Layer evaluations per second: the column rules against a per-layer loop of objects."""
    from inception_cost.core import columns as col
    from inception_cost.core.kinds import CANONICAL

    rng = random.Random(1)
    n = 200_000
    rows = [dict(kh=rng.choice((1, 3, 5, 7)), kw=rng.choice((1, 3, 5, 7)), cin=rng.randint(1, 512),
                 cout=rng.randint(1, 512), groups=1, hin=28, win=28, hout=28, wout=28,
                 bias=1, bn=0) for _ in range(n)]
    table = col.LayerTable()
    for r in rows:
        table.append("conv", r)
    started = time.perf_counter()
    col.evaluate(table, CANONICAL)
    columns = time.perf_counter() - started

    # A straightforward implementation: one object per layer, the same terms computed by
    # the scalar formulas in a loop.
    class Conv:
        def __init__(self, r):
            self.__dict__.update(r)

        def terms(self):
            out = self.hout * self.wout * self.cout
            return {"conv_macs": col.conv_macs_one(self.kh, self.kw, self.cin, self.groups, self.cout,
                                                   self.hout, self.wout),
                    "weights": col.conv_weights_one(self.kh, self.kw, self.cin, self.groups, self.cout),
                    "biases": self.cout * self.bias, "bn_params": 2 * self.cout * self.bn,
                    "conv_bias_out": out * self.bias, "bn_out": out * self.bn, "act_fn_out": 0}

    layers = [Conv(r) for r in rows]
    started = time.perf_counter()
    results = [layer.terms() for layer in layers]
    loop = time.perf_counter() - started
    assert len(results) == n
    return n / columns, n / loop


def sweep_rate() -> tuple:
    """(layer evaluations per second, variants x variable layers) of the affine sweep."""
    import inception_cost as ic

    started = time.perf_counter()
    result = ic.sweep("googlenet", "3a", {"#1x1": range(1, 101), "#3x3": range(1, 1001)}).result
    seconds = time.perf_counter() - started
    return result.count * result.layers / seconds, result.layers


def start_ratio(tool: str, runs: int) -> tuple:
    """Median over paired runs (alternating) of `inception-cost googlenet --module 3a` and of
    `python -c "import click, yaml"`, and the ratio of the medians."""
    ours, base = [], []
    for _ in range(runs):
        for command, times in (([tool, "googlenet", "--module", "3a"], ours),
                               ([sys.executable, "-c", "import click, yaml"], base)):
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - started)
    return statistics.median(ours), statistics.median(base), statistics.median(ours) / statistics.median(base)


def main() -> None:
    parser = argparse.ArgumentParser(description="inception-cost speed on this machine")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    tool = shutil.which("inception-cost", path=str(Path(sys.executable).parent)) or "inception-cost"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or 'cpu'};"
          f" Python {platform.python_version()} ({sys.executable})")
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
        print(f"cpu: {model}")
    except (OSError, StopIteration):
        pass
    ours, base, ratio = start_ratio(tool, args.runs)
    print(f"\n`inception-cost googlenet --module 3a` {ours * 1e3:.1f} ms against"
          f" `python -c \"import click, yaml\"` {base * 1e3:.1f} ms: {ratio:.2f}x (medians of {args.runs} pairs)")
    bare = wall([sys.executable, "-c", "pass"], args.runs)
    print(f"\nbare `python -c pass`: {bare * 1e3:.1f} ms (median of {args.runs})")
    for command in (["googlenet", "--module", "3a"], ["inception-v4"]):
        t = wall([tool, *command], args.runs)
        print(f"`inception-cost {' '.join(command)}`: {t * 1e3:.1f} ms, {(t - bare) * 1e3:+.1f} ms over bare")
    seconds, count = analyse_all(args.runs)
    print(f"\nanalyse all {count} built-ins in one process: {seconds * 1e3:.1f} ms (median of {args.runs})")
    columns, loop = core_throughput()
    print(f"\ncore, 200,000 conv layers: columns {columns:,.0f} layer evaluations/s;"
          f" per-layer objects {loop:,.0f}/s ({columns / loop:.1f}x)")
    rate, layers = sweep_rate()
    print(f"sweep (3a, 100,000 variants x {layers} layers that depend on the widths):"
          f" {rate:,.0f} layer evaluations/s")
    t, peak = child_peak_mb([tool, "sweep", "googlenet", "--module", "3a", "--vary", "#1x1=1..100",
                             "--vary", "#3x3=1..1000", "--top", "20"])
    print(f"\n`inception-cost sweep googlenet --module 3a` over 100,000 variants, end to end:"
          f" {t:.2f} s, peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
