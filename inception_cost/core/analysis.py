"""Shape propagation and cost: from the layer graph to one result tree.

`build` walks the graph once, propagating (height, width, channels), giving every node
its unique path and flattening every layer into a row of a `LayerTable`. `evaluate`
runs the kinds' column rules over all rows at once and weighs the terms by the
convention; `analyse` does both and rolls the sums up the tree (layer, branch, module,
network). Every report, estimate and transformation reads the `Analysis` this returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from inception_cost.core import columns as col
from inception_cost.core.conventions import DEFAULT as DEFAULT_CONVENTION
from inception_cost.core.conventions import Convention
from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import MAX_SIZE, Shape
from inception_cost.core.symbolic import Symbol, check_range
from inception_cost.core.terms import STORED_TERMS, Term
from inception_cost.core.tree import COST_FIELDS, MAX_NAME, CostNode, Role
from inception_cost.errors import ArchitectureError, ShapeError, UsageError, shorten
from inception_cost.graph.nodes import Item, Layer, Network
from inception_cost.structures import BY_ITEM, BY_ROLE
from inception_cost.structures.base import join

if TYPE_CHECKING:
    from inception_cost.structures.base import Scope


class Analysis:
    """A network analysed under one convention: its result tree, layer table and terms."""

    def __init__(self, network: Network, root: CostNode, table: col.LayerTable, train: bool,
                 training_only: list[str], convention: Convention, terms: col.TermColumns) -> None:
        self.network = network
        self.root = root
        self.table = table
        self.train = train
        self.training_only = training_only  # names of every training-only part, counted or not
        self.convention = convention
        self.terms = terms  # column per term, every row of the table

    def term_totals(self, node: CostNode | None = None) -> dict[Term, int]:
        """Each term summed over the layers of `node` (default: the whole counted network)."""
        rows = [leaf.row for leaf in (node or self.root).layers()]
        return {name: sum(column[i] for i in rows) for name, column in self.terms.items()}

    def find(self, query: str) -> CostNode:
        """The node `--module` names: a path or a unique module name (UsageError if none)."""
        head = query.strip().strip("/").split("/")[0]
        if not self.train and head in self.training_only and self.root.find(query) is None:
            raise UsageError(f"'{head}' in {self.network.name} runs only in training (an auxiliary classifier):"
                             " add --train (train=True in the API) to count it")
        return self.root.find_or_fail(query, self.network.name)


class Built:
    """A network's tree and layer table, before any cost is computed."""

    def __init__(self, root: CostNode, table: col.LayerTable, training_only: list[str]) -> None:
        self.root = root
        self.table = table
        self.training_only = training_only


def analyse(network: Network, *, train: bool = False,
            convention: Convention = DEFAULT_CONVENTION) -> Analysis:
    """Propagate shapes, count every layer, and roll the counts up the tree."""
    built = build(network, train=train)
    terms = col.evaluate(built.table, CANONICAL)
    roll_up(built.root, costs_of(terms, convention))
    return Analysis(network=network, root=built.root, table=built.table, train=train,
                    training_only=built.training_only, convention=convention, terms=terms)


def costs_of(terms: col.TermColumns, convention: Convention) -> dict[str, list[int]]:
    """Per row: the convention's macs (in its unit), params, trainable ... and the raw
    parameter groups (weights, biases, bn_params, and norm_params: layer norms' scale and
    shift with layer scales' multipliers)."""
    costs: dict[str, list[int]] = {str(t): terms[t] for t in STORED_TERMS}
    costs["norm_params"] = [n + s for n, s in zip(terms[Term.LN_PARAMS], terms[Term.LAYER_SCALE_PARAMS])]
    costs.update(convention.combine(terms))
    return costs


def build(network: Network, *, train: bool = False) -> Built:
    walker = _Walker(network, train)
    root = CostNode(name=network.name, role=Role.NETWORK, label=network.title or network.name,
                    line=network.line, in_shape=network.input_shape, out_shape=network.input_shape)
    root.out_shape = walker.sequence(network.items, network.input_shape, root, walker.scope(""), "")
    return Built(root=root, table=walker.table, training_only=walker.training_only)


MAX_PATH_CHARACTERS = 5_000_000  # all paths together: every report row carries one


class _Budget:
    """The characters of every path made so far, so that a long name repeated through
    blocks and nesting cannot make a report of gigabytes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.used = 0


class _Scope:
    """Gives the children of one node unique path segments."""

    def __init__(self, path: str, budget: _Budget) -> None:
        self.path = path
        self.budget = budget
        self.used: set[str] = set()
        self.counts: dict[str, int] = {}

    def child(self, name: str, numbered: bool = False) -> str:
        if len(name) > MAX_NAME:
            raise ArchitectureError(f"a name of {len(name):,} characters ('{name[:40]}...'); names have"
                                    f" at most {MAX_NAME:,}", file=self.budget.file,
                                    path=shorten(self.path, 60) or None)
        path = self._child(name, numbered)
        self.budget.used += len(path)
        if self.budget.used > MAX_PATH_CHARACTERS:
            raise ArchitectureError(f"the paths of the network's parts add up to more than"
                                    f" {MAX_PATH_CHARACTERS:,} characters (long names, deeply nested)",
                                    file=self.budget.file, path=shorten(path, 60))
        return path

    def _child(self, name: str, numbered: bool) -> str:
        base = name.strip().replace("/", "_") or "item"
        if numbered:
            self.counts[base] = self.counts.get(base, 0) + 1
            segment = f"{base}_{self.counts[base]}"
        else:
            segment = base
        n = 1
        while segment in self.used:
            n += 1
            segment = f"{base}_{n}"
        self.used.add(segment)
        return f"{self.path}/{segment}" if self.path else segment


class _Walker:
    def __init__(self, network: Network, train: bool) -> None:
        self.network = network
        self.train = train
        self.table = col.LayerTable()
        self.training_only: list[str] = []
        self.budget = _Budget(network.file)

    def fail(self, exc: ShapeError, line: int, where: str) -> ShapeError:
        exc.located(file=self.network.file, line=line, path=where or None)
        return exc

    def sequence(self, items: list[Item], shape: Shape, parent: CostNode, scope: Scope,
                 where: str) -> Shape:
        for item in items:
            shape = self.item(item, shape, parent, scope, where)
        return shape

    def item(self, item: Item, shape: Shape, parent: CostNode, scope: Scope, where: str) -> Shape:
        if isinstance(item, Layer):
            return self.layer(item, shape, parent, scope, where)
        out = BY_ITEM[type(item)].shape(self, item, shape, parent, scope, where)
        self.within_limits(out, item.line, where, f"the {BY_ITEM[type(item)].key}'s output")  # a concat adds up
        return out

    def within_limits(self, shape: Shape, line: int, where: str, what: str) -> None:
        """Derived sizes obey the limit given ones do (flatten, adaptive pools, concats)."""
        h, w, c = shape
        if type(h) is int and type(w) is int and type(c) is int and max(h, w, c) <= MAX_SIZE:
            return  # nearly every shape: nothing to say
        for size, axis in zip(shape, ("height", "width", "channels")):
            if isinstance(size, Symbol):  # the sweep's trace: checked per variant
                check_range(size, 1, MAX_SIZE, f"{where}: {axis}")
            elif size > MAX_SIZE:
                raise ArchitectureError(f"{what} has {size:,} {axis}, more than the"
                                        f" {MAX_SIZE:,} a tensor may have",
                                        file=self.network.file, line=line, path=where or None)

    def scope(self, path: str) -> Scope:
        return _Scope(path, self.budget)

    def add_layer(self, kind: str, name: str, line: int, args: dict[str, Any], shape: Shape,
                  parent: CostNode, scope: Scope, where: str) -> Shape:
        """A layer that the analysis adds itself (a residual's addition)."""
        return self.layer(Layer(kind=kind, name=name, line=line, args=args), shape, parent, scope, where)

    def layer(self, layer: Layer, shape: Shape, parent: CostNode, scope: Scope, where: str) -> Shape:
        kind = CANONICAL[layer.kind]
        args, name = layer.resolve(shape) if layer.resolve is not None else (layer.args, layer.name)
        lwhere = join(where, name)
        try:
            out = kind.out_shape(args, shape, lwhere)
        except ShapeError as exc:
            raise self.fail(exc, layer.line, lwhere) from None
        self.within_limits(out, layer.line, lwhere, "its output")
        row = self.table.append(kind.name, kind.fields(args, shape, out))
        path = scope.child(layer.given_name) if layer.given_name else scope.child(kind.name, True)
        parent.children.append(CostNode(
            name=name, role=Role.LAYER, label=name, line=layer.line, in_shape=shape,
            out_shape=out, path=path, row=row, kind=kind.name, description=kind.describe(args),
            depth=int(kind.weighted), args=args, source=layer))
        return out


_COSTS = attrgetter(*COST_FIELDS)  # a node's costs as a tuple, in COST_FIELDS' order
_NO_COSTS = (0,) * len(COST_FIELDS)


def roll_up(node: CostNode, costs: dict[str, list[int]]) -> None:
    _roll_up(node, [(name, costs[name]) for name in COST_FIELDS])


def _roll_up(node: CostNode, columns: list[tuple[str, list[int]]]) -> None:
    """Each layer takes its row of every cost column; every other node the sums of its
    children's (added in the children's order)."""
    if node.role is Role.LAYER:
        row = node.row
        for name, column in columns:
            setattr(node, name, column[row])
        return
    children = node.children
    for child in children:
        _roll_up(child, columns)
    totals: Sequence[int] = [sum(values) for values in zip(*map(_COSTS, children))] if children else _NO_COSTS
    for name, total in zip(COST_FIELDS, totals):
        setattr(node, name, total)
    structure = BY_ROLE.get(node.role)
    node.depth = structure.depth(node) if structure is not None else \
        sum(c.depth for c in node.children if c.role is not Role.AUXILIARY)
