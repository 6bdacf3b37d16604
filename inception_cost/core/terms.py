"""The terms a layer can cost: one registry, with what each counts.

A layer kind (`kinds.py`) computes some of these terms for each of its layers; a
counting convention (`conventions.py`) weighs them into MACs and parameters. Terms are
enum members, so a misspelt term is an error at import, not a silent zero.
"""

from __future__ import annotations

import enum


class Group(str, enum.Enum):
    OPERATION = "operation"  # element counts and MACs: what a convention turns into MACs
    PARAMETER = "parameter"  # weights and friends: what a convention turns into parameters


class Term(str, enum.Enum):
    """What a layer can cost. `*_out` / `*_in`: element counts of its output / input."""

    description: str
    group: Group

    def __new__(cls, value: str, description: str, group: Group = Group.OPERATION) -> Term:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        member.group = group
        return member

    def __str__(self) -> str:
        return str.__str__(self)

    CONV_MACS = "conv_macs", "convolution MACs (kh*kw*Cin/groups*Cout*Hout*Wout)"
    LINEAR_MACS = "linear_macs", "linear MACs (in*out)"
    CONV_BIAS_OUT = "conv_bias_out", "conv bias additions (1 per output element)"
    LINEAR_BIAS_OUT = "linear_bias_out", "linear bias additions (1 per output)"
    BN_OUT = "bn_out", "batch-norm output elements"
    ACT_FN_OUT = ("act_fn_out", "activation outputs, called as functions: relu, relu6, elu, gelu, silu"
                  " (a conv's own activation is one)")
    ACT_FN_OTHER_OUT = ("act_fn_other_out", "activation outputs, called as other functions (sigmoid, tanh,"
                        " leaky_relu, hard_*)")
    ACT_MODULE_OUT = "act_module_out", "activation outputs, activation layers (modules)"
    ACT_MODULE_CLASSIC_OUT = ("act_module_classic_out", "activation outputs, ReLU, ReLU6, ELU, LeakyReLU and"
                              " GELU modules")
    ACT_MODULE_CALLS_OUT = ("act_module_calls_out", "activation outputs, modules whose forward calls F.relu,"
                            " F.elu, F.gelu or F.silu")
    POOL_IN_MODULE = "pool_in_module", "max/avg pool input elements, pool modules"
    POOL_IN_FUNCTIONAL = "pool_in_functional", "max/avg pool input elements, pools called as functions"
    AVGPOOL_OUT_MODULE = "avgpool_out_module", "avg pool output elements, modules"
    ADAPTIVE_IN_MODULE = "adaptive_in_module", "adaptive/global avg pool input elements, modules"
    ADAPTIVE_IN_FUNCTIONAL = ("adaptive_in_functional",
                              "adaptive/global avg pool input elements, functions")
    ADAPTIVE_OUT_MODULE = "adaptive_out_module", "adaptive/global avg pool output elements, modules"
    ADAPTIVE_OUT_FUNCTIONAL = ("adaptive_out_functional",
                               "adaptive/global avg pool output elements, functions")
    SOFTMAX_OUT = "softmax_out", "softmax output elements"
    SOFTMAX_ROWS = "softmax_rows", "softmax rows"
    ADD_OUT = "add_out", "elementwise additions of residuals and add merges (output elements)"
    SCALE_OUT = "scale_out", "residual scalings (output elements)"
    MUL_OUT = "mul_out", "elementwise products of gates (output elements)"
    LN_OUT = "ln_out", "layer-norm output elements (nn.LayerNorm modules and F.layer_norm calls)"
    LN_MODULE_OUT = "ln_module_out", "layer-norm output elements, nn.LayerNorm modules"
    LAYER_SCALE_OUT = "layer_scale_out", "layer-scale products (output elements)"
    WEIGHTS = "weights", "weights", Group.PARAMETER
    BIASES = "biases", "biases", Group.PARAMETER
    BN_PARAMS = "bn_params", "batch-norm scale and shift (2 per channel; 1 with `scale: false`)", Group.PARAMETER
    BN_CHANNELS = "bn_channels", "batch-norm channels (Keras: shift, moving mean, moving variance)", Group.PARAMETER
    BN_SCALE_DECLARED = ("bn_scale_declared", "batch-norm channels with a scale declared true (Keras gamma)",
                         Group.PARAMETER)
    LN_PARAMS = "ln_params", "layer-norm scale and shift (2 per channel)", Group.PARAMETER
    LN_MODULE_PARAMS = ("ln_module_params", "layer-norm scale and shift of nn.LayerNorm modules (2 per channel)",
                        Group.PARAMETER)
    LAYER_SCALE_PARAMS = "layer_scale_params", "layer-scale multipliers (1 per channel)", Group.PARAMETER


OPERATION_TERMS: tuple[Term, ...] = tuple(t for t in Term if t.group is Group.OPERATION)
PARAMETER_TERMS: tuple[Term, ...] = tuple(t for t in Term if t.group is Group.PARAMETER)
TERMS: tuple[Term, ...] = tuple(Term)
MAC_TERMS: tuple[Term, ...] = (Term.CONV_MACS, Term.LINEAR_MACS)  # the arithmetic itself
# the parameters a framework stores and trains (what memory holds), PyTorch's count
STORED_TERMS: tuple[Term, ...] = (Term.WEIGHTS, Term.BIASES, Term.BN_PARAMS, Term.LN_PARAMS, Term.LAYER_SCALE_PARAMS)
