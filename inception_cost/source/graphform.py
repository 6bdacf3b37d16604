"""From a YAML document to the layer graph (`graph.Network`).

Two ways to write a network, one engine: the *graph form* (`layers:`, with blocks and
defaults) is read here; the *table form* (`table:`, GoogLeNet's Table 1 as printed)
is expanded by `tableform` into the same graph.
"""

from __future__ import annotations

import re
from pathlib import Path

from inception_cost.errors import ArchitectureError, did_you_mean
from inception_cost.graph.nodes import Auxiliary, Branch, Concat, Layer, Module, Network, Residual
from inception_cost.source.arguments import MAX_SIZE, ArgReader
from inception_cost.core.kinds import KINDS
from inception_cost.source.yamlsource import YMap, load_file, load_text

TOP_KEYS = ("name", "title", "source", "notes", "input", "defaults", "blocks", "layers",
            "table", "units", "auxiliary", "stated")
STATED_KEYS = ("params", "macs", "depth")
SUFFIX_SCALE = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}


def scaled_integer(text) -> int | None:
    """'13.6M' -> 13_600_000, '5.7G', '42' (K, M, G/B = 10^3, 10^6, 10^9); None if unreadable."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGB]?)\s*", str(text))
    if isinstance(text, bool) or not match:
        return None
    whole, _, frac = match.group(1).partition(".")
    return int(whole + frac) * SUFFIX_SCALE[match.group(2)] // 10 ** len(frac)
STRUCTURES = ("concat", "residual", "module", "auxiliary")
MAX_LAYERS = 10_000  # the largest built-in has a few hundred
MAX_BLOCK_NESTING = 16


def load_network(path: str | Path, display_name: str | None = None,
                 variant: str = "reduced") -> Network:
    """Read and expand an architecture file.

    variant="naive" builds the inception rows of a table-form file without their 1x1
    reductions (the paper's naive module); graph-form files have one variant only.
    """
    name = display_name or str(path)
    doc = load_file(path, name)
    return parse_document(doc, name, default_name=Path(path).stem, variant=variant)


def parse_text(text: str, file: str = "<text>", variant: str = "reduced") -> Network:
    return parse_document(load_text(text, file), file, default_name=Path(file).stem,
                          variant=variant)


def parse_document(doc, file: str, default_name: str = "network",
                   variant: str = "reduced") -> Network:
    if not isinstance(doc, YMap):
        raise ArchitectureError("expected a mapping at the top level (with 'input' and 'layers')",
                                file=file, line=getattr(doc, "line", 1))
    ctx = Context(doc, file)
    for key in doc:
        if key not in TOP_KEYS:
            raise ctx.error(doc.line_of(key), None,
                            f"unknown top-level key '{key}'{did_you_mean(key, TOP_KEYS)}")
    name = ctx.text(doc, "name", default_name)
    network = Network(name=name, input_shape=ctx.input_shape(doc), items=[], file=file,
                      title=ctx.text(doc, "title", name), source=ctx.text(doc, "source", ""),
                      notes=ctx.text(doc, "notes", ""),
                      stated=ctx.stated(doc.get("stated"), doc.line_of("stated")))
    if ("layers" in doc) == ("table" in doc):
        raise ctx.error(doc.line, None, "a network needs exactly one of 'layers' (graph form)"
                                        " or 'table' (table form)")
    if "table" in doc:
        from inception_cost.source import tableform

        tableform.expand(doc, ctx, network, variant)
    else:
        for key in ("units", "auxiliary"):
            if key in doc:
                raise ctx.error(doc.line_of(key), None,
                                f"'{key}' belongs to the table form; in the graph form write"
                                " auxiliary heads as items of 'layers'")
        network.items = ctx.items(doc["layers"], doc.line_of("layers"), "")
    if not network.items:
        raise ctx.error(doc.line, None, "the network has no layers")
    return network


class Context:
    """What expanding a document needs: its file, defaults, blocks, and a layer budget."""

    def __init__(self, doc: YMap, file: str):
        self.file = file
        self.doc = doc
        self.count = 0
        self.block_stack: list = []
        self.mentions: dict = {}  # id(node) -> (node, whether `$` occurs in it)
        self.defaults = self._read_defaults(doc.get("defaults"), doc.line_of("defaults"))
        self.blocks = self._read_blocks(doc.get("blocks"), doc.line_of("blocks"))

    # -- errors and simple values --

    def error(self, line: int, path: str | None, message: str) -> ArchitectureError:
        return ArchitectureError(message, file=self.file, line=line, path=path or None)

    def text(self, doc, key: str, default: str) -> str:
        value = doc.get(key, default)
        if isinstance(value, (dict, list)) or value is None:
            raise self.error(doc.line_of(key), None, f"'{key}' must be text")
        return str(value).strip()

    def input_shape(self, doc) -> tuple:
        if "input" not in doc:
            raise self.error(doc.line, None, "missing 'input' (e.g. input: 224x224x3)")
        value = doc["input"]
        line = doc.line_of("input")
        if isinstance(value, str):
            parts = re.split(r"\s*[xX×]\s*", value.strip())
            ascii_digits = all(re.fullmatch(r"[0-9]{1,9}", p) for p in parts)
            value = [int(p) for p in parts] if ascii_digits else None
        if not isinstance(value, list) or len(value) != 3 or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.error(line, None, "'input' must be height x width x channels,"
                                         " e.g. 224x224x3 or [224, 224, 3]")
        for v in value:
            if not 1 <= v <= MAX_SIZE:
                raise self.error(line, None, f"'input' sizes must be between 1 and {MAX_SIZE:,},"
                                             f" got {v}")
        return tuple(value)

    def stated(self, value, line: int) -> dict:
        """Totals the source states: {params: 13.6M, macs: 5.7G, depth: 42} (K/M/G = 10^3/6/9)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(line, None, "'stated' must map params / macs / depth to figures")
        result = {}
        for key, figure in value.items():
            kline = value.line_of(key)
            if key not in STATED_KEYS:
                raise self.error(kline, None, f"unknown stated figure '{key}'{did_you_mean(key, STATED_KEYS)}")
            number = scaled_integer(figure)
            if key == "depth" and (isinstance(figure, bool) or not isinstance(figure, int)):
                number = None  # a depth is a whole number of layers
            if number is None:
                raise self.error(kline, None, f"cannot read stated {key} '{figure}' (e.g. 13.6M, 5.7G, 42)")
            result[key] = {"text": str(figure).strip(), "value": number}
        return result

    # -- defaults and blocks --

    def _read_defaults(self, defaults, line: int) -> dict:
        """{kind: {arg: value}} plus {'*': {arg: value}} for args any kind may take."""
        result = {"*": YMap()}
        result["*"].line, result["*"].key_lines = line, {}
        if defaults is None:
            return result
        if not isinstance(defaults, dict):
            raise self.error(line, None, "'defaults' must be a mapping, e.g. {conv: {bias: false}}")
        for key, value in defaults.items():
            is_argument = any(key in k.keys for k in KINDS.values()) and key != "name"
            if key in KINDS and isinstance(value, dict):
                result[KINDS[key].name] = value
            elif is_argument and not isinstance(value, (dict, list)):
                result["*"][key] = value
                result["*"].key_lines[key] = defaults.line_of(key)
            elif key in KINDS:
                raise self.error(defaults.line_of(key), None,
                                 f"defaults for '{key}' must be a mapping of arguments")
            else:
                raise self.error(defaults.line_of(key), None,
                                 f"unknown default '{key}'{did_you_mean(key, list(KINDS))}"
                                 " (a layer kind, or an argument such as bias or batch_norm)")
        return result

    def _read_blocks(self, blocks, line: int) -> dict:
        if blocks is None:
            return {}
        if not isinstance(blocks, dict):
            raise self.error(line, None, "'blocks' must map block names to {args, layers}")
        for name, block in blocks.items():
            bline = blocks.line_of(name)
            if not isinstance(block, dict):
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

    def items(self, value, line: int, path: str, args: dict | None = None) -> list:
        if not isinstance(value, list):
            raise self.error(line, path, "expected a list of layers")
        result = []
        for index, item in enumerate(value):
            item_line = value.line_of(index) if hasattr(value, "line_of") else line
            result.extend(self.item(item, item_line, path, args or {}))
        return result

    def item(self, item, line: int, path: str, args: dict) -> list:
        self.count += 1
        if self.count > MAX_LAYERS:
            raise self.error(line, path, f"more than {MAX_LAYERS:,} layers")
        item = substitute(item, args, self, line, path)  # `- $pool` may stand for a whole layer
        if isinstance(item, str):  # a bare kind, e.g. "- flatten"
            item = {item: None}
        if not isinstance(item, dict) or len(item) != 1:
            keys = f" (keys: {', '.join(item)})" if isinstance(item, dict) else ""
            raise self.error(getattr(item, "line", line), path,
                             "each layer is a one-key mapping such as {conv: {filters: 64,"
                             f" kernel: 1}}}}{keys}")
        (kind, body), = item.items()
        line = getattr(item, "line", line)
        if kind == "concat":
            return [self.concat(body, line, path, args)]
        if kind == "residual":
            return [self.residual(body, line, path, args)]
        if kind == "module":
            return self.module(body, line, path, args)
        if kind == "auxiliary":
            return [self.auxiliary(body, line, path, args)]
        if kind not in KINDS:
            known = list(KINDS) + list(STRUCTURES)
            raise self.error(line, path, f"unknown layer kind '{kind}'{did_you_mean(kind, known)}"
                                         f" (known: {', '.join(sorted(set(k.name for k in KINDS.values())))},"
                                         f" {', '.join(STRUCTURES)})")
        return [self.layer(kind, body, line, path)]

    def layer(self, kind: str, body, line: int, path: str) -> Layer:
        spec = KINDS[kind]
        merged = merge_defaults(self.defaults, spec, body, line)
        own_name = body.get("name") if isinstance(body, dict) else None
        reader = ArgReader(merged, line, join(path, str(own_name or kind)), self.file)
        if body is not None and not isinstance(body, dict):
            raise reader.error(None, f"arguments of '{kind}' must be a mapping, got {body!r}")
        args = spec.parse(reader)
        name = reader.name(spec.describe(args))
        return Layer(kind=spec.name, name=name, line=line, args=args)

    def _mapping(self, body, line: int, path: str, what: str, allowed: tuple) -> dict:
        if not isinstance(body, dict):
            raise self.error(line, path, f"'{what}' needs a mapping ({', '.join(allowed)})")
        for key in body:
            if key not in allowed:
                raise self.error(body.line_of(key) if hasattr(body, "line_of") else line, path,
                                 f"unknown key '{key}' in {what}{did_you_mean(key, allowed)}"
                                 f" (allowed: {', '.join(allowed)})")
        return body

    def concat(self, body, line: int, path: str, args: dict) -> Concat:
        if not isinstance(body, dict) or not body:
            raise self.error(line, path, "'concat' maps branch names to lists of layers")
        branches = []
        for name, items in body.items():
            bline = body.line_of(name) if hasattr(body, "line_of") else line
            bpath = join(path, f"branch {name}")
            branches.append(Branch(name=str(name), line=bline,
                                   items=self.items(items, bline, bpath, args)))
            if not branches[-1].items:
                raise self.error(bline, bpath, "a branch needs at least one layer")
        return Concat(branches=branches, line=line)

    def residual(self, body, line: int, path: str, args: dict) -> Residual:
        body = self._mapping(body, line, path, "residual", ("scale", "layers", "name"))
        scale = body.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 10:
            raise self.error(body.line_of("scale"), path,
                             f"'scale' must be a number in (0, 10], got {scale!r}")
        if "layers" not in body:
            raise self.error(line, path, "a residual needs 'layers' (the body added to its input)")
        name = str(body.get("name", "residual"))
        items = self.items(body["layers"], body.line_of("layers"), join(path, name), args)
        return Residual(body=items, scale=float(scale), line=line, name=name)

    def module(self, body, line: int, path: str, args: dict) -> list:
        body = self._mapping(body, line, path, "module",
                             ("name", "label", "layers", "use", "with", "repeat", "paper"))
        if "name" not in body:
            raise self.error(line, path, "a module needs a 'name'")
        for key in ("name", "label"):
            if key in body and (isinstance(body[key], (dict, list, bool)) or body[key] is None
                                or str(body[key]).strip() == ""):
                raise self.error(body.line_of(key), path, f"a module's '{key}' must be a non-empty"
                                                          f" string, got {body[key]!r}")
        if ("layers" in body) == ("use" in body):
            raise self.error(line, join(path, str(body["name"])),
                             "a module needs exactly one of 'layers' or 'use' (a block name)")
        if "with" in body and "use" not in body:
            raise self.error(body.line_of("with"), join(path, str(body["name"])),
                             "'with' gives a block's arguments: it needs 'use'")
        repeat = body.get("repeat", 1)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 1000:
            raise self.error(body.line_of("repeat"), path, f"'repeat' must be 1..1000, got {repeat!r}")
        modules = []
        for i in range(1, repeat + 1):
            name = str(body["name"])
            if repeat > 1:
                name = name.replace("{i}", str(i)) if "{i}" in name else f"{name}_{i}"
            label = str(body.get("label", name)).replace("{i}", str(i))
            mpath = join(path, label)
            if "use" in body:
                items = self.use(body["use"], body.get("with"), body.line_of("use"), mpath)
                block = str(body["use"])
            else:
                items = self.items(body["layers"], body.line_of("layers"), mpath, args)
                block = None
            info = {"paper": self.paper(body.get("paper"), body.line_of("paper"), mpath)} \
                if "paper" in body else {}
            modules.append(Module(name=name, label=label, items=items, line=line, block=block,
                                  info=info))
        return modules

    def paper(self, value, line: int, path: str) -> dict:
        """What the source prints for a module: {output: 28x28x576, depth: 2}, checked in reports."""
        if not isinstance(value, dict):
            raise self.error(line, path, "'paper' must be a mapping such as {output: 28x28x576}")
        for key in value:
            if key not in ("output", "depth"):
                raise self.error(value.line_of(key), path,
                                 f"unknown key '{key}' in paper{did_you_mean(key, ('output', 'depth'))}"
                                 " (a module's printed output and depth)")
        if "output" in value and not re.fullmatch(r"\s*[0-9]+\s*x\s*[0-9]+\s*x\s*[0-9]+\s*", str(value["output"])):
            raise self.error(value.line_of("output"), path, "paper output must be like 28x28x576")
        depth = value.get("depth", 0)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise self.error(value.line_of("depth"), path, "paper depth must be a whole number >= 0")
        return dict(value)

    def auxiliary(self, body, line: int, path: str, args: dict) -> Auxiliary:
        body = self._mapping(body, line, path, "auxiliary",
                             ("name", "loss_weight", "layers", "use", "with"))
        name = str(body.get("name", "auxiliary"))
        apath = join(path, name)
        weight = body.get("loss_weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))):
            raise self.error(body.line_of("loss_weight"), apath, "'loss_weight' must be a number")
        if ("layers" in body) == ("use" in body):
            raise self.error(line, apath, "an auxiliary head needs exactly one of 'layers' or 'use'")
        if "use" in body:
            items = self.use(body["use"], body.get("with"), body.line_of("use"), apath)
        else:
            items = self.items(body["layers"], body.line_of("layers"), apath, args)
        return Auxiliary(name=name, items=items, line=line, loss_weight=weight)

    def use(self, block_name, given, line: int, path: str) -> list:
        block_name = str(block_name)
        if block_name not in self.blocks:
            raise self.error(line, path, f"unknown block '{block_name}'"
                                         f"{did_you_mean(block_name, list(self.blocks))}")
        if len(self.block_stack) >= MAX_BLOCK_NESTING:
            raise self.error(line, path, f"blocks nested more than {MAX_BLOCK_NESTING} deep"
                                         f" ({' -> '.join(self.block_stack[:3])} -> ...)")
        if block_name in self.block_stack:
            cycle = " -> ".join(self.block_stack[self.block_stack.index(block_name):] + [block_name])
            raise self.error(line, path, f"block uses itself: {cycle}")
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
        self.block_stack.append(block_name)
        try:
            return self.items(block["layers"], block.line_of("layers"), path, values)
        finally:
            self.block_stack.pop()


def join(path: str, name: str) -> str:
    return f"{path} / {name}" if path else name


def merge_defaults(defaults: dict, spec, body, line: int = 0):
    """The layer's own arguments over its kind's defaults over the file-wide ones."""
    own = body if isinstance(body, dict) else {}
    merged = YMap()
    merged.line = getattr(body, "line", 0) or line
    merged.key_lines = {}
    for source in (defaults["*"], defaults.get(spec.name, {}), own):
        for key, value in source.items():
            if source is defaults["*"] and key not in spec.keys:
                continue
            merged[key] = value
            if hasattr(source, "line_of"):
                merged.key_lines[key] = source.line_of(key)
    return merged


_ARG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def substitute(value, args: dict, ctx: Context, line: int, path: str):
    """Replace `$name` by a block argument: a whole value keeps the argument's type.

    Returns `value` itself where nothing inside it changes (most of a block)."""
    if not args or not _mentions_argument(value, ctx.mentions):
        return value
    if isinstance(value, str):
        if "$" not in value:
            return value
        whole = _ARG.fullmatch(value)
        if whole:
            return _arg(whole.group(1), args, ctx, line, path)
        return _ARG.sub(lambda m: str(_arg(m.group(1), args, ctx, line, path)), value)
    if isinstance(value, dict):
        lines = getattr(value, "key_lines", {})
        items = {key: substitute(item, args, ctx, lines.get(key, line), path)
                 for key, item in value.items()}
        if all(items[key] is value[key] for key in items):
            return value
        result = YMap(items)
        result.line = getattr(value, "line", line)
        result.key_lines = dict(lines)
        return result
    if isinstance(value, list):
        from inception_cost.source.yamlsource import YList

        items = [substitute(v, args, ctx, line, path) for v in value]
        if all(new is old for new, old in zip(items, value)):
            return value
        result = YList(items)
        result.line = getattr(value, "line", line)
        result.item_lines = list(getattr(value, "item_lines", []))
        return result
    return value


def _mentions_argument(value, memo: dict) -> bool:
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


def _arg(name: str, args: dict, ctx: Context, line: int, path: str):
    if name not in args:
        raise ctx.error(line, path, f"unknown block argument '${name}'{did_you_mean(name, list(args))}")
    return args[name]
