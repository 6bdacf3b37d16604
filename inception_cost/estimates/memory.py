"""Memory traffic and activation memory of inference.

Per layer: the activations it writes, the bytes of its weights, the bytes it must move
at least (read its input(s) and weights once, write its output once) and its
arithmetic intensity (FLOPs per byte moved, FLOPs = 2 x conv/linear MACs). Over the
whole graph: the peak of the activations alive at once, when a module's input stays
alive until its last branch has run and every branch's output until the concat.
Every figure comes from the core's terms and the kinds' flags (`Kind.view`).
"""

from __future__ import annotations

from dataclasses import dataclass

from inception_cost.core.analysis import Analysis
from inception_cost.core.columns import FIELDS
from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import Shape
from inception_cost.core.terms import MAC_TERMS, STORED_TERMS
from inception_cost.core.tree import CostNode, Role
from inception_cost.estimates.dtypes import Dtype
from inception_cost.structures import structure_of

__all__ = ["Dtype", "LayerMemory", "layer_memory", "peak_activations", "peak_at", "traffic"]


@dataclass
class LayerMemory:
    node: CostNode
    activations: int  # output elements written, whole batch (none by a view)
    activation_bytes: int
    weight_bytes: int
    bytes_moved: int  # input(s) read + weights read + output written, at least
    flops: int  # 2 x conv/linear MACs, whole batch

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes_moved if self.bytes_moved else 0.0


def layer_memory(analysis: Analysis, dtype: Dtype, batch: int,
                 node: CostNode | None = None) -> list[LayerMemory]:
    """One LayerMemory per layer of `node` (default: the counted network), in order."""
    size = dtype.bytes
    result = []
    for leaf in (node or analysis.root).layers():
        inputs, out, weights = traffic(analysis, leaf)
        if CANONICAL[leaf.kind].view:  # its output is its input, seen anew: it writes nothing
            inputs = out = 0
        moved = (inputs + out) * batch * size + weights * size
        flops = 2 * sum(analysis.terms[t][leaf.row] for t in MAC_TERMS) * batch
        result.append(LayerMemory(leaf, out * batch, out * batch * size, weights * size, moved, flops))
    return result


def traffic(analysis: Analysis, leaf: CostNode) -> tuple[int, int, int]:
    """(input elements read, output elements written, per image; weights read) of a layer,
    the least it can move if it moves at all (a view, `Kind.view`, moves nothing in inference)."""
    table, i = analysis.table, leaf.row
    kind = CANONICAL[leaf.kind]
    weights = sum(analysis.terms[t][i] for t in STORED_TERMS)
    out = table.hout[i] * table.wout[i] * table.cout[i]
    inputs = kind.elements_read({name: table.columns[name][i] for name in FIELDS})
    return inputs, out, weights


def peak_activations(root: CostNode) -> int:
    """The most activation elements alive at once during inference (batch 1), input included."""
    return peak_at(root)[0]


def peak_at(root: CostNode, eager: bool = False) -> tuple[int, CostNode]:
    """The peak of `root` (the network, or any part of it run alone from its input), and
    where it is reached: the first layer running when as much is alive, or else the
    structure that writes its output then (a concat copying its branches), or `root` itself
    at its input. A part runs as it does in the network: a layer holds its input and
    output, a residual its shortcut.

    By default, the least an executor needs that frees every tensor after its last reader,
    folds batch norm into its conv and runs ReLU-like activations in place. With `eager`,
    what eager PyTorch allocates in torchvision's layout: the caller keeps the input and
    every module keeps its input until it returns; a conv's batch norm, or its own
    sigmoid, tanh or gelu, writes a second output while the first is alive, as a separable
    conv's depthwise output lives while its pointwise conv runs; ReLU-like activations run
    in place; an add adds as it goes (structures/add.py); a residual scaled by other than
    1 scales into a new tensor. An identity or other view is its input in both.

    Auxiliary classifiers (present under --train) do not run in inference: they are passed
    over, unless `root` is one, run alone."""
    walk = _Walk(eager, root)
    size = _numel(root.in_shape)
    peak, _ = walk.node(root, size, 0) if eager else walk.node(root, 0, size)
    for node, alive in walk.seen:
        if node.role is Role.LAYER and alive == peak:
            return peak, node
    return peak, next((node for node, alive in walk.seen if alive == peak), root)


def _numel(shape: Shape) -> int:
    return shape[0] * shape[1] * shape[2]


class _Walk:
    """Runs the network in order, noting what is alive while each node runs; structures
    call it back for their parts (`structures.base.Run`)."""

    def __init__(self, eager: bool = False, root: CostNode | None = None) -> None:
        self.eager = eager
        self.root = root
        self.seen: list[tuple[CostNode, int]] = []

    def __call__(self, children: list[CostNode], held: int, current: int) -> tuple[int, int]:
        """Run children in order; `current` is the live input, `held` what others keep alive."""
        peak = held + current
        for child in children:
            child_peak, current = self.node(child, held, current)
            peak = max(peak, child_peak)
        return peak, current

    def node(self, node: CostNode, held: int, current: int) -> tuple[int, int]:
        """(peak while running node, its output's size); its input is `current`."""
        if node.role is Role.AUXILIARY and node is not self.root:  # a training-only head
            return held + current, current
        if node.role is Role.LAYER:
            out = _numel(node.out_shape)
            alive = held + current + self._written(node, out, current)
            self.seen.append((node, alive))
            # a view of an input that others hold (a module's, a branch's) is that tensor:
            # counted there, not again as this layer's output; a view of part of its own input
            # (a channel split) keeps the whole input alive
            if CANONICAL[node.kind].view:
                return alive, current
            return alive, out
        structure = structure_of(node)
        if structure is not None:  # how long a structure holds what (structures/)
            result = structure.peak(node, held, current, self)
        else:
            result = self(node.children, held, current)  # a branch, the network
        self.seen.append((node, result[0]))
        return result

    def _written(self, layer: CostNode, out: int, current: int) -> int:
        """The elements a layer allocates while it runs, beyond its input (`current`), from
        its kind's flags: none for a view or an in-place activation; a tensor made on the
        way (a separable conv's depthwise output) lives while the rest runs, the input
        freed once read (in eager PyTorch the batch norm after it runs as a layer of its
        own, after its input is freed, as Keras and timm write it); in eager PyTorch, an
        unfolded batch norm or an out-of-place activation writes a second output."""
        kind, args = CANONICAL[layer.kind], layer.args
        if kind.view or kind.in_place(args):
            return 0
        second = self.eager and kind.second_output(args)
        middle = kind.intermediate(args, layer.in_shape, layer.out_shape)
        if middle:
            if not self.eager:
                return max(middle, middle + out - current)
            return max(middle + out, 2 * out - current if second else 0)
        return 2 * out if second else out
