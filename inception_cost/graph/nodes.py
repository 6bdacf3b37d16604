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
from typing import Any, TypeVar

from inception_cost.core.shapes import Shape

R = TypeVar("R", bound="Record")


class Record:
    """A plain record: fields in `__slots__`, `replace` for a changed copy, equality by
    fields. (Dataclasses would do, but building them costs start-up time.)"""

    __slots__: tuple[str, ...] = ()

    def replace(self: R, **changes: Any) -> R:
        new = object.__new__(type(self))
        for name in self.__slots__:
            setattr(new, name, changes[name] if name in changes else getattr(self, name))
        return new

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__ if n not in ("rebuild", "resolve"))

    __hash__ = None  # type: ignore[assignment]  # mutable records

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__ if n not in ("rebuild", "resolve"))
        return f"{type(self).__name__}({fields})"


# Arguments that name the layer's input (`$in_channels`) are read once shapes are known:
# input shape -> (the arguments, the layer's name).
Resolve = Callable[[Shape], tuple[dict[str, Any], str]]


class Layer(Record):
    __slots__ = ("kind", "name", "line", "args", "given_name", "resolve")

    def __init__(self, kind: str, name: str, line: int, args: dict[str, Any],
                 given_name: str | None = None, resolve: Resolve | None = None) -> None:
        self.kind = kind  # the canonical name of its kind (core.kinds.CANONICAL)
        self.name = name  # how reports show it: its `name:`, or a description ("conv 1x1 64")
        self.line = line
        self.args = args  # normalised by the kind's parser ({} until `resolve` has run)
        self.given_name = given_name  # the `name:` written in the file, if any
        self.resolve = resolve

    def parts(self) -> list[list[Item]]:
        return []

    def with_parts(self, parts: Sequence[list[Item]]) -> Layer:
        return self


class Branch(Record):
    __slots__ = ("name", "line", "items")

    def __init__(self, name: str, line: int, items: list[Item]) -> None:
        self.name = name
        self.line = line
        self.items = items


class Concat(Record):
    """Parallel branches from the same input, concatenated on channels."""

    __slots__ = ("branches", "line", "name")

    def __init__(self, branches: list[Branch], line: int, name: str = "concat") -> None:
        self.branches = branches
        self.line = line
        self.name = name

    def parts(self) -> list[list[Item]]:
        return [b.items for b in self.branches]

    def with_parts(self, parts: Sequence[list[Item]]) -> Concat:
        return self.replace(branches=[b.replace(items=p) for b, p in zip(self.branches, parts)])


class Residual(Record):
    """input + scale * body."""

    __slots__ = ("body", "scale", "line", "name")

    def __init__(self, body: list[Item], scale: float, line: int, name: str = "residual") -> None:
        self.body = body
        self.scale = scale
        self.line = line
        self.name = name

    def parts(self) -> list[list[Item]]:
        return [self.body]

    def with_parts(self, parts: Sequence[list[Item]]) -> Residual:
        return self.replace(body=parts[0])


class Add(Record):
    """Parallel paths from the same input, summed elementwise; `[]` is the identity path."""

    __slots__ = ("paths", "line", "name")

    def __init__(self, paths: list[Branch], line: int, name: str = "add") -> None:
        self.paths = paths
        self.line = line
        self.name = name

    def parts(self) -> list[list[Item]]:
        return [p.items for p in self.paths]

    def with_parts(self, parts: Sequence[list[Item]]) -> Add:
        return self.replace(paths=[p.replace(items=items) for p, items in zip(self.paths, parts)])


class Gate(Record):
    """input x body(input): the body gives the input's shape or 1 x 1 x C (squeeze-and-excitation)."""

    __slots__ = ("body", "line", "name")

    def __init__(self, body: list[Item], line: int, name: str = "gate") -> None:
        self.body = body
        self.line = line
        self.name = name

    def parts(self) -> list[list[Item]]:
        return [self.body]

    def with_parts(self, parts: Sequence[list[Item]]) -> Gate:
        return self.replace(body=parts[0])


# Rebuilds a module instance's items with some of its arguments changed (the sweep).
Rebuild = Callable[[dict[str, Any]], list["Item"]]


class Module(Record):
    """A named group of items: a table row, a block instance, or written inline."""

    __slots__ = ("name", "items", "line", "label", "block", "paper", "arguments", "rebuild")

    def __init__(self, name: str, items: list[Item], line: int, label: str = "",
                 block: str | None = None, paper: dict[str, Any] | None = None,
                 arguments: dict[str, Any] | None = None, rebuild: Rebuild | None = None) -> None:
        self.name = name
        self.items = items
        self.line = line
        self.label = label  # how reports show it, e.g. "inception (3a)"; defaults to the name
        self.block = block  # the reusable block (or table row type) it was made from
        self.paper = paper or {}  # what the source prints for it
        self.arguments = arguments or {}  # this instance's block arguments
        self.rebuild = rebuild

    def parts(self) -> list[list[Item]]:
        return [self.items]

    def with_parts(self, parts: Sequence[list[Item]]) -> Module:
        return self.replace(items=parts[0])


class Auxiliary(Record):
    """A side output (auxiliary classifier): reads the current tensor, used only in training."""

    __slots__ = ("name", "items", "line", "loss_weight")

    def __init__(self, name: str, items: list[Item], line: int, loss_weight: float | None = None) -> None:
        self.name = name
        self.items = items
        self.line = line
        self.loss_weight = loss_weight

    def parts(self) -> list[list[Item]]:
        return [self.items]

    def with_parts(self, parts: Sequence[list[Item]]) -> Auxiliary:
        return self.replace(items=parts[0])


Item = Layer | Concat | Residual | Add | Gate | Module | Auxiliary


class Network(Record):
    __slots__ = ("name", "input_shape", "items", "file", "line", "title", "source", "notes", "units",
                 "stated")

    def __init__(self, name: str, input_shape: Shape, items: list[Item], file: str, line: int = 1,
                 title: str = "", source: str = "", notes: str = "", units: dict[str, Any] | None = None,
                 stated: dict[str, Any] | None = None) -> None:
        self.name = name
        self.input_shape = input_shape
        self.items = items
        self.file = file
        self.line = line
        self.title = title
        self.source = source
        self.notes = notes
        self.units = units or {}  # how the paper's printed columns count
        self.stated = stated or {}  # totals the source states


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
        return [target.replace(items=items)] if item is target else None

    return network.replace(items=map_items(network.items, change))
