"""The public Python API: analyse, compare and sweep networks; every command line report
is built on these.

    >>> import inception_cost as ic
    >>> net = ic.analyse("googlenet")
    >>> net.params, net.macs
    (6998552, 1582671872)
    >>> net.module("3a").branches[2].macs
    12443648

`analyse` takes a built-in name, a path to a YAML file or a `graph.nodes.Network`.
Results render as tables in Jupyter (`_repr_markdown_`, `_repr_html_`).
"""

from __future__ import annotations

import enum
import itertools
import math
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from inception_cost.core.analysis import Analysis
from inception_cost.core.analysis import analyse as analyse_network
from inception_cost.core.conventions import Convention
from inception_cost.core.conventions import get as get_convention
from inception_cost.core.tree import CostNode, Role
from inception_cost.errors import UsageError, shorten
from inception_cost.graph.nodes import Network
from inception_cost.reports.model import Report

if TYPE_CHECKING:
    from os import PathLike

    from inception_cost.transforms.sweep import Axis

Model: TypeAlias = "str | PathLike[str] | Network"  # a built-in name, a YAML path, or a layer graph
NAIVE, REDUCED = "naive", "reduced"  # GoogLeNet's inception module without / with its reductions


class _Renderable:
    """to_dict / to_markdown / to_json / to_csv / to_table of one report, and Jupyter's views."""

    def report(self) -> Report:
        raise NotImplementedError

    def render(self, fmt: str, width: int | None = None) -> str:
        from inception_cost.reports.render import render

        return render(self.report(), fmt, width)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report, as a dict (the same fields as `-f json`)."""
        from inception_cost.reports.render import to_document

        return to_document(self.report())

    def to_markdown(self) -> str:
        return self.render("markdown")

    def to_json(self) -> str:
        return self.render("json")

    def to_csv(self) -> str:
        return self.render("csv")

    def to_table(self) -> str:
        return self.render("table")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        from inception_cost.reports.render import to_html

        return to_html(self.report())


class Cost(_Renderable):
    """A network, or one part of it (module, branch, layer), analysed: its costs under the
    analysis' convention, its shapes, and its parts."""

    def __init__(self, analysis: Analysis, node: CostNode) -> None:
        self.analysis = analysis
        self.node = node

    # -- figures --
    @property
    def name(self) -> str:
        return self.node.name

    @property
    def path(self) -> str:
        return self.node.path

    @property
    def params(self) -> int:
        return self.node.params

    @property
    def macs(self) -> int:
        """In the convention's unit (FLOPs for `flop-counter`)."""
        return self.node.macs

    @property
    def weights(self) -> int:
        return self.node.weights

    @property
    def biases(self) -> int:
        return self.node.biases

    @property
    def bn_params(self) -> int:
        return self.node.bn_params

    @property
    def norm_params(self) -> int:
        """Layer-norm scale and shift, and layer-scale multipliers."""
        return self.node.norm_params

    @property
    def depth(self) -> int:
        return self.node.depth

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.node.in_shape

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return self.node.out_shape

    @property
    def convention(self) -> Convention:
        return self.analysis.convention

    # -- structure --
    def module(self, name: str) -> Cost:
        """A module (or branch, residual, auxiliary head) by path or unique name."""
        name = _part(name)
        found = self.node.find(name)  # below this node, then in the whole network
        return Cost(self.analysis, found if found is not None else self.analysis.find(name))

    @property
    def branches(self) -> list[Cost]:
        """A module's parts as its report lists them: each branch, residual body part, or item."""
        from inception_cost.reports.common import module_parts

        return [Cost(self.analysis, p) for p in module_parts(self.node) if p is not self.node]

    @property
    def children(self) -> list[Cost]:
        """The rows below this node (for the network: its top-level rows)."""
        flat: list[CostNode] = []
        for c in self.node.children:  # a concat has no row of its own: its branches stand for it
            flat.extend(c.children if c.role is Role.CONCAT else [c])
        return [Cost(self.analysis, c) for c in flat]

    @property
    def modules(self) -> list[Cost]:
        return [Cost(self.analysis, m) for m in self.node.modules()]

    def report(self) -> Report:
        from inception_cost.reports.network import module_report, network_report

        if self.node.role is Role.NETWORK:
            return network_report(self.analysis)
        return module_report(self.analysis, self.node)

    def __repr__(self) -> str:
        where = self.path or self.analysis.network.name
        return (f"<Cost {where}: {self.params:,} params, {self.macs:,}"
                f" {self.convention.unit.value} ({self.convention.name})>")


# ---- arguments: what the command line's options refuse, the API refuses too ------------------

E = TypeVar("E", bound=enum.Enum)


def _choice(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise UsageError(f"unknown {what} {value!r}; choices: {', '.join(str(m.value) for m in kind)}") from None


def _whole(value: object, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"from {low:,} to {high:,}" if high is not None else f"of at least {low:,}"
        raise UsageError(f"{what} must be a whole number {bounds}, not {value!r}")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):  # "no" is true to Python: it must not count training-only parts
        raise UsageError(f"{what} must be True or False, not {shorten(repr(value))}")
    return value


def _part(value: object) -> str:
    """A `module` argument, as --module takes it: a name or a path, not blank."""
    if not isinstance(value, str) or not value.strip().strip("/"):
        raise UsageError(f"module must be a module's name or path, not {shorten(repr(value))} (e.g. '3a' or '3a/5x5')")
    return value


def _device(value: object) -> str | None:
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise UsageError(f"device must be a built-in device's name or a profile's path, not {shorten(repr(value))}")
    return None if value is None else str(value)


def _axes(vary: object) -> list[Axis]:
    """`sweep`'s `vary`, checked as --vary checks its values: whole numbers from 1 to
    MAX_WIDTH, at least one, and no more values than a sweep may have variants (read
    no further, so a huge range or an endless generator is refused, not listed)."""
    from inception_cost.transforms.sweep import MAX_VARIANTS, MAX_WIDTH, Axis

    if not isinstance(vary, Mapping) or not vary or not all(isinstance(name, str) for name in vary):
        raise UsageError(f"vary maps argument names to their values, e.g. {{'#5x5 reduce': range(4, 65, 4)}},"
                         f" not {shorten(repr(vary))}")
    axes = []
    for name, values in vary.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise UsageError(f"vary[{name!r}] must be the values to try (a list or a range of whole numbers),"
                             f" not {shorten(repr(values))}")
        listed = list(itertools.islice(values, MAX_VARIANTS + 1))
        if not listed:
            raise UsageError(f"vary[{name!r}] has no values")
        if len(listed) > MAX_VARIANTS:
            raise UsageError(f"vary[{name!r}]: more than the {MAX_VARIANTS:,} variants a sweep may have")
        for v in listed:
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_WIDTH:
                raise UsageError(f"vary[{name!r}]: values must be whole numbers from 1 to {MAX_WIDTH:,},"
                                 f" not {shorten(repr(v))}")
        axes.append(Axis(name, listed))
    return axes


def _estimate_options(dtype: str, batch: int, optimizer: str, train: bool = False, tf32: bool = True) -> None:
    """The element type, batch, optimizer and maths of a time estimate, checked before any
    work; a training step in a dtype nobody trains in is refused, as the command line does."""
    from inception_cost.estimates.dtypes import MAX_BATCH, Dtype
    from inception_cost.estimates.training import Optimizer, check_trainable

    kind = _choice(Dtype, dtype, "dtype")
    _whole(batch, "batch", 1, MAX_BATCH)
    _choice(Optimizer, optimizer, "optimizer")
    if _flag(train, "train"):
        check_trainable(kind)
    _flag(tf32, "tf32")


def load(model: Model, variant: str = REDUCED, *, skip_unknown: bool = False) -> Network:
    """The layer graph of a built-in name, a YAML path, a model file (.onnx, .keras, a Keras
    .json config) or a Network (returned as it is). `skip_unknown`: a model's operators
    that the tool does not know count as zero (the report says how many) instead of
    being refused."""
    if isinstance(model, Network):
        return model
    from inception_cost.source.catalog import load as load_builtin_or_file

    network: Network = load_builtin_or_file(str(model), variant, skip_unknown)
    return network


def analyse(model: Model, *, convention: str | Convention = "torchvision", train: bool = False,
            skip_unknown: bool = False) -> Cost:
    """Shapes and costs of a whole network: a built-in name, a YAML path, a model file
    (.onnx, .keras, a Keras .json config) or a Network."""
    train, skip_unknown = _flag(train, "train"), _flag(skip_unknown, "skip_unknown")
    rules = convention if isinstance(convention, Convention) else get_convention(convention)
    analysis = analyse_network(load(model, skip_unknown=skip_unknown), train=train, convention=rules)
    return Cost(analysis, analysis.root)


analyze = analyse


# ---- comparisons ------------------------------------------------------------------------


class Comparison(_Renderable):
    """Two networks (or one module of each) side by side, with ratios a / b."""

    def __init__(self, a: Cost, b: Cost, name_a: str, name_b: str, timing: Any = None) -> None:
        self.a = a
        self.b = b
        self.name_a = name_a
        self.name_b = name_b
        self.timing = timing  # reports.comparisons.Timing, when estimated times are asked for
        self._report: Report | None = None

    def report(self) -> Report:
        if self._report is None:
            from inception_cost.reports.comparisons import compare_modules, compare_networks

            if self.a.node.role is Role.NETWORK and self.b.node.role is Role.NETWORK:
                self._report = compare_networks(self.name_a, self.a.analysis, self.name_b,
                                                self.b.analysis, self.timing)
            else:
                title = f"{self.name_a} vs {self.name_b}: module {self.b.node.label}"
                self._report = compare_modules(self.name_a, self.a.node, self.name_b, self.b.node,
                                               title, self.a.convention, self.timing)
        return self._report

    @property
    def macs_ratio(self) -> float | None:
        return self.a.macs / self.b.macs if self.b.macs else None

    @property
    def params_ratio(self) -> float | None:
        return self.a.params / self.b.params if self.b.params else None


def compare(a: Model, b: Model, *, module: str | None = None, convention: str = "torchvision",
            train: bool = False, device: str | None = None, dtype: str = "fp16",
            batch: int = 1, skip_unknown: bool = False, optimizer: str = "sgd", tf32: bool = True) -> Comparison:
    """Compare two networks, or one module of each (`module`: a path or name).

    `naive` and `reduced` name GoogLeNet's inception module without and with its 1x1
    reductions (the paper's Figure 2), at the input the module has in the network;
    `module` defaults to 3a for them. With `device`, rows get estimated times: of a
    forward pass, or with `train` of one training step (`optimizer`'s update in the
    network totals); `tf32=False` runs fp32 convs in plain fp32.
    """
    _estimate_options(dtype, batch, optimizer, train, tf32)
    module, device = None if module is None else _part(module), _device(device)
    train = _flag(train, "train")
    names = (str(a), str(b))
    if NAIVE in names or REDUCED in names:
        module = module or "3a"
    sides: list[Cost] = []
    reference: Cost | None = None
    for model in (a, b):
        if model in (NAIVE, REDUCED):
            reference = reference or analyse("googlenet", convention=convention, train=train)
            sides.append(_variant_module(str(model), module or "3a", reference))
        else:
            whole = analyse(model, convention=convention, train=train, skip_unknown=skip_unknown)
            sides.append(whole.module(module) if module else whole)
    timing = None
    if device is not None:
        # the naive module is analysed alone: its input needs the gradient it has in the network
        alone = (str(a) == NAIVE, str(b) == NAIVE)
        timing = _timing(sides[0].analysis, sides[1].analysis, device, dtype, batch,
                         optimizer if train else None, alone, tf32)
    return Comparison(sides[0], sides[1], _display(a), _display(b), timing)


def _display(model: Model) -> str:
    return model.name if isinstance(model, Network) else str(model)


def _variant_module(which: str, module: str, reference: Cost) -> Cost:
    """GoogLeNet's module as written (reduced) or without its reductions (naive), analysed
    at the input it has in the network."""
    in_context = reference.module(module)
    if which == REDUCED:
        return in_context
    from inception_cost.graph.nodes import Module

    naive = load("googlenet", NAIVE)
    item = next((i for i in naive.items if isinstance(i, Module) and i.name == in_context.node.name),
                None)
    if item is None:
        raise UsageError(f"'{module}' is not a row of GoogLeNet's table with a naive form")
    alone = Network(name=f"naive {item.name}", input_shape=in_context.input_shape, items=[item],
                    file=naive.file, title=f"naive {item.label}")
    analysis = analyse_network(alone, convention=reference.convention)
    return Cost(analysis, analysis.root.children[0])


def _timing(a: Analysis, b: Analysis, device: str, dtype: str, batch: int, optimizer: str | None = None,
            input_gradient: tuple[bool, bool] = (False, False), tf32: bool = True) -> Any:
    """Both sides' times on `device`: a forward pass, or with an optimizer one training
    step, as `roofline --train` and `sweep --train` time it."""
    from inception_cost.estimates.devices import load_device
    from inception_cost.estimates.latency import ratio_note
    from inception_cost.estimates.memory import Dtype
    from inception_cost.estimates.roofline import node_timer
    from inception_cost.estimates.training import Optimizer
    from inception_cost.reports.comparisons import Timing

    hardware = load_device(device)
    kind = Dtype(dtype)
    step = Optimizer(optimizer) if optimizer else None
    what = f", one training step (forward, backward; the {optimizer} update in a network's total)" if step else ""
    return Timing(node_timer(a, hardware, kind, batch, step, input_gradient[0], tf32),
                  node_timer(b, hardware, kind, batch, step, input_gradient[1], tf32),
                  f"{hardware.name}, {hardware.precision(kind, tf32)}, batch {batch}{what}", optimizer,
                  ratio_note(hardware.precision(kind, tf32), step is not None) if hardware.latency.sms else "")


# ---- factorisation ----------------------------------------------------------------------------


class Factorization(_Renderable):
    """A network (or one part of it, or one lone conv) before and after a factorisation rule."""

    def __init__(self, before: Cost, after: Cost, rule: str, rewritten: int, lone: bool,
                 timing: Any = None, chosen: CostNode | None = None) -> None:
        self.before = before  # the network, or the chosen part, as written (a layer: what holds it)
        self.after = after  # the same after the rewrite
        self.rule = rule
        self.rewritten = rewritten  # how many convolutions were rewritten
        self.lone = lone
        self.timing = timing
        self.chosen = chosen  # the part whose convolutions were rewritten (None: all)

    def report(self) -> Report:
        from inception_cost.reports.comparisons import factorize_report

        scope = None if self.before.node.role is Role.NETWORK else self.before.node
        return factorize_report(self.before.analysis, self.after.analysis, self.rule, self.rewritten,
                                scope, lone=self.lone, timing=self.timing, chosen=self.chosen)


def factorize(model: Model | None = None, *, rule: str = "5x5-to-3x3", module: str | None = None,
              kernel: int | None = None, channels: int | None = None, size: int | None = None,
              convention: str = "torchvision", train: bool = False, device: str | None = None,
              dtype: str = "fp16", batch: int = 1, skip_unknown: bool = False,
              optimizer: str = "sgd", tf32: bool = True) -> Factorization:
    """Rewrite convolutions as the Inception v2/v3 paper does (`5x5-to-3x3`, `nxn-to-1xn`),
    in a whole network or one part of it (`module`: a module, branch or layer, by path or
    name; a layer is shown within the part that holds it, as two layers replace it);
    without a model, one C -> C conv (kernel, default 5 or 3; channels, 64; size, 28) shows
    the textbook ratios. With `device`, estimated times: of a forward pass, or with `train`
    of one training step (`tf32=False`: fp32 convs in plain fp32)."""
    from inception_cost.transforms.factorize import (
        LONE_KERNELS,
        LONE_MAX,
        Rule,
        factorize_network,
        lone_layer,
        lone_name,
    )

    chosen = _choice(Rule, rule, "rule")
    _estimate_options(dtype, batch, optimizer, train, tf32)
    module, device, train = None if module is None else _part(module), _device(device), _flag(train, "train")
    if model is None:
        if module is not None:  # it used to be ignored: the lone layer was shown as if it were that part
            raise UsageError(f"module {module!r} picks a part of a network: give the network, or leave the module"
                             " out for the lone layer form")
        kernel = _whole(kernel if kernel is not None else 5 if chosen is Rule.FIVE_TO_THREE else 3, "kernel",
                        *LONE_KERNELS)
        channels = _whole(channels if channels is not None else 64, "channels", 1, LONE_MAX)
        size = _whole(size if size is not None else 28, "size", 1, LONE_MAX)
        if chosen is Rule.FIVE_TO_THREE and kernel != 5:
            raise UsageError("the 5x5-to-3x3 rule rewrites 5x5 convolutions: use --kernel 5")
        whole = analyse(lone_layer(chosen, kernel, channels, size), convention=convention)
        module = lone_name(kernel)
    elif (kernel, channels, size) != (None, None, None):
        raise UsageError("kernel, channels and size describe the lone layer form: give them without a model")
    else:
        whole = analyse(model, convention=convention, train=train, skip_unknown=skip_unknown)
    root = whole.analysis.root
    part = whole.module(module).node if module else root
    only = {id(leaf.source) for leaf in part.layers()} if module else None
    seen = {id(n.source): (n.in_shape, n.path.rsplit("/", 1)[-1])
            for n in root.walk() if n.role is Role.LAYER and n.source is not None}
    rewritten, count = factorize_network(whole.analysis.network, chosen, only, seen)
    after_analysis = analyse_network(rewritten, train=train, convention=whole.convention)
    # a layer becomes two, which no one node of the result holds: show the part that holds it
    shown = (root.parent_of(part) or root) if part.role is Role.LAYER else part
    before = Cost(whole.analysis, shown)
    after = Cost(after_analysis, after_analysis.root)
    if shown is not root:
        after = after.module(shown.path)
    # a lone conv stands for one inside a network: its input needs a gradient in training
    timing = (_timing(whole.analysis, after_analysis, device, dtype, batch, optimizer if train else None,
                      (model is None, model is None), tf32) if device else None)
    return Factorization(before, after, chosen.value, count, model is None, timing, part if module else None)


# ---- sweeps ---------------------------------------------------------------------------------


class Sweep(_Renderable):
    """Every variant of one module's arguments, with the module's and the network's costs."""

    def __init__(self, result: Any, options: Mapping[str, Any]) -> None:
        self.result = result  # transforms.sweep.SweepResult
        self.options = options

    def report(self) -> Report:
        from inception_cost.reports.sweep import sweep_report

        return sweep_report(self.result, **self.options)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every variant: its argument values, costs (None where it breaks the network), error."""
        r, timing = self.result, self.options.get("timing")
        pareto = timing.pareto if timing else r.pareto
        times = ({"seconds": timing.module_s[i], "network_seconds": timing.network_s[i]} if timing else {}
                 for i in range(r.count))
        return [{**r.values(i), "params": r.params[i], "macs": r.macs[i],
                 "network_params": r.network_params[i], "network_macs": r.network_macs[i], **t,
                 "pareto": pareto[i], "error": r.errors.get(i)} for i, t in zip(range(r.count), times)]


def sweep(model: Model, module: str, vary: Mapping[str, Iterable[int]], *,
          convention: str = "torchvision", train: bool = False, budget_macs: int | None = None,
          budget_params: int | None = None, top: int = 20, sort: str | None = None,
          pareto_only: bool = False, device: str | None = None, dtype: str = "fp16", batch: int = 1,
          objective: str | None = None, budget_time: float | None = None,
          optimizer: str = "sgd", skip_unknown: bool = False, tf32: bool = True) -> Sweep:
    """Every combination of `vary`'s values for the arguments of one module instance.

    With `device` (or `objective="time"`, or `budget_time` in seconds) every variant is also
    timed on the device profile (default h100-sxm) and the Pareto front includes time; with
    `train`, each time is one training step's (forward, backward, the `optimizer`'s update);
    `tf32=False` runs fp32 convs in plain fp32.
    `sort` defaults to the objective, else MACs; given both, they must agree."""
    from inception_cost.reports.sweep import sort_key
    from inception_cost.transforms.sweep import run

    _estimate_options(dtype, batch, optimizer, train, tf32)
    module, device, axes = _part(module), _device(device), _axes(vary)
    train, pareto_only = _flag(train, "train"), _flag(pareto_only, "pareto_only")
    sort = sort_key(sort, objective).value
    top = _whole(top, "top", 0)
    budget_macs, budget_params = (None if n is None else _whole(n, what, 0)
                                  for n, what in ((budget_macs, "budget_macs"), (budget_params, "budget_params")))
    if budget_time is not None and (isinstance(budget_time, bool) or not isinstance(budget_time, (int, float))
                                    or not math.isfinite(budget_time) or budget_time <= 0):
        raise UsageError(f"budget_time is in seconds, a number above 0, not {budget_time!r}")
    whole = analyse(model, convention=convention, train=train, skip_unknown=skip_unknown)
    result = run(whole.analysis, module, axes)
    timing = None
    if device is not None or budget_time is not None or sort in ("time", "network_time"):
        from inception_cost.estimates.devices import load_device
        from inception_cost.estimates.dtypes import Dtype
        from inception_cost.estimates.training import Optimizer
        from inception_cost.transforms.sweep_time import time_variants

        timing = time_variants(result, whole.analysis, load_device(device or "h100-sxm"), Dtype(dtype), batch,
                               optimizer=Optimizer(optimizer) if train else None, tf32=tf32)
    return Sweep(result, dict(budget_macs=budget_macs, budget_params=budget_params, top=top,
                              sort=sort, pareto_only=pareto_only, timing=timing, budget_time=budget_time))


def builtins() -> list[str]:
    """The names of the built-in architectures."""
    from inception_cost.source.catalog import builtin_names

    return builtin_names()
