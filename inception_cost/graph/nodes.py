"""The layer graph: what a YAML file describes, before any shape is known.

A network is a sequence of items. An item is a `Layer` (one layer kind), a `Concat`
of named branches, a `Residual` (input + scale * body), a named `Module` grouping
items, or an `Auxiliary` side output that exists only in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
Shape = tuple  # (height, width, channels)


def format_shape(shape: Shape) -> str:
    return "x".join(str(v) for v in shape)


@dataclass
class Layer:
    kind: str
    name: str
    line: int
    args: dict  # normalised by the kind's parser


@dataclass
class Branch:
    name: str
    line: int
    items: list


@dataclass
class Concat:
    branches: list  # of Branch
    line: int
    name: str = "concat"


@dataclass
class Residual:
    body: list
    scale: float
    line: int
    name: str = "residual"


@dataclass
class Module:
    name: str
    items: list
    line: int
    label: str = ""  # how reports show it, e.g. "inception (3a)"; defaults to the name
    block: str | None = None  # the reusable block it was made from
    info: dict = field(default_factory=dict)  # e.g. the paper's reported figures


@dataclass
class Auxiliary:
    """A side output (auxiliary classifier): reads the current tensor, used only in training."""

    name: str
    items: list
    line: int
    loss_weight: float | None = None


@dataclass
class Network:
    name: str
    input_shape: Shape
    items: list
    file: str
    line: int = 1
    title: str = ""
    source: str = ""
    notes: str = ""
    units: dict = field(default_factory=dict)  # how the paper's reported columns count
    stated: dict = field(default_factory=dict)  # totals the source states, e.g. {"params": ...}
