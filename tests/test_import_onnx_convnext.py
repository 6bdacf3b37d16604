"""ConvNeXt's ONNX graphs, built small with onnx.helper as torch 2.13.0 writes torchvision
0.28.0's convnext_tiny (legacy exporter, opset 17; and the dynamo exporter's opset 20
forms): Transposes to channels-last and back, LayerNormalization, MatMul at every
position, the Erf GELU, the layer scale, and the CNBlock's residual."""

from __future__ import annotations

import math

import pytest

import inception_cost as ic
from inception_cost.core.conventions import PRESETS
from inception_cost.errors import ArchitectureError
from inception_cost.importers import import_model

onnx = pytest.importorskip("onnx")
helper, TensorProto = onnx.helper, onnx.TensorProto


from onnx_graphs import save, weight  # noqa: E402  (after the importorskip)


def scalar(name: str, value: float):
    return helper.make_node("Constant", [], [name], name=f"{name}/Constant",
                            value=helper.make_tensor(name, TensorProto.FLOAT, [], [value]))


def node(op, inputs, output, name, **attrs):
    return helper.make_node(op, inputs, [output], name=name, **attrs)


def layer_norm_2d(scope, x, out, c):
    """torchvision's LayerNorm2d: permute, F.layer_norm, permute back, all in its module."""
    nodes = [node("Transpose", [x], f"{scope}/t", f"{scope}/Transpose", perm=[0, 2, 3, 1]),
             node("LayerNormalization", [f"{scope}/t", f"{scope}.w", f"{scope}.b"], f"{scope}/ln",
                  f"{scope}/LayerNormalization", axis=-1, epsilon=1e-6),
             node("Transpose", [f"{scope}/ln"], out, f"{scope}/Transpose_1", perm=[0, 3, 1, 2])]
    return nodes, [weight(f"{scope}.w", c), weight(f"{scope}.b", c)]


def erf_gelu(scope, x, out):
    """What torch's legacy exporter writes for nn.GELU below opset 20."""
    return [scalar(f"{scope}/sqrt2", math.sqrt(2)), node("Div", [x, f"{scope}/sqrt2"], f"{scope}/d", f"{scope}/Div"),
            node("Erf", [f"{scope}/d"], f"{scope}/e", f"{scope}/Erf"), scalar(f"{scope}/one", 1.0),
            node("Add", [f"{scope}/e", f"{scope}/one"], f"{scope}/a", f"{scope}/Add"),
            node("Mul", [x, f"{scope}/a"], f"{scope}/m", f"{scope}/Mul"), scalar(f"{scope}/half", 0.5),
            node("Mul", [f"{scope}/m", f"{scope}/half"], out, f"{scope}/Mul_1")]


def cnblock(scope, x, out, c):
    """torchvision's CNBlock: x + layer_scale * (dwconv, permute, LayerNorm, Linear, GELU,
    Linear, permute back)."""
    b = f"{scope}/block"
    nodes = [node("Conv", [x, f"{scope}.dw.w", f"{scope}.dw.b"], f"{b}/dw", f"{b}/block.0/Conv", group=c,
                  kernel_shape=[7, 7], pads=[3, 3, 3, 3]),
             node("Transpose", [f"{b}/dw"], f"{b}/t", f"{b}/block.1/Transpose", perm=[0, 2, 3, 1]),
             node("LayerNormalization", [f"{b}/t", f"{scope}.ln.w", f"{scope}.ln.b"], f"{b}/ln",
                  f"{b}/block.2/LayerNormalization", axis=-1, epsilon=1e-6),
             node("MatMul", [f"{b}/ln", f"{scope}.fc1.w"], f"{b}/mm1", f"{b}/block.3/MatMul"),
             node("Add", [f"{scope}.fc1.b", f"{b}/mm1"], f"{b}/fc1", f"{b}/block.3/Add"),
             *erf_gelu(f"{b}/block.4", f"{b}/fc1", f"{b}/gelu"),
             node("MatMul", [f"{b}/gelu", f"{scope}.fc2.w"], f"{b}/mm2", f"{b}/block.5/MatMul"),
             node("Add", [f"{scope}.fc2.b", f"{b}/mm2"], f"{b}/fc2", f"{b}/block.5/Add"),
             node("Transpose", [f"{b}/fc2"], f"{b}/back", f"{b}/block.6/Transpose", perm=[0, 3, 1, 2]),
             node("Mul", [f"{scope}.gamma", f"{b}/back"], f"{scope}/scaled", f"{scope}/Mul"),
             node("Add", [f"{scope}/scaled", x], out, f"{scope}/Add")]
    inits = [weight(f"{scope}.dw.w", c, 1, 7, 7), weight(f"{scope}.dw.b", c), weight(f"{scope}.ln.w", c),
             weight(f"{scope}.ln.b", c), weight(f"{scope}.fc1.w", c, 4 * c), weight(f"{scope}.fc1.b", 4 * c),
             weight(f"{scope}.fc2.w", 4 * c, c), weight(f"{scope}.fc2.b", c), weight(f"{scope}.gamma", c, 1, 1)]
    return nodes, inits


def tiny_convnext(tmp_path, name="tiny"):
    """Stem (4x4/4 conv, LayerNorm2d), one CNBlock of 8 channels, a downsample (LayerNorm2d,
    2x2/2 conv to 16), the head (pool, LayerNorm2d, flatten, linear): 3x32x32 in."""
    ln0, i0 = layer_norm_2d("/features/features.0/features.0.1", "stem", "s", 8)
    block, ib = cnblock("/features/features.1/features.1.0", "s", "b", 8)
    ln2, i2 = layer_norm_2d("/features/features.2/features.2.0", "b", "d", 8)
    ln3, i3 = layer_norm_2d("/classifier/classifier.0", "pool", "h", 16)
    nodes = [node("Conv", ["x", "stem.w", "stem.b"], "stem", "/features/features.0/features.0.0/Conv",
                  kernel_shape=[4, 4], strides=[4, 4]), *ln0, *block, *ln2,
             node("Conv", ["d", "down.w", "down.b"], "down", "/features/features.2/features.2.1/Conv",
                  kernel_shape=[2, 2], strides=[2, 2]),
             node("GlobalAveragePool", ["down"], "pool", "/avgpool/GlobalAveragePool"), *ln3,
             node("Flatten", ["h"], "f", "/classifier/classifier.1/Flatten"),
             node("Gemm", ["f", "fc.w", "fc.b"], "y", "/classifier/classifier.2/Gemm", transB=1)]
    inits = [weight("stem.w", 8, 3, 4, 4), weight("stem.b", 8), *i0, *ib, *i2, weight("down.w", 16, 8, 2, 2),
             weight("down.b", 16), *i3, weight("fc.w", 10, 16), weight("fc.b", 10)]
    return save(tmp_path, nodes, inits, name=name)


# the same network as the built-in convnext-tiny.yaml writes it
TINY_YAML = """
name: tiny-yaml
input: 32x32x3
defaults:
  conv: {bias: true}
layers:
  - conv: {name: stem, filters: 8, kernel: 4, stride: 4, padding: 0}
  - layer_norm: {name: stem_norm, functional: true}
  - residual:
      layers:
        - conv: {name: dwconv, filters: 8, kernel: 7, padding: 3, groups: depthwise}
        - layer_norm: {name: norm}
        - linear: {name: pwconv1, out: 32, per_position: true}
        - activation: {name: gelu, function: gelu}
        - linear: {name: pwconv2, out: 8, per_position: true}
        - layer_scale
  - layer_norm: {name: down_norm, functional: true}
  - conv: {name: down, filters: 16, kernel: 2, stride: 2, padding: 0}
  - global_avg_pool: {name: avgpool}
  - layer_norm: {name: head_norm, functional: true}
  - flatten
  - linear: {name: fc, out: 10}
"""

PARAMS = (3 * 16 * 8 + 8) + 16 + (8 * 49 + 8) + 16 + (8 * 32 + 32) + (32 * 8 + 8) + 8 + 16 \
    + (8 * 4 * 16 + 16) + 32 + (16 * 10 + 10)
MACS = 64 * 3 * 16 * 8 + 64 * 8 * 49 + 64 * 8 * 32 + 64 * 32 * 8 + 16 * 8 * 4 * 16 + 16 * 10


def test_a_tiny_convnext_reads_exactly_and_as_the_yaml_writes_it(tmp_path):
    path = tiny_convnext(tmp_path)
    cost = ic.analyse(path)
    assert (cost.params, cost.macs) == (PARAMS, MACS) == (2_130, 90_784)
    yaml_file = tmp_path / "tiny.yaml"
    yaml_file.write_text(TINY_YAML)
    for convention in PRESETS:  # every count, where the graph can tell module from function
        mine, written = ic.analyse(path, convention=convention), ic.analyse(str(yaml_file), convention=convention)
        assert (mine.params, mine.macs) == (written.params, written.macs), convention
    text = import_model(path).text
    assert "- layer_norm: {name: features.0.1, functional: true}" in text  # LayerNorm2d
    assert "- residual:\n" in text and "- layer_scale: {name: features.1.0}" in text
    assert "- layer_norm: {name: block.2}\n" in text  # nn.LayerNorm, a module of its own
    assert "- linear: {name: block.3, out: 32, bias: true, per_position: true}\n" in text
    assert "- activation: {name: block.4, function: gelu, functional: false}\n" in text  # nn.GELU
    assert "Transpose" not in text and "Erf" not in text and "identity" not in text
    again = tmp_path / "again.yaml"
    again.write_text(import_model(path).text)
    for convention in PRESETS:
        a, b = ic.analyse(path, convention=convention), ic.analyse(str(again), convention=convention)
        assert (a.params, a.macs) == (b.params, b.macs), convention


def test_the_dynamo_exporter_names_the_classes(tmp_path):
    """torch's dynamo exporter (opset 20): one Gelu node, and the module classes in each
    node's metadata: an nn.LayerNorm is a module, torchvision's LayerNorm2d calls F.layer_norm."""
    def said(n, *classes):
        hierarchy = str(["torchvision.models.convnext.ConvNeXt", *classes])
        helper.set_metadata_props(n, {"pkg.torch.onnx.class_hierarchy": hierarchy})
        return n
    nodes = [node("Conv", ["x", "c.w"], "c", "node_Conv_1", kernel_shape=[4, 4], strides=[4, 4]),
             node("Transpose", ["c"], "t", "node_permute", perm=[0, 2, 3, 1]),
             said(node("LayerNormalization", ["t", "n.w", "n.b"], "n", "node_layer_norm", axis=-1),
                  "torchvision.models.convnext.LayerNorm2d", "aten.layer_norm.default"),
             said(node("LayerNormalization", ["n", "n.w", "n.b"], "m", "node_layer_norm_1", axis=-1),
                  "torch.nn.modules.normalization.LayerNorm", "aten.layer_norm.default"),
             node("MatMul", ["m", "fc.w"], "mm", "node_MatMul_1"),
             node("Add", ["mm", "fc.b"], "fc", "node_linear"),
             said(node("Gelu", ["fc"], "g", "node_gelu", approximate="none"),
                  "torch.nn.modules.activation.GELU", "aten.gelu.default"),
             node("Transpose", ["g"], "y", "node_permute_1", perm=[0, 3, 1, 2])]
    inits = [weight("c.w", 8, 3, 4, 4), weight("n.w", 8), weight("n.b", 8), weight("fc.w", 8, 32),
             weight("fc.b", 32)]
    path = save(tmp_path, nodes, inits, opset=20)
    text = import_model(path).text
    assert "- layer_norm: {name: node_layer_norm, functional: true}\n" in text
    assert "- layer_norm: {name: node_layer_norm_1}\n" in text
    assert "- activation: {name: node_gelu, function: gelu, functional: false}\n" in text
    cost = ic.analyse(path)
    assert cost.macs == 64 * 3 * 16 * 8 + 64 * 8 * 32 and cost.output_shape == (8, 8, 32)
    assert cost.params == 3 * 16 * 8 + 2 * 16 + 8 * 32 + 32


def test_the_other_erf_gelu_and_a_gelu_called_as_a_function(tmp_path):
    """0.5 * x * (1 + erf(x * 0.7071)) (the half first, a Mul by 1/sqrt(2)) after a linear
    layer in the same module: F.gelu, folded into the layer like any activation."""
    nodes = [node("Flatten", ["x"], "f", "/Flatten"),
             node("Gemm", ["f", "fc.w", "fc.b"], "fc", "/head/Gemm", transB=1),
             scalar("half", 0.5), node("Mul", ["fc", "half"], "h", "/head/Mul"),
             scalar("rsqrt2", math.sqrt(0.5)), node("Mul", ["rsqrt2", "fc"], "d", "/head/Mul_1"),
             node("Erf", ["d"], "e", "/head/Erf"), scalar("one", 1.0), node("Add", ["one", "e"], "a", "/head/Add"),
             node("Mul", ["h", "a"], "y", "/head/Mul_2")]
    path = save(tmp_path, nodes, [weight("fc.w", 5, 12), weight("fc.b", 5)], size=(3, 2, 2))
    text = import_model(path).text
    assert "activation: gelu" in text and "Erf" not in text, text
    assert ic.analyse(path).macs == 12 * 5
    # an Erf in no GELU stays an unknown operator
    lone = [node("Flatten", ["x"], "f", "/Flatten"), node("Erf", ["f"], "y", "/odd/Erf")]
    with pytest.raises(ArchitectureError, match="unknown operator 'Erf'"):
        ic.analyse(save(tmp_path, lone, [], size=(3, 2, 2), name="lone"))


def test_what_a_channels_last_graph_cannot_say_is_refused_in_one_line(tmp_path):
    def conv(x="x"):
        return node("Conv", [x, "c.w"], "c", "/c/Conv", kernel_shape=[1, 1])
    to_last = node("Transpose", ["c"], "t", "/t/Transpose", perm=[0, 2, 3, 1])
    cases = {
        "perm": ([conv(), node("Transpose", ["c"], "y", "/t/Transpose", perm=[0, 1, 3, 2])],
                 "'Transpose' with perm [0, 1, 3, 2] of a rank-4 NCHW tensor is not read; inception-cost reads"
                 " a Transpose only as a layout change, NCHW to channels-last (perm 0, 2, 3, 1) and back"
                 " (0, 3, 1, 2)"),
        "conv": ([conv(), to_last, node("Conv", ["t", "c.w"], "y", "/d/Conv", kernel_shape=[1, 1])],
                 "'Conv' reads a channels-last tensor (after a Transpose 0, 2, 3, 1); inception-cost reads only"
                 " layer norms, MatMuls and elementwise operations on one"),
        "mixed": ([conv(), to_last, node("Add", ["t", "c"], "y", "/a/Add")],
                  "'Add' mixes channels-last and channels-first tensors"),
        "norm": ([conv(), node("LayerNormalization", ["c", "n.w", "n.b"], "y", "/n/LN", axis=-1)],
                 "'LayerNormalization' over axis -1 of a rank-4 NCHW tensor is not read; inception-cost reads a"
                 " layer norm over the channels only (the last axis of a channels-last or (N, C) tensor)"),
        "matmul": ([conv(), node("MatMul", ["c", "m.w"], "y", "/m/MatMul")],
                   "'MatMul' of a 8x4x4 NCHW map multiplies along its width; inception-cost reads a MatMul only"
                   " on a flat (N, C) tensor or a channels-last map (after a Transpose 0, 2, 3, 1)"),
    }
    inits = [weight("c.w", 8, 3, 1, 1), weight("n.w", 8), weight("n.b", 8), weight("m.w", 4, 4)]
    for name, (nodes, message) in cases.items():
        path = save(tmp_path, nodes, inits, size=(3, 4, 4), name=name)
        with pytest.raises(ArchitectureError) as err:
            ic.analyse(path)
        assert str(err.value) == f"{path}: node '{nodes[-1].name}': {message}", name


def test_a_per_channel_constant_is_no_layer_scale(tmp_path):
    """A Constant node's per-channel multiplier (a normalisation) costs nothing; only a
    stored, learned one (an initializer) is a layer scale with its C parameters."""
    shape = helper.make_tensor("k", TensorProto.FLOAT, [3, 1, 1], [1.0, 2.0, 3.0])
    nodes = [helper.make_node("Constant", [], ["k"], name="/k/Constant", value=shape),
             node("Mul", ["x", "k"], "n", "/norm/Mul"),
             node("Mul", ["n", "g"], "y", "/scale/Mul")]
    path = save(tmp_path, nodes, [weight("g", 3, 1, 1)], size=(3, 4, 4))
    text = import_model(path).text
    assert "- identity: {name: norm}" in text and "- layer_scale: {name: scale}" in text
    assert ic.analyse(path).params == 3
