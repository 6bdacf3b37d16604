"""The roofline estimate: each layer takes the longer of its compute time and its memory
time, plus the device's fixed per-layer overhead.

compute time = FLOPs / peak FLOP/s for the dtype; memory time = bytes moved / bandwidth
(`memory.layer_memory`). It is a lower bound for an ideal kernel: real kernels with
unusual shapes (1 x n, few channels, small maps) run below peak, and frameworks add
launches, copies for concatenation and layout changes that it does not see.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from inception_cost.core.analysis import Analysis
from inception_cost.core.tree import CostNode
from inception_cost.errors import UsageError
from inception_cost.estimates.devices import Device
from inception_cost.estimates.memory import Dtype, LayerMemory, layer_memory


class Bound(str, enum.Enum):
    COMPUTE = "compute"
    MEMORY = "memory"
    OVERHEAD = "overhead"
    NONE = "-"

    def __str__(self) -> str:
        return self.value


@dataclass
class LayerTime:
    memory: LayerMemory
    compute_s: float
    memory_s: float
    overhead_s: float

    @property
    def seconds(self) -> float:
        return max(self.compute_s, self.memory_s) + self.overhead_s

    @property
    def bound(self) -> Bound:
        return bound_of(self.compute_s, self.memory_s, self.overhead_s)


def bound_of(compute_s: float, memory_s: float, overhead_s: float) -> Bound:
    """What limits a layer, or a group of layers from their summed times."""
    if compute_s == 0 and memory_s == 0:
        return Bound.OVERHEAD if overhead_s else Bound.NONE
    return Bound.COMPUTE if compute_s >= memory_s else Bound.MEMORY


def estimate(analysis: Analysis, device: Device, dtype: Dtype, batch: int,
             node: CostNode | None = None) -> list[LayerTime]:
    if dtype.value not in device.peak_tflops:
        raise UsageError(f"device '{device.name}' has no peak for {dtype.value}"
                         f" (it has: {', '.join(device.peak_tflops)})")
    peak, bandwidth = device.peak_flops(dtype.value), device.bandwidth
    overhead = device.overhead_us * 1e-6
    times = []
    for m in layer_memory(analysis, dtype, batch, node):
        moves = m.bytes_moved > 0 or m.flops > 0
        times.append(LayerTime(m, m.flops / peak, m.bytes_moved / bandwidth, overhead if moves else 0.0))
    return times


def total_seconds(times: Iterable[LayerTime]) -> float:
    return sum(t.seconds for t in times)


def node_timer(analysis: Analysis, device: Device, dtype: Dtype, batch: int) -> Callable[[CostNode], float]:
    """Estimated seconds of any node of the analysed tree (the sum over its layers)."""
    seconds = {t.memory.node.row: t.seconds for t in estimate(analysis, device, dtype, batch)}
    return lambda node: sum(seconds.get(leaf.row, 0.0) for leaf in node.layers())
