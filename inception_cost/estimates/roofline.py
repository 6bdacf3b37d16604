"""Time estimates per layer: the kernels a layer runs (`kernels.py`), each priced by the
device's latency model (`latency.py`): max(compute, memory) per kernel, compute from the
implicit GEMM's tiles and waves, plus each kernel's fixed cost. A concat's copy is its
own row. A profile without a `latency` section gives the plain roofline
(max(FLOPs / peak, bytes / bandwidth) + overhead_us per kernel).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from inception_cost.core.analysis import Analysis
from inception_cost.core.terms import MAC_TERMS, STORED_TERMS
from inception_cost.core.tree import CostNode, Role
from inception_cost.estimates.devices import Device
from inception_cost.estimates.kernels import backward_kernels, kernels, optimizer_kernel
from inception_cost.estimates.latency import KernelTime
from inception_cost.estimates.memory import Dtype
from inception_cost.estimates.training import Optimizer, check_trainable


class Bound(str, enum.Enum):
    COMPUTE = "compute"
    MEMORY = "memory"
    OVERHEAD = "overhead"
    NONE = "-"

    def __str__(self) -> str:
        return self.value


@dataclass
class LayerTime:
    node: CostNode  # a layer, the concat whose copy this is, or the scope the optimizer updates
    flops: int  # 2 x conv/linear MACs, whole batch
    bytes_moved: int  # what its kernels read and write, whole batch
    kernels: list[KernelTime] = field(default_factory=list)
    update: bool = False  # the optimizer's update of the parameters below `node`

    def add(self, time: KernelTime) -> None:
        self.kernels.append(time)
        self.bytes_moved += time.bytes_moved

    @property
    def compute_s(self) -> float:
        return sum(k.compute_s for k in self.kernels)

    @property
    def memory_s(self) -> float:
        """Its bytes at the bandwidth: the kernels' own, and their layout copies' passes."""
        return sum(k.memory_s + k.copy_s for k in self.kernels)

    @property
    def overhead_s(self) -> float:
        return sum(k.fixed_s for k in self.kernels)

    @property
    def seconds(self) -> float:
        return sum(k.seconds for k in self.kernels)

    @property
    def launches(self) -> int:
        return sum(k.launches for k in self.kernels)

    @property
    def bound(self) -> Bound:
        return bound_of(self.compute_s, self.memory_s, self.overhead_s)


def bound_of(compute_s: float, memory_s: float, overhead_s: float) -> Bound:
    """What limits a layer, or a group of layers from their summed times."""
    if overhead_s > max(compute_s, memory_s):
        return Bound.OVERHEAD
    if compute_s == 0 and memory_s == 0:
        return Bound.NONE
    return Bound.COMPUTE if compute_s >= memory_s else Bound.MEMORY


def estimate(analysis: Analysis, device: Device, dtype: Dtype, batch: int,
             node: CostNode | None = None, tf32: bool = True,
             optimizer: Optimizer | None = None, input_gradient: bool = False) -> list[LayerTime]:
    """One LayerTime per layer of `node` (default: the counted network) and per concat copy;
    with an optimizer, one training step: the backward kernels join their layers' entries
    and the optimizer's update of `node`'s parameters is an entry of its own, the last.
    A layer costs the same whatever `node` is. `input_gradient`: see `kernels.kernels`."""
    device.check_dtype(dtype)
    if optimizer is not None:
        check_trainable(dtype)
    model = device.model(device.precision(dtype, tf32))
    scope = node or analysis.root
    times: dict[int, LayerTime] = {}
    for leaf in scope.layers():  # every layer has a row, a view or identity too
        flops = 2 * sum(analysis.terms[t][leaf.row] for t in MAC_TERMS) * batch
        times[id(leaf)] = LayerTime(leaf, flops, 0)
    forward = kernels(analysis, scope, training=optimizer is not None, input_gradient=input_gradient)
    backward = backward_kernels(forward) if optimizer is not None else []
    for k in [*forward, *backward]:
        times.setdefault(id(k.owner), LayerTime(k.owner, 0, 0)).add(model.time(k, batch))
    for k in backward:  # input and weight gradients: as many MACs each as the forward kernel
        times[id(k.owner)].flops += 2 * k.macs * batch
    result = list(times.values())
    if optimizer is not None:
        parameters = sum(analysis.terms[t][leaf.row] for leaf in scope.layers() for t in STORED_TERMS)
        step = optimizer_kernel(scope, parameters, optimizer.state, dtype.bytes)
        update = LayerTime(scope, 0, 0, update=True)
        update.add(model.time(step, batch))
        result.append(update)
    return result


def total_seconds(times: Iterable[LayerTime]) -> float:
    return sum(t.seconds for t in times)


def within(times: Iterable[LayerTime], node: CostNode) -> list[LayerTime]:
    """The entries of the layers and copies below `node` (itself included), not the update."""
    inside = {id(n) for n in node.walk()}
    return [t for t in times if id(t.node) in inside and not t.update]


class NodeTimer:
    """Estimated seconds of any node of one analysed tree, from one estimate of the whole."""

    def __init__(self, times: list[LayerTime]) -> None:
        self.times = times

    def __call__(self, node: CostNode) -> float:
        """The node's layers and copies, itself included."""
        return total_seconds(within(self.times, node))

    def total(self) -> float:
        """The whole network's: every layer and copy, and with an optimizer its update."""
        return total_seconds(self.times)

    def update(self) -> float:
        """The optimizer's update (0 for a forward pass)."""
        return total_seconds(t for t in self.times if t.update)

    def own(self, node: CostNode) -> float:
        """The node's own kernels alone: a layer's, or a concat's copy without its branches."""
        return total_seconds(t for t in self.times if t.node is node)


def node_timer(analysis: Analysis, device: Device, dtype: Dtype, batch: int,
               optimizer: Optimizer | None = None, input_gradient: bool = False, tf32: bool = True) -> NodeTimer:
    """Times of the nodes of the counted network; with an optimizer, of one training step
    (a node's forward and backward kernels; the update is the network's own)."""
    return NodeTimer(estimate(analysis, device, dtype, batch, tf32=tf32, optimizer=optimizer,
                              input_gradient=input_gradient))


def is_copy(t: LayerTime) -> bool:
    return t.node.role is not Role.LAYER and not t.update
