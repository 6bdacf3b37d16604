"""How well the latency model predicts the H100 measurements, held out by group.

Run by hand from the repository root: `python benchmarks/gpu/accuracy.py` (a few
minutes on a small CPU). For each group of cases (googlenet_3a, googlenet_modules,
factorised, networks) the model is fitted on the other groups only and predicts the
held-out group; the figures below are over those held-out predictions. Prints Markdown
and writes estimated_vs_measured.svg (log-log scatter, stdlib only).
tests/test_latency.py recomputes the same figures and checks them.
"""

from __future__ import annotations

import math
from pathlib import Path

from inception_cost.estimates import calibrate as cal
from inception_cost.estimates.accuracy import Accuracy, geomean_error, pair_ratios
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.measurements import Case, read_measurements

HERE = Path(__file__).resolve().parent
COLOURS = {"googlenet_3a": "#1f77b4", "googlenet_modules": "#2ca02c", "factorised": "#d62728",
           "networks": "#9467bd"}


def held_out(by_configuration: bool = False) -> list[tuple[Case, float]]:
    """Predictions held out by the file's group, or by 5 folds of whole configurations."""
    info, cases = read_measurements(str(HERE / "h100_latency.json"))
    start = cal.measured_device(load_device("h100-sxm"), info, "h100-held-out")
    if by_configuration:
        return cal.cross_validate(start, cases, fold=cal.configuration_folds(cases))
    return cal.cross_validate(start, cases)


def svg(results: list[tuple[Case, float]]) -> str:
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
    parts += [f'<text x="{size / 2}" y="{size - 12}" text-anchor="middle">measured (H100, CUDA graph)</text>',
              f'<text x="14" y="{size / 2}" text-anchor="middle" transform="rotate(-90 14 {size / 2})">'
              'estimated, held out by group</text>']
    for i, (group, colour) in enumerate(COLOURS.items()):
        parts += [f'<circle cx="{pad + 10}" cy="{pad + 10 + 14 * i}" r="3" fill="{colour}"/>',
                  f'<text x="{pad + 18}" y="{pad + 14 + 14 * i}">{group}</text>']
    return "\n".join([*parts, "</svg>"]) + "\n"


def main() -> None:
    results = held_out()
    overall = Accuracy.of([(p, c.measured_us) for c, p in results])
    print(f"All held-out cases: {overall}\n")
    print("| group | held-out accuracy |\n|---|---|")
    for group in COLOURS:
        print(f"| {group} | {Accuracy.of([(p, c.measured_us) for c, p in results if c.group == group])} |")
    rows = pair_ratios(results)
    print(f"\nInception pairs: time ratio estimated / measured, geometric-mean error"
          f" {geomean_error([r.error for r in rows]):.3f}x over {len(rows)} pairs\n")
    print("| pair | mode | batch | measured ratio | estimated ratio |\n|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r.costlier} / {r.cheaper} | {r.mode} | {r.batch} | {r.measured:.2f} | {r.estimated:.2f} |")
    print("\n| network | mode | batch | measured µs | estimated µs | estimated / measured |")
    print("|---|---|---:|---:|---:|---:|")
    for case, predicted in results:
        if case.group == "networks":
            print(f"| {case.name} | {case.mode} | {case.batch} | {case.measured_us:,.0f} | {predicted:,.0f} |"
                  f" {predicted / case.measured_us:.2f} |")
    (HERE / "estimated_vs_measured.svg").write_text(svg(results))
    folds = held_out(by_configuration=True)
    print(f"\nHeld out by configuration (5 folds of case names, every mode and batch of one together):"
          f" {Accuracy.of([(p, c.measured_us) for c, p in folds])}; Inception pairs"
          f" {geomean_error([r.error for r in pair_ratios(folds)]):.3f}x")


if __name__ == "__main__":
    main()
