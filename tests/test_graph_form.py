"""The graph form: every construct, and errors that name the file, line and layer."""

import pytest
from conftest import net

from inception_cost.errors import ArchitectureError, ExitCode, ShapeError


def test_defaults_blocks_repeat_and_batch_norm():
    a = net("""
input: 35x35x64
defaults:
  bias: false
  batch_norm: true
blocks:
  unit:
    args: {width: 32, kernel: 3}
    layers:
      - conv: {filters: $width, kernel: $kernel}
layers:
  - module: {name: "u{i}", use: unit, repeat: 3, with: {width: 64}}
  - module: {name: wide, use: unit, with: {width: 96, kernel: 1}}
""")
    names = [c.name for c in a.root.children]
    assert names == ["u1", "u2", "u3", "wide"]
    u1 = a.root.children[0]
    assert u1.weights == 9 * 64 * 64 and u1.biases == 0 and u1.bn_params == 2 * 64
    assert a.root.children[3].weights == 64 * 96
    assert a.root.macs == 3 * 9 * 64 * 64 * 35 * 35 + 64 * 96 * 35 * 35
    assert a.root.params == a.root.weights + 2 * (3 * 64 + 96)


def test_per_kind_defaults_and_layer_override():
    a = net("""
input: 8x8x4
defaults:
  conv: {bias: false}
layers:
  - conv: {filters: 8, kernel: 3}
  - conv: {filters: 8, kernel: 3, bias: true}
""")
    assert [layer.biases for layer in a.root.layers()] == [0, 8]


def test_residual_with_scale_keeps_the_shape():
    a = net("""
input: 17x17x32
layers:
  - module:
      name: block
      layers:
        - residual:
            scale: 0.1
            layers:
              - concat:
                  a: [{conv: {filters: 16, kernel: 1}}]
                  b: [{conv: {filters: 16, kernel: 1x7}}, {conv: {filters: 16, kernel: 7x1}}]
              - conv: {filters: 32, kernel: 1}
        - relu
""")
    block = a.root.find("block")
    assert block.out_shape == (17, 17, 32)
    residual = block.children[0]
    assert residual.scale == 0.1
    per_position = 32 * 16 + 32 * 16 * 7 + 16 * 16 * 7 + 32 * 32
    assert block.macs == per_position * 17 * 17


def test_padding_stride_groups_pooling_and_head():
    a = net("""
input: 299x299x3
layers:
  - conv: {filters: 32, kernel: 3, stride: 2, padding: valid}    # 149
  - conv: {filters: 64, kernel: 3, padding: 1, groups: 32}       # depthwise-like, 149
  - max_pool: {kernel: 3, stride: 2}                              # floor: 74
  - avg_pool: {kernel: 3, stride: 2, rounding: ceil}              # ceil: 37
  - batch_norm
  - global_avg_pool
  - dropout: {rate: 20%}
  - linear: {out: 10, bias: false}
  - softmax
""")
    shapes = [layer.out_shape for layer in a.root.layers()]
    assert shapes[:4] == [(149, 149, 32), (149, 149, 64), (74, 74, 64), (37, 37, 64)]
    assert shapes[-1] == (1, 1, 10)
    grouped = a.root.layers()[1]
    assert grouped.weights == 9 * (32 // 32) * 64
    assert grouped.macs == 9 * 1 * 64 * 149 * 149
    assert a.root.layers()[4].bn_params == 128
    assert a.root.layers()[7].macs == 640



def test_pool_padded_unequally_as_onnx_and_keras_write_it():
    """A pool padded on one side only ([[top, bottom], [left, right]], the form `import`
    writes for an ONNX MaxPool with pads [0, 0, 1, 1] or a Keras ZeroPadding2D) used to stop
    with an internal error (TypeError) in the half-window check. PyTorch's
    F.max_pool2d(F.pad(x, (0, 1, 0, 1)), 2, 2) on 8x8 gives 4x4, and F.avg_pool2d(F.pad(y,
    (0, 0, 1, 0)), 3, 2) on that 2x1 (torch 2.13.0)."""
    a = net("""
input: 8x8x4
layers:
  - max_pool: {kernel: 2, stride: 2, padding: [[0, 1], [0, 1]]}
  - avg_pool: {kernel: 3, stride: 2, padding: [[1, 0], 0]}
""")
    assert [layer.out_shape for layer in a.root.layers()] == [(4, 4, 4), (2, 1, 4)]
    with pytest.raises(ArchitectureError) as info:
        net("input: 8x8x4\nlayers:\n  - max_pool: {kernel: 3, stride: 2, padding: [[0, 2], [0, 1]]}\n")
    assert str(info.value) == ("test.yaml:3: max_pool: 'padding' [[0, 2], [0, 1]] is more than half the window"
                               " (3x3): at most 1 x 1")

def test_graph_form_auxiliary_head_is_training_only():
    text = """
input: 8x8x16
layers:
  - conv: {filters: 16, kernel: 3}
  - auxiliary:
      name: side
      loss_weight: 0.3
      layers: [global_avg_pool, {linear: {out: 5}}]
  - conv: {filters: 16, kernel: 3}
"""
    inference, training = net(text), net(text, train=True)
    assert inference.training_only == ["side"]
    assert training.root.params - inference.root.params == 16 * 5 + 5
    assert [c.name for c in training.root.children][1] == "side"


@pytest.mark.parametrize("text,line,fragment", [
    ("input: 28x28x3\nlayers:\n  - conv: {filters: 8, kernal: 3}\n", 3,
     "test.yaml:3: conv: unknown argument 'kernal' (did you mean 'kernel'?)"),
    ("input: 28x28x3\nlayers:\n  - convv: {filters: 8, kernel: 3}\n", 3,
     "unknown layer kind 'convv' (did you mean 'conv'?)"),
    ("input: 28x28x3\nlayers:\n  - conv: {filters: -8, kernel: 3}\n", 3, "'filters' must be positive"),
    ("input: 28x28x3\nlayers:\n  - conv:\n      filters: 8\n      kernel: 2.5\n", 5,
     "'kernel' must be an integer, got float 2.5"),
    ("input: 28x28\nlayers: [relu]\n", 1, "'input' must be height x width x channels"),
    ("input: 8x8x3\nlayers:\n  - module: {name: a, use: b}\nblocks:\n  b: {layers: [{module: {name: c, use: b}}]}\n",
     5, "block uses itself: b -> b"),
    ("input: 8x8x3\nlayers: []\n", 1, "the network has no layers"),
    ("input: 8x8x3\nlayer: [relu]\n", 2, "unknown top-level key 'layer' (did you mean 'layers'?)"),
    ("input: 8x8x3\ninput: 8x8x3\nlayers: [relu]\n", 2, "duplicate key 'input' (first at line 1)"),
])
def test_invalid_architecture_errors(text, line, fragment):
    with pytest.raises(ArchitectureError) as info:
        net(text)
    assert info.value.exit_code == ExitCode.INVALID_ARCHITECTURE
    assert info.value.line == line
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_concat_mismatch_names_file_line_and_branch():
    text = """input: 14x14x8
layers:
  - module:
      name: inception 4b
      layers:
        - concat:
            1x1: [{conv: {filters: 8, kernel: 1}}]
            3x3: [{conv: {filters: 8, kernel: 3, padding: valid}}]
"""
    with pytest.raises(ShapeError) as info:
        net(text, file="googlenet.yaml")
    assert str(info.value) == ("googlenet.yaml:6: inception 4b / branch 3x3: concat needs 14x14,"
                               " got 12x12 (branch 1x1 gives 14x14)")
    assert info.value.exit_code == ExitCode.SHAPE_MISMATCH == 2


@pytest.mark.parametrize("text,fragment", [
    ("input: 4x4x3\nlayers:\n  - conv: {filters: 8, kernel: 7, padding: valid}\n",
     "test.yaml:3: conv 7x7 8: kernel 7x7 does not fit its 4x4 input (padding valid)"),
    ("input: 4x4x3\nlayers:\n  - linear: {out: 8}\n", "linear needs a flat input (1x1xC), got 4x4x3"),
    ("input: 4x4x6\nlayers:\n  - conv: {filters: 8, kernel: 1, groups: 4}\n", "groups=4 must divide"),
    ("input: 4x4x6\nlayers:\n  - residual: {layers: [{conv: {filters: 8, kernel: 1}}]}\n",
     "residual add needs 4x4x6, got 4x4x8"),
])
def test_shape_errors(text, fragment):
    with pytest.raises(ShapeError) as info:
        net(text)
    assert fragment in str(info.value)
