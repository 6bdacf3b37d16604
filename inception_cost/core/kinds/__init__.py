"""Layer kinds: the one registry. Each kind keeps its rules together: how its arguments
are read, how it changes the shape (height, width, channels), which terms it costs and
their column rules, and what it is (weighted, a view, factorizable).

To add a kind: subclass `Kind` (`base.py`) in the module of its family (`convolutions`,
`pooling`, `elementwise`, `channels`), list the `Term`s it produces, and add an instance to `_ALL`.
Every command (reports, memory, roofline, sweep, factorize) reaches it through this
registry; `tests/test_registries.py` checks that the registries agree.
"""

from __future__ import annotations

from inception_cost.core.kinds.arguments import ACTIVATIONS
from inception_cost.core.kinds.base import Args, Kind
from inception_cost.core.kinds.channels import ChannelShuffle, ChannelSplit
from inception_cost.core.kinds.convolutions import Conv, Linear, SeparableConv
from inception_cost.core.kinds.elementwise import (
    Activation,
    BatchNorm,
    Dropout,
    ElementwiseAdd,
    ElementwiseMul,
    Flatten,
    Identity,
    LayerNorm,
    LayerScale,
    Relu,
    ResidualAdd,
    Softmax,
)
from inception_cost.core.kinds.pooling import AdaptiveAvgPool, AvgPool, GlobalAvgPool, MaxPool

_ALL: tuple[Kind, ...] = (Conv(), SeparableConv(), MaxPool(), AvgPool(), GlobalAvgPool(), AdaptiveAvgPool(),
                          BatchNorm(), LayerNorm(), LayerScale(), Activation(), Relu(), Dropout(), Flatten(), Linear(),
                          Softmax(), Identity(), ChannelSplit(), ChannelShuffle(), ResidualAdd(), ElementwiseAdd(),
                          ElementwiseMul())

# every kind by its canonical name (what the LayerTable and the graph store)
CANONICAL: dict[str, Kind] = {k.name: k for k in _ALL}
# what a file may write: canonical names and aliases, without the internal kinds
KINDS: dict[str, Kind] = {name: k for k in _ALL if not k.internal for name in (k.name, *k.aliases)}


def get(name: str) -> Kind:
    return CANONICAL[name]


__all__ = ["ACTIVATIONS", "CANONICAL", "KINDS", "Args", "Kind", "get"]
