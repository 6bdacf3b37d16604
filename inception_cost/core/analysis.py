"""Shape propagation and cost: from the layer graph to one result tree.

`analyse` walks the graph once, propagating (height, width, channels) and flattening
every layer into a row of a `LayerTable`; the vectorised core then evaluates all rows
column by column, and the sums are rolled up the tree (branch, module, network).
Every report is a view of the `CostNode` tree this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inception_cost.core import columns as col
from inception_cost.core.conventions import DEFAULT as DEFAULT_CONVENTION
from inception_cost.core.conventions import Convention
from inception_cost.errors import ShapeError
from inception_cost.graph.nodes import (Auxiliary, Concat, Layer, Module, Network, Residual,
                                  format_shape)
from inception_cost.core.kinds import CANONICAL


@dataclass
class CostNode:
    name: str
    kind: str  # network | module | branch | concat | residual | auxiliary | layer
    label: str
    line: int
    in_shape: tuple
    out_shape: tuple
    children: list = field(default_factory=list)
    row: int | None = None  # the LayerTable row of a layer
    layer_kind: str = ""  # conv, max_pool ... for layers
    description: str = ""
    training_only: bool = False
    info: dict = field(default_factory=dict)
    macs: int = 0  # under the analysis' convention, in multiply-accumulates
    params: int = 0  # under the analysis' convention
    weights: int = 0
    biases: int = 0
    bn_params: int = 0
    trainable: int = 0
    non_trainable: int = 0
    depth: int = 0  # layers with weights on the longest path through the node

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def layers(self):
        return [n for n in self.walk() if n.kind == "layer"]

    def find_module(self, name: str) -> "CostNode | None":
        wanted = name.strip().lower()
        for node in self.walk():
            if node.kind in ("module", "auxiliary") and wanted in (
                    node.name.lower(), node.label.lower()):
                return node
        return None

    def modules(self) -> list:
        return [n for n in self.walk() if n.kind == "module" and n.info.get("has_concat")]


@dataclass
class Analysis:
    network: Network
    root: CostNode
    table: col.LayerTable
    train: bool
    training_only: list  # names of every training-only part, counted or not
    convention: Convention
    terms: dict  # column per term (columns.TERMS), every row of the table

    def term_totals(self, node: CostNode | None = None) -> dict:
        """Each term summed over the layers of `node` (default: the whole counted network)."""
        rows = [leaf.row for leaf in (node or self.root).layers()]
        return {name: sum(column[i] for i in rows) for name, column in self.terms.items()}


COST_FIELDS = ("macs", "params", "weights", "biases", "bn_params", "trainable", "non_trainable")


def analyse(network: Network, *, train: bool = False,
            convention: Convention = DEFAULT_CONVENTION) -> Analysis:
    """Propagate shapes, count every layer, and roll the counts up the tree."""
    walker = _Walker(network)
    root = CostNode(name=network.name, kind="network", label=network.title or network.name,
                    line=network.line, in_shape=network.input_shape, out_shape=network.input_shape)
    root.out_shape = walker.sequence(network.items, network.input_shape, root, "", train)
    terms = col.evaluate(walker.table, CANONICAL)
    costs = {**{name: terms[name] for name in col.PARAMETER_TERMS}, **convention.combine(terms)}
    if convention.factor != 1:  # FLOPs: every count in the report is in the convention's unit
        costs["macs"] = [m * convention.factor for m in costs["macs"]]
    _roll_up(root, costs)
    return Analysis(network=network, root=root, table=walker.table, train=train,
                    training_only=walker.training_only, convention=convention, terms=terms)


class _Walker:
    def __init__(self, network: Network):
        self.network = network
        self.table = col.LayerTable()
        self.training_only: list = []

    def fail(self, exc: ShapeError, line: int, path: str) -> ShapeError:
        return exc.located(file=self.network.file, line=line, path=path or None)

    def sequence(self, items, shape, parent: CostNode, path: str, train: bool) -> tuple:
        for item in items:
            shape = self.item(item, shape, parent, path, train)
        return shape

    def item(self, item, shape, parent: CostNode, path: str, train: bool) -> tuple:
        if isinstance(item, Layer):
            return self.layer(item, shape, parent, path)
        if isinstance(item, Module):
            label = item.label or item.name
            node = CostNode(name=item.name, kind="module", label=label, line=item.line,
                            in_shape=shape, out_shape=shape, info=dict(item.info, block=item.block))
            node.out_shape = self.sequence(item.items, shape, node, _join(path, label), train)
            node.info["has_concat"] = any(c.kind in ("concat", "residual") for c in node.children)
            parent.children.append(node)
            return node.out_shape
        if isinstance(item, Concat):
            return self.concat(item, shape, parent, path, train)
        if isinstance(item, Residual):
            node = CostNode(name=item.name, kind="residual", label=f"{item.name} (x{item.scale:g})",
                            line=item.line, in_shape=shape, out_shape=shape,
                            info={"scale": item.scale})
            out = self.sequence(item.body, shape, node, path, train)
            if out != shape:
                raise self.fail(ShapeError(f"residual add needs {format_shape(shape)}, got"
                                           f" {format_shape(out)} from its body"), item.line, path)
            self.layer(Layer(kind="residual_add", name="add", line=item.line,
                             args={"scale": item.scale}), shape, node, path)
            parent.children.append(node)
            return shape
        if isinstance(item, Auxiliary):
            node = CostNode(name=item.name, kind="auxiliary", label=item.name, line=item.line,
                            in_shape=shape, out_shape=shape, training_only=True,
                            info={"loss_weight": item.loss_weight})
            node.out_shape = self.sequence(item.items, shape, node, _join(path, item.name), train)
            self.training_only.append(item.name)
            if train:  # shapes are checked either way; counted only in training
                parent.children.append(node)
            return shape  # a side output: the main path goes on from its input
        raise TypeError(f"not a graph item: {item!r}")

    def concat(self, item: Concat, shape, parent: CostNode, path: str, train: bool) -> tuple:
        node = CostNode(name=item.name, kind="concat", label="concat", line=item.line,
                        in_shape=shape, out_shape=shape)
        outs = []
        for branch in item.branches:
            bnode = CostNode(name=branch.name, kind="branch", label=branch.name, line=branch.line,
                             in_shape=shape, out_shape=shape)
            bpath = _join(path, f"branch {branch.name}")
            bnode.out_shape = self.sequence(branch.items, shape, bnode, bpath, train)
            if outs and bnode.out_shape[:2] != outs[0][:2]:
                h, w = outs[0][:2]
                raise self.fail(ShapeError(
                    f"concat needs {h}x{w}, got {bnode.out_shape[0]}x{bnode.out_shape[1]}"
                    f" (branch {item.branches[0].name} gives {h}x{w})"), item.line, bpath)
            outs.append(bnode.out_shape)
            node.children.append(bnode)
        h, w = outs[0][:2]
        node.out_shape = (h, w, sum(o[2] for o in outs))
        parent.children.append(node)
        return node.out_shape

    def layer(self, layer: Layer, shape, parent: CostNode, path: str) -> tuple:
        kind = CANONICAL[layer.kind]
        lpath = _join(path, layer.name)
        try:
            out = kind.out_shape(layer.args, shape, lpath)
        except ShapeError as exc:
            raise self.fail(exc, layer.line, lpath) from None
        row = self.table.append(kind.name, **kind.fields(layer.args, shape, out))
        parent.children.append(CostNode(
            name=layer.name, kind="layer", label=layer.name, line=layer.line, in_shape=shape,
            out_shape=out, row=row, layer_kind=kind.name, description=kind.describe(layer.args),
            depth=int(kind.weighted), info={"args": layer.args}))
        return out


def _join(path: str, name: str) -> str:
    return f"{path} / {name}" if path else name


def _roll_up(node: CostNode, costs: dict) -> None:
    if node.kind == "layer":
        for name in COST_FIELDS:
            setattr(node, name, costs[name][node.row])
        return
    for child in node.children:
        _roll_up(child, costs)
    for name in COST_FIELDS:
        setattr(node, name, sum(getattr(c, name) for c in node.children))
    if node.kind == "concat":
        node.depth = max((c.depth for c in node.children), default=0)
    else:  # a sequence: depths add up; a side output does not lengthen the main path
        node.depth = sum(c.depth for c in node.children if c.kind != "auxiliary")
