"""Layer kinds: the one registry. Each kind keeps its rules together: how its arguments
are read, how it changes the shape (height, width, channels), which terms it costs and
their column rules, and what it is (weighted, a view, factorizable).

To add a kind: subclass `Kind` here, list the `Term`s it produces, and add an instance to
`_ALL`. Every command (reports, memory, roofline, sweep, factorize) reaches it through
this registry; `tests/test_registries.py` checks that the registries agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from inception_cost.core import columns as col
from inception_cost.core.shapes import Shape, spatial_out
from inception_cost.core.terms import Term
from inception_cost.errors import ShapeError
from inception_cost.source.arguments import ArgReader

Args = dict[str, Any]
Rule = Callable[[], col.Column]
ACTIVATIONS = ("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "swish",
               "hard_swish", "elu")


class Kind:
    """Base: a kind that changes nothing and costs nothing."""

    name = ""
    aliases: tuple[str, ...] = ()
    keys: tuple[str, ...] = ("name",)  # the arguments a file may give
    produces: tuple[Term, ...] = ()  # the terms `rules` may give
    weighted = False  # a layer with weights: counts towards depth
    view = False  # in inference its output is a view of its input: it moves no memory
    factorizable = False  # the factorisation rules may rewrite it
    internal = False  # made by the analysis (residual additions), not written in files

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return {}

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return shape

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        """The LayerTable fields of one layer of this kind."""
        h, w, c = in_shape
        ho, wo, co = out_shape
        return dict(cin=c, cout=co, hin=h, win=w, hout=ho, wout=wo, groups=1)

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        """Column rules: term -> a function giving one value per row (terms in `produces`)."""
        return {}

    def terms(self, c: col.Columns, wanted: Collection[Term] | None = None) -> col.TermColumns:
        """The columns of the terms in `wanted` (default: all it produces); a term nobody
        wants is not computed."""
        return {t: rule() for t, rule in self.rules(c).items() if wanted is None or t in wanted}

    def describe(self, a: Args) -> str:
        return self.name.replace("_", " ")


class Conv(Kind):
    name = "conv"
    keys: tuple[str, ...] = ("name", "filters", "kernel", "stride", "padding", "groups", "bias", "batch_norm",
            "activation")
    produces: tuple[Term, ...] = (Term.CONV_MACS, Term.WEIGHTS, Term.BIASES, Term.BN_PARAMS, Term.CONV_BIAS_OUT,
                Term.BN_OUT, Term.ACT_FN_OUT)
    weighted = True
    factorizable = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(filters=r.positive_int("filters"), kernel=r.pair("kernel"),
                    stride=r.pair("stride", 1), padding=r.padding(default="same"),
                    groups=r.positive_int("groups", 1), bias=r.flag("bias", True),
                    batch_norm=r.flag("batch_norm", False),
                    activation=r.choice("activation", ACTIVATIONS + ("none", None), None))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        c = shape[2]
        if a["groups"] != 1 and (c % a["groups"] or a["filters"] % a["groups"]):
            raise ShapeError(f"groups={a['groups']} must divide both input channels ({c}) and"
                             f" filters ({a['filters']})", path=path)
        return (*spatial_out(a, shape, path), a["filters"])

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=a["kernel"][0], kw=a["kernel"][1], groups=a["groups"],
                 bias=int(a["bias"]), bn=int(a["batch_norm"]), act=_has_activation(a))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        out = _lazy(col.out_numel, c)
        return {
            Term.CONV_MACS: lambda: col.conv_macs(c["kh"], c["kw"], c["cin"], c["groups"], c["cout"],
                                                  c["hout"], c["wout"]),
            Term.WEIGHTS: lambda: col.conv_weights(c["kh"], c["kw"], c["cin"], c["groups"], c["cout"]),
            Term.BIASES: lambda: col.per_channel(c["cout"], c["bias"]),
            Term.BN_PARAMS: lambda: col.per_channel(c["cout"], c["bn"], 2),
            Term.CONV_BIAS_OUT: lambda: col.where(out(), c["bias"]),
            Term.BN_OUT: lambda: col.where(out(), c["bn"]),
            Term.ACT_FN_OUT: lambda: col.where(out(), c["act"])}

    def describe(self, a: Args) -> str:
        kh, kw = a["kernel"]
        text = f"conv {kh}x{kw}"
        sh, sw = a["stride"]
        if (sh, sw) != (1, 1):
            text += f"/{sh}" if sh == sw else f"/{sh}x{sw}"
        text += f" {a['filters']}"
        if a["groups"] > 1:
            text += f" g{a['groups']}"
        return text


class Pool(Kind):
    keys: tuple[str, ...] = ("name", "kernel", "stride", "padding", "rounding", "functional")
    produces: tuple[Term, ...] = (Term.POOL_IN_MODULE, Term.POOL_IN_FUNCTIONAL)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        kernel = r.pair("kernel")
        return dict(kernel=kernel, stride=r.pair("stride", list(kernel)),
                    padding=r.padding(default="valid"),
                    rounding=r.choice("rounding", ("floor", "ceil"), "floor"),
                    functional=r.flag("functional", False))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return (*spatial_out(a, shape, path), shape[2])

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=a["kernel"][0], kw=a["kernel"][1], functional=int(a["functional"]))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        inputs = _lazy(col.in_numel, c)
        return {Term.POOL_IN_MODULE: lambda: col.where(inputs(), c["functional"], 0),
                Term.POOL_IN_FUNCTIONAL: lambda: col.where(inputs(), c["functional"], 1)}

    def describe(self, a: Args) -> str:
        kh, kw = a["kernel"]
        return f"{self.name.replace('_', ' ')} {kh}x{kw}/{a['stride'][0]}"


class MaxPool(Pool):
    name = "max_pool"
    aliases: tuple[str, ...] = ("maxpool",)


class AvgPool(Pool):
    name = "avg_pool"
    aliases: tuple[str, ...] = ("avgpool",)
    produces: tuple[Term, ...] = Pool.produces + (Term.AVGPOOL_OUT_MODULE,)

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        rules = super().rules(c)
        rules[Term.AVGPOOL_OUT_MODULE] = lambda: col.where(col.out_numel(c), c["functional"], 0)
        return rules


class AdaptivePool(Kind):
    """Average pooling to a fixed output size: counted by its input and output elements."""

    produces: tuple[Term, ...] = (Term.ADAPTIVE_IN_MODULE, Term.ADAPTIVE_IN_FUNCTIONAL, Term.ADAPTIVE_OUT_MODULE,
                Term.ADAPTIVE_OUT_FUNCTIONAL)

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=-(-in_shape[0] // out_shape[0]), kw=-(-in_shape[1] // out_shape[1]),
                 functional=int(a.get("functional", False)))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        inputs, outputs = _lazy(col.in_numel, c), _lazy(col.out_numel, c)
        return {Term.ADAPTIVE_IN_MODULE: lambda: col.where(inputs(), c["functional"], 0),
                Term.ADAPTIVE_IN_FUNCTIONAL: lambda: col.where(inputs(), c["functional"], 1),
                Term.ADAPTIVE_OUT_MODULE: lambda: col.where(outputs(), c["functional"], 0),
                Term.ADAPTIVE_OUT_FUNCTIONAL: lambda: col.where(outputs(), c["functional"], 1)}


class GlobalAvgPool(AdaptivePool):
    name = "global_avg_pool"
    keys: tuple[str, ...] = ("name", "functional")

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(functional=r.flag("functional", False))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return (1, 1, shape[2])


class AdaptiveAvgPool(AdaptivePool):
    """Average pooling to a fixed output size, whatever the input (PyTorch's AdaptiveAvgPool2d)."""

    name = "adaptive_avg_pool"
    keys: tuple[str, ...] = ("name", "output", "functional")

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(output=r.pair("output"), functional=r.flag("functional", False))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return (a["output"][0], a["output"][1], shape[2])

    def describe(self, a: Args) -> str:
        return f"adaptive avg pool to {a['output'][0]}x{a['output'][1]}"


class BatchNorm(Kind):
    name = "batch_norm"
    produces: tuple[Term, ...] = (Term.BN_PARAMS, Term.BN_OUT)

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(bn=1)
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        return {Term.BN_PARAMS: lambda: col.per_channel(c["cout"], c["bn"], 2),
                Term.BN_OUT: lambda: col.out_numel(c)}


class Activation(Kind):
    name = "activation"
    keys: tuple[str, ...] = ("name", "function", "functional")
    produces: tuple[Term, ...] = (Term.ACT_MODULE_OUT, Term.ACT_FN_OUT)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(function=r.choice("function", ACTIVATIONS, "relu"),
                    functional=r.flag("functional", False))

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(functional=int(a["functional"]))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        out = _lazy(col.out_numel, c)
        return {Term.ACT_MODULE_OUT: lambda: col.where(out(), c["functional"], 0),
                Term.ACT_FN_OUT: lambda: col.where(out(), c["functional"], 1)}

    def describe(self, a: Args) -> str:
        return str(a["function"])


class Relu(Activation):
    name = "relu"
    keys: tuple[str, ...] = ("name", "functional")

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(function="relu", functional=r.flag("functional", False))


class Dropout(Kind):
    name = "dropout"
    keys: tuple[str, ...] = ("name", "rate")
    view = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(rate=r.fraction("rate", 0.5))

    def describe(self, a: Args) -> str:
        return f"dropout {a['rate'] * 100:g}%"


class Flatten(Kind):
    name = "flatten"
    view = True

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return (1, 1, shape[0] * shape[1] * shape[2])


class Linear(Kind):
    name = "linear"
    aliases: tuple[str, ...] = ("dense", "fc")
    keys: tuple[str, ...] = ("name", "out", "bias", "activation")
    produces: tuple[Term, ...] = (Term.LINEAR_MACS, Term.WEIGHTS, Term.BIASES, Term.LINEAR_BIAS_OUT, Term.ACT_FN_OUT)
    weighted = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(out=r.positive_int("out"), bias=r.flag("bias", True),
                    activation=r.choice("activation", ACTIVATIONS + ("none", None), None))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        if shape[0] != 1 or shape[1] != 1:
            raise ShapeError(f"linear needs a flat input (1x1xC), got {shape[0]}x{shape[1]}x{shape[2]}"
                             " (add 'flatten' or a global pool before it)", path=path)
        return (1, 1, a["out"])

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=1, kw=1, bias=int(a["bias"]), act=_has_activation(a))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        weights = _lazy(col.linear_weights, c["cin"], c["cout"])
        biases = _lazy(col.per_channel, c["cout"], c["bias"])
        return {Term.LINEAR_MACS: weights, Term.WEIGHTS: weights, Term.BIASES: biases,
                Term.LINEAR_BIAS_OUT: biases, Term.ACT_FN_OUT: lambda: col.where(c["cout"], c["act"])}

    def describe(self, a: Args) -> str:
        return f"linear {a['out']}"


class Softmax(Kind):
    name = "softmax"
    produces: tuple[Term, ...] = (Term.SOFTMAX_OUT, Term.SOFTMAX_ROWS)

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        return {Term.SOFTMAX_OUT: lambda: col.out_numel(c),
                Term.SOFTMAX_ROWS: lambda: [h * w for h, w in zip(c["hout"], c["wout"])]}


class ResidualAdd(Kind):
    """input + scale * body: not written in files; the analysis adds one per residual."""

    name = "residual_add"
    produces: tuple[Term, ...] = (Term.ADD_OUT, Term.SCALE_OUT)
    internal = True

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(scaled=int(a["scale"] != 1))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        out = _lazy(col.out_numel, c)
        return {Term.ADD_OUT: out, Term.SCALE_OUT: lambda: col.where(out(), c["scaled"])}

    def describe(self, a: Args) -> str:
        return f"add (x{a['scale']:g})" if a["scale"] != 1 else "add"


def _lazy(rule: Callable[..., col.Column], *args: Any) -> Rule:
    """A column computed on first use and shared by the terms that need it."""
    cached: list[col.Column] = []

    def get() -> col.Column:
        if not cached:
            cached.append(rule(*args))
        return cached[0]

    return get


def _has_activation(a: Args) -> int:
    return int(a.get("activation") not in (None, "none"))


_ALL: tuple[Kind, ...] = (Conv(), MaxPool(), AvgPool(), GlobalAvgPool(), AdaptiveAvgPool(),
                          BatchNorm(), Activation(), Relu(), Dropout(), Flatten(), Linear(),
                          Softmax(), ResidualAdd())

# every kind by its canonical name (what the LayerTable and the graph store)
CANONICAL: dict[str, Kind] = {k.name: k for k in _ALL}
# what a file may write: canonical names and aliases, without the internal kinds
KINDS: dict[str, Kind] = {name: k for k in _ALL if not k.internal for name in (k.name, *k.aliases)}


def get(name: str) -> Kind:
    return CANONICAL[name]
