"""Block arithmetic: integer expressions of block arguments, the layer's input
(`$in_channels`, `$in_height`, `$in_width`), `groups: depthwise`, optional items
(`when:`) and `{i}` numbering across repeats with a chosen `start`."""

from __future__ import annotations

import re

import pytest
from conftest import net

from inception_cost.core.analysis import analyse
from inception_cost.errors import ArchitectureError
from inception_cost.source.document import parse_text
from inception_cost.transforms import sweep

INVERTED_RESIDUAL = """
input: 56x56x24
defaults:
  conv: {bias: false, batch_norm: true}
blocks:
  inverted:
    args: {t: 6, out: 24, stride: 1}
    layers:
      - {conv: {name: expand, filters: "$in_channels * $t", kernel: 1, activation: relu6}, when: "$t - 1"}
      - conv: {name: depthwise, filters: $in_channels, kernel: 3, stride: $stride, padding: 1, groups: depthwise,
               activation: relu6}
      - conv: {name: project, filters: $out, kernel: 1}
layers:
  - module: {name: "block{i}", use: inverted, with: {t: 6, out: 24}, repeat: 2, start: 0}
  - module: {name: "block{i}", use: inverted, with: {t: 1, out: 32, stride: 2}}
"""


def test_expressions_the_input_and_depthwise_groups():
    a = net(INVERTED_RESIDUAL)
    block0 = a.root.find("block0")
    assert block0 is not None
    expand, depthwise, project = block0.layers()
    assert (expand.out_shape[2], expand.args["kernel"]) == (144, (1, 1))  # 24 * 6
    assert depthwise.args["groups"] == 144 and depthwise.description == "conv 3x3 144 g144"
    assert project.out_shape == (56, 56, 24)
    # torchvision InvertedResidual(24, 24, 1, 6): 24*144 + 9*144 + 144*24 weights, batch norm on each
    assert block0.params == 24 * 144 + 2 * 144 + 9 * 144 + 2 * 144 + 144 * 24 + 2 * 24 == 8_832
    assert block0.macs == (24 * 144 + 9 * 144 + 144 * 24) * 56 * 56


def test_when_leaves_an_item_out_and_i_counts_on_from_start():
    a = net(INVERTED_RESIDUAL)
    assert [c.path for c in a.root.children] == ["block0", "block1", "block2"]
    last = a.root.find("block2")
    assert last is not None and [n.name for n in last.layers()] == ["depthwise", "project"]  # t = 1
    assert last.out_shape == (28, 28, 32)


@pytest.mark.parametrize("text,fragment", [
    ("input: 8x8x4\nlayers:\n  - conv: {filters: \"$in_channels // 0\", kernel: 1}\n", "division by zero"),
    ("input: 8x8x4\nblocks: {b: {args: [c], layers: [{conv: {filters: \"$c * $d\", kernel: 1}}]}}\n"
     "layers:\n  - module: {name: x, use: b, with: {c: 2}}\n", "unknown block argument '$d'"),
    ("input: 8x8x4\nlayers:\n  - {relu: {}, when: maybe}\n", "'when' needs true, false or a whole number"),
    # found by fuzzing: an argument that is no number, in an expression that names the input
    ("input: 8x8x4\nblocks: {b: {args: [t], layers: [{conv: {filters: \"$in_channels * $t\", kernel: 1}}]}}\n"
     "layers:\n  - module: {name: x, use: b, with: {t: six}}\n", "arithmetic needs whole numbers, got str 'six'"),
    # found by an outside user: what cannot be read as arithmetic says what can
    ("input: 8x8x4\nblocks: {b: {args: [f], layers: [{conv: {filters: \"$f / 2\", kernel: 1}}]}}\n"
     "layers:\n  - module: {name: x, use: b, with: {f: 8}}\n",
     "cannot read '$f / 2' as arithmetic (whole numbers, $names, + - * // and parentheses; '/' is written '//')"),
    ("input: 8x8x4\nlayers:\n  - conv: {filters: \"$in_channels * \", kernel: 1}\n",
     "cannot read '$in_channels * ' as arithmetic"),
    ("input: 8x8x4\nlayers:\n  - conv: {filters: \"(4 + 1\", kernel: 1}\n", "cannot read '(4 + 1' as arithmetic"),
    ("input: 8x8x4\nblocks: {b: {args: [e], layers: [{when: \"$e - $in_channels\", relu: {}}]}}\n"
     "layers:\n  - module: {name: x, use: b, with: {e: 3}}\n",
     "'when' cannot use '$e - $in_channels': it is decided when the block is expanded"),
])
def test_expression_errors_name_the_line(text, fragment):
    with pytest.raises(ArchitectureError, match=re.escape(fragment)) as info:
        net(text)
    assert info.value.line and "\n" not in str(info.value)


def test_a_width_used_in_an_expression_is_swept_exactly():
    a = analyse(parse_text(INVERTED_RESIDUAL, "m.yaml"))
    result = sweep.run(a, "block0", [sweep.Axis("t", [1, 2, 6])])
    assert result.method == "rebuilt"  # `when: $t - 1` decides: not affine
    six = result.values(2) == {"t": 6} and result.macs[2]
    assert six == a.root.find("block0").macs  # type: ignore[union-attr]
    widths = sweep.run(a, "block1", [sweep.Axis("out", [16, 24])])
    assert widths.method == "rebuilt"  # block2's `$in_channels * $t` follows block1's output
    edited = INVERTED_RESIDUAL.replace('with: {t: 6, out: 24}, repeat: 2, start: 0}',
                                       'with: {t: 6, out: 24}}\n  - module: {name: block1, use: inverted,'
                                       ' with: {t: 6, out: 16}}').replace('"block{i}", use: inverted, with: {t: 6',
                                                                          'block0, use: inverted, with: {t: 6', 1)
    b = analyse(parse_text(edited.replace('"block{i}", use: inverted, with: {t: 1',
                                          'block2, use: inverted, with: {t: 1'), "m.yaml"))
    assert widths.network_macs[0] == b.root.macs


def test_numbers_alone_and_input_expressions_passed_through_with():
    text = ("input: 8x8x16\nblocks:\n  b:\n    args: [sq]\n    layers:\n"
            "      - conv: {filters: \"$sq * 4 + 2 * 3\", kernel: 1}\n"
            "layers:\n  - conv: {filters: \"4 * 2\", kernel: 1}\n"
            "  - module: {name: x, use: b, with: {sq: \"$in_channels // 4\"}}\n")
    a = net(text)
    # 4 * 2 = 8 filters; then $in_channels (8, where the conv that uses it reads) // 4 * 4 + 6 = 14
    assert [n.out_shape[2] for n in a.root.layers()] == [8, 14]
