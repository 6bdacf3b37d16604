"""How close a device profile's estimates are to measured latencies: over all cases, per
group of cases, for the Inception pairs' time ratios, and the worst cases.

`calibrate` reports it for the profile it fits; `inception-cost accuracy` for any profile
(a built-in's estimates against your GPU's measurements, before you fit one of your own).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from inception_cost.errors import UsageError
from inception_cost.estimates.calibrate import predict_us
from inception_cost.estimates.devices import Device
from inception_cost.estimates.measurements import Case

# The Inception pairs (costlier, cheaper) by measure_latency.py's case names: GoogLeNet
# 3a's 5x5 branch and module without / with their 1x1 reductions, 5x5 / two 3x3,
# 7x7 / 1x7 + 7x1 and 3x3 / 1x3 + 3x1 (Szegedy et al. 2015, 2016).
PAIRS = (("3a_naive_branch_5x5", "3a_reduced_branch_5x5"), ("3a_naive_module", "3a_reduced_module"),
         ("conv5x5_64_35x35", "conv3x3x2_64_35x35"), ("conv5x5_192_28x28", "conv3x3x2_192_28x28"),
         ("conv7x7_192_17x17", "conv1x7_7x1_192_17x17"), ("conv7x7_128_17x17", "conv1x7_7x1_128_17x17"),
         ("conv3x3_192_17x17", "conv1x3_3x1_192_17x17"), ("conv3x3_384_8x8", "conv1x3_3x1_384_8x8"))


@dataclass(frozen=True)
class Accuracy:
    """How close predicted times are to measured ones."""

    cases: int
    within_1_5: float  # share of cases within 1.5x either way
    geomean: float  # geometric mean of max(p/m, m/p)
    worst: float
    bias: float = 1.0  # geometric mean of p/m: under 1, the estimates are low on the whole

    @classmethod
    def of(cls, pairs: Sequence[tuple[float, float]]) -> Accuracy:
        """From (predicted, measured) pairs."""
        logs = [math.log(p / m) for p, m in pairs]
        errors = [abs(x) for x in logs]
        return cls(len(errors), sum(e <= math.log(1.5) for e in errors) / len(errors),
                   math.exp(sum(errors) / len(errors)), math.exp(max(errors)), math.exp(sum(logs) / len(logs)))

    def __str__(self) -> str:
        return (f"{self.cases} case{'' if self.cases == 1 else 's'}: {self.within_1_5:.0%} within 1.5x,"
                " geometric-mean error"
                f" {self.geomean:.3f}x, worst {self.worst:.2f}x")


@dataclass(frozen=True)
class PairRatio:
    """One Inception pair at one mode and batch: the costlier case's time over the cheaper's."""

    costlier: str
    cheaper: str
    mode: str
    batch: int
    measured: float
    estimated: float

    @property
    def error(self) -> float:
        """Estimated ratio over measured ratio (1: exact)."""
        return self.estimated / self.measured


def priceable(device: Device, cases: Sequence[Case]) -> tuple[list[Case], dict[str, int]]:
    """The cases `device` has a peak for, and how many per dtype it has none for (as roofline
    refuses such a --dtype: they would be priced in another math). A one-line error where
    none is left."""
    left_out = dict(Counter(c.precision.dtype.value for c in cases
                            if c.precision.dtype.value not in device.peak_tflops))
    kept = [c for c in cases if c.precision.dtype.value in device.peak_tflops]
    if not kept:
        raise UsageError(f"device '{device.name}' has no peak for {', '.join(left_out)} (it has:"
                         f" {', '.join(device.peak_tflops)}): no measured case to price")
    return kept, left_out


def priced(device: Device, cases: Sequence[Case]) -> tuple[list[tuple[Case, float]], dict[str, int]]:
    """Each case `device` has a peak for with its estimated µs, and how many cases per dtype
    are left out (`priceable`)."""
    kept, left_out = priceable(device, cases)
    return [(c, predict_us(device, c)) for c in kept], left_out


def pair_ratios(results: Sequence[tuple[Case, float]]) -> list[PairRatio]:
    """The Inception pairs among `results` ((case, estimated µs)), for every mode and batch
    at which both sides were measured."""
    found = {(c.name, c.mode, c.batch): (c.measured_us, p) for c, p in results}
    rows = []
    for costlier, cheaper in PAIRS:
        for (name, mode, batch), (measured, estimated) in found.items():
            other = found.get((cheaper, mode, batch))
            if name == costlier and other:
                rows.append(PairRatio(costlier, cheaper, mode, batch, measured / other[0], estimated / other[1]))
    return rows


def geomean_error(ratios: Sequence[float]) -> float:
    """The geometric mean of how far each ratio is from 1, either way (1.0 for none)."""
    return math.exp(sum(abs(math.log(r)) for r in ratios) / len(ratios)) if ratios else 1.0


def pairs_by_mode(pairs: Sequence[PairRatio]) -> dict[str, float]:
    """The pairs' geometric-mean error per mode (fp32, tf32, fp16, bf16), in the order met."""
    modes: dict[str, list[float]] = {}
    for r in pairs:
        modes.setdefault(r.mode, []).append(r.error)
    return {mode: geomean_error(errors) for mode, errors in modes.items()}


def pairs_error(results: Sequence[tuple[Case, float]]) -> str:
    """'; Inception pairs' time ratios off by 1.29x (48)' where `results` have pairs, else ''."""
    pairs = pair_ratios(results)
    if not pairs:
        return ""
    return f"; Inception pairs' time ratios off by {geomean_error([r.error for r in pairs]):.2f}x ({len(pairs)})"


def by_group(results: Sequence[tuple[Case, float]]) -> list[tuple[tuple[str, str, int], Accuracy]]:
    """Accuracy per (group, mode, batch), in the order the cases come."""
    groups: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for c, p in results:
        groups.setdefault((c.group, c.mode, c.batch), []).append((p, c.measured_us))
    return [(key, Accuracy.of(pairs)) for key, pairs in groups.items()]


def worst(results: Sequence[tuple[Case, float]], count: int = 10) -> list[tuple[Case, float]]:
    """The `count` cases whose estimate is furthest from the measurement, either way."""
    return sorted(results, key=lambda r: -abs(math.log(r[1] / r[0].measured_us)))[:count]
