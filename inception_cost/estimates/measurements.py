"""Latencies measured by `benchmarks/gpu/measure_latency.py` or `measure_more.py`, read as
calibration cases.

Each measured case's layers (a `configs` entry of measure_latency.py; one record of
measure_more.py's `convs` or `kernels`) are rebuilt as a graph-form network and analysed
by the core, so the model prices exactly what the calculator counts; the torchvision
networks are the built-ins `googlenet-torchvision` and `inception-v3`. A case whose MACs
differ from the measurement's own count is an error, not a guess. Records the model does
not describe (channels_last, training steps, fusion, a network at another input size)
are left out.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from inception_cost.core.analysis import Analysis, analyse
from inception_cost.errors import ArchitectureError, InceptionCostError
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.kernels import Kernel, kernels
from inception_cost.estimates.latency import Math, Precision
from inception_cost.source.files import read_regular

BUILTINS = {"torchvision_googlenet": "googlenet-torchvision", "torchvision_inception_v3": "inception-v3"}
MORE_GROUPS = ("convs", "kernels", "networks")  # measure_more.py's groups the model describes
# measure_more.py's networks: (built-in, the input size it describes)
MORE_NETWORKS = {"googlenet": ("googlenet-torchvision", 224), "inception_v3": ("inception-v3", 299)}
# measure_more.py's non-conv kernels, as one layer each (cat4, add and the layout copy have none)
MORE_KERNELS = {"batchnorm": "batch_norm", "relu": "relu",
                "maxpool3x3s1": "{max_pool: {kernel: 3, stride: 1, padding: 1}}",
                "maxpool3x3s2": "{max_pool: {kernel: 3, stride: 2, padding: 0, rounding: ceil}}",
                "avgpool3x3s1": "{avg_pool: {kernel: 3, stride: 1, padding: 1}}",
                "adaptive_avgpool1x1": "global_avg_pool"}
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
    if isinstance(data, dict) and isinstance(data.get("cases"), list) and isinstance(data.get("configs"), dict):
        records = [(f"case {i}", ("", case)) for i, case in enumerate(data["cases"], 1)]
        read: Callable[..., Case | None] = functools.partial(_case, configs=data["configs"])
    elif isinstance(data, dict) and all(isinstance(data.get(k), list) for k in MORE_GROUPS):
        records = [(f"{group} record {i}", (group, case)) for group in MORE_GROUPS
                   for i, case in enumerate(data[group], 1)]
        read = _more_case
    else:
        raise ArchitectureError("not a measure_latency.py result (no 'cases' list and 'configs' map) nor a"
                                " measure_more.py one (no 'convs', 'kernels' and 'networks' lists)", file=path)
    analyses: dict[str, Analysis] = {}
    cases = []
    distinct = 0
    for label, record in records:
        try:
            found = read(record, analyses=analyses)
        except InceptionCostError as exc:
            raise ArchitectureError(f"{label}: {exc.message}", file=path) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ArchitectureError(f"{label}: malformed ({exc!r})", file=path) from None
        if found is not None:
            cases.append(found)
            distinct += len(found.distinct)
        if distinct > MAX_KERNELS:
            raise ArchitectureError(f"more than {MAX_KERNELS:,} distinct kernels over the cases: too many"
                                    " to fit in bounded time (split the file)", file=path)
    if not cases:
        raise ArchitectureError("no case with a CUDA-graph time and a known configuration", file=path)
    return {"environment": data.get("environment", {}), "peaks": data.get("peaks", {})}, cases


MAX_FILES = 8


def read_all(paths: tuple[str, ...]) -> tuple[dict[str, Any], list[Case]]:
    """The cases of several measurement files (one GPU's), with the peaks and environment of
    the first file that has them."""
    if len(paths) > MAX_FILES:
        raise ArchitectureError(f"{len(paths)} measurement files: at most {MAX_FILES} (one GPU's)")
    info: dict[str, Any] = {"environment": {}, "peaks": {}}
    cases: list[Case] = []
    for path in paths:
        found, more = read_measurements(path)
        for key in info:
            info[key] = info[key] or found[key]
        cases += more
        if sum(len(c.distinct) for c in cases) > MAX_KERNELS:
            raise ArchitectureError(f"more than {MAX_KERNELS:,} distinct kernels over the files: too many to"
                                    " fit in bounded time", file=path)
    return info, cases


def _case(record: tuple[str, Any], configs: dict[str, Any], analyses: dict[str, Analysis]) -> Case | None:
    """A measure_latency.py case (None: one without a CUDA-graph time or a known mode)."""
    case = record[1]
    if not isinstance(case, dict) or case.get("mode") not in PRECISIONS:
        return None
    graph, config = case.get("graph"), configs.get(str(case.get("name")))
    if not isinstance(graph, dict) or "median_us" not in graph or not isinstance(config, dict):
        return None
    _checked_time(case)
    name = str(case["name"])
    if name not in analyses:
        analyses[name] = _analysis(name, config)
    return _timed(name, str(case.get("group", "")), case, analyses[name], int(config["macs_per_image"]))


def _more_case(record: tuple[str, Any], analyses: dict[str, Analysis]) -> Case | None:
    """A measure_more.py record of its `convs`, `kernels` or `networks` group (None: one
    the model does not describe, or without a CUDA-graph time)."""
    group, case = record
    if not isinstance(case, dict) or case.get("mode") not in PRECISIONS \
            or case.get("memory_format") != "contiguous" or "median_us" not in (case.get("graph") or {}):
        return None  # the model is NCHW (contiguous); eager times include launch gaps
    _checked_time(case)
    described = _more_network(group, case)
    if described is None:
        return None
    name, source = described
    if source not in analyses:  # a built-in's name or a network's text
        from inception_cost.source.catalog import load
        from inception_cost.source.document import parse_text

        analyses[source] = analyse(load(source)) if group == "networks" else analyse(parse_text(source, name))
    analysis = analyses[source]
    if group != "kernels":
        return _timed(name, f"more {group}", case, analysis, int(case["macs_per_image"]))
    shape = (analysis.table.hout[-1], analysis.table.wout[-1])  # no MACs to compare: the output size must agree
    if shape != (int(case["hout"]), int(case["wout"])):
        raise ArchitectureError(f"{name}: the calculator's output is {shape[0]}x{shape[1]},"
                                f" the measurement's {case['hout']}x{case['wout']}")
    return _timed(name, f"more {group}", case, analysis, analysis.root.macs)


def _more_network(group: str, case: dict[str, Any]) -> tuple[str, str] | None:
    """(a name for the record, the built-in or the graph-form text that describes it)."""
    if group == "networks":
        builtin, size = MORE_NETWORKS.get(str(case.get("net")), ("", 0))
        return (f"{case['net']} {size}x{size}", builtin) if builtin and int(case["hw"]) == size else None
    if group == "kernels":
        layer = MORE_KERNELS.get(str(case.get("op")))
        c, h, w = int(case["c"]), int(case["h"]), int(case["w"])
        return (f"{case['op']} {c}x{h}x{w}", f"input: {h}x{w}x{c}\nlayers:\n  - {layer}\n") if layer else None
    (kh, kw), stride = case["kernel"], case["stride"][0]
    name = f"conv{kh}x{kw}/{stride} g{case['groups']} {case['cin']}>{case['cout']} {case['hin']}x{case['win']}"
    return name, network_text({"input_chw": [case["cin"], case["hin"], case["win"]],
                               "layers": [dict(case, type="conv")]})


def _checked_time(case: dict[str, Any]) -> None:
    """Before anything is built from it: a case's time and batch are in range."""
    measured, batch = float(case["graph"]["median_us"]), int(case["batch"])
    if not (math.isfinite(measured) and measured > 0 and 1 <= batch <= 1 << 16):
        raise ValueError(f"time {measured!r} or batch {batch!r} out of range")


def _timed(name: str, group: str, case: dict[str, Any], analysis: Analysis, expected_macs: int) -> Case:
    measured, batch = float(case["graph"]["median_us"]), int(case["batch"])
    if analysis.root.macs != expected_macs:
        raise ArchitectureError(f"{name}: the calculator counts {analysis.root.macs:,} MACs,"
                                f" the measurement {expected_macs:,}")
    return Case(name, group, case["mode"], batch, measured, analysis.root.macs, PRECISIONS[case["mode"]],
                kernels(analysis))


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
        stride = [int(v) for v in spec["stride"]] if isinstance(spec["stride"], list) else int(spec["stride"])
        dilation = [int(v) for v in spec.get("dilation", (1, 1))]
        if spec["type"] == "maxpool":
            return f"{{max_pool: {{kernel: [{kh}, {kw}], stride: {stride}, padding: [{ph}, {pw}]}}}}"
        if spec["type"] != "conv":
            raise ValueError(f"layer type {spec['type']!r} (expected conv or maxpool)")
        activation = ", activation: relu" if spec.get("relu") else ""
        return (f"{{conv: {{filters: {int(spec['cout'])}, kernel: [{kh}, {kw}], stride: {stride},"
                f" padding: [{ph}, {pw}], dilation: {dilation}, groups: {int(spec.get('groups', 1))},"
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
