"""Arithmetic on sizes, as exporters write it: the few small integer tensors a Slice's
bounds or a Reshape's target are computed from (torch's legacy exporter writes
x.chunk(2, dim=1) as Shape -> Gather -> Add -> Div -> Mul -> Slice). Each node that reads
no image data and whose inputs' values are known gets its values; anything else stays
unknown (None), as before. A dynamic batch size is NaN, so a value computed from it is
never mistaken for a number."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from inception_cost.importers.onnx_values import MAX_VALUES

INTEGER_TYPES = {2, 3, 4, 5, 6, 7, 12, 13}  # TensorProto's (u)int8 ... (u)int64
Values = list[float]


def fold(reader: Any, node: Any) -> None:
    """Give the outputs of a node that reads no data the values it computes, where its
    inputs' values are known (ints marked in `reader.integers`, so Div divides as ints)."""
    if node.op_type == "Constant":
        attrs = {a.name: a for a in node.attribute}
        if "value" in attrs and int(attrs["value"].t.data_type) in INTEGER_TYPES:
            reader.integers.add(node.output[0])
        return
    if node.op_type == "Identity" and node.input and node.input[0] in reader.integers:
        reader.integers.add(node.output[0])
    function = OPS.get(node.op_type)
    if function is None or not node.output:
        return
    inputs = [(reader.values.get(t), reader.params.get(t, [])) if t else (None, []) for t in node.input]
    if not inputs or inputs[0][0] is None:
        return
    integer = all(t in reader.integers for t in node.input[:2] if t)
    attrs = {a.name: reader.onnx.helper.get_attribute_value(a) for a in node.attribute}
    try:
        result = function(inputs, attrs, integer)
    except (ValueError, IndexError, ZeroDivisionError, TypeError, OverflowError):
        return  # a computation this reading does not follow: its values stay unknown
    if result is None or len(result[0]) > MAX_VALUES:
        return
    values, dims = result
    reader.values[node.output[0]] = values
    if any(t in reader.derived for t in node.input):
        reader.derived.add(node.output[0])
    reader.params[node.output[0]] = dims
    if integer or (node.op_type == "Cast" and int(attrs.get("to", 0)) in INTEGER_TYPES):
        reader.integers.add(node.output[0])


def shape_values(reader: Any, node: Any, attrs: dict[str, Any]) -> Values | None:
    """What a Shape (or Size) of the image computes: (N, C, H, W) or (N, C), with a dynamic
    batch as NaN; None for a tensor of another rank."""
    rank = reader.rank.get(node.input[0], 4)
    if rank not in (2, 4):
        return None
    h, w, c = reader.shape(node)
    declared = reader.declared.get(node.input[0]) or ["?"]
    batch = float(declared[0]) if isinstance(declared[0], int) else math.nan
    dims = [batch, float(c), float(h), float(w)] if rank == 4 else [batch, float(c)]
    if node.op_type == "Size":
        return [math.prod(dims)]
    start, end = bounds(attrs.get("start", 0), attrs.get("end", rank), rank)
    return dims[start:end]


def _known(inputs: list[tuple[Values | None, list[int]]], index: int) -> Values | None:
    return inputs[index][0] if len(inputs) > index else None


def _gather(inputs: Any, attrs: dict[str, Any], integer: bool) -> tuple[Values, list[int]] | None:
    (data, dims), index = inputs[0], _known(inputs, 1)
    if index is None or len(dims) > 1 or int(attrs.get("axis", 0)) != 0:
        return None
    picked = [data[int(i) + (len(data) if i < 0 else 0)] for i in index]
    return picked, list(inputs[1][1])


def _binary(op: str) -> Any:
    def compute(inputs: Any, attrs: dict[str, Any], integer: bool) -> tuple[Values, list[int]] | None:
        a, b = inputs[0][0], _known(inputs, 1)
        if b is None or (len(a) != len(b) and 1 not in (len(a), len(b))):
            return None
        size = max(len(a), len(b))
        out = [_apply(op, a[i % len(a)], b[i % len(b)], integer) for i in range(size)]
        dims = inputs[0][1] if len(a) >= len(b) else inputs[1][1]
        return out, list(dims)
    return compute


def _apply(op: str, x: float, y: float, integer: bool) -> float:
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if op == "Add":
        return x + y
    if op == "Sub":
        return x - y
    if op == "Mul":
        return x * y
    if integer:  # ONNX's integer Div truncates
        quotient = abs(int(x)) // abs(int(y))
        return float(quotient if (x < 0) == (y < 0) else -quotient)
    return x / y


def _same(inputs: Any, attrs: dict[str, Any], integer: bool) -> tuple[Values, list[int]] | None:
    """Unsqueeze, Squeeze, Cast: the same values (Cast to an integer type truncates)."""
    values = inputs[0][0]
    if int(attrs.get("to", 0)) in INTEGER_TYPES:
        values = [v if math.isnan(v) else float(math.trunc(v)) for v in values]
    return values, [len(values)] if len(values) != 1 or inputs[0][1] else []


def _unsqueeze(inputs: Any, attrs: dict[str, Any], integer: bool) -> tuple[Values, list[int]] | None:
    values, dims = inputs[0]
    return (values, [1]) if not dims else (values, [*dims, 1]) if len(dims) == 1 else None


def _squeeze(inputs: Any, attrs: dict[str, Any], integer: bool) -> tuple[Values, list[int]] | None:
    values, dims = inputs[0]
    return (values, []) if dims == [1] else None


def _concat(inputs: Any, attrs: dict[str, Any], integer: bool) -> tuple[Values, list[int]] | None:
    if any(v is None or len(d) != 1 for v, d in inputs) or int(attrs.get("axis", 0)) not in (0, -1):
        return None
    values = [x for v, _ in inputs for x in v]
    return values, [len(values)]


def _slice(inputs: Any, attrs: dict[str, Any], integer: bool) -> tuple[Values, list[int]] | None:
    (data, dims), starts, ends = inputs[0], _known(inputs, 1), _known(inputs, 2)
    axes, steps = _known(inputs, 3), _known(inputs, 4)
    if starts is None or ends is None or len(dims) != 1 or len(starts) != 1 or len(ends) != 1 \
            or (axes is not None and axes != [0.0]) or (steps is not None and steps != [1.0]):
        return None
    start, end = bounds(starts[0], ends[0], len(data))
    return data[start:end], [max(end - start, 0)]


def bounds(start: float, end: float, size: int) -> tuple[int, int]:
    """A Slice's start and end on an axis of `size`, as ONNX clamps them (step 1); an
    infinite bound (a float tensor, or size arithmetic that overflowed) clamps too."""
    s, e = int(max(min(start, 2**62), -2**62)), int(max(min(end, 2**62), -2**62))  # INT64_MAX, inf
    s, e = s + size if s < 0 else s, e + size if e < 0 else e
    return min(max(s, 0), size), min(max(e, 0), size)


OPS: dict[str, Any] = {"Gather": _gather, "Add": _binary("Add"), "Sub": _binary("Sub"),
                       "Mul": _binary("Mul"), "Div": _binary("Div"), "Cast": _same,
                       "Unsqueeze": _unsqueeze, "Squeeze": _squeeze, "Concat": _concat, "Slice": _slice}


def integral(values: Sequence[float] | None) -> list[int] | None:
    """Values as ints (an axis, a Reshape's target), or None where one is not a finite
    number (NaN for a dynamic batch, an infinity): not a size this reading can use."""
    if values is None or not all(math.isfinite(v) for v in values):
        return None
    return [int(v) for v in values]
