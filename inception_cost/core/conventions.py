"""Counting conventions: which operations count, and how, stated in every report.

A convention weighs the terms that the layer kinds compute (`terms.Term`): element
counts of each operation, the conv and linear MACs, and the parameter groups. The
presets reproduce what each tool prints for a model written the same way; the rules
of the tools were read off their outputs on torchvision's GoogLeNet and Inception v3
(torch 2.14.1, torchvision 0.29.1, fvcore 0.1.5.post20221221, ptflops 0.7.5,
thop 0.1.1.post2209072238), where every tool's total equals its formula here exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from inception_cost.core.terms import Group, Term
from inception_cost.errors import UsageError, did_you_mean

Weight = int  # how much one unit of a term adds

CONV_LINEAR: dict[Term, Weight] = {Term.CONV_MACS: 1, Term.LINEAR_MACS: 1}
PYTORCH_PARAMS: dict[Term, Weight] = {Term.WEIGHTS: 1, Term.BIASES: 1, Term.BN_PARAMS: 1, Term.LN_PARAMS: 1,
                                      Term.LAYER_SCALE_PARAMS: 1}


class Unit(str, enum.Enum):
    MACS = "MACs"
    FLOPS = "FLOPs"


class Convention:
    """What a counting convention counts: a weight per term, and the same in words."""

    __slots__ = ("name", "summary", "rules", "ops", "params", "trainable", "unit")

    def __init__(self, name: str, summary: str, rules: tuple[str, ...], ops: Mapping[Term, Weight],
                 params: Mapping[Term, Weight] | None = None,
                 trainable: Mapping[Term, Weight] | None = None, unit: Unit = Unit.MACS) -> None:
        self.name = name
        self.summary = summary
        self.rules = rules  # what is counted, in words: printed in every report's header
        self.ops = ops  # term -> weight, in multiply-accumulates
        self.params = params if params is not None else dict(PYTORCH_PARAMS)
        self.trainable = trainable  # parameter terms -> weight, where the tool splits them
        self.unit = unit

    def __repr__(self) -> str:
        return f"Convention({self.name!r})"

    @property
    def factor(self) -> int:
        return 2 if self.unit is Unit.FLOPS else 1

    def header(self) -> list[str]:
        return [f"Convention '{self.name}': {self.summary}", *self.rules]

    def combine(self, terms: Mapping[Term, list[int]], n: int | None = None) -> dict[str, list[int]]:
        """Per row: macs (in the convention's unit), params, trainable and non-trainable.

        A term missing from `terms` counts 0 (a kind's own terms are enough)."""
        if n is None:
            n = len(next(iter(terms.values()))) if terms else 0
        macs = _weighted(terms, self.ops, n)
        if self.factor != 1:  # FLOPs: every count in the report is in the convention's unit
            macs = [m * self.factor for m in macs]
        params = _weighted(terms, self.params, n)
        if self.trainable is None:
            return {"macs": macs, "params": params, "trainable": params, "non_trainable": [0] * n}
        trainable = _weighted(terms, self.trainable, n)
        return {"macs": macs, "params": params, "trainable": trainable,
                "non_trainable": [p - t for p, t in zip(params, trainable)]}

    @property
    def terms(self) -> frozenset[Term]:
        """The terms this convention counts at all (a kind need compute no others)."""
        return frozenset(t for table in (self.ops, self.params, self.trainable or {})
                         for t, w in table.items() if w)

    def count(self, term: Term, count: int) -> int:
        """What `count` units of `term` add to this convention's total (before the unit)."""
        return self.weight(term) * count

    def weight(self, term: Term) -> Weight:
        """What one unit of `term` adds to this convention's total (MACs or params)."""
        table = self.params if term.group is Group.PARAMETER else self.ops
        return table.get(term, 0)


def _weighted(terms: Mapping[Term, list[int]], weights: Mapping[Term, Weight], n: int) -> list[int]:
    """Sum of weight * term over the terms a convention counts (exact integers)."""
    total: list[int] | None = None  # None: all zeros so far
    for term, weight in weights.items():
        column = terms.get(term)
        if column is None or not weight:
            continue
        if total is None:
            # columns are never changed in place: the first one needs no copy
            total = column if weight == 1 else [weight * v for v in column]
        elif weight == 1:
            total = [t + v for t, v in zip(total, column)]
        else:
            total = [t + weight * v for t, v in zip(total, column)]
    return total if total is not None else [0] * n


PRESETS: dict[str, Convention] = {c.name: c for c in (
    Convention(
        "torchvision", "MACs of convolutions and linear layers; parameters as PyTorch counts them"
        " (the tool's default; the figures torchvision and timm publish).",
        ("MACs per image: conv kh*kw*Cin/groups*Cout*Hout*Wout + linear in*out (per position"
         " where it runs at every position); 1 MAC = 2 FLOPs. Biases, batch and layer norm,"
         " layer scale, activations, pooling, softmax and residual additions: 0.",
         "Parameters: weights + biases + batch-norm and layer-norm scale and shift + layer-scale"
         " multipliers; running statistics are buffers, not parameters."),
        dict(CONV_LINEAR)),
    Convention(
        "paper", "GoogLeNet's Table 1: MACs of convolutions and linear layers; parameters are"
        " weights only.",
        ("MACs: conv + linear only, as the paper's ops column (M = 10^6).",
         "Parameters: weights only, no biases, batch or layer norm, or layer scale (the paper's params"
         " column, K = 1024)."),
        dict(CONV_LINEAR), params={Term.WEIGHTS: 1}),
    Convention(
        "keras", "parameters as Keras model.summary() counts them; MACs as 'torchvision' (Keras"
        " prints none).",
        ("Parameters: weights + biases + per batch-norm channel beta (trainable) and the moving"
         " mean and variance (non-trainable), + gamma (trainable) where a file says"
         " `batch_norm_scale: true` (or `scale: true` on a batch_norm layer); without it no gamma,"
         " as keras.applications builds its Inception models (scale=False); layer-norm gamma and"
         " beta and layer-scale multipliers (trainable).",
         "MACs: conv + linear."),
        dict(CONV_LINEAR), params={Term.WEIGHTS: 1, Term.BIASES: 1, Term.BN_CHANNELS: 3, Term.BN_SCALE_DECLARED: 1,
                                   Term.LN_PARAMS: 1, Term.LAYER_SCALE_PARAMS: 1},
        trainable={Term.WEIGHTS: 1, Term.BIASES: 1, Term.BN_CHANNELS: 1, Term.BN_SCALE_DECLARED: 1,
                   Term.LN_PARAMS: 1, Term.LAYER_SCALE_PARAMS: 1}),
    Convention(
        "fvcore", "what fvcore's FlopCountAnalysis(...).total() prints (MACs, which it calls flops).",
        ("Counted: conv and linear MACs (no bias), 2 per batch-norm output element (eval mode),"
         " 5 per layer-norm element, 1 per input element of adaptive/global average pools.",
         "Not counted: biases, activations, max/avg pools, softmax, concatenation, additions, layer"
         " scale (aten::mul)."),
        {**CONV_LINEAR, Term.BN_OUT: 2, Term.LN_OUT: 5, Term.ADAPTIVE_IN_MODULE: 1, Term.ADAPTIVE_IN_FUNCTIONAL: 1}),
    Convention(
        "ptflops", "what ptflops' get_model_complexity_info prints with its default 'pytorch'"
        " backend (MACs).",
        ("Counted: conv and linear MACs, +1 per output element for biases, 2 per batch-norm"
         " output element, 1 per output of F.relu, F.relu6, F.elu, F.gelu and F.silu calls, +1 per"
         " output of the ReLU, ReLU6, ELU, LeakyReLU and GELU modules it hooks (so nn.ReLU, which"
         " calls F.relu, counts 2, nn.ReLU6 1, nn.SiLU 1, nn.Sigmoid 0), 1 per pool input element"
         " (2 for pool modules, counted twice the same way), softmax outputs, 1 per element of an"
         " nn.LayerNorm module (not of F.layer_norm calls, such as torchvision's LayerNorm2d).",
         "Not counted: residual additions written with '+', concatenation, layer scale ('*')."),
        {**CONV_LINEAR, Term.CONV_BIAS_OUT: 1, Term.LINEAR_BIAS_OUT: 1, Term.BN_OUT: 2, Term.LN_MODULE_OUT: 1,
         Term.ACT_FN_OUT: 1,
         Term.ACT_MODULE_CLASSIC_OUT: 1, Term.ACT_MODULE_CALLS_OUT: 1, Term.POOL_IN_MODULE: 2,
         Term.POOL_IN_FUNCTIONAL: 1,
         Term.ADAPTIVE_IN_MODULE: 2, Term.ADAPTIVE_IN_FUNCTIONAL: 1, Term.SOFTMAX_OUT: 1}),
    Convention(
        "ptflops-aten", "what ptflops prints with backend='aten' (MACs).",
        ("Counted: conv and linear MACs, and conv and linear biases (aten.convolution,"
         " aten.addmm: 1 per output element).",
         "Not counted: batch and layer norm, activations, pooling, softmax, additions, layer scale."),
        {**CONV_LINEAR, Term.CONV_BIAS_OUT: 1, Term.LINEAR_BIAS_OUT: 1}),
    Convention(
        "thop", "what thop's profile() returns (MACs); it hooks modules only.",
        ("Counted: conv and linear MACs (no bias), 4 per batch-norm output element, avg pool"
         " modules 1 per output element, adaptive/global pool modules (kernel + 1) per output"
         " element (its input plus output elements), softmax 3 per element - 1 per row, 4 per"
         " element of an nn.LayerNorm module.",
         "Not counted: activations, max pools, anything called as a function (F.layer_norm, so"
         " torchvision's LayerNorm2d), additions, layer scale.",
         "Parameters: those of the modules it has a rule for: as PyTorch counts them, less layer"
         " norms called as functions and layer-scale multipliers (parameters of no such module)."),
        {**CONV_LINEAR, Term.BN_OUT: 4, Term.LN_MODULE_OUT: 4, Term.AVGPOOL_OUT_MODULE: 1, Term.ADAPTIVE_IN_MODULE: 1,
         Term.ADAPTIVE_OUT_MODULE: 1, Term.SOFTMAX_OUT: 3, Term.SOFTMAX_ROWS: -1},
        params={Term.WEIGHTS: 1, Term.BIASES: 1, Term.BN_PARAMS: 1, Term.LN_MODULE_PARAMS: 1}),
    Convention(
        "flop-counter", "torch.utils.flop_counter's FlopCounterMode total (FLOPs = 2 x MACs).",
        ("Counted: 2 FLOPs per conv and linear MAC; no bias, batch or layer norm, activation, pooling.",),
        dict(CONV_LINEAR), unit=Unit.FLOPS),
)}

DEFAULT = PRESETS["torchvision"]


def get(name: str) -> Convention:
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown convention '{name}'{did_you_mean(name, list(PRESETS))};"
                         f" presets: {', '.join(PRESETS)}") from None
