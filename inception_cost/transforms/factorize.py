"""Factorisation as a graph transformation (Rethinking the Inception Architecture, sec. 3).

Rules, applied to stride-1 convolutions of a network or of one module:
- `5x5-to-3x3`: a 5x5 conv becomes two stacked 3x3 convs with the same filters
  (18/25 of the MACs when input and output widths are equal);
- `nxn-to-1xn`: an n x n conv (n >= 3) becomes a 1 x n conv then an n x 1 conv with the
  same filters (2/n of the MACs when input and output widths are equal).
Each new conv keeps the original's bias, batch norm and activation; padding is split so
that the output size is unchanged. Strided convolutions are left alone.
"""

from __future__ import annotations

import enum
from dataclasses import replace

from inception_cost.graph.nodes import Auxiliary, Branch, Concat, Layer, Module, Network, Residual


class Rule(str, enum.Enum):
    FIVE_TO_THREE = "5x5-to-3x3"
    N_TO_1XN = "nxn-to-1xn"


def factorize_layer(layer: Layer, rule: Rule) -> list | None:
    """The replacement layers, or None when the rule does not apply to this layer."""
    if layer.kind != "conv":
        return None
    a = layer.args
    kh, kw = a["kernel"]
    if a["stride"] != (1, 1) or kh != kw:
        return None
    pad = a["padding"]
    explicit = not isinstance(pad, str)
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


def _conv(layer: Layer, kernel, padding, suffix: str) -> Layer:
    args = dict(layer.args, kernel=kernel, padding=padding)
    name = f"{layer.name} ({kernel[0]}x{kernel[1]} {suffix})"
    return Layer(kind="conv", name=name, line=layer.line, args=args)


def factorize_items(items: list, rule: Rule, only_module: str | None = None,
                    inside: bool = False) -> tuple:
    """(new items, number of convolutions rewritten)."""
    result, count = [], 0
    for item in items:
        if isinstance(item, Layer):
            new = factorize_layer(item, rule) if (inside or only_module is None) else None
            result.extend(new or [item])
            count += bool(new)
        elif isinstance(item, Module):
            chosen = inside or only_module is None or only_module.lower() in (
                item.name.lower(), (item.label or "").lower())
            new_items, n = factorize_items(item.items, rule, only_module, chosen)
            result.append(replace(item, items=new_items))
            count += n
        elif isinstance(item, Concat):
            branches = []
            for branch in item.branches:
                new_items, n = factorize_items(branch.items, rule, only_module, inside)
                branches.append(Branch(name=branch.name, line=branch.line, items=new_items))
                count += n
            result.append(replace(item, branches=branches))
        elif isinstance(item, Residual):
            new_items, n = factorize_items(item.body, rule, only_module, inside)
            result.append(replace(item, body=new_items))
            count += n
        elif isinstance(item, Auxiliary):
            new_items, n = factorize_items(item.items, rule, only_module, inside)
            result.append(replace(item, items=new_items))
            count += n
        else:
            result.append(item)
    return result, count


def factorize_network(network: Network, rule: Rule, module: str | None = None) -> tuple:
    """(the rewritten network, how many convolutions were rewritten)."""
    items, count = factorize_items(network.items, rule, module)
    return replace(network, items=items, title=f"{network.title} ({rule.value})"), count


def lone_layer(rule: Rule, kernel: int, channels: int, size: int) -> Network:
    """One C -> C convolution with same padding: where the textbook ratios hold exactly."""
    args = dict(filters=channels, kernel=(kernel, kernel), stride=(1, 1), padding="same",
                groups=1, bias=False, batch_norm=False, activation=None)
    layer = Layer(kind="conv", name=f"conv {kernel}x{kernel}", line=0, args=args)
    module = Module(name="layer", label=f"conv {kernel}x{kernel}", line=0,
                    items=[Concat(branches=[Branch(name=f"{kernel}x{kernel}", line=0, items=[layer])],
                                  line=0)])
    return Network(name=f"lone {kernel}x{kernel}", input_shape=(size, size, channels), items=[module],
                   file="<lone layer>", title=f"one {kernel}x{kernel} conv, {channels} -> {channels}")
