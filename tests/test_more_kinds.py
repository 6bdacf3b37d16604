"""Dilation, separable convolutions, the identity (a kind, and `[]` as a concat branch),
more activations, and the input's order. Figures worked out by hand from the formulas
PyTorch (Conv2d, MaxPool2d with dilation) and Keras (SeparableConv2D) document."""

from __future__ import annotations

import pytest
from conftest import net

from inception_cost import api
from inception_cost.errors import ArchitectureError, ShapeError
from inception_cost.source.document import parse_text


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


MNASNET = """
name: mnasnet1_0
input: 224x224x3
defaults:
  conv: {bias: false, batch_norm: true, padding: 0}
blocks:
  ir:
    args: [mid, out, k, s]
    layers:
      - conv: {filters: $mid, kernel: 1, activation: relu}
      - conv: {filters: $mid, kernel: $k, stride: $s, padding: "$k // 2", groups: depthwise, activation: relu}
      - conv: {filters: $out, kernel: 1}
  res:
    args: [mid, out, k]
    layers:
      - residual: {layers: [{module: {name: ir, use: ir, with: {mid: $mid, out: $out, k: $k, s: 1}}}]}
layers:
  - conv: {filters: 32, kernel: 3, stride: 2, padding: 1, activation: relu}
  - conv: {filters: 32, kernel: 3, padding: 1, groups: depthwise, activation: relu}
  - conv: {filters: 16, kernel: 1}
  - module: {name: s1, use: ir, with: {mid: 48, out: 24, k: 3, s: 2}}
  - module: {name: s1r, use: res, with: {mid: 72, out: 24, k: 3}, repeat: 2}
  - module: {name: s2, use: ir, with: {mid: 72, out: 40, k: 5, s: 2}}
  - module: {name: s2r, use: res, with: {mid: 120, out: 40, k: 5}, repeat: 2}
  - module: {name: s3, use: ir, with: {mid: 240, out: 80, k: 5, s: 2}}
  - module: {name: s3r, use: res, with: {mid: 480, out: 80, k: 5}, repeat: 2}
  - module: {name: s4, use: ir, with: {mid: 480, out: 96, k: 3, s: 1}}
  - module: {name: s4r, use: res, with: {mid: 576, out: 96, k: 3}}
  - module: {name: s5, use: ir, with: {mid: 576, out: 192, k: 5, s: 2}}
  - module: {name: s5r, use: res, with: {mid: 1152, out: 192, k: 5}, repeat: 3}
  - module: {name: s6, use: ir, with: {mid: 1152, out: 320, k: 3, s: 1}}
  - conv: {filters: 1280, kernel: 1, activation: relu}
  - global_avg_pool: {mean: true}
  - dropout: {rate: 0.2}
  - linear: {out: 1000}
"""


def test_a_mean_over_height_and_width_is_counted_by_no_tool():
    """torchvision 0.28.0's mnasnet1_0 ends in x.mean([2, 3]), not a pooling module or function.
    Measured (torch 2.13.0, eval, 224x224): 4,383,312 parameters; conv + linear 314,415,872
    MACs; fvcore 0.1.5.post20221221 325,329,152 (no adaptive_avg_pool2d: it does not count
    aten::mean); thop 0.1.1 336,242,432; ptflops 0.7.5 backend='aten' 314,416,872;
    FlopCounterMode 628,831,744 FLOPs. A global_avg_pool module gave fvcore 62,720 (1280 x 7 x 7)
    more, and the file had no way to say otherwise."""
    model = parse_text(MNASNET, "mnasnet.yaml")
    figures = {c: api.analyse(model, convention=c).macs for c in
               ("torchvision", "fvcore", "thop", "ptflops-aten", "flop-counter")}
    assert figures == {"torchvision": 314_415_872, "fvcore": 325_329_152, "thop": 336_242_432,
                       "ptflops-aten": 314_416_872, "flop-counter": 628_831_744}
    assert api.analyse(model).params == 4_383_312
    pooled = parse_text(MNASNET.replace("{mean: true}", "{}"), "mnasnet.yaml")
    assert api.analyse(pooled, convention="fvcore").macs == 325_329_152 + 1280 * 7 * 7
    mean = net("input: 7x7x8\nlayers:\n  - global_avg_pool: {mean: true}\n")
    assert mean.root.out_shape == (1, 1, 8) and mean.root.layers()[0].description == "global mean"
    with pytest.raises(ArchitectureError, match="'mean' and 'functional' exclude each other"):
        net("input: 7x7x8\nlayers:\n  - global_avg_pool: {mean: true, functional: true}\n")


# ---- ConvNeXt's kinds: layer norm, layer scale, linear at every position --------------
# Counts per convention as the tools count torchvision's convnext_tiny (tests/test_conventions.py):
# fvcore 5 per layer-norm element; ptflops 1 and thop 4 per element of an nn.LayerNorm module,
# neither for F.layer_norm (LayerNorm2d); no tool counts the layer scale's products.

NORM = "input: 8x8x16\nlayers:\n  - layer_norm: {functional: %s}\n"


@pytest.mark.parametrize("functional,counted", [("false", 1), ("true", 0)])
def test_layer_norm_counts_per_convention(functional, counted):
    macs = {c: net(NORM % functional, convention=c).root for c in
            ("torchvision", "fvcore", "ptflops", "ptflops-aten", "thop", "flop-counter", "paper", "keras")}
    elements = 8 * 8 * 16
    assert {c: n.macs for c, n in macs.items()} == {
        "torchvision": 0, "fvcore": 5 * elements, "ptflops": counted * elements, "ptflops-aten": 0,
        "thop": 4 * counted * elements, "flop-counter": 0, "paper": 0, "keras": 0}
    assert {c: n.params for c, n in macs.items()} == {
        "torchvision": 32, "fvcore": 32, "ptflops": 32, "ptflops-aten": 32, "thop": 32 * counted,
        "flop-counter": 32, "paper": 0, "keras": 32}
    assert macs["keras"].trainable == 32
    layer = macs["torchvision"].layers()[0]
    assert layer.out_shape == (8, 8, 16) and layer.depth == 0 and layer.description.startswith("layer norm")


def test_layer_scale_is_a_parameter_per_channel_and_no_tool_counts_its_products():
    text = "input: 8x8x16\nlayers:\n  - layer_scale\n"
    for convention in ("torchvision", "fvcore", "ptflops", "thop", "flop-counter"):
        root = net(text, convention=convention).root
        assert root.macs == 0 and root.params == (0 if convention == "thop" else 16)
    a = net(text)
    assert a.term_totals()["layer_scale_out"] == 8 * 8 * 16 and a.root.out_shape == (8, 8, 16)


def test_a_linear_layer_at_every_position():
    text = "input: 8x8x16\nlayers:\n  - linear: {out: 32, per_position: true, activation: gelu}\n"
    a = net(text)
    assert a.root.out_shape == (8, 8, 32) and a.root.depth == 1
    assert (a.root.macs, a.root.params) == (64 * 16 * 32, 16 * 32 + 32)  # H*W*Cin*Cout; Cin*Cout + Cout
    # ptflops: + a bias per output element (its hook multiplies by the leading dims) + the gelu
    assert net(text, convention="ptflops").root.macs == 64 * 16 * 32 + 64 * 32 + 64 * 32
    assert net(text, convention="ptflops-aten").root.macs == 64 * 16 * 32 + 64 * 32  # aten.addmm's bias
    assert net(text, convention="fvcore").root.macs == 64 * 16 * 32
    assert net(text, convention="flop-counter").root.macs == 2 * 64 * 16 * 32
    # the same count as a 1x1 conv under the default convention
    conv = net("input: 8x8x16\nlayers:\n  - conv: {filters: 32, kernel: 1}\n")
    assert (conv.root.macs, conv.root.params) == (a.root.macs, a.root.params)
    flat = net("input: 1x1x16\nlayers:\n  - linear: {out: 32, per_position: true}\n")
    assert (flat.root.macs, flat.root.out_shape) == (16 * 32, (1, 1, 32))


def test_a_linear_layer_on_a_map_without_per_position_is_refused():
    with pytest.raises(ShapeError, match="test.yaml:3: linear 8: .*'per_position: true'"):
        net("input: 4x4x3\nlayers:\n  - linear: {out: 8}\n")


def test_layer_norm_scale_and_per_position_linear_kernels_and_memory():
    from inception_cost.estimates.kernels import Op, kernels
    from inception_cost.estimates.memory import Dtype, peak_at
    from inception_cost.estimates.training import Optimizer, training_memory

    text = ("input: 8x8x16\nlayers:\n  - conv: {filters: 16, kernel: 3}\n  - layer_norm\n"
            "  - linear: {out: 64, per_position: true}\n  - layer_scale\n")
    a = net(text)
    ks = kernels(a)
    by = {k.owner.kind: k for k in ks}
    assert by["layer_norm"].op is by["layer_scale"].op is Op.ELEMENTWISE  # one pass each, as batch norm
    gemm = by["linear"]  # one GEMM of H x W rows, its bias fused
    assert (gemm.op, gemm.m, gemm.n, gemm.k, gemm.linear) == (Op.GEMM, 64, 64, 16, True)
    assert [k.owner.kind for k in ks].count("linear") == 1
    # inference: each writes a new tensor (input and output alive while it runs): the layer scale's 2 x 8x8x64
    assert peak_at(a.root)[0] == 2 * 8 * 8 * 64
    # training (fp32): the conv saves the image, the layer norm its input and an fp32 mean and
    # 1/std per position, the linear layer its input, the layer scale its input
    m = training_memory(a, Dtype.FP32, 1, Optimizer.SGD)
    assert m.saved_activations == 4 * (3 * 8 * 8 * 16 + 8 * 8 * 64) + 2 * 8 * 8 * 4


def test_a_convnext_block_saves_what_autograd_saves():
    # torch 2.13.0 on the CPU, torchvision 0.28.0: nn.Sequential(Conv2d(3, 96, 4, 4), LayerNorm2d(96),
    # CNBlock(96, 1e-6, 0.0, partial(nn.LayerNorm, eps=1e-6))) in train mode, batch 2, fp32: the
    # tensors saved_tensors_hooks packs, parameters left out, each storage once: 32,614,400 bytes
    # (the image; each layer norm's input and fp32 mean and 1/std per position; the dwconv's,
    # the linear layers', GELU's and the layer scale's inputs)
    from inception_cost.estimates.memory import Dtype
    from inception_cost.estimates.training import Optimizer, training_memory

    a = net("input: 224x224x3\nlayers:\n  - conv: {filters: 96, kernel: 4, stride: 4, padding: 0}\n"
            "  - layer_norm: {functional: true}\n  - residual:\n      layers:\n"
            "        - conv: {filters: 96, kernel: 7, padding: 3, groups: depthwise}\n        - layer_norm\n"
            "        - linear: {out: 384, per_position: true}\n        - activation: {function: gelu}\n"
            "        - linear: {out: 96, per_position: true}\n        - layer_scale\n")
    assert training_memory(a, Dtype.FP32, 2, Optimizer.SGD).saved_activations == 32_614_400
