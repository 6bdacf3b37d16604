"""The Inception-v4 family built-ins: inception-v4, inception-resnet-v2, inception-resnet-v1.

Provenance of the inception-v4 and inception-resnet-v2 figures: counted from the real
implementations, timm 1.0.31 on torch 2.14.1, models `inception_v4` and
`inception_resnet_v2` built with pretrained=False (random init), eval mode, input
1x3x299x299 (batch 1); parameters = sum of p.numel() over model.parameters() (batch-norm
running statistics are buffers, not counted), MACs = Conv2d and Linear layers only, from
output shapes recorded by forward hooks (per top-level module, per branch and per layer).
They are copied here as literals: nothing in this file imports torch.

inception-resnet-v1 has no reference implementation; its expected figures are derived
below from the paper's widths (arXiv:1602.07261, Figures 7, 10-14) with plain
arithmetic, not read back from the tool.
"""

import pytest
from conftest import builtin


def _load(name):
    return builtin(name)


@pytest.fixture(scope="module")
def v4():
    return _load("inception-v4")


@pytest.fixture(scope="module")
def irv2():
    return _load("inception-resnet-v2")


@pytest.fixture(scope="module")
def irv1():
    return _load("inception-resnet-v1")


def rows(analysis):
    return {c.name: c for c in analysis.root.children}


def parts(module):
    """A module's branches (from its concat, inside a residual or not) and its other items."""
    found = {}
    for child in module.children:
        for node in (child.children if child.role == "residual" else [child]):
            if node.role == "concat":
                found.update({b.name: b for b in node.children})
            elif node.kind == "residual_add":  # the addition itself: no weights
                continue
            else:
                found[node.name] = node
    return found


def expand(table):
    """(name, repeat, output, params, MACs) -> one (name, output, params, MACs) per instance."""
    out = []
    for name, repeat, shape, params, macs in table:
        names = [name] if repeat == 1 else [f"{name}_{i}" for i in range(1, repeat + 1)]
        out.extend((n, shape, params, macs) for n in names)
    return out


# ---- inception-v4 (timm inception_v4) -----------------------------------------------------

# timm's features.0 .. features.21, then its head; (row here, repeat, output, params, MACs).
# conv2d_1a/2a/2b = features.0-2, mixed_3a/4a/5a = features.3-5, inception_a_1..4 =
# features.6-9, reduction_a = 10, inception_b_1..7 = 11-17, reduction_b = 18,
# inception_c_1..3 = 19-21.
V4_ROWS = expand([
    ("conv2d_1a", 1, (149, 149, 32), 928, 19_181_664),
    ("conv2d_2a", 1, (147, 147, 32), 9_280, 199_148_544),
    ("conv2d_2b", 1, (147, 147, 64), 18_560, 398_297_088),
    ("mixed_3a", 1, (73, 73, 160), 55_488, 294_672_384),
    ("mixed_4a", 1, (71, 71, 192), 189_312, 972_218_368),
    ("mixed_5a", 1, (35, 35, 384), 332_160, 406_425_600),
    ("inception_a", 4, (35, 35, 384), 317_632, 387_609_600),
    ("reduction_a", 1, (17, 17, 1024), 2_306_112, 1_097_164_800),
    ("inception_b", 7, (17, 17, 1024), 2_936_256, 847_264_768),
    ("reduction_b", 1, (8, 8, 1536), 2_747_392, 511_098_880),
    ("inception_c", 3, (8, 8, 1536), 4_553_088, 290_979_840),
    ("global_pool", 1, (1, 1, 1536), 0, 0),
    ("head_drop", 1, (1, 1, 1536), 0, 0),
    ("last_linear", 1, (1, 1, 1000), 1_537_000, 1_536_000),
])

# per branch (timm's branch names): output, params, MACs
V4_BRANCHES = {
    "mixed_4a": {
        "branch0": ((71, 71, 96), 65_856, 333_316_096),
        "branch1": ((71, 71, 96), 123_456, 638_902_272),
    },
    "inception_a_1": {
        "branch0": ((35, 35, 96), 37_056, 45_158_400),
        "branch1": ((35, 35, 96), 80_192, 97_843_200),
        "branch2": ((35, 35, 96), 163_328, 199_449_600),
        "branch3": ((35, 35, 96), 37_056, 45_158_400),
    },
    "reduction_a": {
        "branch0": ((17, 17, 384), 1_327_872, 383_533_056),
        "branch1": ((17, 17, 256), 978_240, 713_631_744),
        "branch2": ((17, 17, 384), 0, 0),
    },
    "inception_b_4": {
        "branch0": ((17, 17, 384), 393_984, 113_639_424),
        "branch1": ((17, 17, 256), 900_416, 259_831_808),
        "branch2": ((17, 17, 256), 1_510_528, 435_913_728),
        "branch3": ((17, 17, 128), 131_328, 37_879_808),
    },
    "reduction_b": {
        "branch0": ((8, 8, 192), 529_152, 78_053_376),
        "branch1": ((8, 8, 320), 2_218_240, 433_045_504),
        "branch2": ((8, 8, 1024), 0, 0),
    },
    "inception_c_3": {  # branch1 and branch2 end in a 1x3 and a 3x1 conv, concatenated
        "branch0": ((8, 8, 256), 393_728, 25_165_824),
        "branch1": ((8, 8, 512), 1_181_440, 75_497_472),
        "branch2": ((8, 8, 512), 2_584_192, 165_150_720),
        "branch3": ((8, 8, 256), 393_728, 25_165_824),
    },
}


def test_v4_totals(v4):
    root = v4.root
    assert root.in_shape == (299, 299, 3)
    assert root.out_shape == (1, 1, 1000)
    assert root.params == 42_679_816
    assert root.macs == 12_253_974_624
    # timm's split: conv weights 41,079,648 (no conv bias), BN 63,168, linear 1,536,000 + 1,000
    assert root.weights == 41_079_648 + 1_536_000
    assert root.biases == 1_000
    assert root.bn_params == 63_168
    assert len([n for n in root.layers() if n.kind == "conv"]) == 149


@pytest.mark.parametrize("name,shape,params,macs", V4_ROWS)
def test_v4_every_row_matches_timm(v4, name, shape, params, macs):
    node = rows(v4)[name]
    assert (node.out_shape, node.params, node.macs) == (shape, params, macs)


def test_v4_rows_are_timms_in_order(v4):
    assert [c.name for c in v4.root.children] == [r[0] for r in V4_ROWS]


@pytest.mark.parametrize("module", sorted(V4_BRANCHES))
def test_v4_branches_match_timm(v4, module):
    found = parts(rows(v4)[module])
    assert set(found) == set(V4_BRANCHES[module])
    for name, (shape, params, macs) in V4_BRANCHES[module].items():
        assert (found[name].out_shape, found[name].params, found[name].macs) == (shape, params, macs), name


def test_v4_modules_are_block_instances(v4):
    r = rows(v4)
    assert [r[f"inception_b_{i}"].block for i in range(1, 8)] == ["inception_b"] * 7
    assert r["reduction_a"].in_shape == (35, 35, 384)
    assert v4.network.stated["params"]["value"] == 42_700_000
    assert v4.network.stated["macs"]["value"] == 12_300_000_000


# ---- inception-resnet-v2 (timm inception_resnet_v2) ---------------------------------------

# timm's top level with its Sequentials repeat / repeat_1 / repeat_2 split into their
# blocks: repeat.0 = block35_1, repeat_1.0 = block17_1, repeat_2.0 = block8_1; the final
# block8 keeps timm's name.
IRV2_ROWS = expand([
    ("conv2d_1a", 1, (149, 149, 32), 928, 19_181_664),
    ("conv2d_2a", 1, (147, 147, 32), 9_280, 199_148_544),
    ("conv2d_2b", 1, (147, 147, 64), 18_560, 398_297_088),
    ("maxpool_3a", 1, (73, 73, 64), 0, 0),
    ("conv2d_3b", 1, (73, 73, 80), 5_280, 27_284_480),
    ("conv2d_4a", 1, (71, 71, 192), 138_624, 696_867_840),
    ("maxpool_5a", 1, (35, 35, 192), 0, 0),
    ("mixed_5b", 1, (35, 35, 320), 268_320, 327_398_400),
    ("block35", 10, (35, 35, 320), 123_168, 149_900_800),
    ("mixed_6a", 1, (17, 17, 1088), 2_664_960, 1_398_185_984),
    ("block17", 20, (17, 17, 1088), 1_126_784, 324_937_728),
    ("mixed_7a", 1, (8, 8, 2080), 3_880_960, 585_424_896),
    ("block8", 9, (8, 8, 2080), 2_035_424, 130_023_424),
    ("block8", 1, (8, 8, 2080), 2_035_424, 130_023_424),
    ("conv2d_7b", 1, (8, 8, 1536), 3_197_952, 204_472_320),
    ("global_pool", 1, (1, 1, 1536), 0, 0),
    ("head_drop", 1, (1, 1, 1536), 0, 0),
    ("classif", 1, (1, 1, 1000), 1_537_000, 1_536_000),
])

# per branch; "conv2d" is the residual up-projection (timm's post-merge conv2d, with bias)
IRV2_BRANCHES = {
    "mixed_5b": {
        "branch0": ((35, 35, 96), 18_624, 22_579_200),
        "branch1": ((35, 35, 64), 86_240, 105_369_600),
        "branch2": ((35, 35, 96), 151_040, 184_396_800),
        "branch3": ((35, 35, 64), 12_416, 15_052_800),
    },
    "block35_1": {
        "branch0": ((35, 35, 32), 10_304, 12_544_000),
        "branch1": ((35, 35, 32), 19_584, 23_833_600),
        "branch2": ((35, 35, 64), 52_000, 63_347_200),
        "conv2d": ((35, 35, 320), 41_280, 50_176_000),
        "relu": ((35, 35, 320), 0, 0),
    },
    "mixed_6a": {
        "branch0": ((17, 17, 384), 1_106_688, 319_610_880),
        "branch1": ((17, 17, 384), 1_558_272, 1_078_575_104),
        "branch2": ((17, 17, 320), 0, 0),
    },
    "block17_1": {
        "branch0": ((17, 17, 192), 209_280, 60_370_944),
        "branch1": ((17, 17, 192), 498_624, 143_824_896),
        "conv2d": ((17, 17, 1088), 418_880, 120_741_888),
        "relu": ((17, 17, 1088), 0, 0),
    },
    "mixed_7a": {
        "branch0": ((8, 8, 384), 1_164_544, 137_117_696),
        "branch1": ((8, 8, 288), 943_168, 122_961_920),
        "branch2": ((8, 8, 320), 1_773_248, 325_345_280),
        "branch3": ((8, 8, 1088), 0, 0),
    },
    "block8_1": {
        "branch0": ((8, 8, 192), 399_744, 25_559_040),
        "branch1": ((8, 8, 256), 701_760, 44_826_624),
        "conv2d": ((8, 8, 2080), 933_920, 59_637_760),
        "relu": ((8, 8, 2080), 0, 0),
    },
    "block8": {  # the final one: no ReLU after the addition
        "branch0": ((8, 8, 192), 399_744, 25_559_040),
        "branch1": ((8, 8, 256), 701_760, 44_826_624),
        "conv2d": ((8, 8, 2080), 933_920, 59_637_760),
    },
}


def test_irv2_totals(irv2):
    root = irv2.root
    assert root.in_shape == (299, 299, 3)
    assert root.out_shape == (1, 1, 1000)
    assert root.params == 55_843_464
    assert root.macs == 13_155_794_016
    # timm's split: conv weights 54,200,160, conv biases 45,760, BN 60,544, linear 1,537,000
    assert root.weights == 54_200_160 + 1_536_000
    assert root.biases == 45_760 + 1_000
    assert root.bn_params == 60_544
    assert irv2.network.stated["params"]["value"] == 55_800_000
    assert irv2.network.stated["macs"]["value"] == 13_200_000_000


@pytest.mark.parametrize("name,shape,params,macs", IRV2_ROWS)
def test_irv2_every_row_matches_timm(irv2, name, shape, params, macs):
    node = [c for c in irv2.root.children if c.name == name][-1]
    assert (node.out_shape, node.params, node.macs) == (shape, params, macs)


def test_irv2_rows_are_timms_in_order(irv2):
    assert [c.name for c in irv2.root.children] == [r[0] for r in IRV2_ROWS]


@pytest.mark.parametrize("module", sorted(IRV2_BRANCHES))
def test_irv2_branches_match_timm(irv2, module):
    found = parts([c for c in irv2.root.children if c.name == module][-1])
    assert set(found) == set(IRV2_BRANCHES[module])
    for name, (shape, params, macs) in IRV2_BRANCHES[module].items():
        assert (found[name].out_shape, found[name].params, found[name].macs) == (shape, params, macs), name


def test_irv2_residuals_and_biased_up_projections(irv2):
    residuals = [n for n in irv2.root.walk() if n.role == "residual"]
    assert [r.scale for r in residuals] == [0.17] * 10 + [0.10] * 20 + [0.20] * 9 + [1.0]
    biased = [n for n in irv2.root.layers() if n.kind == "conv" and n.biases]
    assert len(biased) == 40  # the up-projections, the only convs with a bias
    assert all(n.name == "conv2d" and n.bn_params == 0 for n in biased)
    assert sum(n.biases for n in biased) == 10 * 320 + 20 * 1088 + 10 * 2080 == 45_760
    assert len([n for n in irv2.root.layers() if n.kind == "conv"]) == 244


# ---- inception-resnet-v1 (the paper's figures; no reference implementation) ---------------

def conv(kh, kw, cin, cout, size, bn=True):
    """(params, MACs) of one bias-free conv + BN (2 per channel), or a biased linear conv."""
    weights = kh * kw * cin * cout
    return weights + (2 * cout if bn else cout), weights * size * size


def total(*convs):
    return tuple(map(sum, zip(*convs)))


# Stem (Figure 14): 3x3/2 32 V -> 149; 3x3 32 V -> 147; 3x3 64 -> 147; max pool 3x3/2 V
# -> 73; 1x1 80; 3x3 192 V -> 71; 3x3/2 256 V -> 35.
IRV1_STEM = {
    "conv2d_1a": conv(3, 3, 3, 32, 149),
    "conv2d_2a": conv(3, 3, 32, 32, 147),
    "conv2d_2b": conv(3, 3, 32, 64, 147),
    "conv2d_3b": conv(1, 1, 64, 80, 73),
    "conv2d_4a": conv(3, 3, 80, 192, 71),
    "conv2d_4b": conv(3, 3, 192, 256, 35),
}
# Inception-ResNet-A (Figure 10) at 35x35x256: 1x1 32 | 1x1 32, 3x3 32 | 1x1 32, 3x3 32,
# 3x3 32 (96 channels), then a linear 1x1 back to 256.
IRV1_A = total(conv(1, 1, 256, 32, 35),
               conv(1, 1, 256, 32, 35), conv(3, 3, 32, 32, 35),
               conv(1, 1, 256, 32, 35), conv(3, 3, 32, 32, 35), conv(3, 3, 32, 32, 35),
               conv(1, 1, 96, 256, 35, bn=False))
# Reduction-A (Figure 7, k, l, m, n = 192, 192, 256, 384): 3x3/2 384 V | 1x1 192, 3x3 192,
# 3x3/2 256 V | max pool 3x3/2 V: 384 + 256 + 256 = 896 channels at 17x17.
IRV1_RA = total(conv(3, 3, 256, 384, 17),
                conv(1, 1, 256, 192, 35), conv(3, 3, 192, 192, 35), conv(3, 3, 192, 256, 17))
# Inception-ResNet-B (Figure 11) at 17x17x896: 1x1 128 | 1x1 128, 1x7 128, 7x1 128
# (256 channels), then a linear 1x1 back to 896.
IRV1_B = total(conv(1, 1, 896, 128, 17),
               conv(1, 1, 896, 128, 17), conv(1, 7, 128, 128, 17), conv(7, 1, 128, 128, 17),
               conv(1, 1, 256, 896, 17, bn=False))
# Reduction-B (Figure 12): 1x1 256, 3x3/2 384 V | 1x1 256, 3x3/2 256 V | 1x1 256, 3x3 256,
# 3x3/2 256 V | max pool 3x3/2 V: 384 + 256 + 256 + 896 = 1792 channels at 8x8.
IRV1_RB = total(conv(1, 1, 896, 256, 17), conv(3, 3, 256, 384, 8),
                conv(1, 1, 896, 256, 17), conv(3, 3, 256, 256, 8),
                conv(1, 1, 896, 256, 17), conv(3, 3, 256, 256, 17), conv(3, 3, 256, 256, 8))
# Inception-ResNet-C (Figure 13) at 8x8x1792: 1x1 192 | 1x1 192, 1x3 192, 3x1 192
# (384 channels), then a linear 1x1 back to 1792.
IRV1_C = total(conv(1, 1, 1792, 192, 8),
               conv(1, 1, 1792, 192, 8), conv(1, 3, 192, 192, 8), conv(3, 1, 192, 192, 8),
               conv(1, 1, 384, 1792, 8, bn=False))
# Head: global average pool, dropout, linear 1792 -> 1000 with bias.
IRV1_LINEAR = (1792 * 1000 + 1000, 1792 * 1000)


def test_irv1_hand_derivation_adds_up():
    # the same figures, worked out once more by hand
    assert IRV1_STEM["conv2d_4b"] == (9 * 192 * 256 + 2 * 256, 9 * 192 * 256 * 35 * 35) == (442_880, 541_900_800)
    assert IRV1_A == (3 * 256 * 32 + 3 * 9 * 32 * 32 + 6 * 2 * 32 + 96 * 256 + 256,
                      (3 * 256 * 32 + 3 * 9 * 32 * 32 + 96 * 256) * 35 * 35) == (77_440, 94_080_000)
    assert IRV1_B[0] == 2 * 896 * 128 + 2 * 7 * 128 * 128 + 4 * 2 * 128 + 256 * 896 + 896 == 690_048
    assert IRV1_C[0] == 2 * 1792 * 192 + 2 * 3 * 192 * 192 + 4 * 2 * 192 + 384 * 1792 + 1792 == 1_600_768


def test_irv1_totals(irv1):
    stem = total(*IRV1_STEM.values())
    params, macs = total(stem, *[IRV1_A] * 5, IRV1_RA, *[IRV1_B] * 10, IRV1_RB, *[IRV1_C] * 5,
                         IRV1_LINEAR)
    assert (params, macs) == (22_756_328, 6_206_361_696)
    root = irv1.root
    assert root.in_shape == (299, 299, 3)
    assert root.out_shape == (1, 1, 1000)
    assert (root.params, root.macs) == (params, macs)
    # biases: the 20 linear up-projections and the classifier
    assert root.biases == 5 * 256 + 10 * 896 + 5 * 1792 + 1000
    assert not irv1.network.stated  # no published total


def test_irv1_rows(irv1):
    r = rows(irv1)
    for name, expected in IRV1_STEM.items():
        assert (r[name].params, r[name].macs) == expected, name
    assert r["conv2d_4b"].out_shape == (35, 35, 256)
    expected = {"block35": (5, IRV1_A, (35, 35, 256)), "block17": (10, IRV1_B, (17, 17, 896)),
                "block8": (5, IRV1_C, (8, 8, 1792))}
    for block, (repeat, figures, shape) in expected.items():
        for i in range(1, repeat + 1):
            node = r[f"{block}_{i}"]
            assert (node.params, node.macs, node.out_shape) == (*figures, shape)
    assert (r["mixed_6a"].params, r["mixed_6a"].macs, r["mixed_6a"].out_shape) == (*IRV1_RA, (17, 17, 896))
    assert (r["mixed_7a"].params, r["mixed_7a"].macs, r["mixed_7a"].out_shape) == (*IRV1_RB, (8, 8, 1792))
    assert (r["logits"].params, r["logits"].macs) == IRV1_LINEAR
    scales = [n.scale for n in irv1.root.walk() if n.role == "residual"]
    assert scales == [0.17] * 5 + [0.10] * 10 + [0.20] * 5


def test_compare_shares_the_stem_names(v4, irv2):
    # both timm networks start with the same three convs, named alike
    a, b = rows(v4), rows(irv2)
    for name in ("conv2d_1a", "conv2d_2a", "conv2d_2b"):
        assert (a[name].params, a[name].macs) == (b[name].params, b[name].macs)
