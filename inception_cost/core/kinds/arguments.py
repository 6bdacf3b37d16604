"""What each layer argument is: its name, the type of value a file may write, its default
and a description. The kinds list theirs (`Kind.arguments`); the reader checks the keys
against them and `inception-cost schema` describes them to editors.
"""

from __future__ import annotations

from typing import Any

# Value types (closed): how a file may write the argument.
COUNT = "count"  # a positive integer: 64
PAIR = "pair"  # height x width: 3, "1x7" or [1, 7]
PADDING = "padding"  # same, valid, an integer p, [ph, pw] or [[top, bottom], [left, right]]
FLAG = "flag"  # true or false
CHOICE = "choice"  # one of `choices`
FRACTION = "fraction"  # a number in [0, 1) or a percentage: 0.4 or "40%"
GROUPS = "groups"  # a positive integer or `depthwise`
TEXT = "text"  # a name
TYPES = (COUNT, PAIR, PADDING, FLAG, CHOICE, FRACTION, GROUPS, TEXT)

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "swish",
               "hard_swish", "hard_sigmoid", "elu")
# the activations PyTorch runs in place where asked (torchvision's inplace=True): no new tensor
IN_PLACE_ACTIVATIONS = frozenset(("relu", "relu6", "leaky_relu", "elu", "silu", "swish", "hard_swish",
                                  "hard_sigmoid"))


class Arg:
    __slots__ = ("name", "type", "description", "default", "choices", "required")

    def __init__(self, name: str, type: str, description: str, default: Any = None,
                 choices: tuple[str, ...] = (), required: bool = False) -> None:
        self.name = name
        self.type = type
        self.description = description
        self.default = default  # None: no value unless given
        self.choices = choices
        self.required = required

    def but(self, description: str | None = None, default: Any = None) -> Arg:
        """The same argument with another default (a pool's padding is valid, a conv's same)."""
        return Arg(self.name, self.type, description or self.description, default, self.choices, self.required)


NAME = Arg("name", TEXT, "The layer's name in reports and paths (default: its kind, numbered among its siblings).")
FILTERS = Arg("filters", COUNT, "Output channels.", required=True)
KERNEL = Arg("kernel", PAIR, "Kernel height x width: 3, 1x7 or [1, 7].", required=True)
STRIDE = Arg("stride", PAIR, "Stride: 2, 1x2 or [1, 2].", 1)
PADDING_ARG = Arg("padding", PADDING, "same (output ceil(in / stride), TensorFlow's rule), valid, an"
                                      " integer p on every side, [ph, pw], or [[top, bottom], [left, right]]"
                                      " where the sides differ.", "same")
DILATION = Arg("dilation", PAIR, "Dilation: the kernel spans dilation x (k - 1) + 1 inputs.", 1)
GROUPS_ARG = Arg("groups", GROUPS, "Groups of input channels (depthwise: one per input channel).", 1)
BIAS = Arg("bias", FLAG, "Whether the layer has a bias per output channel.", True)
BATCH_NORM = Arg("batch_norm", FLAG, "A batch norm after the layer (2 parameters per channel).", False)
BATCH_NORM_SCALE = Arg("batch_norm_scale", FLAG, "Keras: whether the batch norm has a scale (gamma); the"
                                                 " keras convention counts it only where declared.")
ACTIVATION = Arg("activation", CHOICE, "An activation applied after the layer, called as a function.",
                 None, (*ACTIVATIONS, "none"))
DEPTH_MULTIPLIER = Arg("depth_multiplier", COUNT, "Depthwise filters per input channel.", 1)
OUT = Arg("out", COUNT, "Output features.", required=True)
ROUNDING = Arg("rounding", CHOICE, "How the output size is rounded: floor, or ceil (the last window"
                                   " must start inside the input).", "floor", ("floor", "ceil"))
FUNCTIONAL = Arg("functional", FLAG, "The implementation calls it as a function (F.avg_pool2d) rather"
                                     " than as a module: changes what ptflops and thop count.", False)
MEAN = Arg("mean", FLAG, "Computed as a mean over height and width (x.mean([2, 3]), as MNASNet and ShuffleNet"
                         " do), not by a pooling module or function: no tool counts it, so no convention does.",
           False)
OUTPUT = Arg("output", PAIR, "Output height x width: 4 or [4, 4].", required=True)
SCALE = Arg("scale", FLAG, "Keras: whether the batch norm has a scale (gamma).")
FUNCTION = Arg("function", CHOICE, "The activation function.", "relu", ACTIVATIONS)
RATE = Arg("rate", FRACTION, "The fraction dropped: 0.4 or 40%.", 0.5)
PER_POSITION = Arg("per_position", FLAG, "Applied at every position of an H x W x C map (nn.Linear on a"
                                         " channels-last tensor, as ConvNeXt's MLP): H x W x out, H x W x"
                                         " in x out MACs; false: the input must be 1 x 1 x C.", False)
LN_FUNCTIONAL = Arg("functional", FLAG, "Called as F.layer_norm rather than as an nn.LayerNorm module"
                                        " (torchvision's LayerNorm2d, a subclass whose forward permutes and"
                                        " calls it): ptflops and thop, which hook the exact nn.LayerNorm"
                                        " class, then count neither its operations nor (thop) its"
                                        " parameters.", False)
PART = Arg("part", COUNT, "Which part it takes, counting from 1: x.chunk(parts, dim=1)[part - 1].", required=True)
PARTS = Arg("parts", COUNT, "Equal parts the channels are split into (they must divide them).", 2)
SHUFFLE_GROUPS = Arg("groups", COUNT, "Groups the channels are shuffled across (they must divide them).", 2)
