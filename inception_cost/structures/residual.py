"""`residual: {scale: 0.17, layers: [...]}`: input + scale x body; the body must give the
input's shape back. The addition is a layer of its own (`residual_add`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import Shape, format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.errors import ShapeError
from inception_cost.graph.nodes import Item, Residual
from inception_cost.structures.base import Structure, join

if TYPE_CHECKING:
    from inception_cost.structures.base import Reader, Run, Scope, Walker


class ResidualStructure(Structure):
    key = "residual"
    description = "input + scale x body: {scale: 0.17, layers: [...]}; the body must give the input's shape back."

    def schema(self, refs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "required": ["layers"], "additionalProperties": False, "properties": {
            "scale": {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 10}, refs["expression"]],
                      "default": 1.0, "description": "What the body's output is multiplied by before the addition."},
            "layers": refs["items"], "name": refs["text"]}}
    role = Role.RESIDUAL
    item_type = Residual
    parallel = True

    def read(self, reader: Reader, body: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        body = reader.mapping(body, line, path, "residual", ("scale", "layers", "name"))
        scale = body.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 10:
            raise reader.error(body.line_of("scale"), path, f"'scale' must be a number in (0, 10], got {scale!r}")
        if "layers" not in body:
            raise reader.error(line, path, "a residual needs 'layers' (the body added to its input)")
        name = str(body.get("name", "residual"))
        items = reader.items(body["layers"], body.line_of("layers"), join(path, name), args)
        return [Residual(body=items, scale=float(scale), line=line, name=name)]

    def shape(self, walker: Walker, item: Residual, shape: Shape, parent: CostNode, scope: Scope,
              where: str) -> Shape:
        node = CostNode(name=item.name, role=Role.RESIDUAL, label=f"{item.name} (x{item.scale:g})",
                        line=item.line, in_shape=shape, out_shape=shape, path=scope.child(item.name),
                        scale=item.scale, source=item)
        inner = walker.scope(node.path)
        out = walker.sequence(item.body, shape, node, inner, where)
        if out != shape:
            raise walker.fail(ShapeError(f"residual add needs {format_shape(shape)}, got"
                                         f" {format_shape(out)} from its body"), item.line, where)
        walker.add_layer("residual_add", "add", item.line, {"scale": item.scale}, shape, node, inner, where)
        parent.children.append(node)
        return shape

    def peak(self, node: CostNode, held: int, current: int, run: Run) -> tuple[int, int]:
        body = [c for c in node.children if not (c.role is Role.LAYER and CANONICAL[c.kind].internal)]
        # the shortcut stays alive; a body of views gives the input itself (0: nothing new)
        peak, body_out = run(body, held + current, 0)
        out = node.out_shape[0] * node.out_shape[1] * node.out_shape[2]  # the sum's
        # eager PyTorch scales into a new tensor (out * scale + x) before the sum
        scaled = out if run.eager and node.scale != 1 else 0
        return max(peak, held + current + body_out + scaled + out), out

    def parts(self, node: CostNode) -> list[CostNode]:
        parts: list[CostNode] = []
        for inner in node.children:  # a body's concat lists its branches
            parts.extend(inner.children if inner.role is Role.CONCAT else [inner])
        return parts

    def chain(self, node: CostNode, chain: Callable[[CostNode], str]) -> str:
        return f"residual x{node.scale:g} (" + " -> ".join(chain(c) for c in node.children) + ")"
