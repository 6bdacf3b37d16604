"""Counting conventions: which operations count, and how, stated in every report.

A convention weighs the terms that the layer kinds compute (`columns.TERMS`): element
counts of each operation, the conv and linear MACs, and the parameter groups. The
presets reproduce what each tool prints for a model written the same way; the rules
of the tools were read off their outputs on torchvision's GoogLeNet and Inception v3
(torch 2.14.1, torchvision 0.29.1, fvcore 0.1.5.post20221221, ptflops 0.7.5,
thop 0.1.1.post2209072238), where every tool's total equals its formula here exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from fractions import Fraction

from inception_cost.errors import UsageError, did_you_mean

CONV_LINEAR = {"conv_macs": 1, "linear_macs": 1}
PYTORCH_PARAMS = {"weights": 1, "biases": 1, "bn_params": 1}

TERM_TEXT = {
    "conv_macs": "convolution MACs (kh*kw*Cin/groups*Cout*Hout*Wout)",
    "linear_macs": "linear MACs (in*out)",
    "conv_bias_out": "conv bias additions (1 per output element)",
    "linear_bias_out": "linear bias additions (1 per output)",
    "bn_out": "batch-norm output elements",
    "act_fn_out": "activation outputs, called as functions (conv/linear activation)",
    "act_module_out": "activation outputs, activation layers (modules)",
    "pool_in_module": "max/avg pool input elements, pool modules",
    "pool_in_functional": "max/avg pool input elements, pools called as functions",
    "avgpool_out_module": "avg pool output elements, modules",
    "adaptive_in_module": "adaptive/global avg pool input elements, modules",
    "adaptive_in_functional": "adaptive/global avg pool input elements, functions",
    "adaptive_out_module": "adaptive/global avg pool output elements, modules",
    "adaptive_out_functional": "adaptive/global avg pool output elements, functions",
    "softmax_out": "softmax output elements",
    "softmax_rows": "softmax rows",
    "add_out": "residual additions (output elements)",
    "scale_out": "residual scalings (output elements)",
    "weights": "weights",
    "biases": "biases",
    "bn_params": "batch-norm scale and shift (2 per channel)",
}


class Unit(str, enum.Enum):
    MACS = "MACs"
    FLOPS = "FLOPs"


@dataclass(frozen=True)
class Convention:
    name: str
    summary: str
    rules: tuple  # what is counted, in words: printed in every report's header
    ops: dict  # term -> weight, in multiply-accumulates
    params: dict = field(default_factory=lambda: dict(PYTORCH_PARAMS))
    trainable: dict | None = None  # parameter terms -> weight, where the tool splits them
    unit: Unit = Unit.MACS

    @property
    def factor(self) -> int:
        return 2 if self.unit is Unit.FLOPS else 1

    def header(self) -> list:
        return [f"Convention '{self.name}': {self.summary}", *self.rules]

    def combine(self, terms: dict) -> dict:
        """Columns of macs (before the unit), params, trainable and non-trainable params."""
        n = len(terms["weights"])
        macs = _weighted(terms, self.ops, n)
        params = _weighted(terms, self.params, n)
        trainable = _weighted(terms, self.trainable, n) if self.trainable else params
        return {"macs": macs, "params": params, "trainable": trainable,
                "non_trainable": [p - t for p, t in zip(params, trainable)]}


def _weighted(terms: dict, weights: dict, n: int) -> list:
    """Sum of weight * term; exact: fractional weights (Keras' 3/2 per bn parameter) apply
    to even counts, and are computed as fractions only where they occur."""
    total = [0] * n
    for term, weight in weights.items():
        column = terms[term]
        if isinstance(weight, Fraction) and weight.denominator != 1:
            total = [t + int(weight * v) for t, v in zip(total, column)]
        elif weight == 1:
            total = [t + v for t, v in zip(total, column)]
        else:
            total = [t + weight * v for t, v in zip(total, column)]
    return total


PRESETS = {c.name: c for c in (
    Convention(
        "torchvision", "MACs of convolutions and linear layers; parameters as PyTorch counts them"
        " (the tool's default; the figures torchvision and timm publish).",
        ("MACs: conv kh*kw*Cin/groups*Cout*Hout*Wout + linear in*out; 1 MAC = 2 FLOPs; batch 1."
         " Biases, batch norm, activations, pooling, softmax and residual additions: 0.",
         "Parameters: weights + biases + batch-norm scale and shift; running statistics are"
         " buffers, not parameters."),
        dict(CONV_LINEAR)),
    Convention(
        "paper", "GoogLeNet's Table 1: MACs of convolutions and linear layers; parameters are"
        " weights only.",
        ("MACs: conv + linear only, as the paper's ops column (M = 10^6).",
         "Parameters: weights only, no biases or batch norm (the paper's params column, K = 1024)."),
        dict(CONV_LINEAR), params={"weights": 1}),
    Convention(
        "keras", "parameters as Keras model.summary() counts them (keras.applications' batch"
        " norm: center, no scale); MACs as 'torchvision' (Keras prints none).",
        ("Parameters: weights + biases + per batch-norm channel beta (trainable) and the moving"
         " mean and variance (non-trainable); no gamma, as keras.applications builds its"
         " Inception models (scale=False).",
         "MACs: conv + linear."),
        dict(CONV_LINEAR), params={"weights": 1, "biases": 1, "bn_params": Fraction(3, 2)},
        trainable={"weights": 1, "biases": 1, "bn_params": Fraction(1, 2)}),
    Convention(
        "fvcore", "what fvcore's FlopCountAnalysis(...).total() prints (MACs, which it calls flops).",
        ("Counted: conv and linear MACs (no bias), 2 per batch-norm output element (eval mode),"
         " 1 per input element of adaptive/global average pools.",
         "Not counted: biases, activations, max/avg pools, softmax, concatenation, additions."),
        {**CONV_LINEAR, "bn_out": 2, "adaptive_in_module": 1, "adaptive_in_functional": 1}),
    Convention(
        "ptflops", "what ptflops' get_model_complexity_info prints with its default 'pytorch'"
        " backend (MACs).",
        ("Counted: conv and linear MACs, +1 per output element for biases, 2 per batch-norm"
         " output element, 1 per activation output (2 for activation modules, which ptflops"
         " counts by hook and again as a function), 1 per pool input element (2 for pool"
         " modules, counted twice the same way), softmax outputs.",
         "Not counted: residual additions written with '+', concatenation."),
        {**CONV_LINEAR, "conv_bias_out": 1, "linear_bias_out": 1, "bn_out": 2, "act_fn_out": 1,
         "act_module_out": 2, "pool_in_module": 2, "pool_in_functional": 1,
         "adaptive_in_module": 2, "adaptive_in_functional": 1, "softmax_out": 1}),
    Convention(
        "ptflops-aten", "what ptflops prints with backend='aten' (MACs).",
        ("Counted: conv and linear MACs, and linear biases (aten.addmm).",
         "Not counted: batch norm, activations, pooling, softmax, additions."),
        {**CONV_LINEAR, "linear_bias_out": 1}),
    Convention(
        "thop", "what thop's profile() returns (MACs); it hooks modules only.",
        ("Counted: conv and linear MACs (no bias), 4 per batch-norm output element, avg pool"
         " modules 1 per output element, adaptive/global pool modules (kernel + 1) per output"
         " element (its input plus output elements), softmax 3 per element - 1 per row.",
         "Not counted: activations, max pools, anything called as a function, additions."),
        {**CONV_LINEAR, "bn_out": 4, "avgpool_out_module": 1, "adaptive_in_module": 1,
         "adaptive_out_module": 1, "softmax_out": 3, "softmax_rows": -1}),
    Convention(
        "flop-counter", "torch.utils.flop_counter's FlopCounterMode total (FLOPs = 2 x MACs).",
        ("Counted: 2 FLOPs per conv and linear MAC; no bias, batch norm, activation, pooling.",),
        dict(CONV_LINEAR), unit=Unit.FLOPS),
)}

DEFAULT = PRESETS["torchvision"]


def get(name: str) -> Convention:
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown convention '{name}'{did_you_mean(name, list(PRESETS))};"
                         f" presets: {', '.join(PRESETS)}") from None
