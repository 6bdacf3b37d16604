"""Kinds that keep the shape or only flatten it: batch and layer norm, layer scale,
activations, dropout, flatten, softmax, identity, and the residual addition the analysis adds."""

from __future__ import annotations

from inception_cost.core import columns as col
from inception_cost.core.kinds import arguments as a
from inception_cost.core.kinds.arguments import ACTIVATIONS, IN_PLACE_ACTIVATIONS, Arg
from inception_cost.core.kinds.base import (
    BATCH_NORM_TERMS,
    CLASSIC_MODULES,
    COMMON_FUNCTIONS,
    MODULES_CALLING_COMMON,
    Args,
    Kind,
    Rule,
    _batch_norm_rules,
    _lazy,
    _scale_flag,
)
from inception_cost.core.shapes import Shape
from inception_cost.core.terms import Term
from inception_cost.source.arguments import ArgReader


class BatchNorm(Kind):
    name = "batch_norm"
    arguments: tuple[Arg, ...] = (a.NAME, a.SCALE)
    produces: tuple[Term, ...] = (*BATCH_NORM_TERMS, Term.BN_OUT)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(scale=_scale_flag(r, "scale"))

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(bn=1, bn_scale=a.get("scale", 0))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        return {**_batch_norm_rules(c), Term.BN_OUT: lambda: col.out_numel(c)}


STAT_BYTES = 4  # a layer norm's saved mean and inverse deviation are fp32 (PyTorch's accumulate type)


class LayerNorm(Kind):
    """Layer norm over the channels at each position (ConvNeXt's nn.LayerNorm on the
    channels-last tensor, torchvision's LayerNorm2d): a scale and a shift per channel."""

    name = "layer_norm"
    arguments: tuple[Arg, ...] = (a.NAME, a.LN_FUNCTIONAL)
    produces: tuple[Term, ...] = (Term.LN_OUT, Term.LN_MODULE_OUT, Term.LN_PARAMS, Term.LN_MODULE_PARAMS)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(functional=r.flag("functional", False))

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(functional=int(a["functional"]))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        out = _lazy(col.out_numel, c)
        params = _lazy(lambda: [2 * k for k in c["cout"]])
        return {Term.LN_OUT: out, Term.LN_MODULE_OUT: lambda: col.where(out(), c["functional"], 0),
                Term.LN_PARAMS: params, Term.LN_MODULE_PARAMS: lambda: col.where(params(), c["functional"], 0)}

    def saves_input(self, a: Args) -> bool:
        return True

    def saved_bytes(self, a: Args, in_shape: Shape) -> int:
        return 2 * in_shape[0] * in_shape[1] * STAT_BYTES  # mean and 1/std per position

    def describe(self, a: Args) -> str:
        return "layer norm (F.layer_norm)" if a["functional"] else "layer norm"


class LayerScale(Kind):
    """A learned multiplier per channel (ConvNeXt's and CaiT's layer scale, gamma * x): C
    parameters, one product per element, a new tensor."""

    name = "layer_scale"
    produces: tuple[Term, ...] = (Term.LAYER_SCALE_OUT, Term.LAYER_SCALE_PARAMS)

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        return {Term.LAYER_SCALE_OUT: lambda: col.out_numel(c), Term.LAYER_SCALE_PARAMS: lambda: list(c["cout"])}

    def saves_input(self, a: Args) -> bool:
        return True  # gamma's gradient reads it


class Activation(Kind):
    name = "activation"
    arguments: tuple[Arg, ...] = (a.NAME, a.FUNCTION, a.FUNCTIONAL)
    produces: tuple[Term, ...] = (Term.ACT_MODULE_OUT, Term.ACT_MODULE_CLASSIC_OUT, Term.ACT_MODULE_CALLS_OUT,
                                  Term.ACT_FN_OUT, Term.ACT_FN_OTHER_OUT)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(function=r.choice("function", ACTIVATIONS, "relu"),
                    functional=r.flag("functional", False))

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        function = a["function"]
        # act: 1 a common function / classic module class, 2 another; mult: a module whose
        # forward calls a common function (nn.ReLU -> F.relu)
        if a["functional"]:
            act = 1 if function in COMMON_FUNCTIONS else 2
        else:
            act = 1 if function in CLASSIC_MODULES else 2
        f.update(functional=int(a["functional"]), act=act, mult=int(function in MODULES_CALLING_COMMON))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        out = _lazy(col.out_numel, c)
        modules = _lazy(lambda: col.where(out(), c["functional"], 0))
        functions = _lazy(lambda: col.where(out(), c["functional"], 1))
        return {Term.ACT_MODULE_OUT: modules,
                Term.ACT_MODULE_CLASSIC_OUT: lambda: col.where(modules(), c["act"], 1),
                Term.ACT_MODULE_CALLS_OUT: lambda: col.where(modules(), c["mult"], 1),
                Term.ACT_FN_OUT: lambda: col.where(functions(), c["act"], 1),
                Term.ACT_FN_OTHER_OUT: lambda: col.where(functions(), c["act"], 2)}

    def in_place(self, a: Args) -> bool:
        return a["function"] in IN_PLACE_ACTIVATIONS

    def describe(self, a: Args) -> str:
        return str(a["function"])


class Relu(Activation):
    name = "relu"
    arguments: tuple[Arg, ...] = (a.NAME, a.FUNCTIONAL)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(function="relu", functional=r.flag("functional", False))


class Dropout(Kind):
    name = "dropout"
    arguments: tuple[Arg, ...] = (a.NAME, a.RATE)
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


class Softmax(Kind):
    name = "softmax"
    produces: tuple[Term, ...] = (Term.SOFTMAX_OUT, Term.SOFTMAX_ROWS)

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        return {Term.SOFTMAX_OUT: lambda: col.out_numel(c),
                Term.SOFTMAX_ROWS: lambda: [h * w for h, w in zip(c["hout"], c["wout"])]}


class Identity(Kind):
    """The input, unchanged (DenseNet's "keep the input" branch, a residual's shortcut)."""

    name = "identity"
    view = True  # nn.Identity returns its input: no new tensor, nothing moved


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

    def elements_read(self, row: dict[str, int]) -> int:
        return 2 * row["hout"] * row["wout"] * row["cout"]  # the input and the body's output

    def describe(self, a: Args) -> str:
        return f"add (x{a['scale']:g})" if a["scale"] != 1 else "add"


class ElementwiseAdd(Kind):
    """The sum of an `add` merge's paths: not written in files; one per `add`."""

    name = "elementwise_add"
    produces: tuple[Term, ...] = (Term.ADD_OUT,)
    internal = True

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(mult=a["inputs"])
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        # n summands: n - 1 additions per output element
        return {Term.ADD_OUT: lambda: [o * (m - 1) for o, m in zip(col.out_numel(c), c["mult"])]}

    def elements_read(self, row: dict[str, int]) -> int:
        return row["mult"] * row["hout"] * row["wout"] * row["cout"]  # every summand

    def describe(self, a: Args) -> str:
        return f"add of {a['inputs']}"


class ElementwiseMul(Kind):
    """A gate's product, input x body output (broadcast over height and width): not written
    in files; one per `gate`."""

    name = "elementwise_mul"
    produces: tuple[Term, ...] = (Term.MUL_OUT,)
    internal = True

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(mult=a["scale_area"])  # the body's output: 1x1xC (broadcast) or HxWxC
        return f

    def elements_read(self, row: dict[str, int]) -> int:
        return (row["hout"] * row["wout"] + row["mult"]) * row["cout"]  # the input and the scale

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        return {Term.MUL_OUT: lambda: col.out_numel(c)}

    def describe(self, a: Args) -> str:
        return "multiply"
