"""What the ONNX reader needs from a file besides its nodes: tensors' dimensions and the
few small constants that shape a layer (a Clip's bounds, a Pad's amounts, a Reshape's
target), read without NumPy. Weights are never read: only their dimensions."""

from __future__ import annotations

import struct
from typing import Any

# TensorProto.DataType -> struct format
FORMATS = {1: "f", 2: "B", 3: "b", 4: "H", 5: "h", 6: "i", 7: "q", 10: "e", 11: "d", 12: "I", 13: "Q"}
FIELDS = {1: "float_data", 6: "int32_data", 7: "int64_data", 11: "double_data", 13: "uint64_data"}
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
MAX_VALUES = 64  # a bound or a shape, never a weight


def tensor_values(tensor: Any) -> list[float] | None:
    """The values of a small tensor, or None when they are not in the file (external data,
    zeroed out) or the tensor is not small."""
    count = 1
    for d in tensor.dims:
        count *= int(d)
    if count > MAX_VALUES or getattr(tensor, "data_location", 0) == EXTERNAL:
        return None
    raw = bytes(tensor.raw_data)
    fmt = FORMATS.get(int(tensor.data_type))
    if raw and fmt:
        size = struct.calcsize(fmt)
        if len(raw) != count * size:
            return None
        return [float(v) for v in struct.unpack(f"<{count}{fmt}", raw)]
    field = FIELDS.get(int(tensor.data_type))
    values = list(getattr(tensor, field)) if field else []
    if int(tensor.data_type) in (2, 3, 4, 5, 9):  # small integer types are stored as int32
        values = list(tensor.int32_data)
    if len(values) != count:
        return None
    return [float(v) for v in values]


def type_dims(value_info: Any) -> list[int | str] | None:
    """A value_info's dimensions: ints, or the symbolic name of a dynamic one ('?' if it has
    none); None when the file gives no shape."""
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    dims: list[int | str] = []
    for d in tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(int(d.dim_value))
        else:
            dims.append(d.dim_param or "?")
    return dims


def attributes(node: Any, onnx: Any) -> dict[str, Any]:
    """A node's attributes as plain values (tensors as TensorProto)."""
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
