"""Latencies measured by `benchmarks/gpu/measure_latency.py`, read as calibration cases.

Each measured case's layers (its `configs` entry) are rebuilt as a graph-form network and
analysed by the core, so the model prices exactly what the calculator counts; the
torchvision networks are the built-ins `googlenet-torchvision` and `inception-v3`. A
case whose MACs differ from the measurement's own count is an error, not a guess.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

from inception_cost.core.analysis import Analysis, analyse
from inception_cost.errors import ArchitectureError, InceptionCostError
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.kernels import Kernel, kernels
from inception_cost.estimates.latency import Math, Precision
from inception_cost.source.files import read_regular

BUILTINS = {"torchvision_googlenet": "googlenet-torchvision", "torchvision_inception_v3": "inception-v3"}
# measure_latency.py's modes: fp32 sets both TF32 flags False, tf32 both True
PRECISIONS = {"fp32": Precision(Dtype.FP32, Math.FP32, Math.FP32),
              "tf32": Precision(Dtype.FP32, Math.TF32, Math.TF32),
              "fp16": Precision.of(Dtype.FP16), "bf16": Precision.of(Dtype.BF16)}
MAX_BYTES = 64 << 20  # a measurements file larger than this is not one
MAX_KERNELS = 50_000  # distinct kernels over all cases (24x the H100 file's): bounds a fit's time


@dataclass
class Case:
    name: str
    group: str
    mode: str
    batch: int
    measured_us: float  # CUDA-graph median, whole batch
    macs: int  # per image, as the core counts them (= the measurement's)
    precision: Precision
    kernels: list[Kernel]
    distinct: list[tuple[Kernel, int]] = field(default_factory=list)  # each shape once, with its count

    def __post_init__(self) -> None:
        counts: dict[tuple[Any, ...], list[Any]] = {}
        for k in self.kernels:  # the same shape costs the same: the fit prices each once
            key = tuple(getattr(k, f.name) for f in fields(k) if f.name != "owner")
            counts.setdefault(key, [k, 0])[1] += 1
        self.distinct = [(k, n) for k, n in counts.values()]


def read_measurements(path: str) -> tuple[dict[str, Any], list[Case]]:
    """(the file's environment and peaks, its cases); a one-line error if it is not one."""
    raw = read_regular(path, MAX_BYTES, what="a measurements file", expected="measure_latency.py's JSON")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ArchitectureError(f"cannot read measurements: {exc}", file=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) \
            or not isinstance(data.get("configs"), dict):
        raise ArchitectureError("not a measure_latency.py result (no 'cases' list and 'configs' map)",
                                file=path)
    analyses: dict[str, Analysis] = {}
    cases = []
    distinct = 0
    for number, case in enumerate(data["cases"], 1):
        try:
            found = _case(case, data["configs"], analyses)
        except InceptionCostError as exc:
            raise ArchitectureError(f"case {number}: {exc.message}", file=path) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ArchitectureError(f"case {number}: malformed ({exc!r})", file=path) from None
        if found is not None:
            cases.append(found)
            distinct += len(found.distinct)
        if distinct > MAX_KERNELS:
            raise ArchitectureError(f"more than {MAX_KERNELS:,} distinct kernels over the cases: too many"
                                    " to fit in bounded time (split the file)", file=path)
    if not cases:
        raise ArchitectureError("no case with a CUDA-graph time and a known configuration", file=path)
    return {"environment": data.get("environment", {}), "peaks": data.get("peaks", {})}, cases


def _case(case: Any, configs: dict[str, Any], analyses: dict[str, Analysis]) -> Case | None:
    if not isinstance(case, dict) or case.get("mode") not in PRECISIONS:
        return None
    graph, config = case.get("graph"), configs.get(str(case.get("name")))
    if not isinstance(graph, dict) or not isinstance(config, dict):
        return None
    measured = float(graph["median_us"])
    batch = int(case["batch"])
    if not (math.isfinite(measured) and measured > 0 and 1 <= batch <= 1 << 16):
        raise ValueError(f"time {measured!r} or batch {batch!r} out of range")
    name = str(case["name"])
    if name not in analyses:
        analyses[name] = _analysis(name, config)
    analysis = analyses[name]
    if analysis.root.macs != int(config["macs_per_image"]):
        raise ArchitectureError(f"{name}: the calculator counts {analysis.root.macs:,} MACs,"
                                f" the measurement {int(config['macs_per_image']):,}")
    return Case(name, str(case.get("group", "")), case["mode"], batch, measured, analysis.root.macs,
                PRECISIONS[case["mode"]], kernels(analysis))


def _analysis(name: str, config: dict[str, Any]) -> Analysis:
    from inception_cost.source.catalog import load
    from inception_cost.source.document import parse_text

    if name in BUILTINS:
        return analyse(load(BUILTINS[name]))
    return analyse(parse_text(network_text(config), name))


def network_text(config: dict[str, Any]) -> str:
    """A measured case's layers (convs with bias and ReLU as measured, max pools) as a
    graph-form network; branches side by side in a concat where the case has one."""
    c, h, w = (int(v) for v in config["input_chw"])

    def layer(spec: dict[str, Any]) -> str:
        kh, kw = (int(v) for v in spec["kernel"])
        ph, pw = (int(v) for v in spec["padding"])
        stride = int(spec["stride"][0] if isinstance(spec["stride"], list) else spec["stride"])
        if spec["type"] == "maxpool":
            return f"{{max_pool: {{kernel: [{kh}, {kw}], stride: {stride}, padding: [{ph}, {pw}]}}}}"
        if spec["type"] != "conv":
            raise ValueError(f"layer type {spec['type']!r} (expected conv or maxpool)")
        activation = ", activation: relu" if spec.get("relu") else ""
        return (f"{{conv: {{filters: {int(spec['cout'])}, kernel: [{kh}, {kw}], stride: {stride},"
                f" padding: [{ph}, {pw}], groups: {int(spec.get('groups', 1))},"
                f" bias: {str(bool(spec['bias'])).lower()}{activation}}}}}")

    lines = [f"input: {h}x{w}x{c}", "layers:"]
    specs = config["layers"]
    if config.get("concat"):
        branches: dict[str, list[str]] = {}
        for spec in specs:
            branches.setdefault(str(spec["branch"]), []).append(layer(spec))
        lines.append("  - concat:")
        lines += [f"      {json.dumps(name)}: [{', '.join(items)}]" for name, items in branches.items()]
    else:
        lines += [f"  - {layer(spec)}" for spec in specs]
    return "\n".join(lines) + "\n"
