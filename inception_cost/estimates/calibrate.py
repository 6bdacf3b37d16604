"""Fit a device profile's latency parameters to measured latencies (`measurements.py`).

The parameters are fitted in log space by Nelder-Mead on the mean squared log error of
the whole-case times (a case is a layer, a branch, a module or a network, timed as one
CUDA-graph replay); `layout_copies` is tried both ways. The shape factors (1 x n windows,
large windows, Winograd) are drawn towards "a shape runs as any GEMM of its size" by a
prior that weighs as much as one case each (`shape_prior`): where no case measures a
shape, the fit does not blame it for other kernels' time. The peaks and the bandwidth come
from the measurements (their matmul and copy rates) where present, else from the base
profile. Cross-validation leaves one group of cases out at a time; `accuracy.py` says how close
a profile comes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from inception_cost.errors import UsageError
from inception_cost.estimates.devices import Device
from inception_cost.estimates.fitting import nelder_mead
from inception_cost.estimates.kernels import Op
from inception_cost.estimates.latency import Latency, Math, Model, Precision
from inception_cost.estimates.measurements import Case, Measured

Setter = Callable[[Latency, float], Latency]


def _field(name: str) -> Setter:
    def set_value(lat: Latency, v: float) -> Latency:
        values: dict[str, Any] = {name: v}
        return replace(lat, **values)
    return set_value


def _entry(name: str, math_: Math) -> Setter:
    def set_entry(lat: Latency, v: float) -> Latency:
        values: dict[str, Any] = {name: {**getattr(lat, name), math_.value: v}}
        return replace(lat, **values)
    return set_entry


@dataclass(frozen=True)
class Parameter:
    name: str
    set: Setter
    start: float
    low: float
    high: float


PARAMETERS = (
    Parameter("kernel_us", _field("kernel_us"), 2.0, 0.1, 50.0),
    Parameter("gemm_us", _field("gemm_us"), 2.0, 0.01, 100.0),
    Parameter("efficiency.fp32", _entry("efficiency", Math.FP32), 0.6, 0.02, 1.2),
    Parameter("efficiency.tf32", _entry("efficiency", Math.TF32), 0.4, 0.02, 1.2),
    Parameter("efficiency.fp16", _entry("efficiency", Math.FP16), 0.4, 0.02, 1.2),
    Parameter("tile_overhead", _field("tile_overhead"), 30.0, 0.1, 10000.0),
    Parameter("wide_efficiency", _field("wide_efficiency"), 0.7, 0.05, 1.5),
    Parameter("winograd.fp32", _entry("winograd", Math.FP32), 1.5, 0.5, 4.0),
    Parameter("winograd.tf32", _entry("winograd", Math.TF32), 1.1, 0.5, 4.0),
    Parameter("winograd.fp16", _entry("winograd", Math.FP16), 1.1, 0.5, 4.0),
    Parameter("window_exponent.fp32", _entry("window_exponent", Math.FP32), 0.3, 0.001, 3.0),
    Parameter("window_exponent.tf32", _entry("window_exponent", Math.TF32), 0.1, 0.001, 3.0),
    Parameter("window_exponent.fp16", _entry("window_exponent", Math.FP16), 0.1, 0.001, 3.0),
    Parameter("bandwidth_efficiency", _field("bandwidth_efficiency"), 0.5, 0.02, 1.0),
    Parameter("pool_gops", _field("pool_gops"), 500.0, 1.0, 100000.0),
)


# bf16 runs on the same tensor cores as fp16: its own efficiency only where cases measure it
BF16_EFFICIENCY = Parameter("efficiency.bf16", _entry("efficiency", Math.BF16), 0.4, 0.02, 1.2)


def measured_maths(cases: Sequence[Case]) -> set[str]:
    return {m.value for c in cases for m in (c.precision.conv, c.precision.matmul)}


def parameters_for(cases: Sequence[Case]) -> tuple[Parameter, ...]:
    """The parameters a fit of `cases` searches: a math's own ones only where cases use it
    (the others keep the base profile's values)."""
    maths = measured_maths(cases)
    own = tuple(p for p in PARAMETERS if "." not in p.name or p.name.split(".")[1] in maths)
    return own + ((BF16_EFFICIENCY,) if "bf16" in maths else ())


def latency_of(vector: Sequence[float], base: Latency,
               parameters: Sequence[Parameter] = PARAMETERS) -> Latency:
    """The latency parameters a point of the search stands for (log values, clamped); bf16
    takes fp16's Winograd speed-up and window exponent, and its efficiency unless it has
    one of its own among `parameters`."""
    lat = base
    for p, x in zip(parameters, vector):
        lat = p.set(lat, min(max(math.exp(x), p.low), p.high))
    own = BF16_EFFICIENCY in parameters
    return replace(lat, efficiency=lat.efficiency if own else _as_fp16(lat.efficiency),
                   winograd=_as_fp16(lat.winograd), window_exponent=_as_fp16(lat.window_exponent))


def _as_fp16(values: dict[str, float]) -> dict[str, float]:
    """bf16 with fp16's value, or with none where fp16 has none: both then take the model's
    default ("no such effect"), which a profile may not write (a window exponent of 0 was
    written, and refused when the profile was read)."""
    fp16, bf16 = Math.FP16.value, Math.BF16.value
    result = dict(values)  # in the order given: a profile written from it keeps bf16 where it was
    if fp16 in values:
        result[bf16] = values[fp16]
    else:
        result.pop(bf16, None)
    return result


def predict_us(device: Device, case: Case) -> float:
    return case_us(device.model(case.precision), case)


def case_us(model: Model, case: Case) -> float:
    """A case's estimated µs: each distinct kernel priced once, times its count."""
    batch = case.batch
    return sum(model.seconds(k, batch) * n for k, n in case.distinct) * 1e6


def log_error(device: Device, cases: Sequence[Case]) -> float:
    models: dict[Precision, Model] = {}  # one per precision, not per case: a fit calls this often
    total = 0.0
    for c in cases:
        model = models.get(c.precision) or models.setdefault(c.precision, device.model(c.precision))
        total += math.log(case_us(model, c) / c.measured_us) ** 2
    return total / len(cases)


# the window a window exponent is measured at: a 7x7 runs (9/49)^p as fast as a 3x3
LARGEST_WINDOW = 49


def shape_prior(lat: Latency) -> float:
    """How far the shape factors move a kernel's rate from a plain GEMM's, as squared log
    speed-ups (the unit of a case's error): the 1 x n efficiency, each math's Winograd
    speed-up and its window exponent's effect on a 7x7 window. bf16 copies fp16's."""
    own = {*lat.winograd, *lat.window_exponent} - {Math.BF16.value}
    return (math.log(lat.wide_efficiency) ** 2
            + sum(math.log(lat.winograd.get(m, 1.0)) ** 2 for m in own)
            + sum((lat.window_exponent.get(m, 0.0) * math.log(LARGEST_WINDOW / 9)) ** 2 for m in own))


def fit_loss(device: Device, cases: Sequence[Case]) -> float:
    """The mean squared log error of `cases`, with the shape prior counted as one more case
    per factor: a shape no case measures keeps the speed of any GEMM of its size."""
    return log_error(device, cases) + shape_prior(device.latency) / len(cases)


# A fit prices every distinct kernel once per evaluation, twice over (both layouts): on
# this project's 2-core machine about 4.2 µs for a conv or linear kernel (its tiles and
# waves) and 0.4 µs for any other. The budget keeps any file's fit near 30 s and gives
# the H100 file (2,364 kernels, 1,116 of them GEMMs: 16 s) the 1,500 evaluations its
# built-in profile was fitted with; more groups than MAX_FOLDS would make a
# cross-validation as many fits.
KERNEL_EVALUATIONS = 3_600_000
SECONDS_PER_GEMM_EVALUATION = 2 * 4.2e-6
SECONDS_PER_OTHER_EVALUATION = 2 * 0.4e-6
MAX_FOLDS = 12


def evaluations_for(cases: Sequence[Case], evaluations: int) -> int:
    """The evaluations a fit of `cases` makes when asked for at most `evaluations`: fewer
    where the cases have many kernels, so that the fit stays near 30 s. Every fit (the
    command, the built-in profile's, a cross-validation's folds) is bounded alike, so the
    same cases always give the same profile."""
    kernels = max(1, sum(len(c.distinct) for c in cases))
    return max(50, min(evaluations, KERNEL_EVALUATIONS // kernels))


def bounded_work(cases: Sequence[Case], evaluations: int, cross: bool) -> tuple[int, int]:
    """(evaluations per fit within the budget, the number of cross-validation folds)."""
    folds = len({c.group for c in cases})
    if cross and folds < 2:
        raise UsageError("--cross-validate holds out one group of cases at a time: these cases are all one"
                         f" group ({next(iter({c.group for c in cases})) or 'unnamed'}), so nothing would be left"
                         " to fit")
    if cross and folds > MAX_FOLDS:
        raise UsageError(f"--cross-validate fits once per group: {folds} groups, more than the {MAX_FOLDS}"
                         " it does in bounded time")
    return evaluations_for(cases, evaluations), folds


def seconds_per_fit(cases: Sequence[Case], evaluations: int) -> float:
    """About how long a fit of `cases` takes on this project's 2-core machine."""
    kernels = [k for c in cases for k, _ in c.distinct]
    gemms = sum(k.op is Op.GEMM for k in kernels)
    return evaluations * (gemms * SECONDS_PER_GEMM_EVALUATION
                          + (len(kernels) - gemms) * SECONDS_PER_OTHER_EVALUATION)


def fit(device: Device, cases: Sequence[Case], max_evals: int = 1500) -> Device:
    """`device` with the latency parameters that fit `cases` best (bf16 follows fp16 where
    the cases have no bf16 of their own; int8 takes fp16's efficiency: no case measures it),
    after at most `max_evals` evaluations per layout (`evaluations_for`)."""
    max_evals = evaluations_for(cases, max_evals)
    best: tuple[float, Device] | None = None
    parameters = parameters_for(cases)
    for layout in (False, True):
        base = replace(device.latency, layout_copies=layout)

        def loss(vector: list[float], base: Latency = base) -> float:
            return fit_loss(replace(device, latency=latency_of(vector, base, parameters)), cases)

        start = [math.log(p.start) for p in parameters]
        vector, value = nelder_mead(loss, start, step=0.5, max_evals=max_evals)
        if best is None or value < best[0]:
            best = value, replace(device, latency=_derived(latency_of(vector, base, parameters)))
    assert best is not None
    return best[1]


def _derived(lat: Latency) -> Latency:
    # a Winograd "speed-up" below 1 means the 3x3/1 convs run as implicit GEMMs: write 1
    return replace(lat, efficiency={**lat.efficiency, "int8": lat.efficiency.get(Math.FP16.value, 1.0)},
                   winograd={m: max(1.0, v) for m, v in lat.winograd.items()})


def cross_validate(device: Device, cases: Sequence[Case], max_evals: int = 1500,
                   fold: Callable[[Case], str] = lambda c: c.group,
                   progress: Callable[[int, int, str], None] | None = None) -> list[tuple[Case, float]]:
    """Every case with its time predicted by a profile fitted without its fold (default:
    its group, as the measurements file names it); `progress(i, folds, held)` before each fit."""
    result = []
    folds = sorted({fold(c) for c in cases})
    for i, held in enumerate(folds, 1):
        if progress:
            progress(i, len(folds), held)
        fitted = fit(device, [c for c in cases if fold(c) != held], max_evals)
        result += [(c, predict_us(fitted, c)) for c in cases if fold(c) == held]
    return result


# the ends of a range that mean "no such effect", not an unpinned parameter: no extra GEMM
# time, no tile overhead, no window or Winograd effect, pools bound by bandwidth alone
NO_EFFECT_LOW = frozenset(("gemm_us", "tile_overhead", "window_exponent", "winograd"))
NO_EFFECT_HIGH = frozenset(("pool_gops", "bandwidth_efficiency"))


def at_bounds(device: Device, cases: Sequence[Case]) -> list[str]:
    """The fitted parameters that ended within 2% of an end of their range: the cases did
    not pin them down (a file of one batch size cannot tell the fixed cost of a kernel from
    its work), e.g. 'kernel_us 49.5 (its range: 0.1 to 50)'."""
    found = []
    probe = device.latency
    for p in parameters_for(cases):
        field_name, _, entry = p.name.partition(".")
        value = getattr(probe, field_name)
        value = value.get(entry) if entry else value
        low, high = field_name not in NO_EFFECT_LOW, field_name not in NO_EFFECT_HIGH
        if value is not None and (low and value <= p.low * 1.02 or high and value >= p.high / 1.02):
            found.append(f"{p.name} {value:.4g} (its range: {p.low:g} to {p.high:g})")
    return found


def configuration_folds(cases: Sequence[Case], k: int = 5) -> Callable[[Case], str]:
    """k folds of whole configurations (every mode and batch of one measured case name
    together), assigned in name order."""
    names = sorted({c.name for c in cases})
    fold_of = {name: str(i % k) for i, name in enumerate(names)}
    return lambda c: fold_of[c.name]


def measured_device(base: Device, measured: Measured, name: str, own: bool = True,
                    used: frozenset[str] | set[str] = frozenset()) -> Device:
    """`base` with the peaks, bandwidth and SM count the measurements give (matmul rates,
    the device-to-device copy, `sm_count`); what they lack stays the base's.

    `own`: the base profile is this GPU's (its built-in, or one the user named), so its
    maths are the GPU's: a measured TF32 rate where it has no TF32 is left out (before
    Ampere, PyTorch's TF32 flags change nothing: a T4's "tf32" matmul is its fp32 one).
    Otherwise the base only stands in: of its peaks, only those of the maths and dtypes
    the cases `used` are kept where none was measured (the fit's efficiencies absorb the
    difference), and fp32, which a profile needs; an H100's int8 peak says nothing of
    another GPU. A math whose peak changes keeps the base's rate: its
    efficiency is rescaled, so that a math no case measures is priced as the base prices it."""
    rounded = {m: _rounded(v) for m, v in measured.peaks.items()}
    if own:
        tf32 = Math.TF32.value
        peaks = {**base.peak_tflops, **{m: v for m, v in rounded.items() if m != tf32 or tf32 in base.peak_tflops}}
    else:
        kept = {Math.FP32.value, *used}
        peaks = {**{m: v for m, v in base.peak_tflops.items() if m in kept}, **rounded}
    lat = base.latency
    efficiency = {m: e * base.peak_tflops[m] / peaks[m] if m in base.peak_tflops and m in peaks else e
                  for m, e in lat.efficiency.items()}
    bandwidth = _rounded(measured.bandwidth_gbs, 0) if measured.bandwidth_gbs else base.bandwidth_gbs
    gpu = measured.gpu or base.title
    return replace(base, name=name, title=f"{gpu} (fitted by inception-cost calibrate)", peak_tflops=peaks,
                   bandwidth_gbs=bandwidth, latency=replace(lat, sms=measured.sms or lat.sms, efficiency=efficiency))


def _rounded(x: float, decimals: int = 1) -> float:
    """A measured rate as a profile writes it: to `decimals` places from 100 up (0.1 TFLOP/s,
    1 GB/s), else to 3 significant digits (a CPU's 0.004 TFLOP/s must not become 0)."""
    return round(x, decimals) if x >= 100 else float(f"{x:.3g}")


def yaml_quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar that reads back as itself: printable
    characters as they are (an emoji too: JSON's surrogate pairs are not YAML), the rest
    as YAML's \\x and \\u escapes."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD and code != 0xFEFF \
                or 0x10000 <= code <= 0x10FFFF:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")  # the rest of the 16-bit range: controls, U+FEFF, lone surrogates
    return '"' + "".join(out) + '"'


def profile_yaml(device: Device, source: str, notes: str) -> str:
    """A device profile file (`devices.load_device` reads it back)."""
    lat = device.latency

    def number(x: float) -> str:
        """4 significant digits, as YAML 1.1 reads a float: `1e-06` is text there, `1.0e-06` a number."""
        text = f"{x:.4g}"
        mantissa, e, exponent = text.partition("e")
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text

    def mapping(values: dict[str, float]) -> str:
        return "{" + ", ".join(f"{k}: {number(v)}" for k, v in values.items()) + "}"

    tiles = ", ".join(f"[{a}, {b}]" for a, b in lat.tiles)
    lines = [f"name: {yaml_quoted(device.name)}", f"title: {yaml_quoted(device.title)}",
             f"source: {yaml_quoted(source)}", f"notes: {yaml_quoted(notes)}",
             f"peak_tflops: {mapping(device.peak_tflops)}", f"bandwidth_gbs: {number(device.bandwidth_gbs)}",
             "latency:  # the latency model (README: Memory and time; estimates/latency.py)",
             f"  sms: {lat.sms}  # streaming multiprocessors: tiles run in waves of this many",
             f"  tiles: [{tiles}]  # GEMM output tiles (rows, columns); the fastest is used",
             f"  kernel_us: {number(lat.kernel_us)}  # fixed time of every kernel (launch, ramp-up, tail)",
             f"  gemm_us: {number(lat.gemm_us)}  # more fixed time of a conv or linear kernel",
             f"  efficiency: {mapping(lat.efficiency)}  # share of the peak a large conv reaches, per math",
             f"  tile_overhead: {number(lat.tile_overhead)}  # a tile runs at 1 / (1 + this x (1/tm + 1/tn))",
             f"  wide_efficiency: {number(lat.wide_efficiency)}  # 1 x n and n x 1 windows, relative",
             f"  winograd: {mapping(lat.winograd)}  # speed-up of 3x3 stride-1 convs (1: none)",
             f"  window_exponent: {mapping(lat.window_exponent)}  # windows over 3x3: (9 / (kh x kw))^this",
             f"  layout_copies: {str(lat.layout_copies).lower()}  # NCHW tensor-core convs over 1x1 transpose"
             " in and out",
             f"  bandwidth_efficiency: {number(lat.bandwidth_efficiency)}  # share of the bandwidth elementwise,"
             " copy and pool kernels reach",
             f"  pool_gops: {number(lat.pool_gops)}  # pool window elements read per ns",
             f"  depthwise_efficiency: {number(lat.depthwise_efficiency)}  # share of the fp32 peak (not fitted)"]
    return "\n".join(lines) + "\n"
