"""ONNX operators that move channels without arithmetic, as exporters write ShuffleNetV2:

- `Split` of the channel axis into equal parts (torch's dynamo exporter's x.chunk(2,
  dim=1)), or a `Slice` of one equal part of the channels (the legacy exporter's, its
  bounds computed from the input's Shape): one `channel_split: {part, parts}` layer per
  part read, a view;
- the channel shuffle, Reshape to (N, g, C/g, H, W) -> Transpose (0, 2, 1, 3, 4) ->
  Reshape back to (N, C, H, W): one `channel_shuffle: {groups: g}` layer. A 5-D tensor is
  read only on that path; anything else that reads it is refused in one line.
"""

from __future__ import annotations

import math
from typing import Any

from inception_cost.importers.onnx_arith import bounds, integral
from inception_cost.importers.onnx_state import Reader

SHUFFLE_PERM = [0, 2, 1, 3, 4]
SHUFFLE_OPS = ("Transpose", "Reshape")
SHUFFLE = "a 5-D tensor is read only as ShuffleNet's channel shuffle: Reshape to (N, groups, C/groups, H, W)," \
    " Transpose (0, 2, 1, 3, 4), Reshape back to (N, C, H, W)"


def _channel_axis(reader: Reader, node: Any, axis: int) -> bool:
    rank = reader.rank.get(node.input[0], 4)
    return rank in (2, 4) and axis in (1, 1 - rank)


def _name(reader: Reader, node: Any, what: str) -> str:
    """A new layer's name in the node's scope: '/stage2/stage2.1/Slice' -> '/stage2/stage2.1/split2'."""
    name = reader.name(node)
    return f"{name.rsplit('/', 1)[0]}/{what}" if "/" in name else f"{name}_{what}"


def _shown(size: float) -> int | float:
    return int(size) if math.isfinite(size) else size


def _part(reader: Reader, node: Any, tensor: str, part: int, parts: int, source: int) -> None:
    op = reader.graph.layer(_name(reader, node, f"split{part}" if parts == 2 else f"split{part}of{parts}"),
                            "channel_split", {"part": part, "parts": parts}, source, node.op_type)
    reader.data[tensor] = op
    reader.rank[tensor] = reader.rank.get(node.input[0], 4)


def split(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    if not _channel_axis(reader, node, int(attrs.get("axis", 0))):
        raise reader.fail(node, "'Split' is read only along channels (axis 1)")
    source = reader.source(node)
    channels = reader.shape(node)[2]
    outputs = list(node.output)
    sizes = attrs.get("split", reader.constant(node, 1) if len(node.input) > 1 and node.input[1] else None)
    if sizes is None and len(node.input) > 1 and node.input[1]:
        raise reader.fail(node, "'Split' sizes computed at run time are not read")
    parts = len(outputs)
    if not parts:
        raise reader.fail(node, "'Split' with no outputs is not read")
    if sizes is not None and (len(sizes) != parts or any(s != sizes[0] for s in sizes)
                              or sum(sizes) != channels):
        raise reader.fail(node, f"'Split' of {channels} channels into {[_shown(s) for s in sizes]} is read only"
                                " as equal parts (x.chunk)")
    if sizes is None and channels % parts:
        raise reader.fail(node, f"'Split' of {channels} channels into {parts} outputs needs equal parts")
    for i, tensor in enumerate(outputs):
        if tensor:
            _part(reader, node, tensor, i + 1, parts, source)


def slice_(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    starts, ends = reader.constant(node, 1), reader.constant(node, 2)
    axes, steps = reader.constant(node, 3), reader.constant(node, 4)
    if starts is None or ends is None or any(math.isnan(v) for v in (*starts, *ends)) \
            or (len(node.input) > 3 and node.input[3] and axes is None) \
            or (len(node.input) > 4 and node.input[4] and steps is None):
        raise reader.fail(node, "'Slice' bounds must be constants, or sizes computed from the input's Shape")
    axis = integral((axes or [0.0])[:1])
    if len(starts) != 1 or len(ends) != 1 or axis is None or not _channel_axis(reader, node, axis[0]):
        raise reader.fail(node, "'Slice' is read only along channels (axis 1), as one of equal parts (x.chunk)")
    if steps not in (None, [1.0]):
        raise reader.fail(node, "'Slice' is read only with step 1")
    channels = reader.shape(node)[2]
    start, end = bounds(starts[0], ends[0], channels)
    width = end - start
    if width == channels:
        reader.alias(node)
        return
    if width <= 0 or channels % width or start % width:
        raise reader.fail(node, f"'Slice' of channels {start}:{end} of {channels} is read only as one of equal"
                                " parts (x.chunk)")
    _part(reader, node, node.output[0], start // width + 1, channels // width, reader.source(node))


def _target(reader: Reader, node: Any, given: list[int]) -> list[int] | None:
    """A Reshape's target, as the file declares it (shape inference) or as its constant
    says (0 copies the input's size, one -1 takes the rest); the batch is left as is."""
    declared = reader.declared.get(node.output[0])
    if declared is not None and all(isinstance(d, int) for d in declared[1:]):
        return [int(d) for d in declared[1:]]
    values = reader.constant(node, 1)
    target = integral(values[1:]) if values is not None else None
    if target is None:
        return None
    allow_zero = int(next((a.i for a in node.attribute if a.name == "allowzero"), 0))
    if not allow_zero:
        target = [given[i] if d == 0 and i < len(given) else d for i, d in enumerate(target)]
    if target.count(-1) == 1:
        known = math.prod(d for d in target if d != -1)
        target[target.index(-1)] = math.prod(given) // known if known else -1
    return target


def reshape(reader: Reader, node: Any) -> None:
    """A Reshape to 5-D (a channel shuffle begins) or of a shuffle's transposed 5-D tensor
    (it ends); anything else 5-D is refused."""
    h, w, c = reader.shape(node)
    tensor = node.input[0]
    if tensor not in reader.grouped:
        target = _target(reader, node, [c, h, w])
        if target is None or len(target) != 4 or target[0] * target[1] != c or target[2:] != [h, w]:
            shown = "x".join(str(d) for d in target) if target else "a shape computed at run time"
            raise reader.fail(node, f"'Reshape' of {c}x{h}x{w} to {shown}: {SHUFFLE}")
        reader.put(node, reader.source(node), 5)
        reader.grouped[node.output[0]] = (target[0], False, reader.name(node))
        return
    groups, transposed, first = reader.grouped[tensor]
    target = _target(reader, node, [c // groups, groups, h, w])
    if not transposed or target != [c, h, w]:
        shown = "x".join(str(d) for d in target) if target else "a shape computed at run time"
        raise reader.fail(node, f"'Reshape' of a 5-D tensor to {shown}: {SHUFFLE}")
    op = reader.graph.layer(_name(reader, node, "channel_shuffle") if "/" in first else first,
                            "channel_shuffle", {"groups": groups}, reader.data[tensor], "Reshape")
    reader.put(node, op, 4)


def transpose(reader: Reader, node: Any, attrs: dict[str, Any]) -> None:
    """The middle of a channel shuffle; a Transpose of anything else is an operator not read."""
    tensor = node.input[0]
    if tensor not in reader.grouped:
        reader.unknown(node)
        return
    groups, transposed, first = reader.grouped[tensor]
    if transposed or [int(p) for p in attrs.get("perm", [])] != SHUFFLE_PERM:
        raise reader.fail(node, f"'Transpose' of a 5-D tensor by {list(attrs.get('perm', []))}: {SHUFFLE}")
    reader.put(node, reader.data[tensor], 5)
    reader.grouped[node.output[0]] = (groups, True, first)


def refuse_grouped(reader: Reader, node: Any, data: list[str]) -> None:
    """A node other than the shuffle's Transpose and Reshape that reads its 5-D tensor."""
    if node.op_type not in SHUFFLE_OPS and any(t in reader.grouped for t in data):
        raise reader.fail(node, f"'{node.op_type}' reads a 5-D tensor: {SHUFFLE}")
