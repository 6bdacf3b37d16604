"""Kinds with weights: convolutions (plain, grouped, dilated, separable) and linear layers."""

from __future__ import annotations

from inception_cost.core import columns as col
from inception_cost.core.kinds import arguments as a
from inception_cost.core.kinds.arguments import ACTIVATIONS, Arg
from inception_cost.core.kinds.base import (
    BATCH_NORM_TERMS,
    Args,
    Kind,
    Rule,
    _batch_norm_rules,
    _has_activation,
    _lazy,
    _scale_flag,
    _second_output,
)
from inception_cost.core.shapes import Shape, spatial_out
from inception_cost.core.terms import Term
from inception_cost.errors import ShapeError
from inception_cost.source.arguments import ArgReader


class Conv(Kind):
    name = "conv"
    arguments: tuple[Arg, ...] = (a.NAME, a.FILTERS, a.KERNEL, a.STRIDE, a.PADDING_ARG, a.DILATION,
                                  a.GROUPS_ARG, a.BIAS, a.BATCH_NORM, a.BATCH_NORM_SCALE, a.ACTIVATION)
    produces: tuple[Term, ...] = (Term.CONV_MACS, Term.WEIGHTS, Term.BIASES, *BATCH_NORM_TERMS, Term.CONV_BIAS_OUT,
                Term.BN_OUT, Term.ACT_FN_OUT, Term.ACT_FN_OTHER_OUT)
    weighted = True
    factorizable = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(filters=r.positive_int("filters"), kernel=r.pair("kernel"),
                    stride=r.pair("stride", 1), padding=r.padding(default="same"),
                    dilation=r.pair("dilation", 1),
                    groups=r.positive_int("groups", 1), bias=r.flag("bias", True),
                    batch_norm=r.flag("batch_norm", False), batch_norm_scale=_scale_flag(r, "batch_norm_scale"),
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
                 bias=int(a["bias"]), bn=int(a["batch_norm"]), bn_scale=a.get("batch_norm_scale", 0),
                 act=_has_activation(a))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        return {
            Term.CONV_MACS: lambda: col.conv_macs(c["kh"], c["kw"], c["cin"], c["groups"], c["cout"],
                                                  c["hout"], c["wout"]),
            Term.WEIGHTS: lambda: col.conv_weights(c["kh"], c["kw"], c["cin"], c["groups"], c["cout"]),
            **_per_output_channel(c)}

    def second_output(self, a: Args) -> bool:
        return _second_output(a)

    def describe(self, a: Args) -> str:
        text = f"conv {_window(a)} {a['filters']}"
        if a.get("dilation", (1, 1)) != (1, 1):
            text += f" d{a['dilation'][0]}" if a["dilation"][0] == a["dilation"][1] else \
                f" d{a['dilation'][0]}x{a['dilation'][1]}"
        if a["groups"] > 1:
            text += f" g{a['groups']}"
        return text


class SeparableConv(Kind):
    """Keras's SeparableConv2D: a depthwise kh x kw conv with `depth_multiplier` filters per
    input channel, then a pointwise 1x1 conv to `filters`; one bias per output channel."""

    name = "separable_conv"
    arguments: tuple[Arg, ...] = (a.NAME, a.FILTERS, a.KERNEL, a.STRIDE, a.PADDING_ARG, a.DILATION, a.DEPTH_MULTIPLIER,
                 a.BIAS, a.BATCH_NORM, a.BATCH_NORM_SCALE, a.ACTIVATION)
    produces: tuple[Term, ...] = (Term.CONV_MACS, Term.WEIGHTS, Term.BIASES, *BATCH_NORM_TERMS,
                                  Term.CONV_BIAS_OUT, Term.BN_OUT, Term.ACT_FN_OUT, Term.ACT_FN_OTHER_OUT)
    weighted = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(filters=r.positive_int("filters"), kernel=r.pair("kernel"),
                    stride=r.pair("stride", 1), padding=r.padding(default="same"),
                    dilation=r.pair("dilation", 1), depth_multiplier=r.positive_int("depth_multiplier", 1),
                    bias=r.flag("bias", True), batch_norm=r.flag("batch_norm", False),
                    batch_norm_scale=_scale_flag(r, "batch_norm_scale"),
                    activation=r.choice("activation", ACTIVATIONS + ("none", None), None))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return (*spatial_out(a, shape, path), a["filters"])

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=a["kernel"][0], kw=a["kernel"][1], mult=a["depth_multiplier"], bias=int(a["bias"]),
                 bn=int(a["batch_norm"]), bn_scale=a.get("batch_norm_scale", 0), act=_has_activation(a))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        # depthwise: kh*kw per (input channel x multiplier); pointwise: Cin*mult -> Cout
        hidden = _lazy(lambda: [i * m for i, m in zip(c["cin"], c["mult"])])
        ones = [1] * len(c["cin"])
        return {
            Term.CONV_MACS: lambda: [
                d + p for d, p in zip(col.conv_macs(c["kh"], c["kw"], hidden(), hidden(), hidden(),
                                                    c["hout"], c["wout"]),
                                      col.conv_macs(ones, ones, hidden(), ones, c["cout"], c["hout"], c["wout"]))],
            Term.WEIGHTS: lambda: [
                d + p for d, p in zip(col.conv_weights(c["kh"], c["kw"], hidden(), hidden(), hidden()),
                                      col.conv_weights(ones, ones, hidden(), ones, c["cout"]))],
            **_per_output_channel(c)}

    def intermediate(self, a: Args, in_shape: Shape, out_shape: Shape) -> int:
        return out_shape[0] * out_shape[1] * in_shape[2] * int(a["depth_multiplier"])  # depthwise

    def second_output(self, a: Args) -> bool:
        return _second_output(a)

    def describe(self, a: Args) -> str:
        multiplier = f" x{a['depth_multiplier']}" if a["depth_multiplier"] > 1 else ""
        return f"separable conv {_window(a)} {a['filters']}{multiplier}"


class Linear(Kind):
    """A linear layer on a flat 1 x 1 x C input, or with `per_position` at every position of
    an H x W x C map (nn.Linear on a channels-last tensor): one GEMM of H x W rows."""

    name = "linear"
    aliases: tuple[str, ...] = ("dense", "fc")
    arguments: tuple[Arg, ...] = (a.NAME, a.OUT, a.BIAS, a.ACTIVATION, a.PER_POSITION)
    produces: tuple[Term, ...] = (Term.LINEAR_MACS, Term.WEIGHTS, Term.BIASES, Term.LINEAR_BIAS_OUT, Term.ACT_FN_OUT,
                                  Term.ACT_FN_OTHER_OUT)
    weighted = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(out=r.positive_int("out"), bias=r.flag("bias", True),
                    activation=r.choice("activation", ACTIVATIONS + ("none", None), None),
                    per_position=r.flag("per_position", False))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        if a.get("per_position"):
            return (shape[0], shape[1], a["out"])
        if shape[0] != 1 or shape[1] != 1:
            raise ShapeError(f"linear needs a flat input (1x1xC), got {shape[0]}x{shape[1]}x{shape[2]}"
                             " (add 'flatten' or a global pool before it, or 'per_position: true' for a"
                             " linear layer at every position)", path=path)
        return (1, 1, a["out"])

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=1, kw=1, bias=int(a["bias"]), act=_has_activation(a))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        # per position (H x W of them; 1 on a flat input): in x out MACs, a bias addition and
        # an activation per output element
        out = _lazy(col.out_numel, c)
        return {Term.LINEAR_MACS: lambda: col.linear_macs(c["cin"], c["cout"], c["hout"], c["wout"]),
                Term.WEIGHTS: lambda: col.linear_weights(c["cin"], c["cout"]),
                Term.BIASES: lambda: col.per_channel(c["cout"], c["bias"]),
                Term.LINEAR_BIAS_OUT: lambda: col.where(out(), c["bias"]),
                Term.ACT_FN_OUT: lambda: col.where(out(), c["act"], 1),
                Term.ACT_FN_OTHER_OUT: lambda: col.where(out(), c["act"], 2)}

    def second_output(self, a: Args) -> bool:
        return _second_output(a)

    def describe(self, a: Args) -> str:
        return f"linear {a['out']}"


def _per_output_channel(c: col.Columns) -> dict[Term, Rule]:
    """What a conv adds per output channel and element: bias, batch norm, activation."""
    out = _lazy(col.out_numel, c)
    return {
        Term.BIASES: lambda: col.per_channel(c["cout"], c["bias"]),
        **_batch_norm_rules(c),
        Term.CONV_BIAS_OUT: lambda: col.where(out(), c["bias"]),
        Term.BN_OUT: lambda: col.where(out(), c["bn"]),
        Term.ACT_FN_OUT: lambda: col.where(out(), c["act"], 1),
        Term.ACT_FN_OTHER_OUT: lambda: col.where(out(), c["act"], 2)}


def _window(a: Args) -> str:
    """'3x3', '7x7/2', '1x7/1x2': the kernel, and the stride where it is not 1."""
    kh, kw = a["kernel"]
    sh, sw = a["stride"]
    if (sh, sw) == (1, 1):
        return f"{kh}x{kw}"
    return f"{kh}x{kw}/{sh}" if sh == sw else f"{kh}x{kw}/{sh}x{sw}"
