"""Channel split and channel shuffle (ShuffleNetV2): shapes, errors, counts, memory and
kernels. Hand-worked figures, and torchvision's own shufflenet_v2_x1_0 measured on the CPU
(torch 2.13.0, torchvision 0.28.0, fp32): the eager inference peaks with
benchmarks/inference_memory_cpu.py's `eager_peak`, the saved activations with
benchmarks/saved_tensors_cpu.py's `saved_bytes`."""

from __future__ import annotations

import pytest
from conftest import builtin, net

from inception_cost.core import conventions
from inception_cost.core.analysis import analyse
from inception_cost.errors import ArchitectureError, ExitCode, ShapeError
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.kernels import Op, backward_kernels, kernels
from inception_cost.estimates.memory import peak_at
from inception_cost.estimates.training import Optimizer, training_memory
from inception_cost.source.document import parse_text

# a ShuffleNetV2 unit of stride 1 at 4x4x8: x1, x2 = x.chunk(2, dim=1);
# cat(x1, relu(bn(conv1x1(x2)))); channel_shuffle(out, 2)
UNIT = """input: 4x4x8
layers:
  - module:
      name: unit
      layers:
        - concat:
            x1: [{channel_split: {part: 1}}]
            branch2:
              - channel_split: {part: 2}
              - conv: {filters: $in_channels, kernel: 1, bias: false, batch_norm: true}
              - relu
        - channel_shuffle: {groups: 2}
"""


def test_a_split_takes_one_part_of_the_channels_and_a_shuffle_keeps_the_shape():
    a = net(UNIT)
    unit = a.root.find("unit")
    assert unit is not None and unit.out_shape == (4, 4, 8)
    split, conv = unit.layers()[1], unit.layers()[2]
    assert (split.out_shape, split.description) == ((4, 4, 4), "split 2/2")
    assert conv.in_shape == (4, 4, 4) and conv.args["filters"] == 4  # $in_channels: the half
    assert unit.layers()[-1].description == "channel shuffle g2"
    three = net("input: 2x2x9\nlayers:\n  - channel_split: {part: 3, parts: 3}\n")
    assert three.root.out_shape == (2, 2, 3)
    bare = net("input: 2x2x6\nlayers:\n  - channel_shuffle\n")  # groups: 2 by default
    assert bare.root.layers()[0].args["groups"] == 2


def test_a_split_and_a_shuffle_cost_nothing_under_every_convention():
    a = net(UNIT)
    conv_macs, params = 4 * 4 * 4 * 4, 4 * 4 + 2 * 4  # 1x1 conv 4 -> 4 over 4x4; its batch norm
    assert (a.root.macs, a.root.params) == (conv_macs, params)
    for name in conventions.PRESETS:
        counted = analyse(parse_text(UNIT, "unit.yaml"), convention=conventions.get(name))
        for leaf in counted.root.layers():
            if leaf.kind in ("channel_split", "channel_shuffle"):
                assert (leaf.macs, leaf.params) == (0, 0), name


@pytest.mark.parametrize("text, message", [
    # odd channels cannot be split in two equal halves (torch.chunk would give 4 and 3)
    ("input: 4x4x7\nlayers:\n  - module:\n      name: m\n      layers:\n        - concat:\n"
     "            a: [{channel_split: {part: 1}}]\n            b: [{channel_split: {part: 2}}]\n",
     "test.yaml:7: m / branch a / split 1/2: channel split of 7 channels into 2 equal parts:"
     " needs a multiple of 2"),
    ("input: 4x4x6\nlayers:\n  - channel_shuffle: {groups: 4}\n",
     "test.yaml:3: channel shuffle g4: channel shuffle of 6 channels in 4 groups: needs a multiple of 4"),
])
def test_channels_that_do_not_divide_are_a_shape_error(text, message):
    with pytest.raises(ShapeError) as info:
        net(text)
    assert str(info.value) == message and info.value.exit_code == ExitCode.SHAPE_MISMATCH


@pytest.mark.parametrize("layer, message", [
    ("channel_split: {part: 3}", "test.yaml:3: channel_split: 'part' 3 is past the last of 2 parts"),
    ("channel_split: {parts: 2}", "missing 'part'"),
    ("channel_split: {part: 0}", "'part'"),
    ("channel_shuffle: {group: 2}", "unknown argument 'group' (did you mean 'groups'?)"),
])
def test_bad_split_and_shuffle_arguments(layer, message):
    with pytest.raises(ArchitectureError) as info:
        net(f"input: 4x4x6\nlayers:\n  - {layer}\n")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == ExitCode.INVALID_ARCHITECTURE


def test_the_unit_s_peaks_a_split_is_a_view_a_shuffle_a_copy():
    unit = net(UNIT).root.find("unit")
    assert unit is not None
    x = 4 * 4
    # the least: the input (8; half of it is x1, a view), branch2's output (4) and the
    # concat's (8); the split's half keeps the whole input alive while the conv reads it
    assert peak_at(unit) == ((8 + 4 + 8) * x, unit.children[0])
    # eager PyTorch: the input held by the caller (8), the concat's output (8) and the
    # shuffle's copy (8): the shuffle is where the peak is, as measured on torchvision's units
    peak, where = peak_at(unit, eager=True)
    assert (peak, where.kind) == ((8 + 8 + 8) * x, "channel_shuffle")


def test_the_shuffle_is_one_copy_kernel_forward_and_backward_the_split_none():
    a = net(UNIT)
    forward = kernels(a)
    by_kind = {k.owner.kind if k.owner.role.value == "layer" else "concat": k for k in forward}
    assert "channel_split" not in by_kind  # a view: no kernel
    shuffle = by_kind["channel_shuffle"]
    assert (shuffle.op, shuffle.inputs, shuffle.outputs, shuffle.macs) == (Op.COPY, 128, 128, 0)
    assert [k.op for k in forward].count(Op.COPY) == 2  # torch.cat's copy, then the shuffle's
    # backward: the shuffle's gradient is copied back (the reshape of a transposed tensor);
    # the concat's backward is views
    back = backward_kernels(kernels(a, training=True))
    copies = [k for k in back if k.op is Op.COPY]
    assert [k.owner.kind for k in copies] == ["channel_shuffle"]


# torchvision 0.28.0 shufflenet_v2_x1_0 (torch 2.13.0, CPU, fp32, batch 1): what eager
# PyTorch allocates in one no_grad forward, the network and single units run alone
@pytest.mark.parametrize("module, measured", [
    (None, 3_010_560), ("stage2_0", 1_938_048), ("stage2_1", 1_091_328), ("stage3_0", 1_182_272),
    ("stage4_2", 272_832)])
def test_shufflenet_eager_peaks_equal_pytorch_s(module, measured):
    a = builtin("shufflenet-v2")
    node = a.root.find(module) if module else a.root
    assert node is not None
    assert peak_at(node, eager=True)[0] * 4 == measured  # fp32
    assert peak_at(node)[0] * 4 < measured


def test_shufflenet_saves_what_autograd_saves():
    """torchvision's model in train() mode at batch 2, 224x224, fp32: every storage autograd
    packs, once (saved_tensors_hooks), 40,834,640 bytes. A split's half saved by the conv
    after it keeps the whole input's storage; the shuffle saves nothing."""
    m = training_memory(builtin("shufflenet-v2", train=True), Dtype.FP32, 2, Optimizer.SGD)
    assert m.saved_activations == 40_834_640

