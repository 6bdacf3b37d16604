"""The latency model: the time of each kernel (`kernels.py`) on a device profile.

A conv or linear layer is an implicit GEMM cut into output tiles (tm x tn) that the
device's SMs run in waves: time = waves x (2 x tm x tn x K FLOPs) / (per-SM rate), for
the tile size that is fastest (as cuDNN's autotuner picks), where a tile reaches
1 / (1 + tile_overhead x (1/tm + 1/tn)) of the SM's rate (small tiles reload their
operands more often). The rate is the profile's peak for the math used (fp32, TF32,
bf16, fp16) times its conv `efficiency`; 1 x n windows run at `wide_efficiency`,
windows larger than 3x3 at (9 / (kh x kw))^`window_exponent`; 3x3/1 convs may run as
Winograd (`winograd`, a speed-up per math). A matrix product (a linear layer, or a 1x1
conv on a 1x1 map such as a squeeze-and-excitation gate's) runs tiles no taller than its
batch rounded up to 8 and splits its reduction across SMs its tiles leave idle (cuBLAS),
as a weight gradient does. Every kernel costs `kernel_us` (launch,
ramp-up, tail) and a GEMM `gemm_us` more, and takes at least its bytes / bandwidth.
Elementwise, copy and pool kernels move their bytes at `bandwidth_efficiency` of the
bandwidth; pools also read `pool_gops` window elements per ns. Batch norm in bf16/fp16
takes three kernels' fixed time: a model cast to 16 bits has 16-bit batch-norm weights,
which cuDNN's batch norm refuses, so PyTorch runs its own, which copies the running mean
to fp32 and computes 1/sqrt(var + eps) before its pass (in a training step: reads its
input for the batch's mean and variance, then updates the running statistics); in fp32,
cuDNN's: one kernel. On tensor cores, an NCHW conv with a window larger than 1x1
transposes its input and output (`layout_copies`: two more launches, and their passes
over the activations, serial with it).
Depthwise convs run on CUDA cores at `depthwise_efficiency` of the fp32 peak. A profile
without a `latency` section is the plain roofline.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field, fields

from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.kernels import Kernel, Op


class Math(str, enum.Enum):
    """The arithmetic a GEMM runs in: fp32 on CUDA cores, or tensor cores."""

    FP32 = "fp32"
    TF32 = "tf32"
    BF16 = "bf16"
    FP16 = "fp16"
    INT8 = "int8"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Precision:
    """Element type and the math of convs and of linear layers (PyTorch's two TF32 flags)."""

    dtype: Dtype
    conv: Math
    matmul: Math

    @classmethod
    def of(cls, dtype: Dtype, tf32: bool = True, tf32_matmul: bool = False) -> Precision:
        """PyTorch's defaults: fp32 convs on TF32 (cudnn.allow_tf32), fp32 matmuls not."""
        if dtype is Dtype.FP32:
            return cls(dtype, Math.TF32 if tf32 else Math.FP32, Math.TF32 if tf32_matmul else Math.FP32)
        return cls(dtype, Math(dtype.value), Math(dtype.value))

    def on(self, peaks: dict[str, float]) -> Precision:
        """The maths a device has: one without a peak there (TF32 before Ampere) runs as fp32."""
        def available(m: Math) -> Math:
            return m if m.value in peaks else Math.FP32
        return Precision(self.dtype, available(self.conv), available(self.matmul))

    def __str__(self) -> str:
        if self.dtype is Dtype.FP32:
            return f"fp32 (convs {self.conv}, linear {self.matmul})"
        return str(self.dtype.value)


@dataclass(frozen=True)
class Latency:
    """The latency parameters of a device profile (its `latency:` section); the defaults
    are the plain roofline."""

    sms: int = 0  # streaming multiprocessors; 0: no tile or wave quantisation
    tiles: tuple[tuple[int, int], ...] = ((256, 128), (128, 128), (128, 64), (64, 64))
    kernel_us: float = 0.0
    gemm_us: float = 0.0
    efficiency: dict[str, float] = field(default_factory=dict)  # math -> share of the peak
    tile_overhead: float = 0.0
    wide_efficiency: float = 1.0
    winograd: dict[str, float] = field(default_factory=dict)  # math -> speed-up of 3x3/1
    # math -> p: a window larger than 3x3 runs at (9 / (kh x kw))^p of the rate
    window_exponent: dict[str, float] = field(default_factory=dict)
    layout_copies: bool = False
    bandwidth_efficiency: float = 1.0
    pool_gops: float = 0.0  # 0: pools are bound by bandwidth only
    depthwise_efficiency: float = 1.0  # share of the fp32 peak a depthwise conv reaches


LATENCY_KEYS = tuple(f.name for f in fields(Latency))

# How far the model's time ratio between two variants came from the measured one: the
# geometric-mean error over the 48 Inception pairs of benchmarks/gpu/h100_latency.json
# (naive / reduced 5x5 branch and module, 5x5 / two 3x3, 7x7 / 1x7 + 7x1, 3x3 / 1x3 + 3x1;
# batch 1 and 32), each group predicted by a fit that had not seen it, per conv math
# (README: How good is it?; tests/test_latency.py recomputes them). bf16 was not measured.
RATIO_ERROR = {Math.FP32: 1.39, Math.TF32: 1.42, Math.FP16: 1.19}
# and its absolute times: over the 234 cases of that file, each group held out in turn,
# the share within 1.5x of measured and the geometric-mean error
HELD_OUT_WITHIN_1_5, HELD_OUT_ERROR = 0.92, 1.192


def ratio_note(precision: Precision, training: bool = False) -> str:
    """What an estimated time ratio between two variants is worth in `precision`'s conv math
    (`training`: of training steps, which the figures, from forward passes, do not cover)."""
    math_ = Math.FP16 if precision.conv is Math.BF16 else precision.conv  # the same tensor cores
    error = RATIO_ERROR.get(math_)
    if error is None:  # int8: never measured
        return ""
    which = f"{math_}, standing in for bf16" if precision.conv is Math.BF16 else str(math_)
    return (f"How far a time ratio can be trusted: on an H100 the model's ratios between Inception"
            f" variants (naive / reduced, factorised convs), held out from its fit, were off by"
            f" {error:.2f}x in {which} (geometric mean; README: How good is it?), so a time ratio"
            f" between {1 / error:.2f}x and {error:.2f}x does not tell which variant is faster"
            + (" (forward passes; no training step was measured)." if training else "."))


@dataclass
class KernelTime:
    kernel: Kernel
    compute_s: float
    memory_s: float
    fixed_s: float  # the launches' fixed cost
    launches: int = 1
    copy_s: float = 0.0  # its layout copies' passes over the activations, before and after it
    bytes_moved: int = 0  # what it reads and writes on the whole batch: weights and layout copies included

    @property
    def seconds(self) -> float:
        return max(self.compute_s, self.memory_s) + self.copy_s + self.fixed_s


class Model:
    """A device's latency model for one precision."""

    def __init__(self, peaks: dict[str, float], bandwidth: float, latency: Latency,
                 precision: Precision) -> None:
        self.latency = latency
        self.precision = precision
        self.size = precision.dtype.bytes
        self.bandwidth = bandwidth  # bytes/s
        self.stream = bandwidth * latency.bandwidth_efficiency
        self.peaks = peaks  # FLOP/s per math
        self.fixed = latency.kernel_us * 1e-6

    def rate(self, m: Math) -> float:
        """FLOP/s a large conv reaches in math `m` (the fp32 peak where `m` has none)."""
        peak = self.peaks.get(m.value) or self.peaks[Math.FP32.value]
        return peak * self.latency.efficiency.get(m.value, 1.0)

    def time(self, k: Kernel, batch: int) -> KernelTime:
        compute, memory, fixed, launches, copied = self.parts(k, batch)
        return KernelTime(k, compute, memory, fixed, launches, copied / self.stream,
                          bytes_moved=self.bytes_moved(k, batch) + copied)

    def bytes_moved(self, k: Kernel, batch: int) -> int:
        """What one kernel reads and writes on a whole batch, its weights included: the
        bytes its memory time is priced on."""
        return k.activation_bytes(self.size, batch) + self.statistics_bytes(k, batch) + k.weights * self.size

    def copy_bytes(self, k: Kernel, batch: int, m: Math) -> int:
        """What a GEMM's layout copies read and write in math `m`: on tensor cores an NCHW
        conv with a window over 1x1 runs NHWC between two transposes, its input's and its
        output's, once each way."""
        if not self.latency.layout_copies or m is Math.FP32 or (k.kh == 1 and k.kw == 1):
            return 0
        return 2 * k.activation_bytes(self.size, batch)

    def own_norm(self, k: Kernel) -> bool:
        """A batch norm PyTorch runs itself (16-bit weights), not cuDNN's."""
        return k.op is Op.NORM and self.precision.dtype in (Dtype.FP16, Dtype.BF16)

    def statistics_bytes(self, k: Kernel, batch: int) -> int:
        """A training step's batch norm of its own reads its input once more for the batch's
        mean and variance."""
        return k.inputs * batch * self.size if k.statistics and self.own_norm(k) else 0

    def seconds(self, k: Kernel, batch: int) -> float:
        compute, memory, fixed, _, copied = self.parts(k, batch)
        return (compute if compute > memory else memory) + copied / self.stream + fixed

    def parts(self, k: Kernel, batch: int) -> tuple[float, float, float, int, int]:
        """(compute, memory, fixed seconds, launches, layout copies' bytes) of one kernel on
        a whole batch."""
        lat = self.latency
        total = self.bytes_moved(k, batch)  # the weights, and a training batch norm's statistics read
        if k.op is Op.GEMM:
            m = self.precision.matmul if k.linear else self.precision.conv
            return self.gemm_parts(k, batch, m, total)
        if k.op is Op.DEPTHWISE:
            compute = 2 * k.work * batch / (self.peaks[Math.FP32.value] * lat.depthwise_efficiency)
            return compute, total / self.stream, self.fixed, 1, 0
        compute = k.work * batch / (lat.pool_gops * 1e9) if k.op is Op.POOL and lat.pool_gops else 0.0
        # PyTorch's own batch norm also copies the running mean and computes 1/std: two more launches
        launches = 3 if self.own_norm(k) else 1
        return compute, total / self.stream, launches * self.fixed, launches, 0

    def gemm_parts(self, k: Kernel, batch: int, m: Math, total: int) -> tuple[float, float, float, int, int]:
        """`parts` of a conv or linear kernel run in math `m`, which moves `total` bytes."""
        fixed = self.fixed + self.latency.gemm_us * 1e-6
        copied = self.copy_bytes(k, batch, m)
        if copied:  # NCHW -> NHWC of the input, NHWC -> NCHW of the output: two more launches
            return self.gemm_seconds(k, batch, m), total / self.bandwidth, fixed + 2 * self.fixed, 3, copied
        return self.gemm_seconds(k, batch, m), total / self.bandwidth, fixed, 1, 0

    def gemm_seconds(self, k: Kernel, batch: int, m: Math) -> float:
        lat = self.latency
        rate = self.rate(m)
        if k.kh != k.kw:
            rate *= lat.wide_efficiency
        if k.kh * k.kw > 9 and lat.window_exponent:
            rate *= (9 / (k.kh * k.kw)) ** lat.window_exponent.get(m.value, 0.0)
        speedup = lat.winograd.get(m.value, 1.0) if k.winograd_shape and not k.batch_in_k else 1.0
        rows, cols, depth = (k.m, k.n // k.groups, k.k * batch) if k.batch_in_k else \
            (k.m * batch, k.n // k.groups, k.k)
        if not lat.sms:
            return 2 * rows * cols * depth * k.groups / rate / max(speedup, 1.0)
        product = k.matrix_product
        tiles = skinny(lat.tiles, rows) if product else lat.tiles
        best = min(flops * (1 + lat.tile_overhead * edge)
                   for flops, edge in tile_work(rows, cols, depth, k.groups, lat.sms, tiles,
                                                k.batch_in_k or product))
        return best * lat.sms / rate / max(speedup, 1.0)


# the fewest rows a small-batch GEMM tile has (cuBLAS's kernels for a few rows)
SKINNY_ROWS = 8


@functools.lru_cache(maxsize=256)
def skinny(tiles: tuple[tuple[int, int], ...], rows: int) -> tuple[tuple[int, int], ...]:
    """A matrix product's tiles on `rows` rows (its batch): no taller than the rows rounded
    up to 8, as cuBLAS runs a small batch without computing rows that are not there."""
    height = max(SKINNY_ROWS, -(-rows // SKINNY_ROWS) * SKINNY_ROWS)
    return tuple(dict.fromkeys((min(tm, height), tn) for tm, tn in tiles))


@functools.lru_cache(maxsize=1 << 16)
def tile_work(rows: int, cols: int, depth: int, groups: int, sms: int,
              tiles: tuple[tuple[int, int], ...], split_k: bool = False) -> tuple[tuple[float, float], ...]:
    """Per tile size: (FLOPs one SM does over all waves, 1/tm + 1/tn); the part of the
    GEMM time that no fitted parameter changes (the fit calls this many times). With
    `split_k` (weight gradients, whose reduction runs over the batch, and linear layers,
    which cuBLAS splits) the reduction is cut into as many slices as fill the SMs."""
    result = []
    for tm, tn in tiles:
        count = -(-rows // tm) * -(-cols // tn) * groups
        split = max(1, min(sms // count, -(-depth // tm))) if split_k else 1
        waves = -(-(count * split) // sms)
        result.append((float(waves * 2 * tm * tn * -(-depth // split)), 1 / tm + 1 / tn))
    return tuple(result)
