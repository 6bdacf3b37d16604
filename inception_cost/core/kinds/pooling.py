"""Pooling kinds: max and average windows, global and adaptive average pooling."""

from __future__ import annotations

from inception_cost.core import columns as col
from inception_cost.core.kinds import arguments as a
from inception_cost.core.kinds.arguments import Arg
from inception_cost.core.kinds.base import Args, Kind, Rule, _lazy
from inception_cost.core.shapes import Shape, spatial_out
from inception_cost.core.terms import Term
from inception_cost.source.arguments import ArgReader


class Pool(Kind):
    arguments: tuple[Arg, ...] = (
        a.NAME, a.KERNEL, a.STRIDE.but("Stride: 2, 1x2 or [1, 2] (default: the kernel size).", None),
                 a.PADDING_ARG.but(default="valid"), a.DILATION, a.ROUNDING, a.FUNCTIONAL)
    produces: tuple[Term, ...] = (Term.POOL_IN_MODULE, Term.POOL_IN_FUNCTIONAL)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        kernel = r.pair("kernel")
        padding, dilation = r.padding(default="valid"), r.pair("dilation", 1)
        if not isinstance(padding, str):
            # a window made only of padding has nothing to pool: PyTorch refuses it too
            # (an axis padded unequally, [[top, bottom], [left, right]], is checked side by side)
            spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
            sides = [p if isinstance(p, tuple) else (p, p) for p in padding]
            if any(max(side) > span // 2 for side, span in zip(sides, spans)):
                written = [list(p) if isinstance(p, tuple) else p for p in padding]
                raise r.error("padding", f"'padding' {written} is more than half the window"
                                         f" ({spans[0]}x{spans[1]}): at most {spans[0] // 2} x {spans[1] // 2}")
        return dict(kernel=kernel, stride=r.pair("stride", list(kernel)), padding=padding, dilation=dilation,
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
    """Average pooling to a fixed output size: counted by its input and output elements.

    Its `functional` field: 0 a module, 1 a function, 2 a tensor mean (counted by none)."""

    produces: tuple[Term, ...] = (Term.ADAPTIVE_IN_MODULE, Term.ADAPTIVE_IN_FUNCTIONAL, Term.ADAPTIVE_OUT_MODULE,
                Term.ADAPTIVE_OUT_FUNCTIONAL)

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        f = super().fields(a, in_shape, out_shape)
        f.update(kh=-(-in_shape[0] // out_shape[0]), kw=-(-in_shape[1] // out_shape[1]),
                 functional=2 if a.get("mean") else int(a.get("functional", False)))
        return f

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        inputs, outputs = _lazy(col.in_numel, c), _lazy(col.out_numel, c)
        return {Term.ADAPTIVE_IN_MODULE: lambda: col.where(inputs(), c["functional"], 0),
                Term.ADAPTIVE_IN_FUNCTIONAL: lambda: col.where(inputs(), c["functional"], 1),
                Term.ADAPTIVE_OUT_MODULE: lambda: col.where(outputs(), c["functional"], 0),
                Term.ADAPTIVE_OUT_FUNCTIONAL: lambda: col.where(outputs(), c["functional"], 1)}


class GlobalAvgPool(AdaptivePool):
    name = "global_avg_pool"
    arguments: tuple[Arg, ...] = (a.NAME, a.FUNCTIONAL, a.MEAN)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        functional, mean = r.flag("functional", False), r.flag("mean", False)
        if functional and mean:
            raise r.error("mean", "'mean' and 'functional' exclude each other: a mean is neither a pooling"
                                  " module nor a pooling function")
        return dict(functional=functional, **({"mean": True} if mean else {}))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return (1, 1, shape[2])

    def describe(self, a: Args) -> str:
        return "global mean" if a.get("mean") else super().describe(a)


class AdaptiveAvgPool(AdaptivePool):
    """Average pooling to a fixed output size, whatever the input (PyTorch's AdaptiveAvgPool2d)."""

    name = "adaptive_avg_pool"
    arguments: tuple[Arg, ...] = (a.NAME, a.OUTPUT, a.FUNCTIONAL)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(output=r.pair("output"), functional=r.flag("functional", False))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return (a["output"][0], a["output"][1], shape[2])

    def describe(self, a: Args) -> str:
        return f"adaptive avg pool to {a['output'][0]}x{a['output'][1]}"
