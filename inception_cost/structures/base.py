"""What a structure is: how it is read from YAML, how it shapes and names its parts,
how long its activations live, and how a module report lists and draws it.

A structure class keeps all of that together, as a layer kind keeps its rules
(`core/kinds.py`); the reader, the analysis, the memory estimate and the reports call
into the registry (`structures/__init__.py`) and know no structure by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from inception_cost.core.shapes import Shape
from inception_cost.core.tree import CostNode, Role

if TYPE_CHECKING:  # the protocols are for the type checker only: building them costs start-up time
    from typing import Protocol

    from inception_cost.errors import ArchitectureError, ShapeError
    from inception_cost.graph.nodes import Item, Rebuild

    class Reader(Protocol):
        """What `source.graphform.Context` offers a structure while reading one."""

        counters: dict[str, int]

        def error(self, line: int, path: str | None, message: str) -> ArchitectureError: ...

        def mapping(self, body: Any, line: int, path: str, what: str, allowed: tuple[str, ...]) -> Any: ...

        def items(self, value: Any, line: int, path: str, args: dict[str, Any] | None = None) -> list[Item]: ...

        def block_values(self, block_name: str, given: Any, line: int, path: str) -> dict[str, Any]: ...

        def expand_block(self, block_name: str, values: dict[str, Any], line: int, path: str) -> list[Item]: ...

        def rebuilder(self, block: str, values: dict[str, Any], line: int, path: str) -> Rebuild: ...

    class Scope(Protocol):
        path: str

        def child(self, name: str, numbered: bool = False) -> str: ...

    class Walker(Protocol):
        """What `core.analysis` offers a structure while propagating shapes."""

        train: bool
        training_only: list[str]

        def sequence(self, items: list[Item], shape: Shape, parent: CostNode, scope: Scope,
                     where: str) -> Shape: ...

        def scope(self, path: str) -> Scope: ...

        def add_layer(self, kind: str, name: str, line: int, args: dict[str, Any], shape: Shape,
                      parent: CostNode, scope: Scope, where: str) -> Shape: ...

        def fail(self, exc: ShapeError, line: int, where: str) -> ShapeError: ...

    class Run(Protocol):
        """The memory walk (`estimates/memory.py`) as a structure's `peak` sees it."""

        # eager PyTorch: a structure's input stays alive until it returns (its caller holds it)
        eager: bool

        def __call__(self, children: list[CostNode], held: int, current: int) -> tuple[int, int]:
            """(peak elements alive while `children` run in order, their output's elements),
            with `held` kept alive by others and `current` their input."""


class Structure:
    key: ClassVar[str]  # the YAML key, e.g. "concat"
    role: ClassVar[Role]  # its nodes' role in the result tree
    item_type: ClassVar[type]  # its graph node class
    parallel: ClassVar[bool] = False  # a module holding one lists its parts, not one row
    description: ClassVar[str] = ""  # what it means, for the schema (`inception-cost schema`)

    def schema(self, refs: dict[str, Any]) -> dict[str, Any]:
        """The JSON Schema of its YAML body; `refs` holds the shared definitions by name
        (items: a list of layers, text, expression, arguments)."""
        raise NotImplementedError

    def read(self, reader: Reader, body: Any, line: int, path: str, args: dict[str, Any]) -> list[Item]:
        raise NotImplementedError

    def shape(self, walker: Walker, item: Any, shape: Shape, parent: CostNode, scope: Scope,
              where: str) -> Shape:
        raise NotImplementedError

    def peak(self, node: CostNode, held: int, current: int, run: Run) -> tuple[int, int]:
        """(peak activation elements while `node` runs, its output's elements)."""
        if run.eager:  # eager PyTorch: the caller holds a module's input until it returns
            peak, out = run(node.children, held + current, 0)
            return peak, out or current  # nothing new: its output is a view of its input
        return run(node.children, held, current)

    def copied(self, node: CostNode) -> int:
        """Elements (per image) the framework copies to make the output, beyond its layers."""
        return 0

    def depth(self, node: CostNode) -> int:
        """Layers with weights on the longest path through the node: in sequence, they add
        up (a side output does not lengthen the main path)."""
        return sum(c.depth for c in node.children if c.role is not Role.AUXILIARY)

    def parts(self, node: CostNode) -> list[CostNode]:
        """What a module report lists for this child of a module."""
        return [node]

    def chain(self, node: CostNode, chain: Callable[[CostNode], str]) -> str:
        """The node's layers as text: 'conv 1x1 16 -> conv 5x5 32'."""
        return " -> ".join(chain(child) for child in node.children)


def join(path: str, name: str) -> str:
    """The location shown in error messages: '4b / branch 3x3'."""
    return f"{path} / {name}" if path else name
