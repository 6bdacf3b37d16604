"""`gate: [layers]`: the input multiplied by the body's output, broadcast over height and
width when the body gives 1 x 1 x C (squeeze-and-excitation). The product is a layer of
its own (`elementwise_mul`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import Shape, format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.errors import ShapeError
from inception_cost.graph.nodes import Gate, Item
from inception_cost.structures.base import Structure, join

if TYPE_CHECKING:
    from inception_cost.structures.base import Reader, Run, Scope, Walker


class GateStructure(Structure):
    key = "gate"
    description = ("The input multiplied by the body's output, broadcast over height and width when the body"
                   " gives 1 x 1 x C (squeeze-and-excitation): [layers].")

    def schema(self, refs: dict[str, Any]) -> dict[str, Any]:
        return dict(refs["items"])
    role = Role.GATE
    item_type = Gate
    parallel = True

    def read(self, reader: Reader, body: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        items = reader.items(body, line, join(path, "gate"), args)
        if not items:
            raise reader.error(line, path, "a gate needs layers (e.g. a squeeze-and-excitation body)")
        return [Gate(body=items, line=line)]

    def shape(self, walker: Walker, item: Gate, shape: Shape, parent: CostNode, scope: Scope,
              where: str) -> Shape:
        node = CostNode(name=item.name, role=Role.GATE, label="gate", line=item.line, in_shape=shape,
                        out_shape=shape, path=scope.child(item.name, True), source=item)
        inner = walker.scope(node.path)
        out = walker.sequence(item.body, shape, node, inner, where)
        if out[2] != shape[2] or (out[:2] != shape[:2] and out[:2] != (1, 1)):
            raise walker.fail(ShapeError(
                f"gate needs {format_shape(shape)} or 1x1x{shape[2]} from its body, got {format_shape(out)}"),
                item.line, where)
        walker.add_layer("elementwise_mul", "multiply", item.line, {"scale_area": out[0] * out[1]}, shape, node,
                         inner, where)
        parent.children.append(node)
        return shape

    def peak(self, node: CostNode, held: int, current: int, run: Run) -> tuple[int, int]:
        body = [c for c in node.children if not (c.role is Role.LAYER and CANONICAL[c.kind].internal)]
        peak, gate = run(body, held + current, 0)  # the input waits for the gate values
        out = node.out_shape[0] * node.out_shape[1] * node.out_shape[2]  # the input's size
        return max(peak, held + current + gate + out), out  # the product is a new tensor

    def parts(self, node: CostNode) -> list[CostNode]:
        return [node]

    def chain(self, node: CostNode, chain: Callable[[CostNode], str]) -> str:
        body = [c for c in node.children if not (c.role is Role.LAYER and CANONICAL[c.kind].internal)]
        return "x gate(" + " -> ".join(chain(c) for c in body) + ")"
