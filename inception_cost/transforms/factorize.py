"""Factorisation as a graph transformation (Rethinking the Inception Architecture, sec. 3).

Rules, applied to stride-1 convolutions of a network or of one part of it (a module,
a branch, one layer):
- `5x5-to-3x3`: a 5x5 conv becomes two stacked 3x3 convs with the same filters
  (18/25 of the MACs when input and output widths are equal);
- `nxn-to-1xn`: an n x n conv (n >= 3) becomes a 1 x n conv then an n x 1 conv with the
  same filters (2/n of the MACs when input and output widths are equal).
Each new conv keeps the original's bias, batch norm and activation; padding is split so
that the output size is unchanged. Strided convolutions are left alone.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping

from inception_cost.core.kinds import CANONICAL
from inception_cost.core.shapes import Padding, Shape
from inception_cost.graph.nodes import Item, Layer, Module, Network, map_items

# the lone layer's bounds (`factorize` without a network): kernel, channels and size
LONE_KERNELS = (2, 15)
LONE_MAX = 1 << 20


class Rule(str, enum.Enum):
    FIVE_TO_THREE = "5x5-to-3x3"
    N_TO_1XN = "nxn-to-1xn"

    @property
    def rewrites(self) -> str:
        """What the rule applies to, for a report that rewrote nothing."""
        return {"5x5-to-3x3": "stride-1 5x5 convolution",
                "nxn-to-1xn": "stride-1 n x n convolution (n >= 3)"}[self.value]

    def __str__(self) -> str:
        return self.value


# What the analysis of the network saw of each layer, by identity: its input shape and
# its path segment. A layer whose arguments name its input (`groups: depthwise`,
# `$in_channels`) is resolved with that shape; every layer keeps its segment, so the
# parts after a rewritten conv keep their paths and are matched before and after.
Seen = Mapping[int, tuple[Shape, str]]


def factorize_layer(layer: Layer, rule: Rule, input_shape: Shape | None = None) -> list[Layer] | None:
    """The replacement layers, or None when the rule does not apply to this layer."""
    if not CANONICAL[layer.kind].factorizable:
        return None
    if layer.resolve is not None:
        if input_shape is None:
            return None  # not analysed (an auxiliary head outside training): left as written
        # a factorisation keeps every shape, so the arguments at this input stay right
        args, name = layer.resolve(input_shape)
        layer = Layer(kind=layer.kind, name=name, line=layer.line, args=args, given_name=layer.given_name)
    a = layer.args
    kh, kw = a["kernel"]
    if a["stride"] != (1, 1) or kh != kw:
        return None
    pad = a["padding"]
    explicit = not isinstance(pad, str)
    if explicit and not all(isinstance(p, int) for p in pad):
        return None  # a padding that differs before and after: left as written
    if rule is Rule.FIVE_TO_THREE and kh == 5:
        # explicit padding p (2 keeps the size) is shared: p - p//2 then p//2
        first = (pad[0] - pad[0] // 2, pad[1] - pad[1] // 2) if explicit else pad
        second = (pad[0] // 2, pad[1] // 2) if explicit else pad
        return [_conv(layer, (3, 3), first, "a"), _conv(layer, (3, 3), second, "b")]
    if rule is Rule.N_TO_1XN and kh >= 3:
        # the 1 x n conv pads the width only, the n x 1 conv the height only
        first = (0, pad[1]) if explicit else pad
        second = (pad[0], 0) if explicit else pad
        return [_conv(layer, (1, kh), first, "a"), _conv(layer, (kh, 1), second, "b")]
    return None


def _conv(layer: Layer, kernel: tuple[int, int], padding: Padding, suffix: str) -> Layer:
    args = dict(layer.args, kernel=kernel, padding=padding)
    name = f"{layer.name} ({kernel[0]}x{kernel[1]} {suffix})"
    given = f"{layer.given_name}_{suffix}" if layer.given_name else None
    return Layer(kind=layer.kind, name=name, line=layer.line, args=args, given_name=given)


def factorize_items(items: list[Item], rule: Rule, seen: Seen | None = None,
                    only: Collection[int] | None = None) -> tuple[list[Item], int]:
    """(new items, number of convolutions rewritten), inside every structure; with `only`
    (ids of Layer items), only those layers are rewritten."""
    count = 0

    def change(item: Item) -> list[Item] | None:
        nonlocal count
        if not isinstance(item, Layer):
            return None
        chosen = only is None or id(item) in only
        shape, segment = seen.get(id(item), (None, None)) if seen is not None else (None, None)
        if segment is not None and item.given_name is None:
            item = item.replace(given_name=segment)  # its path, pinned, rewritten or not
        new = factorize_layer(item, rule, shape) if chosen else None
        if new is None:
            return [item]
        count += 1
        return list(new)

    return map_items(items, change), count


def factorize_network(network: Network, rule: Rule, only: Collection[int] | None = None,
                      seen: Seen | None = None) -> tuple[Network, int]:
    """(the rewritten network, how many convolutions were rewritten); with `only` (the ids of
    some of its Layer items: the layers of a module, a branch, or one layer), only those.
    Every layer analysed keeps its path (`seen`), so parts after a rewrite still match."""
    items, count = factorize_items(network.items, rule, seen, only)
    return network.replace(items=items, title=f"{network.title} ({rule.value})"), count


def lone_name(kernel: int) -> str:
    """The name of the lone layer's module (its row in `factorize`): `5x5`."""
    return f"{kernel}x{kernel}"


def lone_layer(rule: Rule, kernel: int, channels: int, size: int) -> Network:
    """One C -> C convolution with same padding: where the textbook ratios hold exactly."""
    args = dict(filters=channels, kernel=(kernel, kernel), stride=(1, 1), padding="same",
                groups=1, bias=False, batch_norm=False, activation=None)
    layer = Layer(kind="conv", name=f"conv {kernel}x{kernel}", line=0, args=args)
    # the conv alone in a module named after its window: a one-branch concat here would
    # add a copy that one conv does not run (and time it)
    module = Module(name=lone_name(kernel), label=f"conv {kernel}x{kernel}", line=0, items=[layer])
    return Network(name=f"lone {kernel}x{kernel}", input_shape=(size, size, channels), items=[module],
                   file="<lone layer>", title=f"one {kernel}x{kernel} conv, {channels} -> {channels}")
