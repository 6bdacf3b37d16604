"""From the imported graph to nested graph-form items: structure recovered.

A merge's branches start where its inputs' paths split: the merge's immediate
dominator (the last op every path from the input to the merge passes through). Walking
back from the output, a layer extends the current sequence and a merge becomes a
`concat` of its branches, an `add` of its paths (a `residual` when one path is the
identity), or a `gate` (input x a body that reads it). A graph that does not nest that
way (an op read from two places that are not one merge's branches) is refused with the
op's name: every op must land in exactly one place, so nothing is counted twice or lost.

Then items are grouped into modules by the source's names (`inception3a/branch2/...`,
`conv2_block1_...`): consecutive items that share a name prefix become a module named
after it, and a merge with no shared prefix a module named after the merge.
"""

from __future__ import annotations

import re
from typing import Any

from inception_cost.errors import ArchitectureError
from inception_cost.importers.graph import INPUT, MERGES, Graph, Op


class Node:
    """A recovered item: a layer, a structure with its parts, or a module."""

    __slots__ = ("kind", "op", "parts", "names", "name", "scale")

    def __init__(self, kind: str, op: Op | None, parts: list[list[Node]] | None = None,
                 names: list[str] | None = None, name: str = "") -> None:
        self.kind = kind  # layer, concat, add, residual, gate, module
        self.op = op
        self.parts = parts or []
        self.names = names or []  # branch names, once named
        self.name = name  # a layer's or a module's name
        self.scale: float | None = None  # a residual's scale, where the body ends in one

    def ops(self) -> list[Op]:
        own = [self.op] if self.op is not None else []
        return own + [op for part in self.parts for node in part for op in node.ops()]


def recover(graph: Graph) -> list[Node]:
    """The graph's items, nested and grouped into modules."""
    ops = graph.ops
    idom = _dominators(ops)
    placed = [0] * len(ops)

    def sequence(start: int, end: int) -> list[Node]:
        items: list[Node] = []
        n = end
        while n != start:
            op = ops[n]
            if n < start or op.kind == INPUT:
                raise _tangled(graph, ops[end])
            placed[n] += 1
            if op.kind in MERGES:
                fork = idom[n]
                if fork < start:
                    raise _tangled(graph, op)
                if op.kind == "concat":
                    items.append(Node("concat", op, concat_parts(op, fork, op.inputs)))
                else:
                    items.append(_merge(graph, op, fork, [sequence(fork, i) for i in op.inputs]))
                n = fork
            else:
                items.append(Node("layer", op))
                n = op.inputs[0]
        items.reverse()
        return items

    def concat_parts(op: Op, fork: int, inputs: list[int]) -> list[list[Node]]:
        """A concat's branches; consecutive inputs that split only after the fork (an
        exporter's flattened concat of a concat) become a nested concat of their own."""
        groups: list[tuple[int, list[int]]] = []  # (where the group's inputs split, inputs)
        for i in inputs:
            if groups and _meet(idom, groups[-1][0], i) > fork:
                groups[-1] = (_meet(idom, groups[-1][0], i), [*groups[-1][1], i])
            else:
                groups.append((i, [i]))
        parts = []
        for split, members in groups:
            if len(members) == 1:
                parts.append(sequence(fork, members[0]))
            else:
                parts.append([*sequence(fork, split), Node("concat", op, concat_parts(op, split, members))])
        return parts

    items = sequence(0, graph.output)
    for op in ops[1:]:
        if placed[op.index] != 1:
            raise _tangled(graph, op)
    return _group(items, 0, graph.joiner)


def _dominators(ops: list[Op]) -> list[int]:
    """Immediate dominators of a topologically ordered graph with one input (op 0)."""
    idom = [0] * len(ops)
    for op in ops[1:]:
        found = op.inputs[0]
        for other in op.inputs[1:]:
            found = _meet(idom, found, other)
        idom[op.index] = found
    return idom


def _meet(idom: list[int], a: int, b: int) -> int:
    """The nearest op that dominates both a and b."""
    while a != b:
        while a > b:
            a = idom[a]
        while b > a:
            b = idom[b]
    return a


def _tangled(graph: Graph, op: Op) -> ArchitectureError:
    return graph.fail(op.name, "the graph does not nest as branches and merges here (an output read"
                               " by two places that do not merge again); it cannot be written as"
                               " concat / add / residual / gate")


def _merge(graph: Graph, op: Op, fork: int, paths: list[list[Node]]) -> Node:
    if op.kind == "concat":
        return Node("concat", op, paths)
    if op.kind == "add":
        if len(paths) == 2 and sum(1 for p in paths if not p) == 1:
            body = next(p for p in paths if p)
            last = body[-1].op if body[-1].kind == "layer" else None
            if last is not None and last.scale is not None and len(body) > 1:
                node = Node("residual", op, [body[:-1]])  # input + scale * body (Inception-ResNet)
                node.scale = last.scale
                return node
            return Node("residual", op, [body])
        return Node("add", op, paths)
    bodies = [p for p in paths if p]
    if len(paths) != 2 or len(bodies) != 1:
        raise graph.fail(op.name, f"'{op.source}' multiplies two computed tensors; inception-cost reads"
                                  " a product only as a gate (the input times a body that reads it)")
    return Node("gate", op, bodies)


# ---- names and modules ----------------------------------------------------------------


def meaningful(label: str, source: str) -> bool:
    """Whether a name says more than the tool that made it ('Concat_3', 'conv2d_5' do not)."""
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", source)).lower()
    return not re.fullmatch(rf"({re.escape(snake)}|{re.escape(source.lower())})(_\d+)?", label.lower())


def _common(ops: list[Op]) -> tuple[str, ...]:
    """The name prefix the ops share; ops whose names say nothing (Keras's conv2d_5) do not vote."""
    scopes = [op.scope for op in ops if op.scope]
    if not scopes:
        return ()
    first = scopes[0]
    size = min(len(s) for s in scopes)
    for i in range(size):
        if any(s[i] != first[i] for s in scopes):
            return first[:i]
    return first[:size]


def _key(node: Node, depth: int) -> str | None:
    common = _common(node.ops())
    return common[depth] if len(common) > depth else None


def _group(nodes: list[Node], depth: int, joiner: str) -> list[Node]:
    if not nodes:
        return nodes
    keys = [_key(n, depth) for n in nodes]
    if len(nodes) > 1 and keys[0] is not None and all(k == keys[0] for k in keys):
        return _group(nodes, depth + 1, joiner)  # a prefix all of them share says nothing here
    out: list[Node] = []
    i = 0
    while i < len(nodes):
        j = i + 1
        while j < len(nodes) and keys[j] is not None and keys[j] == keys[i]:
            j += 1
        run = nodes[i:j]
        key = keys[i]
        if key is not None and (len(run) > 1 or run[0].kind != "layer"):
            common = _common([op for node in run for op in node.ops()])
            if any(o.kind == "module" and o.name == key for o in out) and len(common) > depth + 1:
                # a name a sibling has (Keras's mixed_5b, mixed_6a): say the next part too
                out.append(Node("module", None, [_group(run, depth + 2, joiner)],
                                name=joiner.join(common[depth:depth + 2])))
            else:
                out.append(Node("module", None, [_group(run, depth + 1, joiner)], name=key))
        else:
            for node in run:
                out.append(_finish(node, depth, joiner))
        i = j
    return out


def _finish(node: Node, depth: int, joiner: str) -> Node:
    """Name a layer, or name a structure's branches and group inside them; a merge with a
    name of its own (Keras's `mixed0`) becomes a module of that name."""
    op = node.op
    assert op is not None
    if node.kind == "layer":
        node.name = _join(op.scope[depth:], joiner) or op.label
        return node
    keys = [_key(Node("branch", None, [part]), depth) if part else None for part in node.parts]
    node.names = _unique([str(k) if k is not None else _fallback(node.kind, i) for i, k in enumerate(keys)])
    node.parts = [_group(part, depth + 1 if k is not None else depth, joiner)
                  for part, k in zip(node.parts, keys)]
    rest = joiner.join(op.scope[depth:])
    if rest and meaningful(rest, op.source):  # a merge with a name of its own (Keras's mixed0)
        return Node("module", None, [[node]], name=rest)
    return node


def _join(scope: tuple[str, ...], joiner: str) -> str:
    """A layer's name from the groups below its module; a group that the next one repeats
    as its prefix (PyTorch's 'block.0' then 'block.0.1') is said once."""
    kept = [s for s, after in zip(scope, (*scope[1:], "")) if not after.startswith(f"{s}.")]
    return joiner.join(kept)


def _fallback(kind: str, index: int) -> str:
    if kind == "add":
        return "body" if index == 0 else f"path{index + 1}"
    return f"branch{index + 1}"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


# ---- to the graph form ----------------------------------------------------------------


def to_items(nodes: list[Node]) -> list[Any]:
    """The YAML items (plain dicts and lists) of recovered nodes; siblings that would share
    a name (`mixed_5b` and `mixed_6a` both grouped as `mixed`) are told apart by _2, _3 ..."""
    items = [_item(n) for n in nodes]
    seen: set[str] = set()
    for item in items:
        (body,) = item.values()
        if isinstance(body, dict) and "name" in body:
            name, n = str(body["name"]), 1
            while name in seen:
                n += 1
                name = f"{body['name']}_{n}"
            body["name"] = name
            seen.add(name)
    return items


def _item(node: Node) -> Any:
    if node.kind == "layer":
        assert node.op is not None
        return {node.op.kind: {"name": node.name, **node.op.args}}
    if node.kind == "module":
        return {"module": {"name": node.name, "layers": to_items(node.parts[0])}}
    if node.kind == "residual":
        scale = {"scale": node.scale} if node.scale is not None else {}
        return {"residual": {**scale, "layers": to_items(node.parts[0])}}
    if node.kind == "gate":
        return {"gate": to_items(node.parts[0])}
    return {node.kind: {name: to_items(part) for name, part in zip(node.names, node.parts)}}
