"""Simplifications of an imported graph that change no count, only how it reads.

- `x * sigmoid(x)` (how exporters write SiLU) is one `silu` activation; `x *
  hard_sigmoid(x)` one `hard_swish`.
- A concat of [a, b, c] where a concat of [a, b] exists becomes concat(concat(a, b), c)
  (DenseNet's exported form: every layer concatenates all earlier outputs again), so
  that the graph nests as a chain of concats with the identity.
- A concat of one input is that input.
- A channel split (one part of `x.chunk`, a view) read by several ops becomes one split
  per reader, so that each reader's branch starts with its own (as YAML writes them).
- A batch norm, then an activation, that only read a convolution's output become the
  convolution's own `batch_norm` and `activation` (as the built-in files write them);
  an activation that only reads a linear layer becomes its `activation`, unless the
  reader knows whether it was a module or a function (`functional`: the ONNX reader's
  GELU modules), which counts differently from a layer's own activation under ptflops.
Each pass keeps the ops in topological order; `compact` drops the folded ones.
"""

from __future__ import annotations

from inception_cost.importers.graph import Graph, Op

GATED = {"sigmoid": "silu", "hard_sigmoid": "hard_swish"}
CONVS = ("conv", "separable_conv")


def simplify(graph: Graph) -> None:
    _gated_activations(graph)
    _nest_concats(graph)
    _fold_into_layers(graph)
    compact(graph)
    _split_per_reader(graph)


def _function(op: Op) -> str | None:
    if op.kind == "relu":
        return "relu"
    return str(op.args["function"]) if op.kind == "activation" else None


def _gated_activations(graph: Graph) -> None:
    users = graph.consumers()
    for op in graph.ops:
        if op.kind != "mul" or len(op.inputs) != 2:
            continue
        for x, s in (op.inputs, op.inputs[::-1]):
            gate = graph.ops[s]
            if _function(gate) in GATED and gate.inputs == [x] and users[s] == [op.index]:
                op.kind, op.args, op.inputs = "activation", {"function": GATED[str(_function(gate))]}, [x]
                op.source = f"{gate.source}+{op.source}"
                _kill(graph, gate)
                break


def _nest_concats(graph: Graph) -> None:
    by_inputs: dict[tuple[int, ...], int] = {}  # a concat's inputs as the file gives them
    for op in graph.ops:
        if op.kind != "concat":
            continue
        given = tuple(op.inputs)
        if len(given) > 2 and given[:-1] in by_inputs:  # that concat is nested already
            op.inputs = [by_inputs[given[:-1]], given[-1]]
        by_inputs.setdefault(given, op.index)
    for op in graph.ops:
        if op.kind == "concat" and len(op.inputs) == 1:
            _alias(graph, op, op.inputs[0])


def _fold_into_layers(graph: Graph) -> None:
    users = graph.consumers()
    for op in graph.ops:
        if op.kind == "dead" or len(op.inputs) != 1:
            continue
        producer = graph.ops[op.inputs[0]]
        if users[producer.index] != [op.index]:
            continue
        function = _function(op)
        if op.kind == "batch_norm" and producer.kind in CONVS and not producer.args.get("batch_norm") \
                and not producer.args.get("activation"):
            producer.args["batch_norm"] = True
            if "scale" in op.args:
                producer.args["batch_norm_scale"] = op.args["scale"]
        elif function is not None and producer.kind in (*CONVS, "linear") \
                and not producer.args.get("activation") and "functional" not in op.args:
            producer.args["activation"] = function
        else:
            continue
        _alias(graph, op, producer.index)
        users[producer.index] = users[op.index]


def _alias(graph: Graph, op: Op, target: int) -> None:
    """Every reader of `op` reads `target` instead; `op` is dropped."""
    for other in graph.ops[op.index + 1:]:
        other.inputs = [target if i == op.index else i for i in other.inputs]
    if graph.output == op.index:
        graph.output = target
    _kill(graph, op)


def _kill(graph: Graph, op: Op) -> None:
    op.kind, op.inputs = "dead", []


def compact(graph: Graph) -> None:
    """Drop dead ops and ops nothing reads (but the output), and number the rest again."""
    keep = [False] * len(graph.ops)
    keep[graph.output] = True
    for op in reversed(graph.ops):
        if keep[op.index]:
            for i in op.inputs:
                keep[i] = True
    keep[0] = True
    new_index: dict[int, int] = {}
    ops: list[Op] = []
    for op in graph.ops:
        if keep[op.index] and op.kind != "dead":
            new_index[op.index] = len(ops)
            op.index = len(ops)
            ops.append(op)
    for op in ops:
        op.inputs = [new_index[i] for i in op.inputs]
    graph.output = new_index[graph.output]
    graph.ops = ops


def _split_per_reader(graph: Graph) -> None:
    """A `channel_split` that several ops read: a copy of it (a view, it costs nothing) for
    each reader but the first, placed right after it, so the order stays topological."""
    users = graph.consumers()
    if not any(op.kind == "channel_split" and len(users[op.index]) > 1 for op in graph.ops):
        return
    ops: list[Op] = []
    moved: dict[int, int] = {}  # old index -> new
    reads: dict[tuple[int, int], int] = {}  # (reader's old index, split's old index) -> its copy's new index
    for op in graph.ops:
        old = op.index
        op.index = moved[old] = len(ops)
        ops.append(op)
        if op.kind == "channel_split":
            for user in users[old][1:]:
                copy = Op(len(ops), op.name, op.kind, dict(op.args), list(op.inputs), op.shape, op.source,
                          op.scope, op.label)
                reads[(user, old)] = len(ops)
                ops.append(copy)
    old_of = {new: old for old, new in moved.items()}  # the copies are in neither
    for op in ops:
        reader = old_of.get(op.index)
        op.inputs = [reads.get((reader, i), moved[i]) if reader is not None else moved[i] for i in op.inputs]
    graph.output = moved[graph.output]
    graph.ops = ops
