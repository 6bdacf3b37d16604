"""The layer graph: what a YAML file describes, before any shape is known.

A network is a sequence of items. An item is a `Layer` (one layer kind), a `Concat`
of named branches, a `Residual` (input + scale * body), a named `Module` grouping
items, or an `Auxiliary` side output that exists only in training.

Every structure exposes its item lists as `parts()` and is rebuilt with new ones by
`with_parts()`, so transformations (factorisation, the sweep's module replacement)
walk any structure without knowing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from inception_cost.core.shapes import Shape


@dataclass
class Layer:
    kind: str  # the canonical name of its kind (core.kinds.CANONICAL)
    name: str  # how reports show it: its `name:`, or a description such as "conv 1x1 64"
    line: int
    args: dict[str, Any]  # normalised by the kind's parser
    given_name: str | None = None  # the `name:` written in the file, if any

    def parts(self) -> list[list[Item]]:
        return []

    def with_parts(self, parts: Sequence[list[Item]]) -> Layer:
        return self


@dataclass
class Branch:
    name: str
    line: int
    items: list[Item]


@dataclass
class Concat:
    branches: list[Branch]
    line: int
    name: str = "concat"

    def parts(self) -> list[list[Item]]:
        return [b.items for b in self.branches]

    def with_parts(self, parts: Sequence[list[Item]]) -> Concat:
        return replace(self, branches=[replace(b, items=p) for b, p in zip(self.branches, parts)])


@dataclass
class Residual:
    body: list[Item]
    scale: float
    line: int
    name: str = "residual"

    def parts(self) -> list[list[Item]]:
        return [self.body]

    def with_parts(self, parts: Sequence[list[Item]]) -> Residual:
        return replace(self, body=parts[0])


# Rebuilds a module instance's items with some of its arguments changed (the sweep).
Rebuild = Callable[[dict[str, Any]], list["Item"]]


@dataclass
class Module:
    name: str
    items: list[Item]
    line: int
    label: str = ""  # how reports show it, e.g. "inception (3a)"; defaults to the name
    block: str | None = None  # the reusable block (or table row type) it was made from
    paper: dict[str, Any] = field(default_factory=dict)  # what the source prints for it
    arguments: dict[str, Any] = field(default_factory=dict)  # this instance's block arguments
    rebuild: Rebuild | None = field(default=None, repr=False, compare=False)

    def parts(self) -> list[list[Item]]:
        return [self.items]

    def with_parts(self, parts: Sequence[list[Item]]) -> Module:
        return replace(self, items=parts[0])


@dataclass
class Auxiliary:
    """A side output (auxiliary classifier): reads the current tensor, used only in training."""

    name: str
    items: list[Item]
    line: int
    loss_weight: float | None = None

    def parts(self) -> list[list[Item]]:
        return [self.items]

    def with_parts(self, parts: Sequence[list[Item]]) -> Auxiliary:
        return replace(self, items=parts[0])


Item = Layer | Concat | Residual | Module | Auxiliary


@dataclass
class Network:
    name: str
    input_shape: Shape
    items: list[Item]
    file: str
    line: int = 1
    title: str = ""
    source: str = ""
    notes: str = ""
    units: dict[str, Any] = field(default_factory=dict)  # how the paper's printed columns count
    stated: dict[str, Any] = field(default_factory=dict)  # totals the source states


def map_items(items: list[Item], change: Callable[[Item], list[Item] | None]) -> list[Item]:
    """A copy of `items` where `change(item)` replaces an item by a list (None: keep it and
    look inside it). Structures are copied only along the changed paths."""
    return _map(items, change)[0]


def _map(items: list[Item], change: Callable[[Item], list[Item] | None]) -> tuple[list[Item], bool]:
    result: list[Item] = []
    changed = False
    for item in items:
        new = change(item)
        if new is not None:
            result.extend(new)
            changed = True
            continue
        parts = item.parts()
        mapped = [_map(p, change) for p in parts]
        if any(c for _, c in mapped):
            result.append(item.with_parts([m for m, _ in mapped]))
            changed = True
        else:
            result.append(item)
    return result, changed


def replace_instance(network: Network, target: Module, items: list[Item]) -> Network:
    """The network with one module instance (found by identity, not by name) rebuilt."""
    def change(item: Item) -> list[Item] | None:
        return [replace(target, items=items)] if item is target else None

    return replace(network, items=map_items(network.items, change))
