"""`auxiliary: {name: aux1, loss_weight: 0.3, layers: [...]}`: a side output read from the
current tensor, counted only with `--train`; the main path goes on from its input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inception_cost.core.shapes import Shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.graph.nodes import Auxiliary, Item
from inception_cost.structures.base import Structure, join

if TYPE_CHECKING:
    from inception_cost.structures.base import Reader, Run, Scope, Walker


class AuxiliaryStructure(Structure):
    key = "auxiliary"
    description = ("A side output read from the current tensor, counted only with --train:"
                   " {name: aux1, loss_weight: 0.3, layers: [...]} (or use: BLOCK, with: {...}).")

    def schema(self, refs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": False,
                "oneOf": [{"required": ["layers"]}, {"required": ["use"]}], "properties": {
                    "name": refs["text"], "loss_weight": {"type": "number"}, "layers": refs["items"],
                    "use": {"type": "string", "description": "The block it is made from."},
                    "with": refs["arguments"]}}
    role = Role.AUXILIARY
    item_type = Auxiliary

    def read(self, reader: Reader, body: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        body = reader.mapping(body, line, path, "auxiliary", ("name", "loss_weight", "layers", "use", "with"))
        name = str(body.get("name", "auxiliary"))
        apath = join(path, name)
        weight = body.get("loss_weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))):
            raise reader.error(body.line_of("loss_weight"), apath, "'loss_weight' must be a number")
        if ("layers" in body) == ("use" in body):
            raise reader.error(line, apath, "an auxiliary head needs exactly one of 'layers' or 'use'")
        if "use" in body:
            block = str(body["use"])
            values = reader.block_values(block, body.get("with"), body.line_of("use"), apath)
            items = reader.expand_block(block, values, body.line_of("use"), apath)
        else:
            items = reader.items(body["layers"], body.line_of("layers"), apath, args)
        return [Auxiliary(name=name, items=items, line=line, loss_weight=weight)]

    def shape(self, walker: Walker, item: Auxiliary, shape: Shape, parent: CostNode, scope: Scope,
              where: str) -> Shape:
        node = CostNode(name=item.name, role=Role.AUXILIARY, label=item.name, line=item.line,
                        in_shape=shape, out_shape=shape, path=scope.child(item.name),
                        training_only=True, loss_weight=item.loss_weight, source=item)
        node.out_shape = walker.sequence(item.items, shape, node, walker.scope(node.path),
                                         join(where, item.name))
        walker.training_only.append(item.name)
        if walker.train:  # shapes are checked either way; counted only in training
            parent.children.append(node)
        return shape  # a side output: the main path goes on from its input

    def peak(self, node: CostNode, held: int, current: int, run: Run) -> tuple[int, int]:
        peak, _ = run(node.children, held + current, 0)
        return peak, current
