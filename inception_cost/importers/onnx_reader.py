"""Reading an ONNX file into the imported graph (`graph.Graph`), with the optional `onnx`
package (`pip install 'inception-cost[onnx]'`), imported only here.

Weights are not read, only their dimensions (from the initializers, or the graph inputs
when the weights are given as inputs, or value_info), so files whose weights are
zeroed, stored externally and missing, or left out all read the same. Shapes are the
engine's own (`Graph.layer`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from typing import Any

from inception_cost.errors import ArchitectureError, UsageError
from inception_cost.importers import onnx_layout
from inception_cost.importers.graph import Graph
from inception_cost.importers.onnx_arith import INTEGER_TYPES
from inception_cost.importers.onnx_channels import refuse_grouped
from inception_cost.importers.onnx_ops import HANDLERS, PARAMETER_OPS
from inception_cost.importers.onnx_state import Reader
from inception_cost.importers.onnx_values import attributes, tensor_values, type_dims
from inception_cost.source.files import read_regular

MAX_FILE_BYTES = 400_000_000  # the file and its parse stay within about 1 GB of memory


def load_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise UsageError("reading ONNX files needs the 'onnx' package: pip install"
                         " 'inception-cost[onnx]'") from None
    return onnx


def read(path: str, skip_unknown: bool = False) -> Graph:
    onnx = load_onnx()
    model = _load(onnx, path)
    g = model.graph
    reader = Reader(onnx, path, skip_unknown)
    reader.producer = str(model.producer_name)
    for tensor in g.initializer:
        reader.params[tensor.name] = [int(d) for d in tensor.dims]
        reader.values[tensor.name] = tensor_values(tensor)
        if int(tensor.data_type) in INTEGER_TYPES:
            reader.integers.add(tensor.name)
        if reader.values[tensor.name] is None:  # a weight: its values are never needed, let them go
            for field in ("raw_data", "float_data", "int32_data", "int64_data", "double_data"):
                tensor.ClearField(field)
    for info in (*g.input, *g.value_info, *g.output, *_inferred(onnx, model)):
        dims = type_dims(info)
        if dims is not None and info.name not in reader.declared:
            reader.declared[info.name] = dims
    nodes = list(g.node)
    for node in nodes:
        for tensor in dict.fromkeys(node.input):
            reader.readers[tensor] = reader.readers.get(tensor, 0) + 1
    data_input = _data_input(g, nodes, set(reader.params), path)
    dims = reader.declared.get(data_input)
    graph = Graph(path, _stem(path), _input_shape(data_input, dims, path), data_input,
                  split=_split)
    graph.source = _provenance(model, path)
    reader.graph = graph
    reader.data[data_input] = 0
    reader.rank[data_input] = 4
    for name in (i.name for i in g.input):
        if name != data_input and name not in reader.params:
            reader.params[name] = [d if isinstance(d, int) else -1 for d in reader.declared.get(name, [])]
            reader.values.setdefault(name, None)
    nodes = onnx_layout.prepare(reader, nodes)
    for node in _topological(nodes, set(reader.params) | {data_input}, path):
        _read_node(reader, node)
    outputs = [o.name for o in g.output if o.name in reader.data]
    if len(outputs) != 1:
        raise ArchitectureError(f"the graph has {len(outputs)} data outputs; inception-cost reads a"
                                " network with one", file=path)
    graph.output = reader.output(outputs[0])
    graph.notes += reader.notes()
    return graph


def _load(onnx: Any, path: str) -> Any:
    raw = read_regular(path, MAX_FILE_BYTES, what="an ONNX model", expected="an ONNX model",
                       hint=" (export its weights as external data, which are not read, to read a larger one)")
    try:
        return onnx.load_model_from_string(raw)  # external data stays unread: only dims are needed
    except Exception as exc:  # protobuf's DecodeError and its kin: a truncated or foreign file
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArchitectureError(f"not a readable ONNX model ({message})", file=path) from None


def _inferred(onnx: Any, model: Any) -> list[Any]:
    """The shapes ONNX's own inference finds for the inner tensors (with the small constants
    it can fold): what a Pad computed at run time (timm's 'same' padding) pads by. A model
    it cannot infer is read without them."""
    try:
        return list(onnx.shape_inference.infer_shapes(model, data_prop=True).graph.value_info)
    except Exception:  # a model the inference does not understand: read without its help
        return []


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _provenance(model: Any, path: str) -> str:
    opsets = ", ".join(f"opset {o.version}" for o in model.opset_import if o.domain in ("", "ai.onnx"))
    producer = f", made by {model.producer_name} {model.producer_version}".rstrip() \
        if model.producer_name else ""
    return f"imported from {os.path.basename(path)} (ONNX {opsets or 'opset ?'}{producer})"


def _split(name: str, source: str) -> tuple[tuple[str, ...], str]:
    """'/inception3a/branch2/branch2.0/conv/Conv' -> the module path ('inception3a',
    'branch2', 'branch2.0', 'conv') and the label 'conv' (the operator's own segment, made
    by the exporter, is dropped)."""
    from inception_cost.importers.structure import meaningful

    parts = [p for p in name.split("/") if p]
    if len(parts) > 1 and not meaningful(parts[-1], source):
        parts.pop()
    if len(parts) == 1 and not meaningful(parts[0], source):
        return (), parts[0].lower()
    return tuple(parts), parts[-1] if parts else source.lower()


def _data_input(g: Any, nodes: list[Any], params: set[str], path: str) -> str:
    """The network's input: a graph input that is not a weight (one a node reads as its
    data, first input)."""
    read_as_data = {n.input[0] for n in nodes if n.input and n.op_type not in PARAMETER_OPS}
    candidates = [i.name for i in g.input if i.name not in params and i.name in read_as_data
                  and len(type_dims(i) or []) == 4]
    if len(candidates) != 1:
        found = ", ".join(candidates) or "none"
        raise ArchitectureError(f"expected one image input, found {found}", file=path)
    return str(candidates[0])


def _input_shape(name: str, dims: list[int | str] | None, path: str) -> tuple[int, int, int]:
    if dims is None or len(dims) != 4:
        raise ArchitectureError(f"input '{name}' must be a 4-D image tensor (N, C, H, W), got"
                                f" {dims if dims is not None else 'no shape'}", file=path)
    _, c, h, w = dims
    for axis, value in (("channels", c), ("height", h), ("width", w)):
        if not isinstance(value, int):
            raise ArchitectureError(f"input '{name}' has a dynamic {axis} ('{value}'): export the model"
                                    " with a fixed input size (no dynamic axes but the batch)", file=path)
    assert isinstance(h, int) and isinstance(w, int) and isinstance(c, int)
    return (h, w, c)


def _topological(nodes: list[Any], available: set[str], path: str) -> list[Any]:
    """The nodes in an order where every input is made before it is read (Kahn's
    algorithm); a cycle or an input that nothing makes is an error that names a node."""
    ready_tensors = set(available) | {""}
    waiting: list[set[str]] = [{i for i in node.input if i not in ready_tensors} for node in nodes]
    readers: dict[str, list[int]] = {}
    for i, missing in enumerate(waiting):
        for tensor in missing:
            readers.setdefault(tensor, []).append(i)
    queue = deque(i for i, missing in enumerate(waiting) if not missing)  # in the file's order
    ordered: list[Any] = []
    while queue:
        i = queue.popleft()
        ordered.append(nodes[i])
        for tensor in nodes[i].output:
            for j in readers.pop(tensor, []):
                waiting[j].discard(tensor)
                if not waiting[j]:
                    queue.append(j)
    if len(ordered) < len(nodes):
        stuck = next(i for i, missing in enumerate(waiting) if missing)
        node, absent = nodes[stuck], sorted(waiting[stuck])[0]
        made = {o for n in nodes for o in n.output}
        why = "a cycle: it is made only by nodes that wait on it" if absent in made else \
            "no node makes it and it is no input or initializer"
        raise ArchitectureError(f"reads '{absent}': {why}", file=path,
                                path=f"node '{node.name or node.op_type}'")
    return ordered


def _read_node(reader: Reader, node: Any) -> None:
    data = [i for i in node.input if i in reader.data]
    if not data:
        reader.parameter(node)  # a constant, a shape, a weight's Identity: not a layer
        return
    handler: Callable[[Reader, Any, dict[str, Any]], None] | None = \
        onnx_layout.handler(reader, node) or HANDLERS.get(node.op_type)
    attrs = attributes(node, reader.onnx)
    if handler is None or node.domain not in ("", "ai.onnx"):
        reader.unknown(node)
        return
    refuse_grouped(reader, node, data)  # a channel shuffle's 5-D tensor: read only by its own nodes
    try:
        handler(reader, node, attrs)
    except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:  # attributes of a wrong type
        raise reader.fail(node, f"cannot read its '{node.op_type}' attributes ({exc})") from None
