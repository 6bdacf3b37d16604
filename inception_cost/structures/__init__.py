"""Structures: the one registry of what groups layers (concat, add, residual, gate,
module, auxiliary). To add one: a graph node class with `parts()` / `with_parts()` in
`graph/nodes.py`, a `Role` in `core/tree.py`, and a module here with a `Structure`
subclass (how it is read, shaped, held in memory, listed and drawn), added to `_ALL`.
"""

from __future__ import annotations

from inception_cost.core.tree import CostNode, Role
from inception_cost.structures.add import AddStructure
from inception_cost.structures.auxiliary import AuxiliaryStructure
from inception_cost.structures.base import Structure
from inception_cost.structures.concat import ConcatStructure
from inception_cost.structures.gate import GateStructure
from inception_cost.structures.module import ModuleStructure
from inception_cost.structures.residual import ResidualStructure

_ALL: tuple[Structure, ...] = (ConcatStructure(), AddStructure(), ResidualStructure(), GateStructure(),
                               ModuleStructure(), AuxiliaryStructure())

STRUCTURES: dict[str, Structure] = {s.key: s for s in _ALL}  # by YAML key
BY_ITEM: dict[type, Structure] = {s.item_type: s for s in _ALL}  # by graph node class
BY_ROLE: dict[Role, Structure] = {s.role: s for s in _ALL}  # by result-tree role
PARALLEL: frozenset[Role] = frozenset(s.role for s in _ALL if s.parallel)  # a module with one lists parts


def structure_of(node: CostNode) -> Structure | None:
    """The structure of a result-tree node (None for layers, branches and the network)."""
    return BY_ROLE.get(node.role)


__all__ = ["BY_ITEM", "BY_ROLE", "PARALLEL", "STRUCTURES", "Structure", "structure_of"]
