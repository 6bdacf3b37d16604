"""Roofline estimates against the latencies measured on an H100 (h100_latency.json).

Run by hand: `python benchmarks/gpu/compare_estimates.py [--device h100-measured]`.
Every measured case's layers are rebuilt as a graph-form network, its MACs are checked
against the measurement's own count, and the estimate is set beside the CUDA-graph
median. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inception_cost.core.analysis import analyse
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.memory import Dtype
from inception_cost.estimates.roofline import estimate, total_seconds
from inception_cost.source.catalog import load
from inception_cost.source.document import parse_text

HERE = Path(__file__).resolve().parent
MODES = {"fp32": Dtype.FP32, "fp16": Dtype.FP16}  # tf32 has no profile entry
BUILTINS = {"torchvision_googlenet": "googlenet-torchvision", "torchvision_inception_v3": "inception-v3"}
PAIRS = [  # (what, costlier, cheaper)
    ("3a 5x5 branch: naive / reduced", "3a_naive_branch_5x5", "3a_reduced_branch_5x5"),
    ("3a module: naive / reduced", "3a_naive_module", "3a_reduced_module"),
    ("5x5 / two 3x3 (192 ch, 28x28)", "conv5x5_192_28x28", "conv3x3x2_192_28x28"),
    ("3x3 / 1x3 + 3x1 (192 ch, 17x17)", "conv3x3_192_17x17", "conv1x3_3x1_192_17x17"),
    ("7x7 / 1x7 + 7x1 (192 ch, 17x17)", "conv7x7_192_17x17", "conv1x7_7x1_192_17x17"),
]


def network_text(config: dict) -> str:
    """The measured case as a graph-form YAML network."""
    c, h, w = config["input_chw"]

    def layer(spec: dict) -> str:
        kh, kw = spec["kernel"]
        ph, pw = spec["padding"]
        if spec["type"] == "maxpool":
            return f"{{max_pool: {{kernel: [{kh}, {kw}], stride: {spec['stride']}, padding: [{ph}, {pw}]}}}}"
        return (f"{{conv: {{filters: {spec['cout']}, kernel: [{kh}, {kw}], stride: {spec['stride']},"
                f" padding: [{ph}, {pw}], bias: {str(spec['bias']).lower()}}}}}")

    lines = [f"input: {h}x{w}x{c}", "layers:"]
    if config.get("concat", len({spec.get("branch") for spec in config["layers"]}) > 1):
        branches: dict = {}
        for spec in config["layers"]:
            branches.setdefault(spec["branch"], []).append(layer(spec))
        lines.append("  - concat:")
        lines += [f"      '{name}': [{', '.join(items)}]" for name, items in branches.items()]
    else:
        lines += [f"  - {layer(spec)}" for spec in config["layers"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="h100-measured")
    parser.add_argument("--results", default=str(HERE / "h100_latency.json"))
    args = parser.parse_args()
    data = json.loads(Path(args.results).read_text())
    device = load_device(args.device)
    rows, found = [], {}
    for case in data["cases"]:
        config = data["configs"].get(case["name"])
        if config is None or case["mode"] not in MODES or "graph" not in case:
            continue
        if case["name"] in BUILTINS:
            analysis = analyse(load(BUILTINS[case["name"]]))
        elif all(spec.get("type") in ("conv", "maxpool") for spec in config.get("layers", [None])):
            analysis = analyse(parse_text(network_text(config), case["name"]))
        else:
            continue
        assert analysis.root.macs == config["macs_per_image"], case["name"]
        seconds = total_seconds(estimate(analysis, device, MODES[case["mode"]], case["batch"]))
        measured = case["graph"]["median_us"]
        found[case["name"], case["mode"], case["batch"]] = (config["macs_per_image"], measured, seconds * 1e6)
        rows.append(f"| {case['name']} | {case['mode']} | {case['batch']} | {config['macs_per_image']:,} |"
                    f" {measured:,.1f} | {seconds * 1e6:,.1f} | {measured / (seconds * 1e6):.2f}x |")
    print(f"Device profile: {device.name}.\n")
    print("| pair | mode | batch | MAC ratio | measured time ratio | estimated time ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for what, costly, cheap in PAIRS:
        for mode in MODES:
            for batch in (1, 32):
                a, b = found.get((costly, mode, batch)), found.get((cheap, mode, batch))
                if a and b:
                    print(f"| {what} | {mode} | {batch} | {a[0] / b[0]:.2f}x | {a[1] / b[1]:.2f}x |"
                          f" {a[2] / b[2]:.2f}x |")
    print("\n| case | mode | batch | MACs/image | measured µs (graph) | estimate µs | measured / estimate |")
    print("|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
