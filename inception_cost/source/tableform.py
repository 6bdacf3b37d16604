"""The table form: a network written as the GoogLeNet paper prints its Table 1.

    table:
      columns: [type, patch size/stride, output, depth, "#1x1", "#3x3 reduce", "#3x3",
                "#5x5 reduce", "#5x5", pool proj, params, ops]
      rows:
        - [inception (3a), ~, 28x28x256, 2, 64, 96, 128, 16, 32, 32, 159K, 128M]

Each row expands into one named module of the graph form, so the same engine
computes it; the row's printed output, depth, params and ops are kept on the module
(`Module.paper`) so that reports can put the paper's figures beside the computed
ones. `variant="naive"` builds inception rows without their 1x1 reductions and
without the pool projection (the paper's Figure 2a).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inception_cost.core.shapes import MAX_SIZE
from inception_cost.core.symbolic import Symbol, check_range
from inception_cost.errors import did_you_mean, shorten
from inception_cost.graph.nodes import Auxiliary, Branch, Concat, Item, Layer, Module, Network
from inception_cost.source.numbers import MAX_DIGITS, whole_number
from inception_cost.source.yamlsource import YList, YMap
from inception_cost.structures import STRUCTURES

if TYPE_CHECKING:
    from inception_cost.source.graphform import Context

COLUMNS = ("type", "patch size/stride", "output", "depth", "#1x1", "#3x3 reduce", "#3x3",
           "#5x5 reduce", "#5x5", "pool proj", "params", "ops")
WIDTHS = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
ROW_TYPES = ("convolution", "max pool", "avg pool", "inception", "dropout", "linear", "softmax")
UNIT_KEYS = ("params", "ops")


def expand(doc: YMap, ctx: Context, network: Network, variant: str = "reduced") -> None:
    table = doc["table"]
    tline = doc.line_of("table")
    if not isinstance(table, YMap) or "rows" not in table:
        raise ctx.error(tline, None, "'table' needs 'columns' and 'rows'")
    for key in table:
        if key not in ("columns", "rows"):
            raise ctx.error(table.line_of(key), None,
                            f"unknown key '{key}' in table{did_you_mean(key, ('columns', 'rows'))}")
    columns = table.get("columns", list(COLUMNS))
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ctx.error(table.line_of("columns"), None, "'columns' must be a list of column names")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise ctx.error(table.line_of("columns"), None,
                        f"column {', '.join(repr(c) for c in duplicates)} appears twice in 'columns'")
    for name in columns:
        if name not in COLUMNS:
            raise ctx.error(table.line_of("columns"), None,
                            f"unknown column '{name}'{did_you_mean(name, COLUMNS)}")
    if "type" not in columns:
        raise ctx.error(table.line_of("columns"), None, "the table needs a 'type' column")
    network.units = ctx.units = read_units(doc, ctx)
    rows = table["rows"]
    if not isinstance(rows, YList) or not rows:
        raise ctx.error(table.line_of("rows"), None, "'rows' must be a non-empty list of rows")
    counts: dict[str, int] = {}
    by_name: dict[str, Module] = {}
    for index, row in enumerate(rows):
        line = rows.line_of(index)
        ctx.count_part(line, "")
        if not isinstance(row, list) or len(row) != len(columns):
            got = len(row) if isinstance(row, list) else "not a list"
            raise ctx.error(line, None, f"a row needs {len(columns)} cells like the 'columns'"
                                        f" header, got {got}")
        cells = {c: v for c, v in zip(columns, row) if v is not None and v != ""}
        module = expand_row(cells, line, ctx, counts, variant)
        if module.name in by_name:
            raise ctx.error(line, module.label, f"two rows are named '{module.name}'")
        by_name[module.name] = module
        network.items.append(module)
    for head in read_auxiliary(doc, ctx):
        after, aux = head
        if after not in by_name:
            raise ctx.error(aux.line, aux.name, f"'after: {after}' names no row"
                                                f"{did_you_mean(after, list(by_name))}")
        network.items.insert(network.items.index(by_name[after]) + 1, aux)


def read_units(doc: YMap, ctx: Context) -> dict[str, Any]:
    """How the printed params / ops columns count: {column: (suffix -> scale, counts)}."""
    units = doc.get("units")
    line = doc.line_of("units")
    if units is None:
        return {}
    if not isinstance(units, YMap):
        raise ctx.error(line, None, "'units' must map params / ops to {K: 1024, counts: weights}")
    result: dict[str, Any] = {}
    for column, spec in units.items():
        cline = units.line_of(column)
        if column not in UNIT_KEYS:
            raise ctx.error(cline, None, f"unknown units column '{column}'{did_you_mean(column, UNIT_KEYS)}")
        if not isinstance(spec, dict) or "counts" not in spec:
            raise ctx.error(cline, None, f"units of '{column}' need 'counts' and suffix scales,"
                                         " e.g. {K: 1024, counts: weights}")
        counts = spec["counts"]
        allowed = ("weights", "params") if column == "params" else ("macs",)
        if counts not in allowed:
            raise ctx.error(cline, None, f"'{column}' can count {' or '.join(allowed)}, got {counts!r}")
        scales: dict[str, int] = {}
        for suffix, scale in spec.items():
            if suffix == "counts":
                continue
            if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
                raise ctx.error(cline, None, f"the scale of '{suffix}' must be a positive integer")
            scales[str(suffix)] = scale
        result[column] = {"counts": counts, "scales": scales}
    return result


def parse_reported(text: Any, units: dict[str, Any], column: str, ctx: Context, line: int,
                   path: str) -> dict[str, Any]:
    """'159K' -> {'text': '159K', 'value': 159 * 1024, 'step': 1024} (step: one unit of the last digit)."""
    spec = units.get(column)
    if spec is None:
        raise ctx.error(line, path, f"the table gives '{column}' but 'units' does not say how it counts")
    match = re.fullmatch(r"\s*([0-9]+(?:\.([0-9]+))?)\s*([A-Za-z]*)\s*", str(text))
    suffix = match.group(3) if match else None
    if not match or (suffix and suffix not in spec["scales"]):
        raise ctx.error(line, path, f"cannot read {column} '{shorten(text)}' (expected a number with one of"
                                    f" the suffixes {', '.join(spec['scales']) or '(none)'})")
    assert match is not None
    decimals = len(match.group(2) or "")
    scale = spec["scales"].get(suffix, 1)
    number = whole_number(match.group(1).replace(".", ""))
    if number is None or decimals > MAX_DIGITS:
        raise ctx.error(line, path, f"{column} '{shorten(text)}' has more than the {MAX_DIGITS}"
                                    " digits a figure may have")
    # exact: value = number / 10^decimals * scale, kept as a fraction of integers
    return {"text": str(text).strip(), "numerator": number * scale, "denominator": 10 ** decimals,
            "step_numerator": scale, "counts": spec["counts"]}


def expand_row(cells: dict[str, Any], line: int, ctx: Context, counts: dict[str, int],
               variant: str) -> Module:
    type_text = str(cells.get("type", "")).strip()
    match = re.fullmatch(r"([a-z ]+?)\s*(?:\((.+)\))?", type_text)
    base = match.group(1) if match else type_text
    if base not in ROW_TYPES:
        raise ctx.error(line, None, f"unknown row type '{type_text}'{did_you_mean(base, ROW_TYPES)}"
                                    f" (known: {', '.join(ROW_TYPES)})")
    detail = match.group(2) if match else None
    name = row_name(base, detail, counts)
    path = type_text
    kernel, stride = read_patch(cells.get("patch size/stride"), ctx, line, path)
    out = read_output(cells.get("output"), ctx, line, path)
    widths: dict[str, Any] = {}
    for column in WIDTHS:
        if column in cells:
            value = cells[column]
            if isinstance(value, Symbol):  # the sweep's trace: checked per variant
                check_range(value, 1, MAX_SIZE, f"{path}: '{column}'")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ctx.error(line, path, f"'{column}' must be a positive integer, got {value!r}")
            widths[column] = value

    def layer(kind: str, **args: Any) -> Layer:
        return ctx.layer(kind, args, line, path)

    if base == "convolution":
        if kernel is None:
            raise ctx.error(line, path, "a convolution row needs its patch size/stride, e.g. 7x7/2")
        filters = widths.get(f"#{kernel[0]}x{kernel[1]}")
        if filters is None and out:
            filters = out[2]
        if filters is None:
            raise ctx.error(line, path, "a convolution row needs its output depth or a width column")
        items: list[Item] = []
        reduce = widths.get(f"#{kernel[0]}x{kernel[1]} reduce")
        if reduce is not None:
            items.append(layer("conv", filters=reduce, kernel=1))
        items.append(layer("conv", filters=filters, kernel=list(kernel), stride=list(stride or (1, 1))))
    elif base in ("max pool", "avg pool"):
        if kernel is None:
            raise ctx.error(line, path, f"a {base} row needs its patch size/stride, e.g. 3x3/2")
        items = [layer(base.replace(" ", "_"), kernel=list(kernel), stride=list(stride or (1, 1)))]
    elif base == "inception":
        items = [inception(widths, variant, layer, ctx, line, path)]
    elif base == "dropout":
        rate = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*", detail or "")
        if detail and not rate:
            raise ctx.error(line, path, f"cannot read the dropout rate '{detail}' (e.g. dropout (40%))")
        items = [layer("dropout", rate=float(rate.group(1)) / 100 if rate else 0.5)]
    elif base == "linear":
        if not out:
            raise ctx.error(line, path, "a linear row needs its output, e.g. 1x1x1000")
        items = [layer("linear", out=out[2])]
    else:
        items = [layer("softmax")]
    paper: dict[str, Any] = {}
    if "output" in cells:
        paper["output"] = cells["output"]
    if "depth" in cells:
        depth = cells["depth"]
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ctx.error(line, path, f"'depth' must be a whole number >= 0, got {depth!r}")
        paper["depth"] = depth
    for column in ("params", "ops"):
        if column in cells:
            paper[column] = parse_reported(cells[column], ctx.units, column, ctx, line, path)
    label = f"{type_text} {cells['patch size/stride']}" if "patch size/stride" in cells else type_text
    def rebuild(changes: dict[str, Any]) -> list[Item]:
        return expand_row({**cells, **changes}, line, ctx.fork([]), {}, variant).items

    return Module(name=name, label=label, items=items, line=line, block=base, paper=paper,
                  arguments=widths, rebuild=rebuild)


def inception(widths: dict[str, Any], variant: str, layer: Callable[..., Layer], ctx: Context, line: int,
              path: str) -> Concat:
    missing = [c for c in WIDTHS if c not in widths]
    if missing:
        raise ctx.error(line, path, f"an inception row needs {', '.join(missing)}")
    w = widths
    branches: dict[str, list[Item]]
    if variant == "naive":  # Figure 2(a): no reductions, the pool passes its input through
        branches = {
            "1x1": [layer("conv", filters=w["#1x1"], kernel=1)],
            "3x3": [layer("conv", filters=w["#3x3"], kernel=3)],
            "5x5": [layer("conv", filters=w["#5x5"], kernel=5)],
            "pool": [layer("max_pool", kernel=3, stride=1, padding="same")],
        }
    else:
        branches = {
            "1x1": [layer("conv", filters=w["#1x1"], kernel=1)],
            "3x3": [layer("conv", filters=w["#3x3 reduce"], kernel=1),
                    layer("conv", filters=w["#3x3"], kernel=3)],
            "5x5": [layer("conv", filters=w["#5x5 reduce"], kernel=1),
                    layer("conv", filters=w["#5x5"], kernel=5)],
            "pool": [layer("max_pool", kernel=3, stride=1, padding="same"),
                     layer("conv", filters=w["pool proj"], kernel=1)],
        }
    return Concat(branches=[Branch(name=k, line=line, items=v) for k, v in branches.items()],
                  line=line)


def row_name(base: str, detail: str | None, counts: dict[str, int]) -> str:
    """inception (3a) -> 3a; convolution -> conv1, conv2; max pool -> maxpool1 ..."""
    if base == "inception" and detail:
        return detail.strip()
    short = {"convolution": "conv", "max pool": "maxpool", "avg pool": "avgpool"}.get(base, base)
    counts[short] = counts.get(short, 0) + 1
    numbered = short in ("conv", "maxpool")
    return f"{short}{counts[short]}" if numbered or counts[short] > 1 else short


def read_patch(text: Any, ctx: Context, line: int,
               path: str) -> tuple[tuple[int, int], tuple[int, int]] | tuple[None, None]:
    if text is None:
        return None, None
    patch, slash, stride = str(text).partition("/")  # \s*D+\s*x\s*D+\s*(/\s*D+)?\s*
    groups = _digit_groups(patch, 2)
    if groups is None or slash and not _is_digits(stride.strip()):
        raise ctx.error(line, path, f"cannot read patch size/stride '{shorten(text)}' (expected e.g. 7x7/2)")
    groups.append(stride.strip() if slash else "1")
    kh, kw, s = (_size(g, "patch size/stride", text, ctx, line, path) for g in groups)
    if min(kh, kw, s) < 1:
        raise ctx.error(line, path, f"patch size/stride '{text}' must be positive")
    return (kh, kw), (s, s)


def read_output(text: Any, ctx: Context, line: int, path: str) -> tuple[int, int, int] | None:
    if text is None:
        return None
    groups = _digit_groups(str(text), 3)  # \s*D+\s*x\s*D+\s*x\s*D+\s*
    if groups is None:
        raise ctx.error(line, path, f"cannot read output '{shorten(text)}' (expected e.g. 28x28x256)")
    h, w, c = (_size(g, "output", text, ctx, line, path) for g in groups)
    return h, w, c


# A patch (7x7/2) and an output (28x28x256) are read with str methods rather than regular
# expressions: compiling one costs start-up time (about 0.2 ms each), and these are read
# in every table-form file. They accept exactly what `\s*[0-9]+\s*x ... \s*` would (str.strip
# removes the characters `\s` matches; the digits are ASCII).


def _is_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits, as `[0-9]+` matches."""
    return text.isascii() and text.isdigit()


def _digit_groups(text: str, count: int) -> list[str] | None:
    """The `count` numbers of 'AxB' or 'AxBxC' (spaces allowed around each), or None."""
    groups = [part.strip() for part in text.split("x")]
    if len(groups) != count or not all(_is_digits(g) for g in groups):
        return None
    return groups


def _size(digits: str, column: str, text: Any, ctx: Context, line: int, path: str) -> int:
    """One number of a patch or an output cell, within the sizes a layer may have."""
    number = whole_number(digits)
    if number is None or number > MAX_SIZE:
        raise ctx.error(line, path, f"{column} '{shorten(text)}': sizes must be at most {MAX_SIZE:,}")
    return number


def read_auxiliary(doc: YMap, ctx: Context) -> list[tuple[str, Auxiliary]]:
    """[(after_row_name, Auxiliary)] from the table form's `auxiliary:` list."""
    heads = doc.get("auxiliary")
    if heads is None:
        return []
    if not isinstance(heads, YList):
        raise ctx.error(doc.line_of("auxiliary"), None, "'auxiliary' must be a list of heads")
    result: list[tuple[str, Auxiliary]] = []
    for index, head in enumerate(heads):
        line = heads.line_of(index)
        if not isinstance(head, YMap) or "after" not in head:
            raise ctx.error(line, None, "an auxiliary head needs 'after' (the row it reads from)")
        body = YMap(head)
        body.line, body.key_lines = head.line, head.key_lines
        after = str(body.pop("after"))
        (aux,) = STRUCTURES["auxiliary"].read(ctx, body, line, "", {})
        assert isinstance(aux, Auxiliary)
        result.append((after, aux))
    return result
