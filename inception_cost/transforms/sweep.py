"""Design-space sweep: every combination of a module's widths, on the vectorised core.

The module is built from its YAML only k + 2 times for k varied widths (at the file's
own values, one step along each width, and at the far corner): every layer's input and
output channels are affine in the widths, so these probes give each layer's channels as
`c0 + sum(a_i * w_i)`, and the corner checks that this holds. Then every variant is a
row of columns (widths -> channels -> MACs and parameters), evaluated a whole column at
a time without rebuilding any graph.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field

from inception_cost.core.analysis import analyse
from inception_cost.errors import InceptionCostError, UsageError, did_you_mean
from inception_cost.source.graphform import parse_document, scaled_integer
from inception_cost.source.tableform import WIDTHS
from inception_cost.source.yamlsource import load_file

CHUNK = 65_536  # variants evaluated per pass: memory stays flat, progress can be shown
MAX_VARIANTS = 2_000_000  # about 5 s and 600 MB: the kept columns grow with the variants
MAX_WIDTH = 1 << 20


@dataclass
class Axis:
    name: str
    values: list


def parse_vary(text: str) -> Axis:
    """'#5x5 reduce=4..64:4' (start..stop:step, stop included), 'c1=32,64,96' or 'c1=64'."""
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise UsageError(f"--vary '{text}': expected NAME=START..STOP[:STEP] or NAME=A,B,C")
    match = re.fullmatch(r"(-?[0-9]{1,9})\s*\.\.\s*(-?[0-9]{1,9})(?:\s*:\s*([0-9]{1,9}))?", spec)
    if match:
        start, stop, step = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
        if step < 1 or start > stop:
            raise UsageError(f"--vary '{text}': the range is empty (start <= stop, step >= 1)")
        bounds = (start, stop)
    elif all(re.fullmatch(r"\s*-?[0-9]{1,9}\s*", v) for v in spec.split(",")):
        values = [int(v) for v in spec.split(",")]
        bounds = (min(values), max(values))
    else:
        raise UsageError(f"--vary '{text}': values must be whole numbers of at most 9 digits,"
                         " e.g. 4..64:4 or 32,64")
    if bounds[0] < 1 or bounds[1] > MAX_WIDTH:
        raise UsageError(f"--vary '{text}': widths must be between 1 and {MAX_WIDTH:,}")
    if match:
        values = list(range(start, stop + 1, step))
    return Axis(name=name, values=values)


def parse_budget(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    number = scaled_integer(text)
    if number is None:
        raise UsageError(f"--budget-{what} '{text}': expected a number such as 100M or 2.5G")
    return number


class Source:
    """A module's widths inside its YAML document: read them, set them, rebuild."""

    def __init__(self, path, display: str, module: str):
        self.doc = load_file(path, display)
        self.file = display
        self.module = module
        network = parse_document(self.doc, display)
        node = analyse(network).root.find_module(module)
        if node is None or node.kind != "module":
            raise UsageError(f"no module '{module}' in {network.name}")
        self.line = node.line
        self.slots = self._find_slots()  # width name -> (container, key)

    def _find_slots(self) -> dict:
        doc = self.doc
        if "table" in doc:
            rows, columns = doc["table"]["rows"], doc["table"].get("columns", [])
            for index, row in enumerate(rows):
                if rows.line_of(index) == self.line:
                    return {c: (row, i) for i, c in enumerate(columns)
                            if c in WIDTHS and isinstance(row[i], int)}
        item = _find_module_item(doc.get("layers", []), self.line)
        if item is not None and isinstance(item.get("with"), dict):
            return {k: (item["with"], k) for k, v in item["with"].items()
                    if isinstance(v, int) and not isinstance(v, bool)}
        return {}

    def values(self) -> dict:
        return {name: container[key] for name, (container, key) in self.slots.items()}

    def build(self, values: dict):
        """The module's CostNode with these widths (the document is restored afterwards)."""
        old = self.values()
        try:
            for name, value in values.items():
                container, key = self.slots[name]
                container[key] = value
            network = parse_document(self.doc, self.file)
            return analyse(network).root.find_module(self.module)
        finally:
            for name, value in old.items():
                container, key = self.slots[name]
                container[key] = value


def _find_module_item(items, line: int):
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and len(item) == 1:
            (kind, body), = item.items()
            if kind == "module" and getattr(item, "line", None) == line:
                return body
            if isinstance(body, dict):
                for key in ("layers",):
                    found = _find_module_item(body.get(key), line)
                    if found is not None:
                        return found
    return None


@dataclass
class LayerModel:
    """Per layer: constants and channels affine in the widths."""

    spatial: list  # kh * kw * hout * wout
    kernel: list  # kh * kw
    groups: list
    bias: list
    bn: list
    cin: list  # (c0, [a_1 .. a_k]) per layer
    cout: list


def layer_model(source: Source, axes: list) -> tuple:
    """(LayerModel, the module as written) from k + 2 builds of the module."""
    base_values = source.values()
    names = [a.name for a in axes]
    for name in names:
        if name not in source.slots:
            raise UsageError(f"'{name}' is not a width of module {source.module}"
                             f"{did_you_mean(name, list(source.slots))}; widths:"
                             f" {', '.join(source.slots) or 'none (the module has no width parameters)'}")

    def probe(values: dict):
        try:
            node = source.build({**base_values, **values})
        except InceptionCostError as exc:  # keep its kind (a shape error stays one)
            exc.message = f"module {source.module} with {values}: {exc.message}"
            raise
        return [leaf for leaf in node.layers()], node

    base_layers, base_node = probe({})
    channels = lambda layers: [(leaf.in_shape[2], leaf.out_shape[2]) for leaf in layers]
    base = channels(base_layers)
    slopes = []
    for name in names:
        layers, _ = probe({name: base_values[name] + 1})
        if len(layers) != len(base_layers):
            raise UsageError(f"the structure of module {source.module} changes with '{name}'")
        slopes.append([(ci - bi, co - bo) for (ci, co), (bi, bo) in zip(channels(layers), base)])
    # only convs and linears have weights and MACs; the rest keep a kernel area of 0
    area = [_kernel_area(leaf) if leaf.layer_kind in ("conv", "linear") else 0 for leaf in base_layers]
    model = LayerModel(
        spatial=[a * leaf.out_shape[0] * leaf.out_shape[1] for a, leaf in zip(area, base_layers)],
        kernel=area,
        groups=[leaf.info["args"].get("groups", 1) for leaf in base_layers],
        bias=[int(bool(leaf.biases)) for leaf in base_layers],
        bn=[int(bool(leaf.bn_params)) for leaf in base_layers],
        cin=[(bi - sum(s[j][0] * base_values[n] for s, n in zip(slopes, names)),
              [s[j][0] for s in slopes]) for j, (bi, _) in enumerate(base)],
        cout=[(bo - sum(s[j][1] * base_values[n] for s, n in zip(slopes, names)),
               [s[j][1] for s in slopes]) for j, (_, bo) in enumerate(base)])
    # the far corner must agree with the affine model, or the sweep would be wrong
    corner = {a.name: max(a.values) for a in axes}
    layers, node = probe(corner)
    predicted = evaluate_columns(model, [[corner[n]] for n in names])
    if (predicted["macs"][0], predicted["params"][0]) != (node.macs, node.params):
        raise UsageError(f"module {source.module}: cost is not affine in {', '.join(names)};"
                         " cannot sweep it on the columns")
    return model, base_node


def _kernel_area(leaf) -> int:
    kh, kw = leaf.info["args"].get("kernel", (1, 1))  # a linear layer is a 1x1
    return kh * kw


def evaluate_columns(model: LayerModel, width_columns: list) -> dict:
    """MACs and parameters of every variant: one column per width in, two columns out."""
    n = len(width_columns[0]) if width_columns else 1
    macs, params = [0] * n, [0] * n
    for j in range(len(model.spatial)):
        (ci0, ci_a), (co0, co_a) = model.cin[j], model.cout[j]
        cin, cout = _affine(ci0, ci_a, width_columns, n), _affine(co0, co_a, width_columns, n)
        g, k, s = model.groups[j], model.kernel[j], model.spatial[j]
        per_channel = model.bias[j] + 2 * model.bn[j]
        if s:
            macs = [m + s * (i // g) * o for m, i, o in zip(macs, cin, cout)]
        if k or per_channel:
            params = [p + k * (i // g) * o + per_channel * o for p, i, o in zip(params, cin, cout)]
    return {"macs": macs, "params": params}


def _affine(c0: int, slopes: list, columns: list, n: int) -> list:
    result = [c0] * n
    for a, column in zip(slopes, columns):
        if a:
            result = [r + a * w for r, w in zip(result, column)]
    return result


@dataclass
class SweepResult:
    axes: list
    widths: list  # one column per axis
    macs: list
    params: list
    pareto: list  # bool per variant
    base: dict  # the module as written: {widths, macs, params}
    layers: int
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.macs)


def run(source: Source, axes: list, progress=None) -> SweepResult:
    started = time.perf_counter()
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_VARIANTS:
        raise UsageError(f"{total:,} variants is more than the {MAX_VARIANTS:,} a sweep may have;"
                         " narrow the ranges or take bigger steps")
    model, base_node = layer_model(source, axes)
    built = time.perf_counter()
    widths = [[] for _ in axes]
    macs, params = [], []
    combos = itertools.product(*(a.values for a in axes))
    done = 0
    while done < total:
        chunk = list(itertools.islice(combos, CHUNK))
        columns = [list(c) for c in zip(*chunk)]
        costs = evaluate_columns(model, columns)
        for target, column in zip(widths, columns):
            target.extend(column)
        macs.extend(costs["macs"])
        params.extend(costs["params"])
        done += len(chunk)
        if progress:
            progress(len(chunk))
    base = {"widths": source.values(), "macs": base_node.macs, "params": base_node.params}
    return SweepResult(axes=axes, widths=widths, macs=macs, params=params,
                       pareto=pareto_front(macs, params), base=base, layers=len(model.spatial),
                       seconds=time.perf_counter() - started,
                       extra={"build_seconds": built - started, "builds": len(axes) + 2,
                              "evaluate_seconds": time.perf_counter() - built})


def pareto_front(macs: list, params: list) -> list:
    """True where no other variant has both fewer-or-equal MACs and parameters (and one fewer)."""
    order = sorted(range(len(macs)), key=lambda i: (macs[i], params[i]))
    front = [False] * len(macs)
    best = None
    for i in order:
        if best is None or params[i] < best:
            front[i] = True
            best = params[i]
    return front
