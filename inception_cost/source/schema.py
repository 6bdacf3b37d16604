"""The JSON Schema (draft 2020-12) of the YAML format, generated from the registries.

Every layer kind (`core.kinds.KINDS`, with each argument's type, default and
description from `core/kinds/arguments.py`) and every structure (`structures.STRUCTURES`,
each giving the schema of its body) appears in it; nothing here names a kind. The
package ships the generated file (`architecture.schema.json`, checked equal to this by
the tests) so an editor can be pointed at it; `inception-cost schema` prints it.
"""

from __future__ import annotations

import os
from typing import Any

from inception_cost.core.kinds import KINDS
from inception_cost.core.kinds import arguments as a
from inception_cost.core.shapes import MAX_SIZE
from inception_cost.source.document import STATED_KEYS, TOP_KEYS
from inception_cost.structures import STRUCTURES

SCHEMA_FILE = "architecture.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://inception-cost.invalid/architecture.schema.json"  # a name, never fetched

# A block argument or an expression of them: "$filters", "$in_channels * $t".
EXPRESSION = {"type": "string", "pattern": r"\$[A-Za-z_]", "description": "A block argument or an integer"
                                                                          " expression of them ($c // 2)."}
SIZE = {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}
TEXT = {"type": ["string", "integer"], "minLength": 1}
# one side of a padding; an axis is p on both sides or [before, after] ([[top, bottom], [left, right]])
SIDE = {"type": "integer", "minimum": 0}


def _value(arg: a.Arg) -> dict[str, Any]:
    """The values a file may write for one argument (an expression is always allowed)."""
    shapes: dict[str, list[dict[str, Any]]] = {
        a.COUNT: [SIZE],
        a.PAIR: [SIZE, {"type": "string", "pattern": r"^\s*[0-9]+\s*[xX×]\s*[0-9]+\s*$"},
                 {"type": "array", "items": {"anyOf": [SIZE, EXPRESSION]}, "minItems": 2, "maxItems": 2}],
        a.PADDING: [{"enum": ["same", "valid", "SAME", "VALID"]}, {"type": "integer", "minimum": 0},
                    {"type": "array", "items": {"anyOf": [SIDE, EXPRESSION, {"type": "array", "items": {
                        "anyOf": [SIDE, EXPRESSION]}, "minItems": 2, "maxItems": 2}]},
                     "minItems": 2, "maxItems": 2}],
        a.FLAG: [{"type": "boolean"}],
        a.CHOICE: [{"enum": list(arg.choices)}, *([{"type": "null"}] if arg.default is None else [])],
        a.FRACTION: [{"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                     {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*%\s*$"}],
        a.GROUPS: [SIZE, {"const": "depthwise"}],
        a.TEXT: [TEXT],
    }
    if arg.type == a.TEXT:
        schema: dict[str, Any] = dict(TEXT)
    else:
        schema = {"anyOf": [*shapes[arg.type], EXPRESSION]}
    schema["description"] = arg.description + (" Required (here or in defaults)." if arg.required else "")
    if arg.default is not None:
        schema["default"] = arg.default
    return schema


def _kind(name: str) -> dict[str, Any]:
    kind = KINDS[name]
    # a required argument may come from `defaults`: the schema describes it, the reader checks it
    schema: dict[str, Any] = {
        "description": f"Layer kind '{kind.name}'" + (f" (also written {', '.join(kind.aliases)})"
                                                      if kind.aliases else "") + ".",
        "type": "object", "additionalProperties": False,
        "properties": {x.name: _value(x) for x in kind.arguments}}
    return schema


def _item_choices() -> list[dict[str, Any]]:
    """One layer: {kind: {arguments}} or a bare kind, a structure, or `$arg` for a whole layer;
    any of them with `when:` (left out when false or 0)."""
    when = {"anyOf": [{"type": ["boolean", "integer"]}, EXPRESSION],
            "description": "Left out when false or 0."}
    choices: list[dict[str, Any]] = []
    for name in KINDS:
        body = {"anyOf": [{"$ref": f"#/$defs/kind/{name}"}, {"type": "null"}]}
        choices.append({"type": "object", "required": [name], "additionalProperties": False,
                        "properties": {name: body, "when": when}})
    for key, structure in STRUCTURES.items():
        choices.append({"type": "object", "required": [key], "additionalProperties": False,
                        "description": structure.description,
                        "properties": {key: {"$ref": f"#/$defs/structure/{key}"}, "when": when}})
    choices += [{"enum": list(KINDS), "description": "A kind without arguments (or with its defaults)."},
                EXPRESSION]
    return choices


def _top(refs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The top-level keys (document.TOP_KEYS)."""
    argument_names = sorted({x.name for k in KINDS.values() for x in k.arguments} - {"name"})
    auxiliary = STRUCTURES["auxiliary"].schema(refs)
    return {
        "name": {**TEXT, "description": "The network's name."},
        "title": {"type": "string", "description": "How reports title it."},
        "source": {"type": "string", "description": "Where the architecture comes from."},
        "notes": {"description": "Free text."},
        "input": {"description": "Height x width x channels: 224x224x3, [224, 224, 3] or {height, width,"
                                 " channels}.",
                  "anyOf": [{"type": "string", "pattern": r"^\s*[0-9]+\s*x\s*[0-9]+\s*x\s*[0-9]+\s*$"},
                            {"type": "array", "items": SIZE, "minItems": 3, "maxItems": 3},
                            {"type": "object", "additionalProperties": False,
                             "required": ["height", "width", "channels"],
                             "properties": {"height": SIZE, "width": SIZE, "channels": SIZE}}]},
        "defaults": {"type": "object", "description": "Arguments for every layer of a kind ({conv: {bias:"
                                                      " false}}), or for every kind that takes them.",
                     "properties": {n: {"anyOf": [s for s in (
                         {"$ref": f"#/$defs/kind/{n}"} if n in KINDS else None,
                         {"not": {"type": ["object", "array"]}} if n in argument_names else None) if s]}
                         for n in [*KINDS, *(x for x in argument_names if x not in KINDS)]},
                     "additionalProperties": False},
        "blocks": {"type": "object", "description": "Reusable, parameterised blocks; $arg in a block stands"
                                                    " for its argument.",
                   "additionalProperties": {
                       "type": "object", "required": ["layers"], "additionalProperties": False,
                       "properties": {"args": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                                         {"type": "object"}]},
                                      "layers": refs["items"], "notes": {}}}},
        "layers": {**refs["items"], "description": "The graph form: a list of layers."},
        "table": {"type": "object", "description": "The table form: the paper's rows.", "required": ["rows"],
                  "additionalProperties": False,
                  "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                                 "rows": {"type": "array", "minItems": 1, "items": {"type": "array"}}}},
        "units": {"type": "object", "description": "What the table's printed params and ops count.",
                  "additionalProperties": False,
                  "properties": {c: {"type": "object"} for c in ("params", "ops")}},
        "auxiliary": {"type": "array", "description": "Table form: auxiliary heads attached after a row.",
                      "items": {**auxiliary, "properties": {**auxiliary["properties"],
                                                            "after": {**TEXT, "description": "The row."}}}},
        "stated": {"type": "object", "description": "Totals the source states (13.6M, 5G, 42).",
                   "additionalProperties": False,
                   "properties": {k: {"type": ["string", "number"]} for k in STATED_KEYS}},
    }


def build() -> dict[str, Any]:
    refs = {"items": {"$ref": "#/$defs/items"}, "text": TEXT, "expression": EXPRESSION,
            "arguments": {"type": "object", "description": "A block's arguments by name."}}
    top = _top(refs)
    missing = [k for k in TOP_KEYS if k not in top]
    if missing:  # a new top-level key needs its schema here
        raise KeyError(f"no schema for top-level keys {missing}")
    return {
        "$schema": DIALECT, "$id": SCHEMA_ID,
        "title": "inception-cost architecture",
        "description": "A convolutional network for inception-cost: the graph form (layers) or the table"
                       " form (table). Generated by `inception-cost schema`.",
        "type": "object", "required": ["input"], "additionalProperties": False,
        "oneOf": [{"required": ["layers"]}, {"required": ["table"]}],
        "properties": {k: top[k] for k in TOP_KEYS},
        "$defs": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
            "item": {"anyOf": _item_choices()},
            "kind": {name: _kind(name) for name in KINDS},
            "structure": {key: {**s.schema(refs), "description": s.description} for key, s in STRUCTURES.items()},
        },
    }


def text() -> str:
    import json

    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def shipped_path() -> str:
    """The generated file inside the package."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), SCHEMA_FILE)
