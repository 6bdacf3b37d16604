"""`concat: {NAME: [layers], ...}`: parallel branches from the same input, concatenated on
channels; every branch must give the same height and width; `[]` is the identity branch."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import Shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.errors import ShapeError
from inception_cost.graph.nodes import Branch, Concat, Item
from inception_cost.structures.base import Structure, join

if TYPE_CHECKING:
    from inception_cost.structures.base import Reader, Run, Scope, Walker


class ConcatStructure(Structure):
    key = "concat"
    description = ("Parallel branches from the same input, concatenated on channels: {NAME: [layers], ...};"
                   " [] is a branch that keeps the input.")

    def schema(self, refs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "minProperties": 1, "additionalProperties": refs["items"]}
    role = Role.CONCAT
    item_type = Concat
    parallel = True

    def read(self, reader: Reader, body: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        if not isinstance(body, dict) or not body:
            raise reader.error(line, path, "'concat' maps branch names to lists of layers")
        branches = []
        for name, items in body.items():
            bline = body.line_of(name) if hasattr(body, "line_of") else line
            bpath = join(path, f"branch {name}")
            # an empty list is the identity: the branch passes its input on (DenseNet)
            branches.append(Branch(name=str(name), line=bline, items=reader.items(items, bline, bpath, args)))
        return [Concat(branches=branches, line=line)]

    def shape(self, walker: Walker, item: Concat, shape: Shape, parent: CostNode, scope: Scope,
              where: str) -> Shape:
        # a concat adds no path segment of its own: its branches are named in the parent's scope
        node = CostNode(name=item.name, role=Role.CONCAT, label="concat", line=item.line,
                        in_shape=shape, out_shape=shape, path=scope.child("concat", True), source=item)
        outs: list[Shape] = []
        for branch in item.branches:
            bnode = CostNode(name=branch.name, role=Role.BRANCH, label=branch.name, line=branch.line,
                             in_shape=shape, out_shape=shape, path=scope.child(branch.name), source=branch)
            bwhere = join(where, f"branch {branch.name}")
            bnode.out_shape = walker.sequence(branch.items, shape, bnode, walker.scope(bnode.path), bwhere)
            if outs and bnode.out_shape[:2] != outs[0][:2]:
                h, w = outs[0][:2]
                raise walker.fail(ShapeError(
                    f"concat needs {h}x{w}, got {bnode.out_shape[0]}x{bnode.out_shape[1]}"
                    f" (branch {item.branches[0].name} gives {h}x{w})"), item.line, bwhere)
            outs.append(bnode.out_shape)
            node.children.append(bnode)
        h, w = outs[0][:2]
        node.out_shape = (h, w, sum(o[2] for o in outs))
        parent.children.append(node)
        return node.out_shape

    def peak(self, node: CostNode, held: int, current: int, run: Run) -> tuple[int, int]:
        outs, aliases, peak = 0, 0, held + current
        for i, branch in enumerate(node.children):
            freed = i == len(node.children) - 1 and not run.eager
            # the input stays alive for the branches still to run (in eager PyTorch until the
            # concat, its caller holds it); finished outputs wait (an identity branch's
            # output is the input itself, alive already: counted once)
            keep = held + outs - aliases + (0 if freed else current)
            branch_peak, _ = run(branch.children, keep, current if freed else 0)
            out = branch.out_shape[0] * branch.out_shape[1] * branch.out_shape[2]
            if all(c.role is Role.LAYER and CANONICAL[c.kind].view for c in branch.children):
                aliases += out
            peak, outs = max(peak, branch_peak), outs + out
        # torch.cat writes a new tensor and copies every branch, identity ones too; their
        # output is the input itself, alive once however many there are (and in eager
        # PyTorch alive anyway, its caller holds it)
        kept = current if run.eager or aliases else 0
        return max(peak, held + kept + outs - aliases + outs), outs

    def copied(self, node: CostNode) -> int:
        h, w, c = node.out_shape  # torch.cat reads every branch's output and writes the whole
        return h * w * c

    def depth(self, node: CostNode) -> int:
        return max((c.depth for c in node.children), default=0)  # the deepest parallel part

    def parts(self, node: CostNode) -> list[CostNode]:
        return list(node.children)  # its branches

    def chain(self, node: CostNode, chain: Callable[[CostNode], str]) -> str:
        return "[" + " | ".join(chain(branch) for branch in node.children) + "]"
