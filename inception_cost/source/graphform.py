"""The graph form: a list of layers, with defaults, reusable blocks and structures.

`Context` expands a document's `layers:` (and the table form's rows, through
`tableform`) into the layer graph: it checks each item's keys, substitutes block
arguments, merges defaults, and reads each layer's arguments through its kind.
"""

from __future__ import annotations

import re
from typing import Any

from inception_cost.core.kinds import KINDS, Kind
from inception_cost.errors import ArchitectureError, did_you_mean, shorten
from inception_cost.graph.nodes import Item, Layer, Rebuild
from inception_cost.source import expressions
from inception_cost.source.arguments import ArgReader
from inception_cost.source.yamlsource import YList, YMap
from inception_cost.structures import STRUCTURES
from inception_cost.structures.base import join

MAX_LAYERS = 10_000  # real layers; the largest built-in has a few hundred
MAX_PARTS = 30_000  # lists of layers expanded (modules, branches, blocks) and items in them
MAX_BLOCK_NESTING = 16
MAX_TEXT = 10_000  # characters of one text made by substituting block arguments


class Context:
    """What expanding a document needs: its file, defaults, blocks, and a layer budget."""

    def __init__(self, doc: YMap, file: str) -> None:
        self.file = file
        self.doc = doc
        self.count = 0  # layers made so far
        self.parts = 0  # lists and items expanded so far: `repeat` of empty modules counts too
        self.units: dict[str, Any] = {}  # the table form's printed columns, how they count
        self.counters: dict[str, int] = {}  # the last `{i}` of each module name template
        self.block_stack: list[str] = []
        self.mentions: dict[int, tuple[Any, bool]] = {}  # id(node) -> (node, whether `$` occurs in it)
        # (kind, id(body)) -> (body, kind, args, name, given name) of a layer already read:
        # a block's layers that no argument changes are the same YAML objects at every use
        self.parsed: dict[tuple[str, int], tuple[Any, str, dict[str, Any], str, str | None]] = {}
        self.defaults = self._read_defaults(doc.get("defaults"), doc.line_of("defaults"))
        self.blocks = self._read_blocks(doc.get("blocks"), doc.line_of("blocks"))

    # -- errors and simple values --

    def error(self, line: int, path: str | None, message: str) -> ArchitectureError:
        return ArchitectureError(message, file=self.file, line=line, path=path or None)

    # -- defaults and blocks --

    def _read_defaults(self, defaults: Any, line: int) -> dict[str, Any]:
        """{kind: {arg: value}} plus {'*': {arg: value}} for args any kind may take."""
        common = YMap()
        common.line, common.key_lines = line, {}
        result: dict[str, Any] = {"*": common}
        if defaults is None:
            return result
        if not isinstance(defaults, YMap):
            raise self.error(line, None, "'defaults' must be a mapping, e.g. {conv: {bias: false}}")
        for key, value in defaults.items():
            is_argument = any(key in k.keys for k in KINDS.values()) and key != "name"
            if key in KINDS and isinstance(value, dict):
                result[KINDS[key].name] = value
            elif is_argument and not isinstance(value, (dict, list)):
                common[key] = value
                common.key_lines[key] = defaults.line_of(key)
            elif key in KINDS:
                raise self.error(defaults.line_of(key), None,
                                 f"defaults for '{key}' must be a mapping of arguments")
            else:
                raise self.error(defaults.line_of(key), None,
                                 f"unknown default '{key}'{did_you_mean(key, list(KINDS))}"
                                 " (a layer kind, or an argument such as bias or batch_norm)")
        return result

    def _read_blocks(self, blocks: Any, line: int) -> dict[str, Any]:
        if blocks is None:
            return {}
        if not isinstance(blocks, YMap):
            raise self.error(line, None, "'blocks' must map block names to {args, layers}")
        for name, block in blocks.items():
            bline = blocks.line_of(name)
            if not isinstance(block, YMap):
                raise self.error(bline, f"block {name}", "a block needs 'layers' (and optional 'args')")
            for key in block:
                if key not in ("args", "layers", "notes"):
                    raise self.error(block.line_of(key), f"block {name}",
                                     f"unknown key '{key}'{did_you_mean(key, ('args', 'layers'))}"
                                     " (a block has 'args' and 'layers')")
            if "layers" not in block:
                raise self.error(bline, f"block {name}", "missing 'layers'")
            args = block.get("args", [])
            if isinstance(args, list):
                if not all(isinstance(a, str) for a in args):
                    raise self.error(block.line_of("args"), f"block {name}",
                                     "'args' must be a list of names or a mapping name -> default")
                twice = sorted({a for a in args if args.count(a) > 1})
                if twice:
                    raise self.error(block.line_of("args"), f"block {name}",
                                     f"argument {', '.join(twice)} is named twice")
            elif not isinstance(args, dict):
                raise self.error(block.line_of("args"), f"block {name}",
                                 "'args' must be a list of names or a mapping name -> default")
        return blocks

    # -- items --

    def count_part(self, line: int, path: str) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise self.error(line, path, f"more than {MAX_PARTS:,} parts (modules, branches, blocks"
                                         " and the items in them, however empty)")

    def items(self, value: Any, line: int, path: str, args: dict[str, Any] | None = None) -> list[Item]:
        self.count_part(line, path)
        if not isinstance(value, list):
            if isinstance(value, dict) and "layers" in value:  # `gate: {layers: [...]}`, as a residual is written
                raise self.error(line, path, "expected a list of layers, got a mapping with 'layers':"
                                             " here the list is written itself ([...]), not {layers: [...]}")
            raise self.error(line, path, "expected a list of layers")
        result: list[Item] = []
        named: dict[str, int] = {}  # the names written on this list's items -> their lines
        for index, item in enumerate(value):
            item_line = value.line_of(index) if hasattr(value, "line_of") else line
            produced = self.item(item, item_line, path, args or {})
            name = _written_name(item, produced)
            if name is not None:
                item_line = getattr(produced[0], "line", item_line)
                if name in named:
                    where = (f"lines {named[name]} and {item_line}" if named[name] != item_line
                             else f"both on line {item_line}")
                    raise self.error(item_line, join(path, name),
                                     f"two siblings are named '{name}' ({where}); give each its own name")
                named[name] = item_line
            result.extend(produced)
        return result

    def item(self, item: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        self.count_part(line, path)
        item = substitute(item, args, self, line, path)  # `- $pool` may stand for a whole layer
        if isinstance(item, str):  # a bare kind, e.g. "- flatten"
            item = {item: None}
        if isinstance(item, dict) and "when" in item and len(item) == 2:  # an optional item
            condition = item["when"]
            if isinstance(condition, expressions.InputExpression):
                raise self.error(getattr(item, "line", line), path, f"'when' cannot use '{condition.text}':"
                                 " it is decided when the block is expanded, before the input's shape is"
                                 " known; pass a flag or a number through 'with'")
            if not isinstance(condition, (bool, int)):
                raise self.error(getattr(item, "line", line), path, "'when' needs true, false or a whole"
                                 f" number from the block's arguments, got {condition!r}")
            if not condition:
                return []
            item = {k: v for k, v in item.items() if k != "when"}
        if not isinstance(item, dict) or len(item) != 1:
            keys = f" (keys: {', '.join(item)})" if isinstance(item, dict) else ""
            raise self.error(getattr(item, "line", line), path,
                             "each layer is a one-key mapping such as {conv: {filters: 64,"
                             f" kernel: 1}}}}{keys}")
        (kind, body), = item.items()
        line = getattr(item, "line", line)
        if kind in STRUCTURES:
            return STRUCTURES[kind].read(self, body, line, path, args)
        if kind not in KINDS:
            known = list(KINDS) + list(STRUCTURES)
            raise self.error(line, path, f"unknown layer kind '{kind}'{did_you_mean(kind, known)}"
                                         f" (known: {', '.join(sorted(set(k.name for k in KINDS.values())))},"
                                         f" {', '.join(STRUCTURES)})")
        return [self.layer(kind, body, line, path)]

    def layer(self, kind: str, body: Any, line: int, path: str) -> Layer:
        self.count += 1  # every layer of either form is made here
        if self.count > MAX_LAYERS:
            raise self.error(line, path, f"more than {MAX_LAYERS:,} layers")
        known = self.parsed.get((kind, id(body)))
        if known is not None and known[0] is body:  # the same text, read before: the same layer
            _, canonical, parsed, name, given = known
            return Layer(kind=canonical, name=name, line=line, args=dict(parsed), given_name=given)
        spec = KINDS[kind]
        merged = merge_defaults(self.defaults, spec, body, line)
        own_name = body.get("name") if isinstance(body, dict) else None
        where = join(path, str(own_name or kind))
        if body is not None and not isinstance(body, dict):
            raise ArgReader(merged, line, where, self.file).error(
                None, f"arguments of '{kind}' must be a mapping, got {body!r}{_mapping_hint(spec, kind, body)}")
        if merged.get("groups") == "depthwise":  # one group per input channel
            merged["groups"] = expressions.InputExpression("depthwise", ("in", "in_channels"))
        given = str(own_name) if own_name is not None else None

        def parse(values: YMap) -> tuple[dict[str, Any], str]:
            reader = ArgReader(values, line, where, self.file)
            args = spec.parse(reader)
            return args, reader.name(spec.describe(args))

        waiting = expressions.InputExpression
        if not any(isinstance(v, waiting) for v in merged.values()):
            args, name = parse(merged)
            self.parsed[kind, id(body)] = (body, spec.name, dict(args), name, given)  # holds body: its id stays its own
            return Layer(kind=spec.name, name=name, line=line, args=args, given_name=given)

        def resolve(shape: tuple[int, int, int]) -> tuple[dict[str, Any], str]:
            """The arguments once the input is known (`$in_channels`, `depthwise`)."""
            values = YMap(merged)
            values.line, values.key_lines = merged.line, merged.key_lines
            for key, value in merged.items():
                if isinstance(value, expressions.InputExpression):
                    try:
                        values[key] = value.evaluate(shape)
                    except expressions.ExpressionError as exc:
                        raise ArgReader(merged, line, where, self.file).error(
                            key, f"{exc} in '{value.text}'") from None
            return parse(values)

        return Layer(kind=spec.name, name=given or spec.name.replace("_", " "), line=line, args={},
                     given_name=given, resolve=resolve)

    def mapping(self, body: Any, line: int, path: str, what: str, allowed: tuple[str, ...]) -> Any:
        """A structure's mapping, with its keys checked."""
        if not isinstance(body, dict):
            raise self.error(line, path, f"'{what}' needs a mapping ({', '.join(allowed)})")
        for key in body:
            if key not in allowed:
                raise self.error(body.line_of(key) if hasattr(body, "line_of") else line, path,
                                 f"unknown key '{key}' in {what}{did_you_mean(key, allowed)}"
                                 f" (allowed: {', '.join(allowed)})")
        return body

    def rebuilder(self, block: str, values: dict[str, Any], line: int, path: str) -> Rebuild:
        """Rebuilds this one instance with some arguments changed (the sweep's variants)."""
        stack, counters = list(self.block_stack), dict(self.counters)

        def rebuild(changes: dict[str, Any]) -> list[Item]:
            fresh = self.fork(stack)
            fresh.counters = dict(counters)  # inner `{i}` names as they were
            return fresh.expand_block(block, {**values, **changes}, line, path)

        return rebuild

    def fork(self, block_stack: list[str]) -> Context:
        """A context for rebuilding one module: same file, defaults and blocks, a new budget."""
        import copy  # only when a sweep rebuilds a module

        other = copy.copy(self)
        other.count = other.parts = 0
        other.block_stack = list(block_stack)
        return other

    def block_values(self, block_name: str, given: Any, line: int, path: str) -> dict[str, Any]:
        """A block's arguments for one use: its defaults, then the `with` values."""
        if block_name not in self.blocks:
            raise self.error(line, path, f"unknown block '{block_name}'"
                                         f"{did_you_mean(block_name, list(self.blocks))}")
        block = self.blocks[block_name]
        declared = block.get("args", [])
        defaults = dict(declared) if isinstance(declared, dict) else dict.fromkeys(declared)
        given = given if given is not None else {}
        if not isinstance(given, dict):
            raise self.error(line, path, "'with' must map block arguments to values")
        for key in given:
            if key not in defaults:
                raise self.error(getattr(given, "line_of", lambda k: line)(key), path,
                                 f"block '{block_name}' has no argument '{key}'"
                                 f"{did_you_mean(key, list(defaults))}")
        values = {**defaults, **given}
        missing = [k for k, v in values.items() if v is None]
        if missing:
            raise self.error(line, path, f"block '{block_name}' needs {', '.join(missing)}")
        return values

    def expand_block(self, block_name: str, values: dict[str, Any], line: int, path: str) -> list[Item]:
        """The items of one use of a block, with its arguments substituted."""
        if len(self.block_stack) >= MAX_BLOCK_NESTING:
            raise self.error(line, path, f"blocks nested more than {MAX_BLOCK_NESTING} deep"
                                         f" ({' -> '.join(self.block_stack[:3])} -> ...)")
        if block_name in self.block_stack:
            cycle = " -> ".join(self.block_stack[self.block_stack.index(block_name):] + [block_name])
            raise self.error(line, path, f"block uses itself: {cycle}")
        block = self.blocks[block_name]
        self.block_stack.append(block_name)
        try:
            return self.items(block["layers"], block.line_of("layers"), path, values)
        finally:
            self.block_stack.pop()


def _written_name(raw: Any, produced: list[Item]) -> str | None:
    """The name an item's file text gives it, when it becomes one named node.

    A `repeat` (several nodes) numbers its names itself; a structure or layer without
    `name:` is numbered by the paths, so neither can clash with a sibling.
    """
    if len(produced) != 1 or not isinstance(raw, dict):
        return None
    bodies = [v for k, v in raw.items() if k != "when"]
    if len(bodies) != 1 or not isinstance(bodies[0], dict) or "name" not in bodies[0]:
        return None
    node = produced[0]
    name = node.given_name if isinstance(node, Layer) else getattr(node, "name", None)
    return str(name) if name is not None else None


def merge_defaults(defaults: dict[str, Any], spec: Kind, body: Any, line: int = 0) -> YMap:
    """The layer's own arguments over its kind's defaults over the file-wide ones."""
    own = body if isinstance(body, dict) else {}
    merged = YMap()
    merged.line = getattr(body, "line", 0) or line
    merged.key_lines = {}
    common = defaults["*"]
    keys = spec.keys
    for source in (common, defaults.get(spec.name, {}), own):
        line_of = getattr(source, "line_of", None)
        for key, value in source.items():
            if source is common and key not in keys:
                continue
            merged[key] = value
            if line_of is not None:
                merged.key_lines[key] = line_of(key)
    return merged


_ARG = r"\$([A-Za-z_][A-Za-z0-9_]*)"  # compiled on first use: only a block's arguments need it


def substitute(value: Any, args: dict[str, Any], ctx: Context, line: int, path: str) -> Any:
    """Replace `$name` by a block argument (a whole value keeps the argument's type) and
    evaluate arithmetic (`source/expressions.py`).

    Returns `value` itself where nothing inside it changes (most of a block)."""
    if not _mentions_argument(value, ctx.mentions):
        return value
    if isinstance(value, str):
        try:  # `$t * $c`, `$in_channels`: an expression (a whole `$name` keeps its type)
            result = expressions.substitute(value, args)
        except expressions.ExpressionError as exc:
            context = "" if re.fullmatch(_ARG, value.strip()) else f" in '{value}'"
            raise ctx.error(line, path, f"{exc}{context}") from None
        if result is not None:
            return result
        if expressions.looks_like_arithmetic(value):
            raise ctx.error(line, path, f"cannot read '{shorten(value)}' as arithmetic ({expressions.SYNTAX};"
                                        " '/' is written '//')")
        size = len(value)

        def replace(match: re.Match[str]) -> str:
            nonlocal size
            text = str(_arg(match.group(1), args, ctx, line, path))
            size += len(text)
            if size > MAX_TEXT:  # `$a$a$a...` with a long `a`: refused before it is built
                raise ctx.error(line, path, f"block arguments substituted into '{value[:40]}' make"
                                            f" more than {MAX_TEXT:,} characters")
            return text

        return re.sub(_ARG, replace, value)
    if isinstance(value, dict):
        lines = getattr(value, "key_lines", {})
        items = {key: substitute(item, args, ctx, lines.get(key, line), path)
                 for key, item in value.items()}
        if all(items[key] is value[key] for key in items):
            return value
        mapping = YMap(items)
        mapping.line = getattr(value, "line", line)
        mapping.key_lines = dict(lines)
        return mapping
    if isinstance(value, list):

        values = [substitute(v, args, ctx, line, path) for v in value]
        if all(new is old for new, old in zip(values, value)):
            return value
        sequence = YList(values)
        sequence.line = getattr(value, "line", line)
        sequence.item_lines = list(getattr(value, "item_lines", []))
        return sequence
    return value


def _mentions_argument(value: Any, memo: dict[int, tuple[Any, bool]]) -> bool:
    """Whether `$` occurs anywhere inside a YAML value (memoised per document: a block's
    template is walked once however often it is used)."""
    if isinstance(value, str):
        return "$" in value
    if not isinstance(value, (dict, list)):
        return False
    known = memo.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    items = value.values() if isinstance(value, dict) else value
    found = any(_mentions_argument(item, memo) for item in items)
    memo[id(value)] = (value, found)
    return found


def _arg(name: str, args: dict[str, Any], ctx: Context, line: int, path: str) -> Any:
    if name not in args:
        raise ctx.error(line, path, f"unknown block argument '${name}'{did_you_mean(name, list(args))}")
    return args[name]


def _mapping_hint(spec: Kind, kind: str, body: Any) -> str:
    """How to write what a layer given a bare value (`activation: hard_swish`,
    `dropout: 0.2`) most likely meant."""
    names = [arg.name for arg in spec.arguments if arg.name != "name"]
    if not names:
        return f" ('{kind}' takes no arguments: write '- {kind}', or {kind}: {{name: ...}})"
    shown = body if isinstance(body, (str, int, float)) and not isinstance(body, bool) else "..."
    return f" (write {kind}: {{{names[0]}: {shown}}}; its arguments: {', '.join(names)})"
