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
    from inception_cost.estimates.memory import Dtype


class LayerFigure(NamedTuple):
    description: str  # "conv 5x5 32"
    path: str
    macs: int
    params: int


class BranchFigure(NamedTuple):
    name: str
    path: str
    macs: int
    params: int
    share: float  # of the module's MACs
    output: str
    layers: list[LayerFigure]


class ModuleFigure(NamedTuple):
    label: str  # "inception (3a)"
    path: str
    input: str
    output: str
    macs: int
    params: int
    branches: list[BranchFigure]


class RooflinePoint(NamedTuple):
    name: str
    path: str
    flops: int
    intensity: float  # FLOPs per byte moved
    attainable: float  # FLOP/s: min(peak, intensity x bandwidth)
    bound: str


class RooflineFigure(NamedTuple):
    device: str
    title: str
    dtype: str
    batch: int
    peak: float  # FLOP/s
    bandwidth: float  # bytes/s
    points: list[RooflinePoint]
    left_out: int  # layers that do no arithmetic (pools, activations ...): no point on a log scale


class Charts(NamedTuple):
    """The whole network's pictures (export -f html / svg)."""

    network: str
    unit: str  # MACs, or FLOPs under flop-counter
    modules: list[ModuleFigure]
    roofline: RooflineFigure | None


def module_figure(module: CostNode, label: str | None = None) -> ModuleFigure:
    parts = module_parts(module)
    names = distinct([part_name(p, module) for p in parts], [module.relative_path(p) for p in parts])
    branches = []
    for part, name in zip(parts, names):
        leaves = part.layers() if part.role is not Role.LAYER else [part]
        branches.append(BranchFigure(name, part.path, part.macs, part.params,
                                     part.macs / module.macs if module.macs else 0.0,
                                     format_shape(part.out_shape),
                                     [LayerFigure(leaf.description, leaf.path, leaf.macs, leaf.params)
                                      for leaf in leaves]))
    return ModuleFigure(label or module.label, module.path, format_shape(module.in_shape),
                        format_shape(module.out_shape), module.macs, module.params, branches)


def roofline_figure(analysis: Analysis, device: Device, dtype: Dtype, batch: int) -> RooflineFigure:
    from inception_cost.estimates.roofline import estimate

    peak, bandwidth = device.peak_flops(dtype.value), device.bandwidth
    points, left_out = [], 0
    for time in estimate(analysis, device, dtype, batch):
        m = time.memory
        if m.flops <= 0 or m.bytes_moved <= 0:
            left_out += 1
            continue
        intensity = m.flops / m.bytes_moved
        points.append(RooflinePoint(m.node.path, m.node.path, m.flops, intensity,
                                    min(peak, intensity * bandwidth), time.bound.value))
    return RooflineFigure(device.name, device.title, dtype.value, batch, peak, bandwidth, points, left_out)


def charts(analysis: Analysis, roofline: RooflineFigure | None) -> Charts:
    return Charts(title_of(analysis), analysis.convention.unit.value,
                  [module_figure(m) for m in analysis.root.modules()], roofline)
