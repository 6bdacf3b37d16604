"""Layer kinds. Each kind keeps its three rules together: how its arguments are read,
how it changes the shape (height, width, channels), and what it costs, as column rules
of the vectorised core.

The cost rules yield terms (`columns.TERMS`): conv MACs = kh * kw * (Cin / groups) *
Cout * Hout * Wout, linear MACs = in * out, weights, biases and batch-norm scale +
shift kept apart, and the element counts of everything else (bias additions,
batch-norm and activation outputs, pool inputs ...). A counting convention
(`conventions.py`) decides which terms count and how much.
"""

from __future__ import annotations

from inception_cost.core import columns as col
from inception_cost.source.arguments import ArgReader
from inception_cost.errors import ShapeError

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "swish",
               "hard_swish", "elu")


# ---- shape arithmetic -----------------------------------------------------------------

def window_out(size: int, kernel: int, stride: int, pad, *, ceil: bool = False) -> int | None:
    """Output length of a sliding window; None if the kernel does not fit.

    pad is 'same' (TensorFlow's rule: ceil(size / stride)), 'valid' or (before, after).
    With ceil rounding the last window must start inside the input or its left
    padding (PyTorch's and Caffe's rule).
    """
    if pad == "same":
        return -(-size // stride)
    before, after = (0, 0) if pad == "valid" else pad
    span = size + before + after - kernel
    if span < 0:
        return None
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= size + before:
        out -= 1
    return out


def _axis_pad(pad, axis: int):
    if isinstance(pad, str):
        return pad
    p = pad[axis]
    return (p, p)


def spatial_out(a: dict, shape, path: str) -> tuple:
    h, w, _ = shape
    kh, kw = a["kernel"]
    sh, sw = a["stride"]
    pad = a["padding"]
    ceil = a.get("rounding") == "ceil"
    ho = window_out(h, kh, sh, _axis_pad(pad, 0), ceil=ceil)
    wo = window_out(w, kw, sw, _axis_pad(pad, 1), ceil=ceil)
    if ho is None or wo is None or ho < 1 or wo < 1:
        raise ShapeError(f"kernel {kh}x{kw} does not fit its {h}x{w} input"
                         f" (padding {_pad_text(pad)})", path=path)
    return ho, wo


def _pad_text(pad) -> str:
    return pad if isinstance(pad, str) else f"{pad[0]}x{pad[1]}"


# ---- the kinds ----------------------------------------------------------------------------

class Kind:
    """Base: a kind that changes nothing and costs nothing."""

    name = ""
    aliases: tuple = ()
    keys: tuple = ("name",)
    weighted = False  # counts as a layer with weights (for depth)

    def parse(self, r: ArgReader) -> dict:
        r.check_keys(self.keys)
        return {}

    def out_shape(self, a: dict, shape, path: str) -> tuple:
        return shape

    def fields(self, a: dict, in_shape, out_shape) -> dict:
        """The LayerTable fields of one layer of this kind."""
        h, w, c = in_shape
        ho, wo, co = out_shape
        return dict(cin=c, cout=co, hin=h, win=w, hout=ho, wout=wo, groups=1)

    def terms(self, cols: dict) -> dict:
        """Column rules: term name -> one value per row (columns.TERMS)."""
        return {}

    def describe(self, a: dict) -> str:
        return self.name.replace("_", " ")


class Conv(Kind):
    name = "conv"
    keys = ("name", "filters", "kernel", "stride", "padding", "groups", "bias", "batch_norm",
            "activation")
    weighted = True

    def parse(self, r):
        r.check_keys(self.keys)
        return dict(filters=r.positive_int("filters"), kernel=r.pair("kernel"),
                    stride=r.pair("stride", 1), padding=r.padding(default="same"),
                    groups=r.positive_int("groups", 1), bias=r.flag("bias", True),
                    batch_norm=r.flag("batch_norm", False),
                    activation=r.choice("activation", ACTIVATIONS + ("none", None), None))

    def out_shape(self, a, shape, path):
        c = shape[2]
        if c % a["groups"] or a["filters"] % a["groups"]:
            raise ShapeError(f"groups={a['groups']} must divide both input channels ({c}) and"
                             f" filters ({a['filters']})", path=path)
        return (*spatial_out(a, shape, path), a["filters"])

    def fields(self, a, in_shape, out_shape):
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=a["kernel"][0], kw=a["kernel"][1], groups=a["groups"],
                 bias=int(a["bias"]), bn=int(a["batch_norm"]), act=_has_activation(a))
        return f

    def terms(self, c):
        out = col.out_numel(c)
        return dict(
            conv_macs=col.conv_macs(c["kh"], c["kw"], c["cin"], c["groups"], c["cout"], c["hout"], c["wout"]),
            weights=col.conv_weights(c["kh"], c["kw"], c["cin"], c["groups"], c["cout"]),
            biases=col.per_channel(c["cout"], c["bias"]),
            bn_params=col.per_channel(c["cout"], c["bn"], 2),
            conv_bias_out=col.where(out, c["bias"]), bn_out=col.where(out, c["bn"]),
            act_fn_out=col.where(out, c["act"]))

    def describe(self, a):
        kh, kw = a["kernel"]
        text = f"conv {kh}x{kw}"
        if a["stride"] != (1, 1):
            text += f"/{a['stride'][0]}" if a["stride"][0] == a["stride"][1] else f"/{a['stride'][0]}x{a['stride'][1]}"
        text += f" {a['filters']}"
        if a["groups"] > 1:
            text += f" g{a['groups']}"
        return text


class Pool(Kind):
    keys = ("name", "kernel", "stride", "padding", "rounding", "functional")

    def parse(self, r):
        r.check_keys(self.keys)
        kernel = r.pair("kernel")
        return dict(kernel=kernel, stride=r.pair("stride", list(kernel)),
                    padding=r.padding(default="valid"),
                    rounding=r.choice("rounding", ("floor", "ceil"), "floor"),
                    functional=r.flag("functional", False))

    def out_shape(self, a, shape, path):
        return (*spatial_out(a, shape, path), shape[2])

    def fields(self, a, in_shape, out_shape):
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=a["kernel"][0], kw=a["kernel"][1], functional=int(a["functional"]))
        return f

    def terms(self, c):
        inputs = col.in_numel(c)
        return dict(pool_in_module=col.where(inputs, c["functional"], 0),
                    pool_in_functional=col.where(inputs, c["functional"], 1))

    def describe(self, a):
        kh, kw = a["kernel"]
        return f"{self.name.replace('_', ' ')} {kh}x{kw}/{a['stride'][0]}"


class MaxPool(Pool):
    name = "max_pool"
    aliases = ("maxpool",)


class AvgPool(Pool):
    name = "avg_pool"
    aliases = ("avgpool",)

    def terms(self, c):
        terms = super().terms(c)
        terms["avgpool_out_module"] = col.where(col.out_numel(c), c["functional"], 0)
        return terms


class AdaptivePool(Kind):
    """Average pooling to a fixed output size: counted by its input and output elements."""

    def fields(self, a, in_shape, out_shape):
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=-(-in_shape[0] // out_shape[0]), kw=-(-in_shape[1] // out_shape[1]),
                 functional=int(a.get("functional", False)))
        return f

    def terms(self, c):
        inputs, outputs = col.in_numel(c), col.out_numel(c)
        return dict(adaptive_in_module=col.where(inputs, c["functional"], 0),
                    adaptive_in_functional=col.where(inputs, c["functional"], 1),
                    adaptive_out_module=col.where(outputs, c["functional"], 0),
                    adaptive_out_functional=col.where(outputs, c["functional"], 1))


class GlobalAvgPool(AdaptivePool):
    name = "global_avg_pool"
    keys = ("name", "functional")

    def parse(self, r):
        r.check_keys(self.keys)
        return dict(functional=r.flag("functional", False))

    def out_shape(self, a, shape, path):
        return (1, 1, shape[2])


class AdaptiveAvgPool(AdaptivePool):
    """Average pooling to a fixed output size, whatever the input (PyTorch's AdaptiveAvgPool2d)."""

    name = "adaptive_avg_pool"
    keys = ("name", "output", "functional")

    def parse(self, r):
        r.check_keys(self.keys)
        return dict(output=r.pair("output"), functional=r.flag("functional", False))

    def out_shape(self, a, shape, path):
        return (*a["output"], shape[2])

    def describe(self, a):
        return f"adaptive avg pool to {a['output'][0]}x{a['output'][1]}"


class BatchNorm(Kind):
    name = "batch_norm"

    def fields(self, a, in_shape, out_shape):
        f = super().fields(a, in_shape, out_shape)
        f.update(bn=1)
        return f

    def terms(self, c):
        return dict(bn_params=col.per_channel(c["cout"], c["bn"], 2), bn_out=col.out_numel(c))


class Activation(Kind):
    name = "activation"
    keys = ("name", "function", "functional")

    def parse(self, r):
        r.check_keys(self.keys)
        return dict(function=r.choice("function", ACTIVATIONS, "relu"),
                    functional=r.flag("functional", False))

    def fields(self, a, in_shape, out_shape):
        f = super().fields(a, in_shape, out_shape)
        f.update(functional=int(a["functional"]))
        return f

    def terms(self, c):
        out = col.out_numel(c)
        return dict(act_module_out=col.where(out, c["functional"], 0),
                    act_fn_out=col.where(out, c["functional"], 1))

    def describe(self, a):
        return a["function"]


class Relu(Activation):
    name = "relu"
    keys = ("name", "functional")

    def parse(self, r):
        r.check_keys(self.keys)
        return dict(function="relu", functional=r.flag("functional", False))


class Dropout(Kind):
    name = "dropout"
    keys = ("name", "rate")

    def parse(self, r):
        r.check_keys(self.keys)
        return dict(rate=r.fraction("rate", 0.5))

    def describe(self, a):
        return f"dropout {a['rate'] * 100:g}%"


class Flatten(Kind):
    name = "flatten"

    def out_shape(self, a, shape, path):
        return (1, 1, shape[0] * shape[1] * shape[2])


class Linear(Kind):
    name = "linear"
    aliases = ("dense", "fc")
    keys = ("name", "out", "bias", "activation")
    weighted = True

    def parse(self, r):
        r.check_keys(self.keys)
        return dict(out=r.positive_int("out"), bias=r.flag("bias", True),
                    activation=r.choice("activation", ACTIVATIONS + ("none", None), None))

    def out_shape(self, a, shape, path):
        if shape[0] != 1 or shape[1] != 1:
            raise ShapeError(f"linear needs a flat input (1x1xC), got {shape[0]}x{shape[1]}x{shape[2]}"
                             " (add 'flatten' or a global pool before it)", path=path)
        return (1, 1, a["out"])

    def fields(self, a, in_shape, out_shape):
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=1, kw=1, bias=int(a["bias"]), act=_has_activation(a))
        return f

    def terms(self, c):
        weights = col.linear_weights(c["cin"], c["cout"])
        biases = col.per_channel(c["cout"], c["bias"])
        return dict(linear_macs=weights, weights=weights, biases=biases, linear_bias_out=biases,
                    act_fn_out=col.where(c["cout"], c["act"]))

    def describe(self, a):
        return f"linear {a['out']}"


class Softmax(Kind):
    name = "softmax"

    def terms(self, c):
        return dict(softmax_out=col.out_numel(c),
                    softmax_rows=[h * w for h, w in zip(c["hout"], c["wout"])])


class ResidualAdd(Kind):
    """input + scale * body: not written in files; the analysis adds one per residual."""

    name = "residual_add"

    def fields(self, a, in_shape, out_shape):
        f = super().fields(a, in_shape, out_shape)
        f.update(scaled=int(a["scale"] != 1))
        return f

    def terms(self, c):
        out = col.out_numel(c)
        return dict(add_out=out, scale_out=col.where(out, c["scaled"]))

    def describe(self, a):
        return f"add (x{a['scale']:g})" if a["scale"] != 1 else "add"


def _has_activation(a: dict) -> int:
    return int(a.get("activation") not in (None, "none"))


KINDS: dict = {}
for _kind in (Conv(), MaxPool(), AvgPool(), GlobalAvgPool(), AdaptiveAvgPool(), BatchNorm(), Activation(), Relu(),
              Dropout(), Flatten(), Linear(), Softmax()):
    for _name in (_kind.name,) + _kind.aliases:
        KINDS[_name] = _kind

# the kinds by canonical name, for the column evaluation (with the internal ones)
CANONICAL = {k.name: k for k in list(KINDS.values()) + [ResidualAdd()]}

