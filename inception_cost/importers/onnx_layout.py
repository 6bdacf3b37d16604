"""Channels-last ONNX graphs (ConvNeXt's): the Transposes to channels-last and back, and
what runs between them, read as the engine's channel-based kinds.

The engine's tensors are height x width x channels whatever the file's layout, so a
Transpose from NCHW to NHWC (perm 0, 2, 3, 1) and back (0, 3, 1, 2) is a view here: the
reader only remembers which tensors are channels-last (`Reader.channels_last`), and
reads on them only what means the same in either layout: a LayerNormalization over the
last axis (`layer_norm`), a MatMul by a 2-D weight (`linear` with `per_position`),
elementwise operations and activations. Anything else reading a channels-last tensor
(a Conv, a pool, a Concat) is refused in one line, as is any other permutation.

Before the nodes are read, `prepare` rewrites the Erf form of GELU that torch's legacy
exporter writes below opset 20 (`x * 0.5 * (1 + erf(x / sqrt(2)))`) as one Gelu node.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from inception_cost.importers.onnx_ops import ACTIVATIONS, HANDLERS, elementwise, gemm
from inception_cost.importers.onnx_state import Reader
from inception_cost.importers.onnx_values import tensor_values

TO_LAST, TO_FIRST = [0, 2, 3, 1], [0, 3, 1, 2]
LN_MODULE = "torch.nn.modules.normalization.LayerNorm"  # the class ptflops and thop hook, exactly
GELU_MODULE = "torch.nn.modules.activation.GELU"
# operators that mean the same on a channels-last tensor (elementwise, per element or per channel)
KEEP_LAYOUT = ("Add", "Sub", "Mul", "Div", "Sum", "Dropout", "Identity", *ACTIVATIONS, "Clip")
FLAT_VIEWS = ("Flatten", "Reshape", "Squeeze", "Unsqueeze")  # on a 1 x 1 map the layouts agree

Handler = Callable[[Reader, Any, dict[str, Any]], None]


def handler(reader: Reader, node: Any) -> Handler | None:
    """The handler for a node, where layouts change what it means; None: the usual one."""
    own = LAYOUT_HANDLERS.get(node.op_type)
    last = [t for t in node.input if t in reader.channels_last]
    if own is not None or not last:
        return own
    data = [t for t in node.input if t in reader.data]
    if len(last) != len(data):
        return _refuse("mixes channels-last and channels-first tensors")
    if node.op_type in KEEP_LAYOUT or (node.op_type in FLAT_VIEWS and reader.shape(node, list(node.input)
                                                                                   .index(last[0]))[:2] == (1, 1)):
        return _keeping(HANDLERS.get(node.op_type))
    return _refuse("reads a channels-last tensor (after a Transpose 0, 2, 3, 1); inception-cost reads"
                   " only layer norms, MatMuls and elementwise operations on one")


def _refuse(why: str) -> Handler:
    def refuse(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
        raise reader.fail(node, f"'{node.op_type}' {why}")
    return refuse


def _keeping(base: Handler | None) -> Handler | None:
    """The usual handler, its output channels-last like its input."""
    if base is None:
        return None

    def keep(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
        base(reader, node, attrs)
        if node.output[0] in reader.data and reader.rank.get(node.output[0], 4) == 4:
            reader.channels_last[node.output[0]] = next(reader.channels_last[t] for t in node.input
                                                        if t in reader.channels_last)
    return keep


def transpose(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    perm = [int(p) for p in attrs.get("perm", [])]
    rank = reader.rank.get(node.input[0], 4)
    # another reading of other ranks (a channel shuffle's 5-D tensor); a 4-D one with a perm of
    # another length is refused below, in this reading's words
    if len(perm) != 4 and node.input[0] in reader.grouped and "Transpose" in HANDLERS:
        HANDLERS["Transpose"](reader, node, attrs)
        return
    last = node.input[0] in reader.channels_last
    if rank == 4 and perm == [0, 1, 2, 3]:
        reader.alias(node)
        if last:
            reader.channels_last[node.output[0]] = reader.channels_last[node.input[0]]
    elif rank == 4 and perm == (TO_FIRST if last else TO_LAST):
        reader.alias(node)
        if not last:
            reader.channels_last[node.output[0]] = reader.name(node)
    else:
        layout = "channels-last" if last else "NCHW"
        raise reader.fail(node, f"'Transpose' with perm {perm} of a rank-{rank} {layout} tensor is not read;"
                                " inception-cost reads a Transpose only as a layout change, NCHW to"
                                " channels-last (perm 0, 2, 3, 1) and back (0, 3, 1, 2)")


def layer_norm(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    tensor = node.input[0]
    rank = reader.rank.get(tensor, 4)
    axis = int(attrs.get("axis", -1))
    last = tensor in reader.channels_last
    h, w, c = reader.shape(node)
    over_channels = (last and axis in (-1, 3)) or (rank == 2 and axis in (-1, 1)) \
        or (rank == 4 and not last and (h, w) == (1, 1) and axis in (1, -3))
    if not over_channels:
        raise reader.fail(node, f"'LayerNormalization' over axis {axis} of a rank-{rank}"
                                f" {'channels-last' if last else 'NCHW'} tensor is not read; inception-cost reads"
                                " a layer norm over the channels only (the last axis of a channels-last or"
                                " (N, C) tensor)")
    if reader.dims(node, 1) not in ([c], [1, c]):
        raise reader.fail(node, f"'LayerNormalization' scale {reader.dims(node, 1)} does not match {c} channels")
    if len(node.input) < 3 or not node.input[2]:
        raise reader.fail(node, "'LayerNormalization' without a bias is not read (a layer norm here has a"
                                " scale and a shift per channel)")
    if reader.dims(node, 2) not in ([c], [1, c]):
        raise reader.fail(node, f"'LayerNormalization' bias {reader.dims(node, 2)} does not match {c} channels")
    reader.layer(node, "layer_norm", {"functional": True} if _functional(reader, node) else {})
    if last:
        reader.channels_last[node.output[0]] = reader.channels_last[tensor]


def _functional(reader: Reader, node: Any) -> bool:
    """Whether PyTorch called F.layer_norm other than as an nn.LayerNorm module's own forward
    (torchvision's LayerNorm2d: the module permutes, normalises and permutes back), which
    ptflops and thop do not count. torch's dynamo exporter names the module's class; the
    legacy exporter only its path: a Transpose made in the layer norm's own module is the
    LayerNorm2d pattern, a layer norm alone in its module an nn.LayerNorm (or a subclass
    that does not override forward, which no file can tell apart)."""
    said = {p.key: p.value for p in getattr(node, "metadata_props", ())}
    hierarchy = said.get("pkg.torch.onnx.class_hierarchy", "")
    if hierarchy:
        classes = [c.strip(" '\"") for c in hierarchy.strip("[]").split(",")]
        return len(classes) < 2 or classes[-2] != LN_MODULE
    made_by = reader.channels_last.get(node.input[0])
    return made_by is not None and _scope(made_by) == _scope(reader.name(node)) and "/" in made_by


def _scope(name: str) -> str:
    return name.rsplit("/", 1)[0]


def matmul(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    tensor = node.input[0]
    if tensor not in reader.data:
        raise reader.fail(node, "'MatMul' with the image data as its second input (W @ x) is not read;"
                                " inception-cost reads x @ W, a linear layer")
    if tensor not in reader.channels_last:
        h, w, c = reader.shape(node)
        if reader.rank.get(tensor, 4) == 4 and (h, w) != (1, 1):
            raise reader.fail(node, f"'MatMul' of a {c}x{h}x{w} NCHW map multiplies along its width; inception-cost"
                                    " reads a MatMul only on a flat (N, C) tensor or a channels-last map (after"
                                    " a Transpose 0, 2, 3, 1)")
        gemm(reader, node, attrs)
        return
    weight = reader.dims(node, 1)
    c = reader.shape(node)[2]
    if len(weight) != 2 or weight[0] != c:
        raise reader.fail(node, f"'MatMul' of a channels-last map with {c} channels by {weight} is not read"
                                f" (a linear layer's weight is {c} x out)")
    reader.layer(node, "linear", {"out": weight[1], "bias": False, "per_position": True})
    reader.channels_last[node.output[0]] = reader.channels_last[tensor]


def mul(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    """A learned multiplier per channel (an initializer, or a graph input, not a Constant):
    ConvNeXt's layer scale; anything else as before."""
    data = [i for i, t in enumerate(node.input) if t in reader.data]
    if len(node.input) == 2 and len(data) == 1:
        tensor, other = node.input[data[0]], node.input[1 - data[0]]
        c = reader.shape(node, data[0])[2]
        last = tensor in reader.channels_last
        # the shapes that broadcast one value per channel: along the last axis of a
        # channels-last or a flat (N, C) tensor, along axis 1 of an NCHW one
        along_last = last or reader.rank.get(tensor, 4) == 2
        per_channel = ([c], [1, c], [1, 1, c], [1, 1, 1, c]) if along_last else ([c, 1, 1], [1, c, 1, 1])
        if other in reader.stored and reader.params.get(other) in per_channel and c > 1:
            reader.layer(node, "layer_scale", {}, source=reader.source(node, data[0]))
            if last:
                reader.channels_last[node.output[0]] = reader.channels_last[tensor]
            return
    elementwise(reader, node, attrs)
    if node.output[0] in reader.data and any(t in reader.channels_last for t in node.input):
        reader.channels_last[node.output[0]] = next(reader.channels_last[t] for t in node.input
                                                    if t in reader.channels_last)


def gelu(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    """GELU (a Gelu node, or the Erf pattern `prepare` made one): an nn.GELU module where
    the exporter says so (torch's dynamo exporter names the class; the legacy exporter
    puts the module's nodes in a scope of their own, apart from the layer they read),
    kept apart from that layer, as ptflops counts a module twice (the module and the
    F.gelu it calls); otherwise as any activation, folded into a linear layer it follows."""
    if _text(attrs.get("approximate", "none")) != "none":
        raise reader.fail(node, "'Gelu' with the tanh approximation is not read")
    said = {p.key: p.value for p in getattr(node, "metadata_props", ())}
    hierarchy = said.get("pkg.torch.onnx.class_hierarchy", "")
    producer = reader.graph.ops[reader.source(node)]
    if hierarchy:
        module = GELU_MODULE in hierarchy.rsplit(",", 2)[-2] if hierarchy.count(",") else False
    else:
        module = "/" in reader.name(node) and "/" in producer.name and \
            _scope(reader.name(node)) != _scope(producer.name)
    reader.layer(node, "activation", {"function": "gelu", **({"functional": False} if module else {})})
    if node.input[0] in reader.channels_last:
        reader.channels_last[node.output[0]] = reader.channels_last[node.input[0]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


LAYOUT_HANDLERS: dict[str, Handler] = {"Transpose": transpose, "LayerNormalization": layer_norm,
                                       "MatMul": matmul, "Mul": mul, "Gelu": gelu}


# ---- before reading: what the nodes say as a pattern ----------------------------------


def prepare(reader: Reader, nodes: list[Any]) -> list[Any]:
    """The nodes with each Erf GELU as one Gelu node; the tensors stored in the file (its
    initializers and weight inputs, and their Identities) noted as learned."""
    reader.stored = set(reader.params)
    for node in nodes:
        if node.op_type == "Identity" and node.input and node.input[0] in reader.stored:
            reader.stored.add(node.output[0])
    nodes = _erf_gelus(reader, nodes)
    reader.readers = {}
    for node in nodes:
        for tensor in dict.fromkeys(node.input):
            reader.readers[tensor] = reader.readers.get(tensor, 0) + 1
    return nodes


def _erf_gelus(reader: Reader, nodes: list[Any]) -> list[Any]:
    if not any(n.op_type == "Erf" for n in nodes):
        return nodes
    values = dict(reader.values)
    for node in nodes:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    values[node.output[0]] = tensor_values(reader.onnx.helper.get_attribute_value(a))
    made = {out: n for n in nodes for out in n.output}
    users: dict[str, list[Any]] = {}
    for n in nodes:
        for tensor in dict.fromkeys(n.input):
            users.setdefault(tensor, []).append(n)

    def scalar(tensor: str, target: float) -> bool:
        found = values.get(tensor)
        return found is not None and len(found) == 1 and math.isclose(found[0], target, rel_tol=1e-5)

    def other(node: Any, tensor: str) -> str | None:
        rest = [t for t in node.input if t != tensor]
        return rest[0] if len(node.input) == 2 and len(rest) == 1 else None

    def only_user(tensor: str, op: str) -> Any:
        found = users.get(tensor, [])
        return found[0] if len(found) == 1 and found[0].op_type == op else None

    dropped: set[int] = set()
    replaced: dict[int, Any] = {}
    for erf in (n for n in nodes if n.op_type == "Erf"):
        scaled = made.get(erf.input[0])  # x / sqrt(2), or x * (1 / sqrt(2))
        if scaled is None or not ((scaled.op_type == "Div" and scalar(scaled.input[1], math.sqrt(2)))
                                  or (scaled.op_type == "Mul" and any(scalar(t, math.sqrt(0.5))
                                                                      for t in scaled.input))):
            continue
        x = scaled.input[0] if scaled.op_type == "Div" or scalar(scaled.input[1], math.sqrt(0.5)) \
            else scaled.input[1]
        plus = only_user(erf.output[0], "Add")
        if only_user(scaled.output[0], "Erf") is None or plus is None \
                or not scalar(str(other(plus, erf.output[0])), 1.0):
            continue
        product = only_user(plus.output[0], "Mul")
        factor = other(product, plus.output[0]) if product is not None else None
        if product is None or factor is None:
            continue
        pattern = [scaled, erf, plus, product]
        if factor != x:  # (x * 0.5) * (1 + erf(...))
            half = made.get(factor)
            if half is None or half.op_type != "Mul" or other(half, x) is None \
                    or not scalar(str(other(half, x)), 0.5) or len(users.get(factor, [])) != 1:
                continue
            pattern.insert(0, half)
        else:  # (x * (1 + erf(...))) * 0.5
            half = only_user(product.output[0], "Mul")
            if half is None or not scalar(str(other(half, product.output[0])), 0.5):
                continue
            pattern.append(half)
        name = f"{_scope(erf.name)}/Gelu" if "/" in erf.name else (erf.name or "gelu")
        gelu = reader.onnx.helper.make_node("Gelu", [x], [pattern[-1].output[0]], name=name)
        for n in pattern:
            dropped.add(id(n))
        replaced[id(pattern[-1])] = gelu
    return [replaced.get(id(n), n) for n in nodes if id(n) not in dropped or id(n) in replaced]
