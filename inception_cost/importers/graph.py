"""The imported graph: what the ONNX and Keras readers build, before structure is recovered.

One `Op` per operation the engine understands, in topological order: a layer of one of
the engine's kinds (with the arguments a YAML file would give it), a merge (`concat`,
`add`, `mul`), or the network input. Every op's output shape is computed as it is added,
by the engine's own kinds (`core.kinds`), so a reader never has its own shape rules and a
layer that does not fit is reported at the node that broke it.
"""

from __future__ import annotations

from typing import Any

from inception_cost.core.kinds import KINDS
from inception_cost.core.shapes import Shape, format_shape
from inception_cost.errors import ArchitectureError, ShapeError
from inception_cost.source.arguments import ArgReader

MERGES = ("concat", "add", "mul")
INPUT = "input"
MAX_OPS = 100_000  # bounded time whatever the file claims
Pads = tuple[tuple[int, int], tuple[int, int]]  # a Pad / ZeroPadding2D: (top, bottom), (left, right)
NO_PADS: Pads = ((0, 0), (0, 0))


class Op:
    """One operation. `scope` and `label` name it (the source's name split into the
    enclosing groups and its own part), `source` is the operator or layer class."""

    __slots__ = ("index", "name", "kind", "args", "inputs", "shape", "source", "scope", "label", "scale")

    def __init__(self, index: int, name: str, kind: str, args: dict[str, Any], inputs: list[int],
                 shape: Shape, source: str, scope: tuple[str, ...], label: str) -> None:
        self.index = index
        self.name = name
        self.kind = kind
        self.args = args
        self.inputs = inputs
        self.shape = shape
        self.source = source
        self.scope = scope
        self.label = label
        self.scale: float | None = None  # an identity that multiplies by this constant

    def __repr__(self) -> str:
        return f"Op({self.index}, {self.name!r}, {self.kind}, {self.args}, {self.inputs}, {self.shape})"


class Graph:
    """The ops of one model, the file it came from, and what the report should say about it."""

    def __init__(self, file: str, name: str, input_shape: Shape, input_name: str,
                 split: Any = None, joiner: str = ".") -> None:
        self.file = file
        self.name = name
        self.ops: list[Op] = []
        self.output = 0
        self.notes: list[str] = []
        self.source = ""
        self.skipped: dict[str, int] = {}  # operator -> how many nodes were counted as zero
        self.split = split or (lambda name, source: ((), name))
        self.joiner = joiner  # how a layer's name joins the groups below its module
        self._append(input_name, INPUT, {}, [], input_shape, "input")

    # -- building --

    def layer(self, name: str, kind: str, args: dict[str, Any], source_of: int, source: str) -> int:
        """Add a layer of an engine kind reading op `source_of`; its shape by the engine."""
        shape = self.layer_shape(kind, args, self.ops[source_of].shape, name)
        return self._append(name, kind, args, [source_of], shape, source)

    def merge(self, name: str, kind: str, inputs: list[int], source: str) -> int:
        shapes = [self.ops[i].shape for i in inputs]
        try:
            shape = merged_shape(kind, shapes, self.where(name))
        except ShapeError as exc:
            raise exc.located(file=self.file) from None
        return self._append(name, kind, {}, list(inputs), shape, source)

    def _append(self, name: str, kind: str, args: dict[str, Any], inputs: list[int], shape: Shape,
                source: str) -> int:
        if len(self.ops) >= MAX_OPS:
            raise self.fail(name, f"more than {MAX_OPS:,} operations, the most a model may have to be read in"
                                  " bounded time")
        scope, label = self.split(name, source)
        self.ops.append(Op(len(self.ops), name, kind, args, inputs, shape, source, scope, label))
        return len(self.ops) - 1

    def layer_shape(self, kind: str, args: dict[str, Any], shape: Shape, name: str) -> Shape:
        spec = KINDS[kind]
        where = self.where(name)
        parsed = spec.parse(ArgReader(args, 0, where, self.file))
        try:
            out: Shape = spec.out_shape(parsed, shape, where)
        except ShapeError as exc:
            raise exc.located(file=self.file) from None
        return out

    def where(self, name: str) -> str:
        return f"node '{name}'"

    def fail(self, name: str, message: str) -> ArchitectureError:
        return ArchitectureError(message, file=self.file, path=self.where(name))

    # -- reading --

    def consumers(self) -> list[list[int]]:
        """For every op, the ops that read it (an op reading one input twice counts once)."""
        users: list[list[int]] = [[] for _ in self.ops]
        for op in self.ops:
            for i in dict.fromkeys(op.inputs):
                users[i].append(op.index)
        return users


def merged_shape(kind: str, shapes: list[Shape], where: str) -> Shape:
    """The shape of a concat (on channels), an add (equal shapes) or a mul (equal, or one
    side 1 x 1 x C broadcast over the other)."""
    first = shapes[0]
    if kind == "concat":
        if any(s[:2] != first[:2] for s in shapes):
            raise ShapeError(f"concat needs equal heights and widths, got"
                             f" {', '.join(format_shape(s) for s in shapes)}", path=where)
        return (first[0], first[1], sum(s[2] for s in shapes))
    if kind == "mul":
        big = max(shapes, key=lambda s: s[0] * s[1])
        if all(s == big or s == (1, 1, big[2]) for s in shapes):
            return big
    elif all(s == first for s in shapes):
        return first
    raise ShapeError(f"{kind} needs equal shapes, got {', '.join(format_shape(s) for s in shapes)}",
                     path=where)


def yaml_padding(pads: Pads) -> Any:
    """((top, bottom), (left, right)) as a file writes it: valid, p, [ph, pw], or
    [[top, bottom], [left, right]]."""
    axes = [a[0] if a[0] == a[1] else list(a) for a in pads]
    if axes == [0, 0]:
        return "valid"
    if isinstance(axes[0], int) and axes[0] == axes[1]:
        return axes[0]
    return axes
