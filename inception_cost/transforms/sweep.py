"""Design-space sweep: every combination of some arguments of one module instance.

A module made from a block (its `with:` values) or from a table row (its width columns)
can be rebuilt with other arguments (`Module.rebuild`); only that instance changes,
whatever its name or line, and the whole network is evaluated around it, so every
variant has the module's own cost and the network's (a module's output width changes
what the next layers cost). Two ways, one cost path (the kinds' terms and the
convention):

- *affine* (fast): the network is built once with each varied argument replaced by a
  `core.symbolic.Symbol`. If that build finishes, the arguments are used only as channel
  counts that add up (proven, see `symbolic.py`): the structure is fixed and every
  layer's channels are affine in the arguments. The layers whose fields depend on them
  are then evaluated for all variants at once, a chunk of columns at a time.
- *rebuilt* (exact, slower): otherwise (kernels, strides, groups, repeat counts, a
  residual whose width must match) each variant is rebuilt and analysed; a variant that
  breaks the network is listed with its reason.

Work is bounded by variants x layers (`MAX_ROWS`, `MAX_REBUILT_LAYERS`).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from inception_cost.core import columns as col
from inception_cost.core.analysis import Analysis, analyse, build, costs_of
from inception_cost.core.conventions import Convention
from inception_cost.core.kinds import CANONICAL
from inception_cost.core.symbolic import Constraint, NotAffine, Symbol, tracing
from inception_cost.core.tree import CostNode
from inception_cost.errors import InceptionCostError, UsageError, did_you_mean, shorten
from inception_cost.graph.nodes import Module, replace_instance
from inception_cost.source.document import scaled_integer
from inception_cost.source.numbers import MAX_DIGITS

CHUNK = 16_384  # variants evaluated per pass: memory stays flat, progress can be shown
# Work caps, so that a sweep at its cap ends within about 10 s on a busy 2-core machine
# (README, Limits): 0.6-1 M layer evaluations a second, ~1.5 s a million variants for the rest.
MAX_VARIANTS = 1_000_000
MAX_ROWS = 2_000_000  # variants x layers that depend on the arguments (affine sweeps)
MAX_REBUILT_LAYERS = 200_000  # variants x (network layers + 20): rebuilt sweeps, ~25 us a layer
REBUILD_COST = 20  # rebuilding and analysing one variant costs about as much as 20 layers
MAX_WIDTH = 1 << 20
Progress = Callable[[int], object]


@dataclass
class Axis:
    name: str
    values: list[int]


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
        seen: set[int] = set()
        for v in values:  # the same variant listed twice would be counted twice in the totals
            if v in seen:
                raise UsageError(f"--vary '{shorten(text)}': {v} is given twice")
            seen.add(v)
        bounds = (min(values), max(values))
    else:
        raise UsageError(f"--vary '{text}': values must be whole numbers of at most 9 digits,"
                         " e.g. 4..64:4 or 32,64")
    if bounds[0] < 1 or bounds[1] > MAX_WIDTH:
        raise UsageError(f"--vary '{text}': values must be between 1 and {MAX_WIDTH:,}")
    if match:
        if (stop - start) // step + 1 > MAX_VARIANTS:
            raise UsageError(f"--vary '{text}': more than the {MAX_VARIANTS:,} variants a sweep may have")
        values = list(range(start, stop + 1, step))
    return Axis(name=name, values=values)


def parse_budget(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    number = scaled_integer(text)
    if number is None:
        raise UsageError(f"--budget-{what} '{shorten(text)}': expected a number such as 100M or 2.5G"
                         f" (at most {MAX_DIGITS} digits)")
    return number


@dataclass
class SweepResult:
    network: str
    module: CostNode  # the module as written
    axes: list[Axis]
    widths: list[list[int]]  # one column per axis, one value per variant
    macs: list[int | None]  # the module's, under the convention; None: the variant is broken
    params: list[int | None]
    network_macs: list[int | None]
    network_params: list[int | None]
    errors: dict[int, str]  # variant -> why it breaks the network
    pareto: list[bool]
    base: dict[str, Any]  # the module as written: arguments, macs, params, network_*
    layers: int  # layer evaluations per variant
    method: str  # "affine" or "rebuilt"
    convention: Convention
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.macs)

    def values(self, i: int) -> dict[str, int]:
        return {a.name: self.widths[k][i] for k, a in enumerate(self.axes)}


def sweepable(analysis: Analysis, query: str) -> tuple[CostNode, Module]:
    """The module instance a sweep varies, and its graph item."""
    node = analysis.find(query)
    item = node.source
    if not isinstance(item, Module) or item.rebuild is None or not item.arguments:
        raise UsageError(f"'{node.path}' has no arguments to vary: a sweep varies a module made"
                         " from a block (`use:` with `with:` values) or a table row's widths")
    return node, item


def run(analysis: Analysis, query: str, axes: list[Axis], progress: Progress | None = None) -> SweepResult:
    """Every combination of the axes' values for one module instance of `analysis`."""
    started = time.perf_counter()
    node, item = sweepable(analysis, query)
    for axis in axes:
        value = item.arguments.get(axis.name)
        if axis.name not in item.arguments:
            names = list(item.arguments)
            raise UsageError(f"'{axis.name}' is not an argument of module {node.path}"
                             f"{did_you_mean(axis.name, names)}; arguments: {', '.join(names)}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"argument '{axis.name}' of module {node.path} is not a whole number"
                             f" ({value!r}); only whole-number arguments can be swept")
    if len({a.name for a in axes}) != len(axes):
        raise UsageError("each argument may be varied once")
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_VARIANTS:
        raise UsageError(f"{total:,} variants is more than the {MAX_VARIANTS:,} a sweep may have;"
                         " narrow the ranges or take bigger steps")
    try:
        plan: _Plan | None = _trace(analysis, node, item, axes)
    except (NotAffine, InceptionCostError):
        plan = None
    result = _Collector(axes, total)
    if plan is not None:
        if total * max(len(plan.variable), 1) > MAX_ROWS:
            raise UsageError(f"{total:,} variants x {len(plan.variable)} layers is more than the"
                             f" {MAX_ROWS:,} layer evaluations a sweep may make")
        plan.run(_combinations(axes), total, result, progress)
        method, per_variant = "affine", len(plan.variable)
    else:
        layers = len(analysis.table)
        if total * (layers + REBUILD_COST) > MAX_REBUILT_LAYERS:
            raise UsageError(
                f"{total:,} variants x ({layers:,} layers + {REBUILD_COST} for the rebuild) is more"
                f" than the {MAX_REBUILT_LAYERS:,} layer evaluations a sweep that rebuilds each"
                " variant may make (its arguments"
                " change the module's structure or kernels, so it cannot use the fast path);"
                " narrow the ranges")
        _rebuild_each(analysis, node, item, axes, total, result, progress)
        method, per_variant = "rebuilt", layers
    root = analysis.root
    base = {"arguments": {k: v for k, v in item.arguments.items() if isinstance(v, int)},
            "macs": node.macs, "params": node.params,
            "network_macs": root.macs, "network_params": root.params}
    return SweepResult(network=analysis.network.name, module=node, axes=axes, widths=result.widths,
                       macs=result.macs, params=result.params, network_macs=result.network_macs,
                       network_params=result.network_params, errors=result.errors,
                       pareto=pareto_front(result.macs, result.params), base=base,
                       layers=per_variant, method=method, convention=analysis.convention,
                       seconds=time.perf_counter() - started)


def _combinations(axes: list[Axis]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(a.values for a in axes))


class _Collector:
    def __init__(self, axes: list[Axis], total: int) -> None:
        self.widths: list[list[int]] = [[] for _ in axes]
        self.macs: list[int | None] = []
        self.params: list[int | None] = []
        self.network_macs: list[int | None] = []
        self.network_params: list[int | None] = []
        self.errors: dict[int, str] = {}

    def add_chunk(self, axis_columns: dict[str, list[int]], names: list[str],
                  costs: tuple[list[int], list[int], list[int], list[int]], broken: dict[int, str]) -> None:
        """Many variants at once: one column per argument and per cost."""
        offset = len(self.macs)
        for column, name in zip(self.widths, names):
            column.extend(axis_columns[name])
        targets = (self.macs, self.params, self.network_macs, self.network_params)
        for target, values in zip(targets, costs):
            target.extend(values)
        for v, reason in broken.items():
            self.errors[offset + v] = reason
            for target in targets:
                target[offset + v] = None

    def add(self, combo: Sequence[int], costs: tuple[int, int, int, int] | None, error: str = "") -> None:
        for column, value in zip(self.widths, combo):
            column.append(value)
        if costs is None:
            self.errors[len(self.macs)] = error
            costs_or_none: tuple[int | None, ...] = (None, None, None, None)
        else:
            costs_or_none = costs
        self.macs.append(costs_or_none[0])
        self.params.append(costs_or_none[1])
        self.network_macs.append(costs_or_none[2])
        self.network_params.append(costs_or_none[3])


def _rebuild_each(analysis: Analysis, node: CostNode, item: Module, axes: list[Axis], total: int,
                  result: _Collector, progress: Progress | None) -> None:
    """Each variant rebuilt from the module's arguments and analysed: exact whatever they are."""
    assert item.rebuild is not None
    done = 0
    for combo in _combinations(axes):
        changes = {a.name: v for a, v in zip(axes, combo)}
        try:
            network = replace_instance(analysis.network, item, item.rebuild(changes))
            variant = analyse(network, train=analysis.train, convention=analysis.convention)
            module = variant.root.find_or_fail(node.path, network.name)
            result.add(combo, (module.macs, module.params, variant.root.macs, variant.root.params))
        except InceptionCostError as exc:  # where it breaks, without the file (it is the one swept)
            result.add(combo, None, f"{exc.path}: {exc.message}" if exc.path else exc.message)
        done += 1
        if progress and done % 1024 == 0:
            progress(1024)
    if progress and done % 1024:
        progress(done % 1024)


@dataclass
class _Plan:
    """The affine sweep: constant layers summed once, variable layers as expressions."""

    table: col.LayerTable
    analysis: Analysis
    names: list[str]
    variable: list[int]  # counted rows whose fields depend on the arguments
    in_module: list[bool]  # per variable row
    module_const: tuple[int, int]  # macs, params of the module's constant rows
    network_const: tuple[int, int]
    constraints: list[Constraint]

    def run(self, combos: Iterator[tuple[int, ...]], total: int, result: _Collector,
            progress: Progress | None) -> None:
        done = 0
        while done < total:
            chunk = list(itertools.islice(combos, CHUNK))
            self._chunk(chunk, result)
            done += len(chunk)
            if progress:
                progress(len(chunk))

    def _chunk(self, chunk: list[tuple[int, ...]], result: _Collector) -> None:
        """One chunk of variants: each variable layer's fields as columns over the variants,
        through its kind's column rules and the convention, summed per variant."""
        n = len(chunk)
        axis_columns = {name: [c[k] for c in chunk] for k, name in enumerate(self.names)}
        mm, mp = [self.module_const[0]] * n, [self.module_const[1]] * n
        nm, np_ = [self.network_const[0]] * n, [self.network_const[1]] * n
        combine = self.analysis.convention.combine
        wanted = self.analysis.convention.terms
        for r, own in zip(self.variable, self.in_module):
            fields = {name: _values(column[r], axis_columns, n) for name, column in self.table.columns.items()}
            costs = combine(CANONICAL[self.table.kind[r]].terms(fields, wanted), n)
            macs, params = costs["macs"], costs["params"]
            nm = [a + b for a, b in zip(nm, macs)]
            np_ = [a + b for a, b in zip(np_, params)]
            if own:
                mm = [a + b for a, b in zip(mm, macs)]
                mp = [a + b for a, b in zip(mp, params)]
        result.add_chunk(axis_columns, self.names, (mm, mp, nm, np_), self._broken(axis_columns, n))

    def _broken(self, axis_columns: dict[str, list[int]], n: int) -> dict[int, str]:
        """Variants whose arguments put a checked value out of its range."""
        broken: dict[int, str] = {}
        for expression, low, high, what in self.constraints:
            for v, value in enumerate(_values(expression, axis_columns, n)):
                if not low <= value <= high and v not in broken:
                    broken[v] = f"{what} must be between {low} and {high:,}, got {value}"
        return broken


def _values(value: int, axis_columns: dict[str, list[int]], n: int) -> list[int]:
    """A field's value for n variants: a constant, or an affine expression evaluated."""
    if not isinstance(value, Symbol):
        return [value] * n
    terms = list(value.coefs.items())
    name, coef = terms[0]
    first = axis_columns[name]
    if value.const == 0 and coef == 1:
        result = first  # the argument itself (never modified in place)
    else:
        result = [value.const + coef * w for w in first]
    for name, coef in terms[1:]:
        result = [r + coef * w for r, w in zip(result, axis_columns[name])]
    return result


def _can_fail(constraint: Constraint, axes: list[Axis]) -> bool:
    """Whether some variant can put this checked expression out of its range."""
    expression, low, high, _ = constraint
    values = {a.name: (min(a.values), max(a.values)) for a in axes}
    least = expression.const + sum(min(c * values[k][0], c * values[k][1]) for k, c in expression.coefs.items())
    most = expression.const + sum(max(c * values[k][0], c * values[k][1]) for k, c in expression.coefs.items())
    return least < low or most > high


def _trace(analysis: Analysis, node: CostNode, item: Module, axes: list[Axis]) -> _Plan:
    """Build the network once with the arguments as symbols; NotAffine if not provable."""
    assert item.rebuild is not None
    names = [a.name for a in axes]
    symbols = {name: Symbol.argument(name, item.arguments[name]) for name in names}
    with tracing() as constraints:
        network = replace_instance(analysis.network, item, item.rebuild(symbols))
        built = build(network, train=analysis.train)
    module_rows = {leaf.row for leaf in built.root.find_or_fail(node.path, network.name).layers()}
    counted = [leaf.row for leaf in built.root.layers()]
    table = built.table
    variable = [r for r in counted if any(isinstance(c[r], Symbol) for c in table.columns.values())]
    varying = set(variable)
    fixed = [r for r in counted if r not in varying]
    constant = col.LayerTable()
    for r in fixed:
        constant.append(table.kind[r], table.row(r))
    costs = costs_of(col.evaluate(constant, CANONICAL), analysis.convention)
    in_module_fixed = [r in module_rows for r in fixed]
    module_const = (sum(m for m, own in zip(costs["macs"], in_module_fixed) if own),
                    sum(p for p, own in zip(costs["params"], in_module_fixed) if own))
    return _Plan(table=table, analysis=analysis, names=names, variable=variable,
                 in_module=[r in module_rows for r in variable], module_const=module_const,
                 network_const=(sum(costs["macs"]), sum(costs["params"])),
                 constraints=[c for c in constraints if _can_fail(c, axes)])


def pareto_front(macs: Sequence[int | None], params: Sequence[int | None]) -> list[bool]:
    """True where no other variant has both fewer-or-equal MACs and parameters (and one
    fewer); broken variants (None) are never on it."""
    valid = [i for i in range(len(macs)) if macs[i] is not None and params[i] is not None]
    order = sorted(valid, key=lambda i: (macs[i], params[i]))
    front = [False] * len(macs)
    best: int | None = None
    for i in order:
        p = params[i]
        assert p is not None
        if best is None or p < best:
            front[i] = True
            best = p
    return front
