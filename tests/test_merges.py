"""Merges: `add` (parallel paths summed, `[]` the identity) and `gate` (input x body,
broadcast from 1 x 1 x C). Figures from the layers' formulas; the bottleneck is the
first block of torchvision's ResNet-50 (layer1[0], 75,008 parameters)."""

from __future__ import annotations

import pytest
from conftest import net

from inception_cost.core import conventions
from inception_cost.core.analysis import analyse
from inception_cost.errors import ShapeError
from inception_cost.reports.common import chain, module_parts
from inception_cost.source.document import parse_text

BOTTLENECK = """
input: 56x56x64
defaults:
  conv: {bias: false, batch_norm: true}
layers:
  - module:
      name: layer1_0
      layers:
        - add:
            body:
              - conv: {filters: 64, kernel: 1, activation: relu}
              - conv: {filters: 64, kernel: 3, activation: relu}
              - conv: {filters: 256, kernel: 1}
            shortcut:
              - conv: {filters: 256, kernel: 1}
        - relu
"""


def test_a_projection_shortcut_is_an_add_of_two_paths():
    a = net(BOTTLENECK)
    block = a.root.find("layer1_0")
    assert block is not None and block.out_shape == (56, 56, 256)
    assert block.params == 75_008  # torchvision resnet50().layer1[0]
    assert block.macs == (64 * 64 + 9 * 64 * 64 + 64 * 256 + 64 * 256) * 56 * 56 == 231_211_008
    assert [p.path for p in module_parts(block)] == ["layer1_0/body", "layer1_0/shortcut", "layer1_0/relu_1"]
    assert chain(block).startswith("(conv 1x1 64 -> conv 3x3 64 -> conv 1x1 256 + conv 1x1 256)")


def test_an_identity_path_and_the_additions_counted():
    text = ("input: 8x8x16\nlayers:\n  - add: {body: [{conv: {filters: 16, kernel: 3}}], same: [],"
            " again: []}\n")
    a = net(text)
    assert a.root.out_shape == (8, 8, 16)
    assert a.term_totals()["add_out"] == 2 * 8 * 8 * 16  # three summands: two additions per element
    assert a.root.macs == 9 * 16 * 16 * 64  # no preset counts the additions (as the tools)
    for name in conventions.PRESETS:
        assert analyse(parse_text(text, "t.yaml"), convention=conventions.get(name)).root.macs >= a.root.macs


def test_paths_of_an_add_must_agree():
    with pytest.raises(ShapeError, match=r"add needs 8x8x16, got 8x8x8 \(path body gives 8x8x16\)"):
        net("input: 8x8x16\nlayers:\n  - add: {body: [{conv: {filters: 16, kernel: 3}}],"
            " skip: [{conv: {filters: 8, kernel: 1}}]}\n")


SQUEEZE_EXCITE = """
input: 112x112x32
layers:
  - gate:
      - adaptive_avg_pool: {output: 1}
      - conv: {filters: 8, kernel: 1, activation: silu}
      - conv: {filters: 32, kernel: 1, activation: sigmoid}
"""


def test_a_squeeze_and_excitation_gate():
    a = net(SQUEEZE_EXCITE)
    assert a.root.out_shape == (112, 112, 32)
    # torchvision SqueezeExcitation(32, 8): fc1 32*8 + 8, fc2 8*32 + 32
    assert a.root.params == 32 * 8 + 8 + 8 * 32 + 32 == 552
    assert a.root.macs == 32 * 8 + 8 * 32
    assert a.term_totals()["mul_out"] == 112 * 112 * 32


def test_a_gate_must_give_the_input_shape_or_one_value_per_channel():
    with pytest.raises(ShapeError, match="gate needs 8x8x4 or 1x1x4 from its body, got 1x1x2"):
        net("input: 8x8x4\nlayers:\n  - gate: [{global_avg_pool: {}}, {conv: {filters: 2, kernel: 1}}]\n")


def test_memory_and_roofline_see_the_adds():
    from inception_cost.estimates.memory import Dtype, layer_memory

    a = net(BOTTLENECK)
    adds = [m for m in layer_memory(a, Dtype.FP16, 1) if m.node.kind == "elementwise_add"]
    assert len(adds) == 1 and adds[0].bytes_moved == 3 * 56 * 56 * 256 * 2  # two read, one written


def test_a_gate_reads_its_input_and_a_scale_per_channel():
    from inception_cost.estimates.memory import Dtype, layer_memory

    def multiply_bytes(text: str) -> int:
        rows = [m for m in layer_memory(net(text), Dtype.FP32, 1) if m.node.kind == "elementwise_mul"]
        return rows[0].bytes_moved

    squeeze = ("input: 8x8x16\nlayers:\n  - gate: [global_avg_pool, {conv: {filters: 16, kernel: 1}},"
               " {activation: {function: sigmoid}}]\n")
    # input 8*8*16 and the 1x1x16 scale read, 8*8*16 written, 4 bytes each
    assert multiply_bytes(squeeze) == (1024 + 16 + 1024) * 4 == 8_256
    full = "input: 8x8x16\nlayers:\n  - gate: [{conv: {filters: 16, kernel: 1}}, {activation: {function: sigmoid}}]\n"
    assert multiply_bytes(full) == 3 * 1024 * 4  # a full-size scale: two tensors read
