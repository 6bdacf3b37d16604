"""The result tree: one `CostNode` per item of the analysed graph, each with a unique path.

A path names a node from the network down, `4b/3x3/conv_2`: module names, branch names
(a concat adds no segment of its own), residual and auxiliary names, and for a layer
its `name:` or its kind numbered among its siblings (`conv_1`, `conv_2`). A segment that
would repeat a sibling's gets `_2`, `_3` ..., so every path is unique even where display
names repeat. Commands find nodes by path (or by a module name that is unique), never
by display name or line number.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from inception_cost.core.shapes import Shape
from inception_cost.errors import UsageError, did_you_mean

MAX_NAME = 1_000  # characters of one name or label (a layer, module, branch ...)

class Role(str, enum.Enum):
    """What a node is in the tree (its layer kind, for a layer, is `CostNode.kind`)."""

    NETWORK = "network"
    MODULE = "module"
    BRANCH = "branch"
    CONCAT = "concat"
    RESIDUAL = "residual"
    ADD = "add"
    GATE = "gate"
    AUXILIARY = "auxiliary"
    LAYER = "layer"

    def __str__(self) -> str:
        return self.value


COST_FIELDS = ("macs", "params", "weights", "biases", "bn_params", "norm_params", "trainable", "non_trainable")


class CostNode:
    """One node of the analysed graph: its shapes, path, and costs rolled up from its layers."""

    __slots__ = ("name", "role", "label", "line", "in_shape", "out_shape", "path", "children", "row",
                 "kind", "description", "args", "block", "paper", "scale", "loss_weight",
                 "training_only", "source", *COST_FIELDS, "depth")

    def __init__(self, name: str, role: Role, label: str, line: int, in_shape: Shape, out_shape: Shape,
                 path: str = "", *, row: int = -1, kind: str = "", description: str = "",
                 args: dict[str, Any] | None = None, block: str | None = None,
                 paper: dict[str, Any] | None = None, scale: float = 1.0,
                 loss_weight: float | None = None, training_only: bool = False, source: Any = None,
                 depth: int = 0) -> None:
        self.name = name  # the name written in the file (a layer's display name)
        self.role = role
        self.label = label  # how reports show it, e.g. "inception (3a)"
        self.line = line
        self.in_shape = in_shape
        self.out_shape = out_shape
        self.path = path  # unique in the tree; "" for the network
        self.children: list[CostNode] = []
        self.row = row  # the LayerTable row of a layer
        self.kind = kind  # the layer kind of a layer (conv, max_pool ...)
        self.description = description  # a layer's kind and arguments, e.g. "conv 1x1 64"
        self.args = args or {}  # a layer's arguments
        self.block = block  # a module's block (or table row type)
        self.paper = paper or {}  # a module's printed figures
        self.scale = scale  # a residual's scale
        self.loss_weight = loss_weight  # an auxiliary head's
        self.training_only = training_only
        self.source = source  # the graph item it was built from
        # under the analysis' convention (macs in its unit), rolled up by analysis.roll_up
        self.macs = self.params = self.weights = self.biases = self.bn_params = 0
        self.norm_params = 0  # layer-norm scale and shift, layer-scale multipliers
        self.trainable = self.non_trainable = 0
        self.depth = depth  # layers with weights on the longest path through the node

    def __repr__(self) -> str:
        return f"CostNode({self.role.value} {self.path or '(network)'}: {self.params:,} params, {self.macs:,} MACs)"

    def walk(self) -> Iterator[CostNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def layers(self) -> list[CostNode]:
        return [n for n in self.walk() if n.role is Role.LAYER]

    @property
    def has_parallel_parts(self) -> bool:
        """A module with branches or a residual: its report lists parts, not one row."""
        from inception_cost.structures import PARALLEL  # the registry sits above this module

        return any(c.role in PARALLEL for c in self.children)

    def modules(self) -> list[CostNode]:
        """The modules with parallel parts (the ones `export` shows branch by branch)."""
        return [n for n in self.walk() if n.role is Role.MODULE and n.has_parallel_parts]

    def parent_of(self, node: CostNode) -> CostNode | None:
        """The node (this one or below it) that has `node` as a child."""
        return next((n for n in self.walk() if any(c is node for c in n.children)), None)

    def relative_path(self, node: CostNode) -> str:
        """`node`'s path below this node ('3x3/conv_2' below '4b')."""
        if node is self:
            return ""
        if not self.path:
            return node.path
        return node.path[len(self.path) + 1:] if node.path.startswith(self.path + "/") else node.path

    # -- lookup --

    def selectable(self) -> list[CostNode]:
        """What `--module` accepts: every module, auxiliary head, residual, gate and branch
        (what module reports list), and the layers that are rows of the network report."""
        top = set(map(id, self.children)) if self.role is Role.NETWORK else set()
        return [n for n in self.walk()
                if n.role in (Role.MODULE, Role.AUXILIARY, Role.RESIDUAL, Role.GATE, Role.BRANCH)
                or (n.role is Role.LAYER and id(n) in top)]

    def find(self, query: str) -> CostNode | None:
        """The node at a path, or the one module / auxiliary head with that name or label.

        Raises UsageError when a name matches several modules (give a path then)."""
        wanted = query.strip().strip("/")
        candidates = self.selectable()
        # a path from the top, or from this node ('5x5' below '3a')
        paths = [wanted, f"{self.path}/{wanted}"] if self.path else [wanted]
        for path in paths:
            for node in candidates:
                if node.path == path:
                    return node
        for path in paths:
            folded = path.lower()
            for node in candidates:
                if node.path.lower() == folded:
                    return node
        for node in self.walk():  # any layer, by the exact path its JSON row shows
            if node.path in paths:
                return node
        folded = wanted.lower()
        named = [n for n in candidates if n.role in (Role.MODULE, Role.AUXILIARY, Role.LAYER)
                 and folded in (n.name.lower(), n.label.lower())]
        if len(named) > 1:
            raise UsageError(f"'{query}' names {len(named)} modules: "
                             f"{', '.join(n.path for n in named[:8])}; give one path")
        return named[0] if named else None

    def find_or_fail(self, query: str, network: str) -> CostNode:
        node = self.find(query)
        if node is None:
            accepted = self.selectable()
            rows = [n.path for n in accepted if n.role in (Role.MODULE, Role.AUXILIARY, Role.LAYER)]
            parts = [n.path for n in accepted if n.role in (Role.RESIDUAL, Role.GATE, Role.BRANCH)]
            shown = ", ".join(rows[:60]) + (f" ... ({len(rows)} in all)" if len(rows) > 60 else "")
            more = f"; and their parts by path, e.g. {parts[0]}" if parts else ""
            more += "; and any layer by its path (the `path` of JSON rows)"
            raise UsageError(f"no module '{query}' in {network}"
                             f"{did_you_mean(query, [n.path for n in accepted])};"
                             f" modules: {shown or 'none'}{more}")
        return node
