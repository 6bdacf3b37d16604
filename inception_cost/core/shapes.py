"""Shape arithmetic: sliding windows and what a layer's output size is."""

from __future__ import annotations

from typing import Any

from inception_cost.errors import ShapeError

MAX_SIZE = 1 << 20  # no image side, channel count or kernel may exceed this, given or derived
Shape = tuple[int, int, int]  # (height, width, channels)
Pair = tuple[int, int]
# 'same', 'valid' or explicit (height, width) padding: each axis p on both sides, or
# (before, after) where they differ
Side = int | tuple[int, int]
Padding = str | tuple[Side, Side]
AxisPadding = str | tuple[int, int]  # 'same', 'valid' or (before, after)


def format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in shape)


def window_out(size: int, kernel: int, stride: int, pad: AxisPadding, *,
               ceil: bool = False) -> int | None:
    """Output length of a sliding window; None if the kernel does not fit.

    pad is 'same' (TensorFlow's rule: ceil(size / stride)), 'valid' or (before, after).
    With ceil rounding the last window must start inside the input or its left
    padding (PyTorch's and Caffe's rule).
    """
    if pad == "same":
        return -(-size // stride)
    before, after = (0, 0) if isinstance(pad, str) else pad
    span = size + before + after - kernel
    if span < 0:
        return None
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= size + before:
        out -= 1
    return out


def _axis_pad(pad: Padding, axis: int) -> AxisPadding:
    if isinstance(pad, str):
        return pad
    p = pad[axis]
    return p if isinstance(p, tuple) else (p, p)


def pad_text(pad: Padding) -> str:
    if isinstance(pad, str):
        return pad
    return "x".join(str(p) if isinstance(p, int) else f"{p[0]}+{p[1]}" for p in pad)


def spatial_out(a: dict[str, Any], shape: Shape, path: str) -> Pair:
    """(height, width) after a window layer with kernel, stride, padding, dilation and
    rounding; a dilated kernel spans dilation * (k - 1) + 1 inputs."""
    h, w, _ = shape
    kh, kw = a["kernel"]
    sh, sw = a["stride"]
    dh, dw = a.get("dilation", (1, 1))
    pad = a["padding"]
    ceil = a.get("rounding") == "ceil"
    ho = window_out(h, _span(kh, dh), sh, _axis_pad(pad, 0), ceil=ceil)
    wo = window_out(w, _span(kw, dw), sw, _axis_pad(pad, 1), ceil=ceil)
    if ho is None or wo is None or ho < 1 or wo < 1:
        dilated = f", dilation {dh}x{dw}" if (dh, dw) != (1, 1) else ""
        raise ShapeError(f"kernel {kh}x{kw} does not fit its {h}x{w} input"
                         f" (padding {pad_text(pad)}{dilated})", path=path)
    return ho, wo


def _span(kernel: int, dilation: int) -> int:
    """How many inputs a dilated kernel spans (the kernel itself when not dilated)."""
    return kernel if dilation == 1 else dilation * (kernel - 1) + 1
