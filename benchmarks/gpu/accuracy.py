"""How well the latency model predicts measured latencies, held out by group.

Run by hand from the repository root: `python benchmarks/gpu/accuracy.py` (a few
minutes on a small CPU) for the H100 measurements, or `python benchmarks/gpu/accuracy.py
my_gpu.json [more.json ...] [--svg plot.svg]` for another GPU's (measure_latency.py,
measure_more.py). For each group of cases (googlenet_3a, googlenet_modules, factorised,
networks) the model is fitted on the other groups only and predicts the held-out group;
the figures below are over those held-out predictions. Prints Markdown and writes a
log-log scatter (stdlib only): estimated_vs_measured.svg here for the H100 file, the
`--svg` file for others. tests/test_latency.py recomputes the H100 figures and checks them.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

from inception_cost.estimates import calibrate as cal
from inception_cost.estimates.accuracy import Accuracy, geomean_error, pair_ratios, pairs_by_mode
from inception_cost.estimates.devices import builtin_for_gpu, load_device
from inception_cost.estimates.measurements import Case, read_all

HERE = Path(__file__).resolve().parent
H100 = str(HERE / "h100_latency.json")
COLOURS = {"googlenet_3a": "#1f77b4", "googlenet_modules": "#2ca02c", "factorised": "#d62728",
           "networks": "#9467bd"}


def held_out(by_configuration: bool = False, files: Sequence[str] = (H100,)) -> list[tuple[Case, float]]:
    """Predictions held out by the files' group, or by 5 folds of whole configurations; the
    base profile is the built-in for the measured GPU (h100-sxm where none is)."""
    info, cases = read_all(files)
    start = cal.measured_device(load_device(builtin_for_gpu(info.gpu) or "h100-sxm"), info, "held-out")
    if by_configuration:
        return cal.cross_validate(start, cases, fold=cal.configuration_folds(cases))
    return cal.cross_validate(start, cases)


def groups(results: list[tuple[Case, float]]) -> list[str]:
    """The groups of `results`: the H100 file's in their usual order, then any others."""
    found = dict.fromkeys(c.group for c, _ in results)
    return [g for g in COLOURS if g in found] + [g for g in found if g not in COLOURS]


def svg(results: list[tuple[Case, float]], gpu: str = "H100") -> str:
    size, pad = 420, 50
    low, high = 1.0, 5.0  # log10 of 10 us .. 100 ms

    def at(us: float) -> float:
        return pad + (math.log10(us) - low) / (high - low) * (size - 2 * pad)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" font-family="sans-serif"'
             ' font-size="11">', f'<rect width="{size}" height="{size}" fill="white"/>']
    for decade in range(1, 6):
        x = at(10 ** decade)
        label = f"{10 ** decade:g} µs" if decade < 3 else f"{10 ** (decade - 3):g} ms"
        parts += [f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{size - pad}" stroke="#ddd"/>',
                  f'<line x1="{pad}" y1="{size - x:.1f}" x2="{size - pad}" y2="{size - x:.1f}" stroke="#ddd"/>',
                  f'<text x="{x:.1f}" y="{size - pad + 14}" text-anchor="middle">{label}</text>',
                  f'<text x="{pad - 4}" y="{size - x + 4:.1f}" text-anchor="end">{label}</text>']
    for factor, dash in ((1.0, ""), (1.5, ' stroke-dasharray="4 3"'), (1 / 1.5, ' stroke-dasharray="4 3"')):
        a, b = at(10 ** low * factor), at(10 ** high * factor)
        parts.append(f'<line x1="{at(10 ** low):.1f}" y1="{size - a:.1f}" x2="{at(10 ** high):.1f}"'
                     f' y2="{size - b:.1f}" stroke="#888"{dash}/>')
    for case, predicted in results:
        parts.append(f'<circle cx="{at(case.measured_us):.1f}" cy="{size - at(predicted):.1f}" r="2.5"'
                     f' fill="{COLOURS.get(case.group, "black")}" fill-opacity="0.7"/>')
    parts += [f'<text x="{size / 2}" y="{size - 12}" text-anchor="middle">measured ({gpu}, CUDA graph)</text>',
              f'<text x="14" y="{size / 2}" text-anchor="middle" transform="rotate(-90 14 {size / 2})">'
              'estimated, held out by group</text>']
    for i, group in enumerate(groups(results)):
        colour = COLOURS.get(group, "black")
        parts += [f'<circle cx="{pad + 10}" cy="{pad + 10 + 14 * i}" r="3" fill="{colour}"/>',
                  f'<text x="{pad + 18}" y="{pad + 14 + 14 * i}">{escape(group)}</text>']
    return "\n".join([*parts, "</svg>"]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", default=[H100], metavar="MEASUREMENTS.json")
    parser.add_argument("--svg", help="where to write the plot (default: beside this script, for the H100 file)")
    args = parser.parse_args()
    plot = args.svg or (str(HERE / "estimated_vs_measured.svg") if args.files == [H100] else None)
    info, cases = read_all(args.files)
    gpu = info.gpu or "GPU"
    if len({c.group for c in cases}) < 2:
        raise SystemExit("accuracy.py holds out one group of cases at a time: these files have one group")
    results = held_out(files=args.files)
    overall = Accuracy.of([(p, c.measured_us) for c, p in results])
    print(f"All held-out cases ({gpu}): {overall}\n")
    print("| group | held-out accuracy |\n|---|---|")
    for group in groups(results):
        print(f"| {group} | {Accuracy.of([(p, c.measured_us) for c, p in results if c.group == group])} |")
    rows = pair_ratios(results)
    modes = ", ".join(f"{m} {e:.3f}x" for m, e in pairs_by_mode(rows).items())
    print(f"\nInception pairs: time ratio estimated / measured, geometric-mean error"
          f" {geomean_error([r.error for r in rows]):.3f}x over {len(rows)} pairs (by mode: {modes})\n")
    print("| pair | mode | batch | measured ratio | estimated ratio |\n|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r.costlier} / {r.cheaper} | {r.mode} | {r.batch} | {r.measured:.2f} | {r.estimated:.2f} |")
    print("\n| network | mode | batch | measured µs | estimated µs | estimated / measured |")
    print("|---|---|---:|---:|---:|---:|")
    for case, predicted in results:
        if case.group == "networks":
            print(f"| {case.name} | {case.mode} | {case.batch} | {case.measured_us:,.0f} | {predicted:,.0f} |"
                  f" {predicted / case.measured_us:.2f} |")
    if plot:
        Path(plot).write_text(svg(results, "H100" if args.files == [H100] else escape(gpu)))
    folds = held_out(by_configuration=True, files=args.files)
    print(f"\nHeld out by configuration (5 folds of case names, every mode and batch of one together):"
          f" {Accuracy.of([(p, c.measured_us) for c, p in folds])}; Inception pairs"
          f" {geomean_error([r.error for r in pair_ratios(folds)]):.3f}x")


if __name__ == "__main__":
    main()
