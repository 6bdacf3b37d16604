"""`module: {name: 3a, layers: [...]}` or `module: {name: A, use: BLOCK, with: {...}, repeat: 4}`:
a named group of items, written inline or made from a block; reports and `--module` use it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from inception_cost.core.shapes import MAX_SIZE, Shape
from inception_cost.core.tree import MAX_NAME, CostNode, Role
from inception_cost.errors import did_you_mean
from inception_cost.graph.nodes import Item, Module
from inception_cost.source.numbers import whole_number
from inception_cost.source.yamlsource import YMap
from inception_cost.structures.base import Structure, join

if TYPE_CHECKING:
    from inception_cost.structures.base import Reader, Scope, Walker

KEYS = ("name", "label", "layers", "use", "with", "repeat", "start", "paper")
MAX_REPEAT = 1000


class ModuleStructure(Structure):
    key = "module"
    description = ("A named group (reports and --module use the name): {name: 3a, layers: [...]}, or an"
                   " instance of a block: {name: A, use: BLOCK, with: {arg: value}, repeat: 4}.")

    def schema(self, refs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "required": ["name"], "additionalProperties": False,
                "oneOf": [{"required": ["layers"]}, {"required": ["use"]}], "properties": {
                    "name": {**refs["text"], "description": "Its name; with repeat, {i} counts."},
                    "label": {**refs["text"], "description": "How reports show it."},
                    "layers": refs["items"],
                    "use": {"type": "string", "description": "The block it is made from."},
                    "with": refs["arguments"],
                    "repeat": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_REPEAT},
                                         refs["expression"]], "default": 1},
                    "start": {"type": "integer", "minimum": 0, "description": "The first number of {i}."},
                    "paper": {"type": "object", "description": "What the source prints for it, checked.",
                              "properties": {"output": {"type": "string"}, "depth": {"type": "integer"}}}}}
    role = Role.MODULE
    item_type = Module

    def read(self, reader: Reader, body: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        body = reader.mapping(body, line, path, "module", KEYS)
        if "name" not in body:
            raise reader.error(line, path, "a module needs a 'name'")
        for key in ("name", "label"):
            if key in body and (isinstance(body[key], (dict, list, bool)) or body[key] is None
                                or str(body[key]).strip() == ""):
                raise reader.error(body.line_of(key), path, f"a module's '{key}' must be a non-empty"
                                                            f" string, got {body[key]!r}")
        if ("layers" in body) == ("use" in body):
            raise reader.error(line, join(path, str(body["name"])),
                               "a module needs exactly one of 'layers' or 'use' (a block name)")
        if "with" in body and "use" not in body:
            raise reader.error(body.line_of("with"), join(path, str(body["name"])),
                               "'with' gives a block's arguments: it needs 'use'")
        repeat = body.get("repeat", 1)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
            none = (" (a module repeated no times: leave the item out with 'when', e.g."
                    " {module: {...}, when: \"$repeats - 1\"})" if repeat == 0 and not isinstance(repeat, bool) else "")
            raise reader.error(body.line_of("repeat"), path,
                               f"'repeat' must be 1..{MAX_REPEAT}, got {repeat!r}{none}")
        start = body.get("start")
        if start is not None and (isinstance(start, bool) or not isinstance(start, int) or start < 0):
            raise reader.error(body.line_of("start"), path, f"'start' must be a whole number >= 0, got {start!r}")
        template = str(body["name"])
        modules: list[Item] = []
        for k in range(1, repeat + 1):
            # `{i}` counts on across the file's repeats of the same name (from `start`, or 1)
            if "{i}" in template:
                i = start if start is not None and k == 1 else reader.counters.get(template, 0) + 1
                reader.counters[template] = i
            else:
                i = k if start is None else start + k - 1
            name = template.replace("{i}", str(i)) if "{i}" in template else \
                (f"{template}_{i}" if repeat > 1 else template)
            label = str(body.get("label", name)).replace("{i}", str(i))
            if len(label) > MAX_NAME:
                raise reader.error(line, path, f"a module label of {len(label):,} characters; labels"
                                               f" have at most {MAX_NAME:,}")
            mpath = join(path, label)
            paper = _paper(reader, body.get("paper"), body.line_of("paper"), mpath) if "paper" in body else {}
            if "use" in body:
                block, uline = str(body["use"]), body.line_of("use")
                values = reader.block_values(block, body.get("with"), uline, mpath)
                items = reader.expand_block(block, values, uline, mpath)
                modules.append(Module(name=name, label=label, items=items, line=line, block=block,
                                      paper=paper, arguments=values,
                                      rebuild=reader.rebuilder(block, values, uline, mpath)))
            else:
                items = reader.items(body["layers"], body.line_of("layers"), mpath, args)
                modules.append(Module(name=name, label=label, items=items, line=line, paper=paper))
        return modules

    def shape(self, walker: Walker, item: Module, shape: Shape, parent: CostNode, scope: Scope,
              where: str) -> Shape:
        label = item.label or item.name
        node = CostNode(name=item.name, role=Role.MODULE, label=label, line=item.line, in_shape=shape,
                        out_shape=shape, path=scope.child(item.name), block=item.block, paper=item.paper,
                        source=item)
        node.out_shape = walker.sequence(item.items, shape, node, walker.scope(node.path), join(where, label))
        parent.children.append(node)
        return node.out_shape


def _paper(reader: Reader, value: Any, line: int, path: str) -> dict[str, Any]:
    """What the source prints for a module: {output: 28x28x576, depth: 2}, checked in reports."""
    if not isinstance(value, YMap):
        raise reader.error(line, path, "'paper' must be a mapping such as {output: 28x28x576}")
    for key in value:
        if key not in ("output", "depth"):
            raise reader.error(value.line_of(key), path,
                               f"unknown key '{key}' in paper{did_you_mean(key, ('output', 'depth'))}"
                               " (a module's printed output and depth)")
    if "output" in value:
        sizes = re.fullmatch(r"\s*([0-9]+)\s*x\s*([0-9]+)\s*x\s*([0-9]+)\s*", str(value["output"]))
        if not sizes or any((whole_number(g) or MAX_SIZE + 1) > MAX_SIZE for g in sizes.groups()):
            raise reader.error(value.line_of("output"), path, "paper output must be like 28x28x576,"
                                                              f" sizes at most {MAX_SIZE:,}")
    depth = value.get("depth", 0)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise reader.error(value.line_of("depth"), path, "paper depth must be a whole number >= 0")
    return dict(value)
