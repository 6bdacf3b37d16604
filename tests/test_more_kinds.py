"""Dilation, separable convolutions, the identity (a kind, and `[]` as a concat branch),
more activations, and the input's order. Figures worked out by hand from the formulas
PyTorch (Conv2d, MaxPool2d with dilation) and Keras (SeparableConv2D) document."""

from __future__ import annotations

import pytest
from conftest import net

from inception_cost.errors import ArchitectureError


def test_a_dilated_conv_spans_more_input_but_costs_the_same_macs():
    a = net("input: 32x32x16\nlayers:\n  - conv: {filters: 8, kernel: 3, dilation: 2, padding: 0}\n")
    # PyTorch: floor((32 + 0 - 2 * (3 - 1) - 1) / 1) + 1 = 28
    assert a.root.out_shape == (28, 28, 8)
    assert a.root.macs == 9 * 16 * 8 * 28 * 28 == 903_168
    same = net("input: 32x32x16\nlayers:\n  - conv: {filters: 8, kernel: 3, dilation: 2, padding: same}\n")
    assert same.root.out_shape == (32, 32, 8)  # `same` keeps the size at stride 1
    assert "d2" in same.root.layers()[0].description


def test_a_dilated_max_pool():
    a = net("input: 10x10x4\nlayers:\n  - max_pool: {kernel: 3, stride: 1, dilation: 2}\n")
    assert a.root.out_shape == (6, 6, 4)  # 10 - 2 * (3 - 1) = 6


def test_separable_conv_as_keras_builds_it():
    a = net("input: 16x16x8\nlayers:\n  - separable_conv: {filters: 32, kernel: 3, depth_multiplier: 2}\n")
    # Keras SeparableConv2D: depthwise 3*3*8*2 + pointwise 8*2*32 + bias 32 = 688
    assert (a.root.weights, a.root.biases, a.root.params) == (144 + 512, 32, 688)
    # MACs: depthwise 3*3*(8*2)*16*16 + pointwise (8*2)*32*16*16
    assert a.root.macs == 9 * 16 * 256 + 16 * 32 * 256 == 167_936
    assert a.root.depth == 1 and a.root.out_shape == (16, 16, 32)


def test_identity_kind_and_identity_branches():
    a = net("input: 8x8x3\nlayers:\n  - module:\n      name: dense\n      layers:\n"
            "        - concat: {keep: [], new: [{conv: {filters: 4, kernel: 3}}]}\n  - identity\n")
    assert a.root.out_shape == (8, 8, 7)  # 3 kept + 4 new channels
    module = a.root.find("dense")
    assert module is not None and module.macs == 9 * 3 * 4 * 64
    from inception_cost.reports.common import chain, module_parts

    assert [chain(p) for p in module_parts(module)] == ["identity", "conv 3x3 4"]


@pytest.mark.parametrize("function", ["hard_sigmoid", "hard_swish", "silu"])
def test_more_activations(function):
    a = net(f"input: 4x4x2\nlayers:\n  - activation: {{function: {function}}}\n"
            f"  - conv: {{filters: 2, kernel: 1, activation: {function}}}\n")
    assert a.root.out_shape == (4, 4, 2)


def test_channels_first_input_is_refused_with_the_fix():
    with pytest.raises(ArchitectureError, match=r"'input' 3x224x224 looks like channels first.*write 224x224x3"):
        net("input: 3x224x224\nlayers: [relu]\n")
    a = net("input: {height: 224, width: 224, channels: 3}\nlayers: [relu]\n")
    assert a.root.out_shape == (224, 224, 3)
    assert net("input: 4x8x8\nlayers: [relu]\n").root.out_shape == (4, 8, 8)  # 8 < 16: a real 4x8 map
