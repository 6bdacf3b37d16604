"""`add: {NAME: [layers], NAME2: [layers]}`: parallel paths from the same input, summed
elementwise (a ResNet block: `{body: [...], shortcut: []}`); every path must give the
same shape; `[]` is the identity path. The sum is a layer of its own (`elementwise_add`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import Shape, format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.errors import ShapeError
from inception_cost.graph.nodes import Add, Branch, Item
from inception_cost.structures.base import Structure, join

if TYPE_CHECKING:
    from inception_cost.structures.base import Reader, Run, Scope, Walker


class AddStructure(Structure):
    key = "add"
    description = ("Parallel paths from the same input, summed elementwise: {NAME: [layers], NAME2: [layers]};"
                   " [] is the identity path.")

    def schema(self, refs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "minProperties": 2, "additionalProperties": refs["items"]}
    role = Role.ADD
    item_type = Add
    parallel = True

    def read(self, reader: Reader, body: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        if not isinstance(body, dict) or len(body) < 2:
            raise reader.error(line, path, "'add' maps two or more path names to lists of layers"
                                           " ([] for the identity)")
        paths = []
        for name, items in body.items():
            pline = body.line_of(name) if hasattr(body, "line_of") else line
            paths.append(Branch(name=str(name), line=pline,
                                items=reader.items(items, pline, join(path, f"path {name}"), args)))
        return [Add(paths=paths, line=line)]

    def shape(self, walker: Walker, item: Add, shape: Shape, parent: CostNode, scope: Scope,
              where: str) -> Shape:
        # like a concat, an add names its paths in the parent's scope
        node = CostNode(name=item.name, role=Role.ADD, label="add", line=item.line, in_shape=shape,
                        out_shape=shape, path=scope.child("add", True), source=item)
        first: Shape | None = None
        for branch in item.paths:
            bnode = CostNode(name=branch.name, role=Role.BRANCH, label=branch.name, line=branch.line,
                             in_shape=shape, out_shape=shape, path=scope.child(branch.name), source=branch)
            bwhere = join(where, f"path {branch.name}")
            bnode.out_shape = walker.sequence(branch.items, shape, bnode, walker.scope(bnode.path), bwhere)
            if first is not None and bnode.out_shape != first:
                raise walker.fail(ShapeError(
                    f"add needs {format_shape(first)}, got {format_shape(bnode.out_shape)}"
                    f" (path {item.paths[0].name} gives {format_shape(first)})"), item.line, bwhere)
            first = first or bnode.out_shape
            node.children.append(bnode)
        assert first is not None
        node.out_shape = first
        walker.add_layer("elementwise_add", "add", item.line, {"inputs": len(item.paths)}, first, node,
                         walker.scope(node.path), where)
        parent.children.append(node)
        return first

    def peak(self, node: CostNode, held: int, current: int, run: Run) -> tuple[int, int]:
        """`a(x) + b(x) + c(x)`: each `+` writes a new tensor as soon as its right-hand path is
        done, freeing the two it added. The input stays alive while paths remain that read
        it, and after them where an identity path's output is the input itself (in eager
        PyTorch always: its caller holds it)."""
        paths = [c for c in node.children if c.role is Role.BRANCH]
        total = node.out_shape[0] * node.out_shape[1] * node.out_shape[2]
        done, peak, identity_seen = 0, held + current, False  # `done`: the finished paths' sum (or output)
        for i, path in enumerate(paths):
            identity = all(c.role is Role.LAYER and CANONICAL[c.kind].view for c in path.children)
            identity_seen = identity_seen or identity
            kept = run.eager or i < len(paths) - 1 or identity_seen  # the input outlives this path
            path_peak, _ = run(path.children, held + done + (current if kept else 0), 0 if kept else current)
            out = 0 if identity else path.out_shape[0] * path.out_shape[1] * path.out_shape[2]
            peak = max(peak, path_peak)
            if i:
                peak = max(peak, held + (current if kept else 0) + done + out + total)
            done = total if i else out
        return peak, total

    def depth(self, node: CostNode) -> int:
        return max((c.depth for c in node.children), default=0)  # the deepest parallel part

    def parts(self, node: CostNode) -> list[CostNode]:
        return [c for c in node.children if c.role is Role.BRANCH]  # its paths

    def chain(self, node: CostNode, chain: Callable[[CostNode], str]) -> str:
        return "(" + " + ".join(chain(p) for p in self.parts(node)) + ")"
