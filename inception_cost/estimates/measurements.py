"""Latencies measured by `benchmarks/gpu/measure_latency.py` or `measure_more.py`, read as
calibration cases.

Each measured case's layers (a `configs` entry of measure_latency.py; one record of
measure_more.py's `convs` or `kernels`) are rebuilt as a graph-form network and analysed
by the core, so the model prices exactly what the calculator counts; the torchvision
networks are the built-ins `googlenet-torchvision` and `inception-v3`. A case whose MACs
differ from the measurement's own count is an error, not a guess. Records the model does
not describe (channels_last, training steps, fusion, a network at another input size)
are left out. A configuration measured more than once (in one file, or in several files of
one GPU) is one case with the geometric mean of its times, so that a fit weighs it once.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from inception_cost.core.analysis import Analysis, analyse
from inception_cost.core.tree import MAX_NAME
from inception_cost.errors import ArchitectureError, InceptionCostError, printable, shorten
from inception_cost.estimates.dtypes import MAX_BATCH, Dtype
from inception_cost.estimates.kernels import Kernel, kernels
from inception_cost.estimates.latency import Math, Precision
from inception_cost.source.files import read_regular
from inception_cost.source.numbers import whole_number

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
# a measurements file larger than this is not one: measure_more.py's largest fittable (20,000
# single convs) is 23 MB, and Python's JSON parse takes about 12x the file (412 MB at 32 MB)
MAX_BYTES = 32 << 20
# distinct kernels over all cases (8x the H100 file's): bounds reading (8.4 s, 300 MB here) and a fit
MAX_KERNELS = 20_000
# layers rebuilt from the configurations and records of all the files read together (the H100
# file's: 430); about 0.5 ms each to build and analyse, so 20,000 single convs read in 8.4 s
MAX_REBUILT_LAYERS = 20_000
MAX_CONFIG_LAYERS = 1_000  # in one configuration (the H100 file's largest: 192)
# a case's time in µs: no kernel runs in under a nanosecond (a subnormal time made ratios 0 or
# infinite), none is measured for over 1,000 s
SHORTEST_US, LONGEST_US = 1e-3, 1e9


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
            counts.setdefault(_shape(k), [k, 0])[1] += 1
        self.distinct = [(k, n) for k, n in counts.values()]


def _shape(kernel: Kernel) -> tuple[Any, ...]:
    """What prices a kernel: every field but the layer it belongs to."""
    return tuple(getattr(kernel, f.name) for f in fields(kernel) if f.name != "owner")


@dataclass(frozen=True)
class Measured:
    """What measurement files say about their device, checked: matmul peaks per math
    (TFLOP/s), copy bandwidth (GB/s), SM count, the GPU's name; how many records the model
    does not describe were left out, and how many repeated a configuration."""

    peaks: dict[str, float] = field(default_factory=dict)
    bandwidth_gbs: float | None = None
    sms: int | None = None
    gpu: str | None = None
    left_out: int = 0
    repeats: int = 0  # records that measured a configuration already read (averaged into it)
    # why records were left out: (reason, how many), most first
    left_out_why: tuple[tuple[str, int], ...] = ()
    peaks_given: bool = True  # the file has a 'peaks' mapping (null when measured without the peaks group)

    def left_out_text(self) -> str:
        """'30 records left out: 30 without a CUDA-graph time (...)', or ''."""
        if not self.left_out:
            return ""
        why = "; ".join(f"{n:,} {reason}" for reason, n in self.left_out_why)
        return f"{self.left_out:,} record{'' if self.left_out == 1 else 's'} left out: {why}"


@dataclass
class Rebuilt:
    """The layers rebuilt so far, over every file read together: bounded before each is
    built (a configuration of 10,000 layers took 7.5 s, 0.75 ms a layer; three of them in a
    4 MB file, 22 s; 20 of 1,000 layers, 9.8 s)."""

    layers: int = 0

    def add(self, layers: int) -> None:
        if layers > MAX_CONFIG_LAYERS:
            raise ArchitectureError(f"{layers:,} layers: more than the {MAX_CONFIG_LAYERS:,} a measured"
                                    " configuration may have")
        self.layers += layers
        if self.layers > MAX_REBUILT_LAYERS:
            raise ArchitectureError(f"more than {MAX_REBUILT_LAYERS:,} layers to rebuild over the measured"
                                    " configurations: too many to read in bounded time (split the file)")


def read_measurements(path: str, rebuilt: Rebuilt | None = None) -> tuple[Measured, list[Case]]:
    """(what the file says about its device, its cases); a one-line error if it is not one.
    `rebuilt` counts the layers built from the files read so far."""
    rebuilt = Rebuilt() if rebuilt is None else rebuilt
    raw = read_regular(path, MAX_BYTES, what="a measurements file", expected="measure_latency.py's JSON")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_int=_bounded_int)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ArchitectureError(f"cannot read measurements: {exc}", file=path) from None
    if isinstance(data, dict) and isinstance(data.get("cases"), list) and isinstance(data.get("configs"), dict):
        records = [(f"case {i}", ("", case)) for i, case in enumerate(data["cases"], 1)]
        read: Callable[..., Case | str] = functools.partial(_case, configs=data["configs"])
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
    why: dict[str, int] = {}
    for label, record in records:
        try:
            found = read(record, analyses=analyses, rebuilt=rebuilt)
        except InceptionCostError as exc:
            raise ArchitectureError(f"{label}: {exc.message}", file=path) from None
        except KeyError as exc:
            raise ArchitectureError(f"{label}: malformed (no {exc} where one is needed; a network case must be"
                                    f" named {' or '.join(BUILTINS)})", file=path) from None
        except ValueError as exc:  # ours: what the value should have been
            raise ArchitectureError(f"{label}: malformed ({exc})", file=path) from None
        except (TypeError, IndexError) as exc:  # Python's: say what it means first
            raise ArchitectureError(f"{label}: malformed (a value of another type or shape than the"
                                    f" measurement scripts write: {exc})", file=path) from None
        if isinstance(found, str):
            why[found] = why.get(found, 0) + 1
        else:
            cases.append(found)
            distinct += len(found.distinct)
        if distinct > MAX_KERNELS:
            raise ArchitectureError(f"more than {MAX_KERNELS:,} distinct kernels over the cases: too many"
                                    " to fit in bounded time (split the file)", file=path)
    reasons = tuple(sorted(why.items(), key=lambda item: -item[1]))
    if not cases:
        said = "; ".join(f"{n:,} {reason}" for reason, n in reasons) or "the file has no records"
        raise ArchitectureError(f"no case the model can be checked on: {said}", file=path)
    try:
        facts = _device_facts(data)
        return replace(facts, left_out=sum(why.values()), left_out_why=reasons), cases
    except (TypeError, ValueError) as exc:
        raise ArchitectureError(str(exc), file=path) from None


def _device_facts(data: dict[str, Any]) -> Measured:
    """The peaks, bandwidth, SM count and GPU name a file gives, each checked."""
    # measure_latency.py writes "peaks": null when --groups leaves the peaks out: none measured
    peaks, environment = data.get("peaks"), data.get("environment")
    peaks, environment = {} if peaks is None else peaks, {} if environment is None else environment
    if not isinstance(peaks, dict) or not isinstance(environment, dict):
        raise ValueError("'peaks' and 'environment' must be mappings (or null)")

    def rate(key: str, field_name: str) -> float | None:
        entry = peaks.get(key)
        if entry is None:
            return None
        value = entry.get(field_name) if isinstance(entry, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not LOWEST <= value <= HIGHEST:
            raise ValueError(f"peaks.{key}.{field_name} must be a number from {LOWEST:g} to {HIGHEST:g},"
                             f" got {shorten(repr(value))}")
        return float(value)

    found = {m: rate(f"matmul_{m}", "tflops_at_median") for m in ("fp32", "tf32", "bf16", "fp16")}
    sms = environment.get("sm_count")
    if sms is not None and (isinstance(sms, bool) or not isinstance(sms, int) or not 1 <= sms <= 100_000):
        raise ValueError(f"environment.sm_count must be a whole number from 1 to 100000, got {shorten(repr(sms))}")
    name = environment.get("gpu_name", environment.get("device"))
    gpu = shorten("".join(ch for ch in name if ch.isprintable()), 80) if isinstance(name, str) else None
    return Measured({m: v for m, v in found.items() if v is not None}, rate("d2d_copy", "gbps_at_median"),
                    sms, gpu or None, peaks_given=bool(peaks))


LOWEST, HIGHEST = 1e-6, 1e9  # a peak (TFLOP/s) or bandwidth (GB/s) a device profile accepts


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a measurement")


def _bounded_int(text: str) -> int:
    value = whole_number(text.lstrip("-"))
    if value is None:
        raise ValueError(f"a number of {len(text)} digits")
    return -value if text.startswith("-") else value


def _whole(value: Any, what: str, low: int = 0, high: int = 1 << 40) -> int:
    """A whole number from a record, as written (not 1.7, "32" or true)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, got {shorten(repr(value))}")
    return value


MAX_FILES = 8


def read_all(paths: tuple[str, ...]) -> tuple[Measured, list[Case]]:
    """The cases of several measurement files of one GPU, with the peaks, bandwidth and SM
    count of the first file that gives them."""
    if len(paths) > MAX_FILES:
        raise ArchitectureError(f"{len(paths)} measurement files: at most {MAX_FILES} (one GPU's)")
    seen: dict[object, str] = {}
    merged, cases, rebuilt = Measured(), [], Rebuilt()
    for path in paths:
        key = _identity(path)
        if key in seen:
            raise ArchitectureError(f"given twice ({seen[key]}): its cases would count double", file=path)
        seen[key] = path
        found, more = read_measurements(path, rebuilt)
        if merged.gpu and found.gpu and found.gpu != merged.gpu:
            raise ArchitectureError(f"measured on {found.gpu}, the files before it on {merged.gpu}: a profile"
                                    " is fitted to one GPU's measurements", file=path)
        why = dict(merged.left_out_why)
        for reason, n in found.left_out_why:
            why[reason] = why.get(reason, 0) + n
        merged = Measured(merged.peaks or found.peaks, merged.bandwidth_gbs or found.bandwidth_gbs,
                          merged.sms or found.sms, merged.gpu or found.gpu, merged.left_out + found.left_out,
                          left_out_why=tuple(sorted(why.items(), key=lambda item: -item[1])))
        cases += more
        if sum(len(c.distinct) for c in cases) > MAX_KERNELS:
            raise ArchitectureError(f"more than {MAX_KERNELS:,} distinct kernels over the files: too many to"
                                    " fit in bounded time", file=path)
    once = merged_repeats(cases)
    return replace(merged, repeats=len(cases) - len(once)), once


def _identity(path: str) -> object:
    """What tells two paths to one file apart from two files: its device and inode (a hard
    link, a symlink, a path with '..'), else the path resolved (a file that is not there,
    which reading it then reports)."""
    import os

    try:
        info = os.stat(path)
    except OSError:
        return str(Path(path).resolve())
    return (info.st_dev, info.st_ino)


def merged_repeats(cases: list[Case]) -> list[Case]:
    """One case per configuration (group, name, mode, batch and the kernels it runs), in the
    order first read: a repeated one takes the geometric mean of its measured times (a case
    counted twice would weigh twice in a fit and in the accuracy figures). Two configurations
    under one name (a 3x3 and a 1x9 of equal MACs) stay two cases."""
    same: dict[tuple[str, str, str, int, int, frozenset[tuple[tuple[Any, ...], int]]], list[Case]] = {}
    for c in cases:
        runs = frozenset((_shape(k), n) for k, n in c.distinct)
        same.setdefault((c.group, c.name, c.mode, c.batch, c.macs, runs), []).append(c)
    return [group[0] if len(group) == 1 else
            replace(group[0], measured_us=math.exp(sum(math.log(c.measured_us) for c in group) / len(group)))
            for group in same.values()]


def _case(record: tuple[str, Any], configs: dict[str, Any], analyses: dict[str, Analysis],
          rebuilt: Rebuilt) -> Case | str:
    """A measure_latency.py case, or why it is left out."""
    case = record[1]
    unpriced = _unpriced(case)
    if unpriced:
        return unpriced
    config = configs.get(str(case.get("name")))
    if not isinstance(config, dict):
        return "without a configuration in 'configs'"
    _checked_time(case)
    name, group = str(case["name"]), case.get("group") or ""
    if not isinstance(group, str):  # shown and held out by: a number or a list is no group's name
        raise ValueError(f"group must be text, got {shorten(repr(group))}")
    for what, text in (("name", name), ("group", group)):  # shown in every report, as a layer's name is
        if len(text) > MAX_NAME:
            raise ValueError(f"a {what} of {len(text):,} characters ('{text[:40]}...'); names have at most"
                             f" {MAX_NAME:,}")
    if name not in analyses:
        layers = config.get("layers")
        rebuilt.add(len(layers) if name not in BUILTINS and isinstance(layers, list) else 0)
        analyses[name] = _analysis(name, config)
    macs = _whole(config["macs_per_image"], "macs_per_image")
    return _timed(name, group, case, analyses[name], macs)


def _unpriced(case: Any) -> str:
    """Why a record cannot be priced ('' where it can): no mode the model prices, or no
    CUDA-graph time (eager times include launch gaps the model leaves out)."""
    if not isinstance(case, dict) or not isinstance(case.get("mode"), str):
        return "without a mode"
    if case["mode"] not in PRECISIONS:
        return f"in a mode the model does not price ({shorten(case['mode'], 20)})"
    graph = case.get("graph")
    if isinstance(graph, dict) and "median_us" in graph:
        return ""
    if isinstance(graph, dict) and "error" in graph:
        return "whose CUDA-graph capture failed"
    if case.get("reduced_counts"):
        return ("timed eagerly only, after measure_latency.py's --soft-budget ran out (raise it, or measure"
                " fewer --groups or --batches per run)")
    return "timed eagerly only (measured with --no-graph)"


def _more_case(record: tuple[str, Any], analyses: dict[str, Analysis], rebuilt: Rebuilt) -> Case | str:
    """A measure_more.py record of its `convs`, `kernels` or `networks` group, or why it is
    left out."""
    group, case = record
    unpriced = _unpriced(case)
    if unpriced:
        return unpriced
    if case.get("memory_format") != "contiguous":
        return "in channels_last (the model is NCHW)"
    _checked_time(case)
    described = _more_network(group, case)
    if described is None:
        return "that the model does not describe (cat4, add and layout-copy kernels; a network at another input size)"
    name, source = described
    if source not in analyses:  # a built-in's name or a network's text
        from inception_cost.source.catalog import load
        from inception_cost.source.document import parse_text

        rebuilt.add(0 if group == "networks" else 1)  # a built-in, read once; else one layer
        analyses[source] = analyse(load(source)) if group == "networks" else analyse(parse_text(source, name))
    analysis = analyses[source]
    if group != "kernels":
        return _timed(name, f"more {group}", case, analysis, _whole(case["macs_per_image"], "macs_per_image"))
    shape = (analysis.table.hout[-1], analysis.table.wout[-1])  # no MACs to compare: the output size must agree
    if shape != (_whole(case["hout"], "hout"), _whole(case["wout"], "wout")):
        raise ArchitectureError(f"{name}: the calculator's output is {shape[0]}x{shape[1]},"
                                f" the measurement's {case['hout']}x{case['wout']}")
    return _timed(name, f"more {group}", case, analysis, analysis.root.macs)


def _more_network(group: str, case: dict[str, Any]) -> tuple[str, str] | None:
    """(a name for the record, the built-in or the graph-form text that describes it)."""
    if group == "networks":
        builtin, size = MORE_NETWORKS.get(str(case.get("net")), ("", 0))
        return (f"{case['net']} {size}x{size}", builtin) if builtin and _whole(case["hw"], "hw") == size else None
    if group == "kernels":
        layer = MORE_KERNELS.get(str(case.get("op")))
        c, h, w = (_whole(case[k], k, 1, 1 << 20) for k in "chw")
        return (f"{case['op']} {c}x{h}x{w}", f"input: {h}x{w}x{c}\nlayers:\n  - {layer}\n") if layer else None
    (kh, kw), (stride, _) = _pair(case["kernel"], "kernel"), _pair(case["stride"], "stride")
    name = (f"conv{kh}x{kw}/{stride} g{_whole(case['groups'], 'groups', 1)} {_whole(case['cin'], 'cin', 1)}>"
            f"{_whole(case['cout'], 'cout', 1)} {_whole(case['hin'], 'hin', 1)}x{_whole(case['win'], 'win', 1)}")
    return name, network_text({"input_chw": [case["cin"], case["hin"], case["win"]],
                               "layers": [dict(case, type="conv")]})


def _checked_time(case: dict[str, Any]) -> None:
    """Before anything is built from it: a case's time and batch are in range."""
    measured = case["graph"]["median_us"]
    if isinstance(measured, bool) or not isinstance(measured, (int, float)) \
            or not SHORTEST_US <= measured <= LONGEST_US:
        raise ValueError(f"time {shorten(repr(measured))} out of range (0.001 to 1e9 µs)")
    _whole(case["batch"], "batch", 1, MAX_BATCH)


def _timed(name: str, group: str, case: dict[str, Any], analysis: Analysis, expected_macs: int) -> Case:
    measured, batch = float(case["graph"]["median_us"]), case["batch"]
    if analysis.root.macs != expected_macs:
        raise ArchitectureError(f"{name}: the calculator counts {analysis.root.macs:,} MACs,"
                                f" the measurement {expected_macs:,}")
    # names are shown in tables, pictures and on stderr: control characters as escapes
    return Case(printable(name), printable(group), case["mode"], batch, measured, analysis.root.macs,
                PRECISIONS[case["mode"]], kernels(analysis))


def _pair(value: Any, what: str) -> tuple[int, int]:
    """A size written as one whole number or as two."""
    if isinstance(value, list) and len(value) == 2:
        return _whole(value[0], what, 0, 1 << 20), _whole(value[1], what, 0, 1 << 20)
    if isinstance(value, list):
        raise ValueError(f"{what} must be one whole number or two, got {shorten(repr(value))}")
    return (_whole(value, what, 0, 1 << 20),) * 2


def _analysis(name: str, config: dict[str, Any]) -> Analysis:
    from inception_cost.source.catalog import load
    from inception_cost.source.document import parse_text

    if name in BUILTINS:
        return analyse(load(BUILTINS[name]))
    analysis = analyse(parse_text(network_text(config), name))
    if "output_chw" in config:  # a pool has no MACs to compare: its output size must agree
        said = config["output_chw"]
        if not isinstance(said, list) or len(said) != 3:
            raise ValueError(f"output_chw must be three whole numbers, got {shorten(repr(said))}")
        h, w, c = analysis.root.out_shape
        if [c, h, w] != [_whole(v, "output_chw", 1, 1 << 20) for v in said]:
            raise ArchitectureError(f"{name}: the calculator's output is {c}x{h}x{w} (C x H x W),"
                                    f" the measurement's {'x'.join(map(str, said))}")
    return analysis


def _flag(spec: dict[str, Any], key: str, required: bool = False) -> bool:
    """A true / false field as written ("false" and 1 are not false and true); absent or
    null: false, unless `required`."""
    value = spec[key] if required else spec.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {shorten(repr(value))}")
    return bool(value)


def network_text(config: dict[str, Any]) -> str:
    """A measured case's layers (convs with bias and ReLU as measured, max pools) as a
    graph-form network; branches side by side in a concat where the case has one."""
    given = config["input_chw"]
    if not isinstance(given, list) or len(given) != 3:
        raise ValueError(f"input_chw must be three whole numbers, got {shorten(repr(given))}")
    c, h, w = (_whole(v, "input_chw", 1, 1 << 20) for v in given)

    def layer(spec: dict[str, Any]) -> str:
        kh, kw = _pair(spec["kernel"], "kernel")
        ph, pw = _pair(spec["padding"], "padding")
        stride = list(_pair(spec["stride"], "stride"))
        dilation = list(_pair(spec.get("dilation", 1), "dilation"))
        if spec["type"] == "maxpool":
            return f"{{max_pool: {{kernel: [{kh}, {kw}], stride: {stride}, padding: [{ph}, {pw}]}}}}"
        if spec["type"] != "conv":
            raise ValueError(f"layer type {spec['type']!r} (expected conv or maxpool)")
        activation = ", activation: relu" if _flag(spec, "relu") else ""
        return (f"{{conv: {{filters: {_whole(spec['cout'], 'cout', 1)}, kernel: [{kh}, {kw}], stride: {stride},"
                f" padding: [{ph}, {pw}], dilation: {dilation}, groups: {_whole(spec.get('groups', 1), 'groups', 1)},"
                f" bias: {str(_flag(spec, 'bias', required=True)).lower()}{activation}}}}}")

    lines = [f"input: {h}x{w}x{c}", "layers:"]
    specs = config["layers"]
    if _flag(config, "concat"):
        branches: dict[str, list[str]] = {}
        for spec in specs:
            branches.setdefault(str(spec["branch"]), []).append(layer(spec))
        lines.append("  - concat:")
        lines += [f"      {json.dumps(name)}: [{', '.join(items)}]" for name, items in branches.items()]
    else:
        lines += [f"  - {layer(spec)}" for spec in specs]
    return "\n".join(lines) + "\n"
