"""ONNX operators -> layers of the engine's kinds and merges (one handler per operator).

Tensors are NCHW in the file and height x width x channels here; a 2-D (N, C) tensor is
1 x 1 x C. A Pad is not a layer: its amounts join the padding of the conv or pool that
reads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from inception_cost.errors import ShapeError
from inception_cost.importers import onnx_channels
from inception_cost.importers.graph import NO_PADS, Pads, yaml_padding
from inception_cost.importers.onnx_arith import integral, shape_values
from inception_cost.importers.onnx_state import RUN_TIME, Reader, nchw

# operators that read their first input as a weight or a shape, never as the image
PARAMETER_OPS = ("Identity", "Constant", "Shape", "Cast")
ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Sigmoid": "sigmoid", "Tanh": "tanh",
               "Elu": "elu", "HardSigmoid": "hard_sigmoid", "HardSwish": "hard_swish", "Gelu": "gelu"}


def _pair(values: Any, default: int) -> list[int]:
    values = list(values) if values is not None else [default, default]
    if len(values) != 2:
        raise ValueError
    return [int(v) for v in values]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _padding(reader: Reader, node: Any, attrs: dict[str, Any], extra: Pads) -> Any:
    """The YAML padding of a conv or pool: 'same', or explicit per axis, with a Pad's
    amounts added."""
    auto = _text(attrs.get("auto_pad", "NOTSET"))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if extra != NO_PADS:
            raise reader.fail(node, "a Pad before a 'same'-padded conv or pool is not supported")
        return "same"
    pads = list(attrs.get("pads", [0, 0, 0, 0])) if auto == "NOTSET" else [0, 0, 0, 0]
    if len(pads) != 4:
        raise reader.fail(node, f"expected 4 pads for a 2-D window, got {pads}")
    if extra == RUN_TIME:
        if any(pads):
            raise reader.fail(node, "a Pad computed at run time before a padded conv or pool is not read")
        return "same"
    top, left, bottom, right = (int(p) for p in pads)
    return yaml_padding(((top + extra[0][0], bottom + extra[0][1]), (left + extra[1][0], right + extra[1][1])))


def _window(reader: Reader, node: Any, attrs: dict[str, Any], kernel: list[int]) -> dict[str, Any]:
    if len(kernel) != 2:
        raise reader.fail(node, f"'{node.op_type}' with a {len(kernel)}-D kernel: only 2-D windows are read")
    op, extra = reader.padded(node)
    args: dict[str, Any] = {"kernel": kernel[0] if kernel[0] == kernel[1] else list(kernel)}
    stride = _pair(attrs.get("strides"), 1)
    args["stride"] = stride[0] if stride[0] == stride[1] else stride
    args["padding"] = _padding(reader, node, attrs, extra)
    dilation = _pair(attrs.get("dilations"), 1)
    if dilation != [1, 1]:
        args["dilation"] = dilation[0] if dilation[0] == dilation[1] else dilation
    args["_source"] = op
    return args


def conv(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    weight = reader.dims(node, 1)
    if len(weight) != 4:
        raise reader.fail(node, f"'Conv' with {len(weight)}-D weights: only 2-D convolutions are read")
    args = _window(reader, node, attrs, list(attrs.get("kernel_shape", weight[2:])))
    source = args.pop("_source")
    groups = int(attrs.get("group", 1))
    cin = reader.graph.ops[source].shape[2]
    if weight[1] * groups != cin:
        raise ShapeError(f"weights {weight} with group {groups} need {weight[1] * groups} input channels,"
                         f" got {cin}", file=reader.path, path=f"node '{reader.name(node)}'")
    bias = len(node.input) > 2 and node.input[2] != ""
    reader.convs += 1
    if any(t.startswith("onnx::") for t in node.input[1:3] if t):
        reader.anonymous_biases += bias
    reader.layer(node, "conv", {"filters": weight[0], **args, **({"groups": groups} if groups > 1 else {}),
                                "bias": bias}, source=source)


def pool(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    kind = "max_pool" if node.op_type == "MaxPool" else "avg_pool"
    args = _window(reader, node, attrs, list(attrs.get("kernel_shape", [])))
    source = args.pop("_source")
    if int(attrs.get("ceil_mode", 0)):
        args["rounding"] = "ceil"
    reader.layer(node, kind, args, source=source)


def global_pool(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    if node.op_type == "GlobalAveragePool":
        reader.layer(node, "global_avg_pool", {})
        return
    h, w, _ = reader.shape(node)
    reader.layer(node, "max_pool", {"kernel": [h, w], "stride": 1})


def reduce_mean(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    axes = attrs.get("axes")
    if axes is None and len(node.input) > 1:
        values = reader.constant(node, 1)
        axes = integral(values)
    if any(not -4 <= int(a) < 4 for a in axes or []) or sorted(int(a) % 4 for a in (axes or [])) != [2, 3] \
            or reader.rank.get(node.input[0]) != 4:
        raise reader.fail(node, "'ReduceMean' is read only over height and width (a global average pool)")
    reader.layer(node, "global_avg_pool", _mean_origin(node), rank=4 if int(attrs.get("keepdims", 1)) else 2)


def _mean_origin(node: Any) -> dict[str, Any]:
    """What a ReduceMean over height and width was in PyTorch, which fvcore, ptflops and thop
    count differently: torch's legacy exporter writes x.mean([2, 3]) (MNASNet, ShuffleNet) as
    ReduceMean and an adaptive average pool as GlobalAveragePool; its dynamo exporter writes
    both as ReduceMean and names the module class, or the F.adaptive_avg_pool2d call, in the
    node's metadata. Without such a name it is a mean, which no tool counts."""
    said = {p.key: p.value for p in getattr(node, "metadata_props", ())}
    if "AdaptiveAvgPool2d" in said.get("pkg.torch.onnx.class_hierarchy", ""):
        return {}
    trace = said.get("pkg.torch.onnx.stack_trace", "").strip().splitlines()
    if trace and "adaptive_avg_pool2d" in trace[-1]:
        return {"functional": True}  # called as a function where the model's code ran it
    return {"mean": True}


def batch_norm(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    reader.batch_norms += 1
    reader.layer(node, "batch_norm", {})


def activation(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    function = ACTIVATIONS[node.op_type]
    reader.layer(node, "relu" if function == "relu" else "activation",
                 {} if function == "relu" else {"function": function})


def clip(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    low = attrs.get("min", _first(reader.constant(node, 1)))
    high = attrs.get("max", _first(reader.constant(node, 2)))
    has_high = "max" in attrs or (len(node.input) > 2 and node.input[2] != "")
    if low not in (0, None) or (high is not None and high not in (6,) and not math.isinf(high)):
        raise reader.fail(node, f"'Clip' to [{low}, {high}] is neither a ReLU nor a ReLU6")
    relu6 = high == 6 or (high is None and has_high)  # bounds stored outside the file: ReLU6's shape
    if relu6:
        reader.layer(node, "activation", {"function": "relu6"})
    else:
        reader.layer(node, "relu", {})


def _first(values: list[float] | None) -> float | None:
    return values[0] if values else None


def softmax(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    reader.layer(node, "softmax", {})


def dropout(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    rate = attrs.get("ratio", _first(reader.constant(node, 1)))
    reader.layer(node, "dropout", {"rate": round(float(rate), 6) if rate is not None else 0.5})


def identity(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    reader.alias(node)


def flatten(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    if int(attrs.get("axis", 1)) != 1:
        raise reader.fail(node, "'Flatten' is read only with axis 1 (keeping the batch)")
    reader.layer(node, "flatten", {}, rank=2)


def reshape(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    shape = reader.shape(node)
    target = reader.constant(node, 1)
    dims = reader.params.get(node.input[1]) or []
    rank = len(target) if target is not None else dims[0] if len(dims) == 1 else None
    declared = reader.declared.get(node.output[0])
    if declared is not None:
        rank = len(declared)
    if rank == 5 or node.input[0] in reader.grouped:
        onnx_channels.reshape(reader, node)  # a channel shuffle
        return
    if shape[:2] == (1, 1) and rank in (2, 4):
        reader.put(node, reader.source(node), rank)  # (N, C) <-> (N, C, 1, 1): a view
    elif rank == 2:
        reader.layer(node, "flatten", {}, rank=2)
    else:
        raise reader.fail(node, f"'Reshape' of {shape[2]}x{shape[0]}x{shape[1]} to"
                                f" {f'rank {rank}' if rank else 'a shape computed at run time'} is read only"
                                " as a flatten")


def squeeze(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    if reader.shape(node)[:2] != (1, 1):
        raise reader.fail(node, f"'{node.op_type}' is read only on a 1x1 map (N, C, 1, 1) <-> (N, C)")
    reader.put(node, reader.source(node), 2 if node.op_type == "Squeeze" else 4)


def concat(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    rank = reader.rank.get(node.input[0], 4)
    if int(attrs.get("axis", 1)) not in (1, 1 - rank):
        raise reader.fail(node, "'Concat' is read only along channels (axis 1)")
    inputs = [reader.source(node, i) for i in range(len(node.input))]
    reader.put(node, reader.graph.merge(reader.name(node), "concat", inputs, node.op_type), rank)


def elementwise(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    data = [i for i, t in enumerate(node.input) if t in reader.data]
    if len(data) > 1:
        if node.op_type not in ("Add", "Sum", "Mul"):
            raise reader.fail(node, f"'{node.op_type}' of two computed tensors is not read")
        kind = "mul" if node.op_type == "Mul" else "add"
        inputs = [reader.source(node, i) for i in data]
        reader.put(node, reader.graph.merge(reader.name(node), kind, inputs, node.op_type),
                   reader.rank.get(node.input[data[0]], 4))
        return
    source = reader.source(node, data[0])
    producer = reader.graph.ops[source]
    if node.op_type == "Add" and producer.kind == "linear" and not producer.args["bias"] \
            and _read_once(reader, node.input[data[0]]) and _bias_of(reader, node, data[0], producer.args["out"]):
        producer.args["bias"] = True  # MatMul + Add: a linear layer's bias
        reader.put(node, source)
        return
    # a constant added, subtracted, multiplied or divided (a normalisation, a scale): no cost
    reader.layer(node, "identity", {}, source=source)
    constant = reader.constant(node, 1 - data[0]) if len(node.input) == 2 else None
    if node.op_type == "Mul" and constant is not None and len(constant) == 1 and 0 < constant[0] <= 10:
        reader.graph.ops[reader.data[node.output[0]]].scale = round(constant[0], 6)  # a residual's scale


def _bias_of(reader: Reader, node: Any, index: int, out: int) -> bool:
    """Whether the other input of an Add after a MatMul can be its bias: one value per output
    ([out], or [1, ..., out]), or dimensions the file does not give."""
    dims = reader.params.get(node.input[1 - index], []) if len(node.input) == 2 else None
    return dims is not None and (not dims or (dims[-1] == out and all(d == 1 for d in dims[:-1])))


def _read_once(reader: Reader, tensor: str) -> bool:
    return reader.readers.get(tensor, 0) == 1


def gemm(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    if int(attrs.get("transA", 0)):
        raise reader.fail(node, "'Gemm' with transA is not read")
    weight = reader.dims(node, 1)
    if len(weight) != 2:
        raise reader.fail(node, f"'{node.op_type}' with {len(weight)}-D weights is not read")
    cin, out = (weight[1], weight[0]) if int(attrs.get("transB", 0)) else (weight[0], weight[1])
    shape = reader.shape(node)
    if shape[:2] == (1, 1) and shape[2] != cin:
        raise ShapeError(f"weights {weight} need {cin} inputs, got {shape[2]}", file=reader.path,
                         path=f"node '{reader.name(node)}'")
    bias = node.op_type == "Gemm" and len(node.input) > 2 and node.input[2] != ""
    reader.layer(node, "linear", {"out": out, "bias": bias}, rank=2)


def pad(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    if _text(attrs.get("mode", "constant")) != "constant":
        raise reader.fail(node, f"'Pad' in mode {_text(attrs['mode'])} is not read")
    amounts = attrs.get("pads", reader.constant(node, 1))
    if amounts is not None and node.input[1] in reader.derived and \
            (len(amounts) != 8 or any(math.isnan(a) for a in amounts)):
        amounts = None  # computed from the image's shape in a way not followed: as at run time
    if amounts is None:
        amounts = _pads_from_shapes(reader, node)
    if amounts is None and node.input[0] not in reader.pads:
        reader.run_time_pads += 1
        reader.pads[node.output[0]] = RUN_TIME
        reader.data[node.output[0]] = reader.data[node.input[0]]
        reader.rank[node.output[0]] = 4
        return
    if amounts is None or len(amounts) != 8 or integral(amounts) is None:
        raise reader.fail(node, "'Pad' amounts must be 8 constants in the file (N, C, H, W before and after)")
    n0, c0, top, left, n1, c1, bottom, right = (int(a) for a in amounts)
    if n0 or c0 or n1 or c1 or min(top, left, bottom, right) < 0:
        raise reader.fail(node, "'Pad' is read only on height and width, by positive amounts")
    source, before = reader.padded(node)
    if before == RUN_TIME:
        raise reader.fail(node, "a Pad after a Pad computed at run time is not read")
    reader.pads[node.output[0]] = ((before[0][0] + top, before[0][1] + bottom),
                                   (before[1][0] + left, before[1][1] + right))
    reader.data[node.output[0]] = source
    reader.rank[node.output[0]] = 4


def shape_of(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    """Shape or Size of the image: a value for shape arithmetic, not data."""
    values = shape_values(reader, node, attrs)
    reader.params[node.output[0]] = [4] if node.op_type == "Shape" else []
    if values is not None:
        reader.params[node.output[0]] = [len(values)] if node.op_type == "Shape" else []
    reader.values[node.output[0]] = values
    reader.integers.add(node.output[0])
    reader.derived.add(node.output[0])


def _pads_from_shapes(reader: Reader, node: Any) -> list[int] | None:
    """A Pad whose amounts are computed at run time, from its input and output shapes: the
    total per axis, split as TensorFlow's 'same' does (the smaller half before); only the
    total changes a layer's output size."""
    out = nchw(reader.declared.get(node.output[0], []))
    h, w, c = reader.shape(node)
    if out is None or out[2] != c or out[0] < h or out[1] < w:
        return None
    th, tw = out[0] - h, out[1] - w
    return [0, 0, th // 2, tw // 2, 0, 0, th - th // 2, tw - tw // 2]


Handler = Callable[[Reader, Any, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {
    "Conv": conv, "MaxPool": pool, "AveragePool": pool, "GlobalAveragePool": global_pool,
    "GlobalMaxPool": global_pool, "ReduceMean": reduce_mean, "BatchNormalization": batch_norm,
    **dict.fromkeys(ACTIVATIONS, activation), "Clip": clip, "Softmax": softmax, "LogSoftmax": softmax,
    "Dropout": dropout, "Identity": identity, "Flatten": flatten, "Reshape": reshape,
    "Squeeze": squeeze, "Unsqueeze": squeeze, "Concat": concat, "Add": elementwise, "Sum": elementwise,
    "Mul": elementwise, "Sub": elementwise, "Div": elementwise, "Gemm": gemm, "MatMul": gemm, "Pad": pad,
    "Shape": shape_of, "Size": shape_of,
}
HANDLERS.update({"Split": onnx_channels.split, "Slice": onnx_channels.slice_,  # ShuffleNetV2's channels
                 "Transpose": onnx_channels.transpose})
