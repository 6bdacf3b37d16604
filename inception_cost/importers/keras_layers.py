"""Keras layers -> layers of the engine's kinds and merges (one handler per layer class)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inception_cost.importers.keras_reader import ACTIVATIONS, padding_of

if TYPE_CHECKING:
    from inception_cost.importers.keras_reader import Reader

Layer = dict[str, Any]


def _pair(value: Any) -> Any:
    """Keras's (3, 3) as 3, (1, 7) as [1, 7]."""
    if isinstance(value, int):
        return value
    values = [int(v) for v in value]
    return values[0] if len(set(values)) == 1 else values


def _activation(reader: Reader, layer: Layer, config: Layer) -> str | None:
    name = config.get("activation")
    if isinstance(name, dict):  # a serialised activation object
        name = name.get("config", {}).get("name") or name.get("class_name")
    name = str(name or "linear").lower()
    if name in ("linear", "softmax"):
        return None
    if name not in ACTIVATIONS:
        raise reader.fail(layer, f"activation '{name}' is not read (known: linear, softmax,"
                                 f" {', '.join(sorted(ACTIVATIONS))})")
    return ACTIVATIONS[name]


def _with_activation(reader: Reader, layer: Layer, config: Layer, kind: str, args: Layer,
                     source: int) -> None:
    function = _activation(reader, layer, config)
    if function:
        args["activation"] = function
    op = reader.add(layer, kind, args, source)
    if str(config.get("activation", "")).lower() == "softmax":
        reader.add(layer, "softmax", {}, op, name=f"{layer.get('name') or config.get('name')}_softmax")


def conv(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    source, extra = reader.padded(inputs[0])
    assert reader.graph is not None
    cin = reader.graph.ops[source].shape[2]
    kind = str(layer.get("class_name"))
    args: Layer = {}
    if kind == "DepthwiseConv2D":
        args["filters"] = cin * int(config.get("depth_multiplier", 1))
    else:
        args["filters"] = int(config["filters"])
    args["kernel"] = _pair(config["kernel_size"])
    args["stride"] = _pair(config.get("strides", 1))
    args["padding"] = padding_of(config, extra, reader, layer)
    if _pair(config.get("dilation_rate", 1)) != 1:
        args["dilation"] = _pair(config["dilation_rate"])
    if kind == "DepthwiseConv2D":
        args["groups"] = cin
    elif kind == "SeparableConv2D":
        if int(config.get("depth_multiplier", 1)) != 1:
            args["depth_multiplier"] = int(config["depth_multiplier"])
    elif int(config.get("groups", 1)) != 1:
        args["groups"] = int(config["groups"])
    args["bias"] = bool(config.get("use_bias", True))
    _with_activation(reader, layer, config, "separable_conv" if kind == "SeparableConv2D" else "conv",
                     args, source)


def dense(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    args = {"out": int(config["units"]), "bias": bool(config.get("use_bias", True))}
    _with_activation(reader, layer, config, "linear", args, reader.source(layer, inputs[0]))


def batch_norm(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    axis = config.get("axis", -1)
    if (axis[0] if isinstance(axis, list) and len(axis) == 1 else axis) not in (-1, 3):
        raise reader.fail(layer, f"BatchNormalization over axis {axis} is not read (channels: -1)")
    if not config.get("center", True):
        raise reader.fail(layer, "BatchNormalization without its shift (center=False) is not read")
    reader.add(layer, "batch_norm", {"scale": bool(config.get("scale", True))},
               reader.source(layer, inputs[0]))


def activation(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    source = reader.source(layer, inputs[0])
    kind = str(layer.get("class_name"))
    name = str(config.get("activation", "linear")).lower() if kind == "Activation" else kind
    if kind == "ReLU":
        slope, high = float(config.get("negative_slope") or 0), config.get("max_value")
        if float(config.get("threshold") or 0) or (high is not None and float(high) != 6):
            raise reader.fail(layer, "ReLU with a threshold or a max_value other than 6 is not read")
        name = "leaky_relu" if slope else "relu6" if high is not None else "relu"
    elif kind == "LeakyReLU":
        name = "leaky_relu"
    elif kind == "Softmax":
        name = "softmax"
    if name == "softmax":
        reader.add(layer, "softmax", {}, source)
    elif name == "linear":
        reader.data[str(layer.get("name") or config.get("name"))] = source
    elif name == "relu":
        reader.add(layer, "relu", {}, source)
    elif name in ACTIVATIONS:
        reader.add(layer, "activation", {"function": ACTIVATIONS[name]}, source)
    else:
        raise reader.fail(layer, f"activation '{name}' is not read")


def pool(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    source, extra = reader.padded(inputs[0])
    size = config.get("pool_size", 2)
    args = {"kernel": _pair(size), "stride": _pair(config.get("strides") or size),
            "padding": padding_of(config, extra, reader, layer)}
    reader.add(layer, "max_pool" if "Max" in str(layer.get("class_name")) else "avg_pool", args, source)


def global_pool(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    source = reader.source(layer, inputs[0])
    if "Average" in str(layer.get("class_name")):
        reader.add(layer, "global_avg_pool", {}, source)
        return
    assert reader.graph is not None
    h, w, _ = reader.graph.ops[source].shape
    reader.add(layer, "max_pool", {"kernel": [h, w], "stride": 1}, source)


def merge(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    kind = {"Concatenate": "concat", "Add": "add", "Multiply": "mul"}[str(layer.get("class_name"))]
    if kind == "concat" and config.get("axis", -1) not in (-1, 3):
        raise reader.fail(layer, f"Concatenate along axis {config.get('axis')} is not read (channels: -1)")
    assert reader.graph is not None
    name = str(layer.get("name") or config.get("name"))
    reader.data[name] = reader.graph.merge(name, kind, [reader.source(layer, i) for i in inputs],
                                           str(layer.get("class_name")))


def custom_scale(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    """keras.applications' InceptionResNetV2 residual: inputs[0] + scale * inputs[1]."""
    if len(inputs) != 2:
        raise reader.fail(layer, f"CustomScaleLayer reads 2 layers (input, body), got {len(inputs)}")
    assert reader.graph is not None
    name = str(layer.get("name") or config.get("name"))
    scaled = reader.graph.layer(name, "identity", {}, reader.source(layer, inputs[1]),
                                "CustomScaleLayer")
    reader.graph.ops[scaled].scale = float(config.get("scale", 1.0))
    reader.data[name] = reader.graph.merge(name, "add", [reader.source(layer, inputs[0]), scaled],
                                           "CustomScaleLayer")


def zero_padding(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    value = config.get("padding", 1)
    axes = [value, value] if isinstance(value, int) else list(value)
    if len(axes) != 2:
        raise reader.fail(layer, f"ZeroPadding2D padding {value} is not read")
    pads = [(a, a) if isinstance(a, int) else (int(a[0]), int(a[1])) for a in axes]
    source, before = reader.padded(inputs[0])
    name = str(layer.get("name") or config.get("name"))
    reader.data[name] = source
    reader.pads[name] = ((before[0][0] + pads[0][0], before[0][1] + pads[0][1]),
                         (before[1][0] + pads[1][0], before[1][1] + pads[1][1]))


def simple(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    kind = str(layer.get("class_name"))
    source = reader.source(layer, inputs[0])
    if kind in ("Dropout", "SpatialDropout2D"):
        reader.add(layer, "dropout", {"rate": float(config.get("rate", 0.5))}, source)
    elif kind == "Flatten":
        reader.add(layer, "flatten", {}, source)
    else:  # Rescaling, Normalization: no weights that cost MACs
        reader.add(layer, "identity", {}, source)
        if kind == "Normalization":
            reader.notes.append(f"Normalization layer '{layer.get('name')}': its mean, variance and count"
                                " (2 per channel + 1, which Keras counts as non-trainable weights) are not"
                                " counted.")


def reshape(reader: Reader, layer: Layer, config: Layer, inputs: list[str]) -> None:
    source = reader.source(layer, inputs[0])
    assert reader.graph is not None
    shape = reader.graph.ops[source].shape
    target = list(config.get("target_shape") or [])
    if shape[:2] == (1, 1) and target in ([shape[2]], [1, 1, shape[2]]):
        reader.data[str(layer.get("name") or config.get("name"))] = source  # a view
    elif len(target) == 1:
        reader.add(layer, "flatten", {}, source)
    else:
        raise reader.fail(layer, f"Reshape of {shape} to {target} is read only as a flatten")


Handler = Callable[["Reader", Layer, Layer, list[str]], None]
HANDLERS: dict[str, Handler] = {
    "Conv2D": conv, "DepthwiseConv2D": conv, "SeparableConv2D": conv, "Dense": dense,
    "BatchNormalization": batch_norm, "Activation": activation, "ReLU": activation,
    "LeakyReLU": activation, "Softmax": activation, "MaxPooling2D": pool, "AveragePooling2D": pool,
    "GlobalAveragePooling2D": global_pool, "GlobalMaxPooling2D": global_pool, "Concatenate": merge,
    "Add": merge, "Multiply": merge, "ZeroPadding2D": zero_padding, "Dropout": simple,
    "SpatialDropout2D": simple, "Flatten": simple, "Rescaling": simple, "Normalization": simple,
    "Reshape": reshape, "CustomScaleLayer": custom_scale,
}
