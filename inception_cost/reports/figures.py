"""What the pictures show, read from the result tree: each module's branches with their
layers and MACs (the seed's Figure 2), and one roofline point per layer.

Builders only: the numbers come from the analysed tree and the roofline estimate, as
every report's do; `svg.py` draws them, `render.py` puts them in HTML and Markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from inception_cost.core.shapes import format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.reports.common import distinct, module_parts, part_name, title_of

if TYPE_CHECKING:
    from inception_cost.core.analysis import Analysis
    from inception_cost.estimates.devices import Device
    from inception_cost.estimates.latency import Precision
    from inception_cost.estimates.memory import Dtype
    from inception_cost.estimates.roofline import LayerTime


class LayerFigure(NamedTuple):
    description: str  # "conv 5x5 32"
    path: str
    macs: int
    params: int
    shortcut: str = ""  # a residual's addition: the path of the residual whose input it adds


class BranchFigure(NamedTuple):
    name: str
    path: str
    macs: int
    params: int
    share: float  # of the module's MACs
    output: str
    layers: list[LayerFigure]


class Stage(NamedTuple):
    """What runs between two points of a module: parallel branches and what merges them
    (`concat`, `add`), or one chain of layers in sequence (`merge` empty)."""

    columns: list[BranchFigure]
    merge: str


class ModuleFigure(NamedTuple):
    label: str  # "inception (3a)"
    path: str
    input: str
    output: str
    macs: int
    params: int
    branches: list[BranchFigure]  # the parts a module report lists (its branch table's rows)
    stages: list[Stage]  # the same parts in the order they run, parallel ones side by side


class RooflinePoint(NamedTuple):
    name: str
    path: str
    flops: int
    intensity: float  # FLOPs per byte moved
    attainable: float  # FLOP/s: min(its math's peak, intensity x bandwidth)
    bound: str
    math: str = ""  # what its arithmetic runs on: "tf32", "fp32" (linear layers, depthwise convs) ...
    peak: float = 0.0  # FLOP/s of that math


class RooflineFigure(NamedTuple):
    device: str
    title: str
    dtype: str
    batch: int
    peak: float  # FLOP/s
    bandwidth: float  # bytes/s
    points: list[RooflinePoint]
    left_out: int  # layers that do no arithmetic (pools, activations ...): no point on a log scale


class AccuracyPoint(NamedTuple):
    case: str
    group: str
    mode: str
    batch: int
    measured_us: float
    estimated_us: float


class AccuracyFigure(NamedTuple):
    """A profile's estimates against measured latencies, one point per case (accuracy)."""

    device: str
    gpu: str  # what the measurements name, or ""
    points: list[AccuracyPoint]


class Charts(NamedTuple):
    """A report's pictures beyond its sections' module diagrams: the whole network's
    (export -f html / svg), or estimated against measured time (accuracy)."""

    network: str
    unit: str  # MACs, or FLOPs under flop-counter
    modules: list[ModuleFigure]
    roofline: RooflineFigure | None
    accuracy: AccuracyFigure | None = None


def module_figure(module: CostNode, label: str | None = None) -> ModuleFigure:
    from inception_cost.core.kinds import CANONICAL

    parts = module_parts(module)
    names = distinct([part_name(p, module) for p in parts], [module.relative_path(p) for p in parts])
    parent_of = {id(child): node for node in module.walk() for child in node.children}

    def shortcut(leaf: CostNode) -> str:
        parent = parent_of.get(id(leaf))
        added = parent is not None and parent.role is Role.RESIDUAL and CANONICAL[leaf.kind].internal
        return parent.path if added and parent is not None else ""

    branches = []
    for part, name in zip(parts, names):
        leaves = part.layers() if part.role is not Role.LAYER else [part]
        branches.append(BranchFigure(name, part.path, part.macs, part.params,
                                     part.macs / module.macs if module.macs else 0.0,
                                     format_shape(part.out_shape),
                                     [LayerFigure(leaf.description, leaf.path, leaf.macs, leaf.params, shortcut(leaf))
                                      for leaf in leaves]))
    return ModuleFigure(label or module.label, module.path, format_shape(module.in_shape),
                        format_shape(module.out_shape), module.macs, module.params, branches,
                        _stages(parent_of, parts, branches))


def _stages(parent_of: dict[int, CostNode], parts: list[CostNode], branches: list[BranchFigure]) -> list[Stage]:
    """Branches of one structure side by side; the parts between them as one chain."""
    stages: list[Stage] = []
    owners: list[int] = []  # the structure whose branches each stage holds (0: a chain)
    for part, branch in zip(parts, branches):
        parent = parent_of.get(id(part))
        owner = id(parent) if part.role is Role.BRANCH and parent is not None else 0
        if stages and owners[-1] == owner != 0:  # another branch of the same structure
            stages[-1].columns.append(branch)
        elif stages and owners[-1] == owner == 0:  # one more step of a chain
            chain = stages[-1].columns[0]
            stages[-1] = Stage([BranchFigure("", chain.path, chain.macs + branch.macs, chain.params + branch.params,
                                             chain.share + branch.share, branch.output,
                                             chain.layers + branch.layers)], "")
        else:
            merge = str(parent.role) if owner and parent is not None else ""
            stages.append(Stage([branch if owner else branch._replace(name="")], merge))
            owners.append(owner)
    return stages


def roofline_figure(analysis: Analysis, device: Device, dtype: Dtype, batch: int,
                    tf32: bool = True) -> RooflineFigure:
    from inception_cost.estimates.memory import layer_memory
    from inception_cost.estimates.roofline import estimate

    # the classic roofline: each layer at the least traffic it needs (the memory report's),
    # coloured by the bound the latency model gives it, under the peak of the math its
    # arithmetic runs in (the roof drawn is the convs': TF32's for fp32 convs, as PyTorch
    # runs them, unless `tf32` is off; linear layers and depthwise convs may run lower)
    precision = device.precision(dtype, tf32)
    times = estimate(analysis, device, dtype, batch, tf32=tf32)
    bounds = {t.node.path: t.bound.value for t in times}
    maths = {t.node.path: layer_math(t, device, precision) for t in times}
    peak, bandwidth = device.peak_flops(precision.conv.value), device.bandwidth
    points, left_out = [], 0
    for m in layer_memory(analysis, dtype, batch):
        if m.flops <= 0 or m.bytes_moved <= 0:  # pools, activations: no arithmetic
            left_out += 1
            continue
        intensity = m.flops / m.bytes_moved
        math, own = maths.get(m.node.path, (precision.conv.value, peak))
        points.append(RooflinePoint(m.node.path, m.node.path, m.flops, intensity,
                                    min(own, intensity * bandwidth), bounds.get(m.node.path, ""), math, own))
    return RooflineFigure(device.name, device.title, str(device.precision(dtype, tf32)), batch, peak, bandwidth,
                          points, left_out)


def layer_math(time: LayerTime, device: Device, precision: Precision) -> tuple[str, float]:
    """(the math a layer's arithmetic runs in, its peak FLOP/s): a conv's, a linear layer's
    (PyTorch's matmul setting), a depthwise conv's CUDA cores (fp32); a layer with two
    (a separable conv) gets the rate its FLOPs take at both peaks together, named "mixed"."""
    from inception_cost.estimates.kernels import Op
    from inception_cost.estimates.latency import Math

    work: dict[str, int] = {}
    for k in time.kernels:
        kernel = k.kernel
        if kernel.macs:
            math = (Math.FP32 if kernel.op is Op.DEPTHWISE else
                    precision.matmul if kernel.linear else precision.conv).value
            work[math] = work.get(math, 0) + kernel.macs
    if not work:
        return precision.conv.value, device.peak_flops(precision.conv.value)
    seconds = sum(macs / device.peak_flops(math) for math, macs in work.items())
    return (next(iter(work)) if len(work) == 1 else "mixed"), sum(work.values()) / seconds


def charts(analysis: Analysis, roofline: RooflineFigure | None) -> Charts:
    return Charts(title_of(analysis), analysis.convention.unit.value,
                  [module_figure(m) for m in analysis.root.modules()], roofline)
