"""From a YAML document to the layer graph (`graph.nodes.Network`): the top level.

Two ways to write a network, one engine: the *graph form* (`layers:`, with blocks and
defaults) is read by `graphform`; the *table form* (`table:`, GoogLeNet's Table 1 as
printed) is expanded by `tableform` into the same graph. This module reads what both
share: the name, the input, the stated totals, and which form the file uses.
"""

from __future__ import annotations

import os
import re
from typing import Any

from inception_cost.core.shapes import MAX_SIZE
from inception_cost.errors import ArchitectureError, did_you_mean, shorten
from inception_cost.graph.nodes import Network
from inception_cost.source.graphform import Context
from inception_cost.source.numbers import MAX_DIGITS, whole_number
from inception_cost.source.yamlsource import YMap, load_file, load_text

TOP_KEYS = ("name", "title", "source", "notes", "input", "defaults", "blocks", "layers",
            "table", "units", "auxiliary", "stated")
STATED_KEYS = ("params", "macs", "depth")
SUFFIX_SCALE = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}


def scaled_integer(text: Any) -> int | None:
    """'13.6M' -> 13_600_000, '5.7G', '42' (K, M, G/B = 10^3, 10^6, 10^9); None if unreadable."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGB]?)\s*", str(text))
    if isinstance(text, bool) or not match:
        return None
    whole, _, frac = match.group(1).partition(".")
    digits = whole_number(whole + frac)
    if digits is None or len(frac) > MAX_DIGITS:  # thousands of digits: refused, not converted
        return None
    number: int = digits * SUFFIX_SCALE[match.group(2)] // 10 ** len(frac)
    return number


def load_network(path: str | os.PathLike[str], display_name: str | None = None,
                 variant: str = "reduced") -> Network:
    """Read and expand an architecture file.

    variant="naive" builds the inception rows of a table-form file without their 1x1
    reductions (the paper's naive module); graph-form files have one variant only.
    """
    name = display_name or str(path)
    doc = load_file(path, name)
    return parse_document(doc, name, default_name=_stem(path), variant=variant)


def parse_text(text: str, file: str = "<text>", variant: str = "reduced") -> Network:
    return parse_document(load_text(text, file), file, default_name=_stem(file),
                          variant=variant)


def parse_document(doc: Any, file: str, default_name: str = "network",
                   variant: str = "reduced") -> Network:
    if not isinstance(doc, YMap):
        raise ArchitectureError("expected a mapping at the top level (with 'input' and 'layers')",
                                file=file, line=getattr(doc, "line", 1))
    ctx = Context(doc, file)
    for key in doc:
        if key not in TOP_KEYS:
            raise ctx.error(doc.line_of(key), None,
                            f"unknown top-level key '{key}'{did_you_mean(key, TOP_KEYS)}")
    name = read_text(ctx, doc, "name", default_name)
    network = Network(name=name, input_shape=read_input(ctx, doc), items=[], file=file,
                      title=read_text(ctx, doc, "title", name), source=read_text(ctx, doc, "source", ""),
                      notes=read_text(ctx, doc, "notes", ""),
                      stated=read_stated(ctx, doc.get("stated"), doc.line_of("stated")))
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



def read_text(ctx: Context, doc: YMap, key: str, default: str) -> str:
    value = doc.get(key, default)
    if isinstance(value, (dict, list)) or value is None:
        raise ctx.error(doc.line_of(key), None, f"'{key}' must be text")
    return str(value).strip()


def read_input(ctx: Context, doc: YMap) -> tuple[int, int, int]:
    """`input: 224x224x3`, `[224, 224, 3]` or `{height: 224, width: 224, channels: 3}`."""
    if "input" not in doc:
        raise ctx.error(doc.line, None, "missing 'input' (e.g. input: 224x224x3)")
    value = doc["input"]
    line = doc.line_of("input")
    written = value
    if isinstance(value, str):
        parts = re.split(r"\s*[xX×]\s*", value.strip())
        ascii_digits = all(re.fullmatch(r"[0-9]{1,9}", p) for p in parts)
        value = [int(p) for p in parts] if ascii_digits else None
    elif isinstance(value, YMap):
        keys = ("height", "width", "channels")
        if set(value) != set(keys):
            raise ctx.error(line, None, "'input' as a mapping needs exactly height, width and channels")
        value = [value[k] for k in keys]
    if not isinstance(value, list) or len(value) != 3 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ctx.error(line, None, "'input' must be height x width x channels,"
                                     " e.g. 224x224x3 or [224, 224, 3]")
    for v in value:
        if not 1 <= v <= MAX_SIZE:
            raise ctx.error(line, None, f"'input' sizes must be between 1 and {MAX_SIZE:,},"
                                         f" got {v}")
    h, w, c = value
    if h <= 4 and w == c and w >= 16 and not isinstance(written, YMap):
        raise ctx.error(line, None, f"'input' {h}x{w}x{c} looks like channels first (PyTorch's order);"
                                     f" inception-cost reads height x width x channels: write {w}x{c}x{h}"
                                     f" (or {{height: {w}, width: {c}, channels: {h}}})")
    return (h, w, c)


def read_stated(ctx: Context, value: Any, line: int) -> dict[str, Any]:
    """Totals the source states: {params: 13.6M, macs: 5.7G, depth: 42} (K/M/G = 10^3/6/9)."""
    if value is None:
        return {}
    if not isinstance(value, YMap):
        raise ctx.error(line, None, "'stated' must map params / macs / depth to figures")
    result = {}
    for key, figure in value.items():
        kline = value.line_of(key)
        if key not in STATED_KEYS:
            raise ctx.error(kline, None, f"unknown stated figure '{key}'{did_you_mean(key, STATED_KEYS)}")
        number = scaled_integer(figure)
        if key == "depth" and (isinstance(figure, bool) or not isinstance(figure, int)):
            number = None  # a depth is a whole number of layers
        if number is None:
            raise ctx.error(kline, None, f"cannot read stated {key} '{shorten(figure)}' (e.g. 13.6M,"
                                        f" 5.7G, 42; at most {MAX_DIGITS} digits)")
        result[key] = {"text": str(figure).strip(), "value": number}
    return result


def _stem(path: str | os.PathLike[str]) -> str:
    """'architectures/googlenet.yaml' -> 'googlenet'."""
    return os.path.splitext(os.path.basename(os.fspath(path)))[0]
