"""The torchvision built-ins (googlenet-torchvision, inception-v3) against the real models.

Provenance: every expected figure below was counted from the real implementations,
torchvision 0.29.1 on torch 2.14.1, models built with weights=None (random init):
googlenet(aux_logits=False) and inception_v3(aux_logits=False, init_weights=False) for
the inference figures, aux_logits=True in train mode for the training figures; input
1x3x224x224 and 1x3x299x299 (batch 1); parameters = sum of p.numel() over
model.parameters(), MACs = Conv2d and Linear layers only, from output shapes recorded by
forward hooks. They are copied here as literals: nothing in this file imports torch.
"""

import pytest
from conftest import builtin


def _load(name, train):
    return builtin(name, train=train)


@pytest.fixture(scope="module")
def tv_googlenet():
    return _load("googlenet-torchvision", train=False)


@pytest.fixture(scope="module")
def tv_googlenet_train():
    return _load("googlenet-torchvision", train=True)


@pytest.fixture(scope="module")
def inception_v3():
    return _load("inception-v3", train=False)


@pytest.fixture(scope="module")
def inception_v3_train():
    return _load("inception-v3", train=True)


def rows(analysis):
    return {c.name: c for c in analysis.root.children}


def branches(module):
    (concat,) = [c for c in module.children if c.role == "concat"]
    return {b.name: b for b in concat.children}


# ---- googlenet-torchvision ------------------------------------------------------------

# torchvision's top-level modules (conv2 here = its conv2 + conv3; linear = its fc):
# (row, output HxWxC, params, MACs)
GOOGLENET_ROWS = [
    ("conv1", (112, 112, 64), 9_536, 118_013_952),
    ("maxpool1", (56, 56, 64), 0, 0),
    ("conv2", (56, 56, 192), 4_224 + 110_976, 12_845_056 + 346_816_512),
    ("maxpool2", (28, 28, 192), 0, 0),
    ("3a", (28, 28, 256), 155_872, 121_626_624),
    ("3b", (28, 28, 480), 340_224, 265_732_096),
    ("maxpool3", (14, 14, 480), 0, 0),
    ("4a", (14, 14, 512), 364_512, 71_199_744),
    ("4b", (14, 14, 512), 425_232, 83_091_456),
    ("4c", (14, 14, 512), 486_192, 95_033_344),
    ("4d", (14, 14, 528), 573_312, 112_093_184),
    ("4e", (14, 14, 832), 803_840, 157_151_232),
    ("maxpool4", (7, 7, 832), 0, 0),
    ("5a", (7, 7, 832), 978_944, 47_867_904),
    ("5b", (7, 7, 1024), 1_347_040, 65_881_088),
    ("avgpool", (1, 1, 1024), 0, 0),
    ("dropout", (1, 1, 1024), 0, 0),
    ("linear", (1, 1, 1000), 1_025_000, 1_024_000),
]


def test_googlenet_torchvision_totals(tv_googlenet, tv_googlenet_train):
    root = tv_googlenet.root
    assert (root.params, root.macs) == (6_624_904, 1_498_376_192)
    # conv weights 5,585,344 + fc weights 1,024,000; the only biases are fc's
    assert (root.weights, root.biases, root.bn_params) == (6_609_344, 1_000, 14_560)
    assert root.out_shape == (1, 1, 1000)
    assert root.depth == 22
    train = tv_googlenet_train.root
    assert (train.params, train.macs) == (13_004_888, 1_506_748_416)
    assert (train.weights, train.biases, train.bn_params) == (
        5_718_464 + 7_266_304, 5_048, 15_072)
    assert train.out_shape == (1, 1, 1000)


def test_googlenet_torchvision_rows(tv_googlenet):
    found = rows(tv_googlenet)
    assert list(found) == [r[0] for r in GOOGLENET_ROWS]
    for name, shape, params, macs in GOOGLENET_ROWS:
        assert (name, found[name].out_shape, found[name].params, found[name].macs) == (
            name, shape, params, macs)


def test_googlenet_torchvision_3a_branches(tv_googlenet):
    node = tv_googlenet.root.find("3a")
    assert node.in_shape == (28, 28, 192)
    found = branches(node)
    assert list(found) == ["1x1", "3x3", "5x5", "pool"]
    assert [(b.params, b.macs) for b in found.values()] == [
        (12_416, 9_633_792), (129_472, 101_154_816), (7_776, 6_021_120), (6_208, 4_816_896)]
    # torchvision's "5x5" branch is a 3x3 conv (its source: "a known bug")
    assert [layer.description for layer in found["5x5"].layers()] == ["conv 1x1 16", "conv 3x3 32"]


def test_googlenet_torchvision_4e_branches(tv_googlenet):
    found = branches(tv_googlenet.root.find("4e"))
    assert [(b.out_shape[2], b.params, b.macs) for b in found.values()] == [
        (256, 135_680, 26_492_928), (320, 546_240, 106_874_880),
        (128, 54_080, 10_536_960), (128, 67_840, 13_246_464)]


def test_googlenet_torchvision_aux_heads(tv_googlenet, tv_googlenet_train):
    names = list(rows(tv_googlenet_train))
    assert names.index("aux1") == names.index("4a") + 1
    assert names.index("aux2") == names.index("4d") + 1
    assert "aux1" not in rows(tv_googlenet) and "aux2" not in rows(tv_googlenet)
    aux1 = tv_googlenet_train.root.find("aux1")
    aux2 = tv_googlenet_train.root.find("aux2")
    assert (aux1.params, aux1.macs) == (3_188_968, 4_169_728)
    assert (aux2.params, aux2.macs) == (3_191_016, 4_202_496)
    assert aux1.out_shape == aux2.out_shape == (1, 1, 1000)


# ---- inception-v3 ----------------------------------------------------------------------

# torchvision's top-level modules in forward order: (name, output HxWxC, params, MACs)
INCEPTION_V3_ROWS = [
    ("Conv2d_1a_3x3", (149, 149, 32), 928, 19_181_664),
    ("Conv2d_2a_3x3", (147, 147, 32), 9_280, 199_148_544),
    ("Conv2d_2b_3x3", (147, 147, 64), 18_560, 398_297_088),
    ("maxpool1", (73, 73, 64), 0, 0),
    ("Conv2d_3b_1x1", (73, 73, 80), 5_280, 27_284_480),
    ("Conv2d_4a_3x3", (71, 71, 192), 138_624, 696_867_840),
    ("maxpool2", (35, 35, 192), 0, 0),
    ("Mixed_5b", (35, 35, 256), 255_904, 312_345_600),
    ("Mixed_5c", (35, 35, 288), 277_472, 338_688_000),
    ("Mixed_5d", (35, 35, 288), 285_152, 348_096_000),
    ("Mixed_6a", (17, 17, 768), 1_153_280, 401_937_408),
    ("Mixed_6b", (17, 17, 768), 1_297_408, 374_063_104),
    ("Mixed_6c", (17, 17, 768), 1_691_008, 487_702_528),
    ("Mixed_6d", (17, 17, 768), 1_691_008, 487_702_528),
    ("Mixed_6e", (17, 17, 768), 2_141_952, 617_914_368),
    ("Mixed_7a", (8, 8, 1280), 1_698_304, 291_004_416),
    ("Mixed_7b", (8, 8, 2048), 5_044_608, 322_437_120),
    ("Mixed_7c", (8, 8, 2048), 6_076_800, 388_497_408),
    ("avgpool", (1, 1, 2048), 0, 0),
    ("dropout", (1, 1, 2048), 0, 0),
    ("fc", (1, 1, 1000), 2_049_000, 2_048_000),
]


def test_inception_v3_totals(inception_v3, inception_v3_train):
    root = inception_v3.root
    assert (root.params, root.macs) == (23_834_568, 5_713_216_096)
    assert (root.weights, root.biases, root.bn_params) == (21_751_136 + 2_048_000, 1_000, 34_432)
    assert root.out_shape == (1, 1, 1000)
    train = inception_v3_train.root
    assert (train.params, train.macs) == (27_161_264, 5_718_899_296)
    assert (train.weights, train.biases, train.bn_params) == (
        24_307_040 + 2_816_000, 2_000, 36_224)
    assert train.out_shape == (1, 1, 1000)


def test_inception_v3_rows(inception_v3):
    found = rows(inception_v3)
    assert list(found) == [r[0] for r in INCEPTION_V3_ROWS]
    for name, shape, params, macs in INCEPTION_V3_ROWS:
        assert (name, found[name].out_shape, found[name].params, found[name].macs) == (
            name, shape, params, macs)


def test_inception_v3_module_branches(inception_v3):
    mixed_5b = branches(inception_v3.root.find("Mixed_5b"))
    assert [(b.name, b.out_shape[2], b.params, b.macs) for b in mixed_5b.values()] == [
        ("branch1x1", 64, 12_416, 15_052_800), ("branch5x5", 64, 86_240, 105_369_600),
        ("branch3x3dbl", 96, 151_040, 184_396_800), ("branch_pool", 32, 6_208, 7_526_400)]
    mixed_6a = branches(inception_v3.root.find("Mixed_6a"))
    # the pool branch is F.max_pool2d in torchvision: 288 channels passed through, no cost
    assert [(b.name, b.out_shape, b.params, b.macs) for b in mixed_6a.values()] == [
        ("branch3x3", (17, 17, 384), 996_096, 287_649_792),
        ("branch3x3dbl", (17, 17, 96), 157_184, 114_287_616),
        ("branch_pool", (17, 17, 288), 0, 0)]
    mixed_6e = branches(inception_v3.root.find("Mixed_6e"))
    assert [(b.params, b.macs) for b in mixed_6e.values()] == [
        (147_840, 42_614_784), (664_704, 191_766_528),
        (1_181_568, 340_918_272), (147_840, 42_614_784)]


def test_inception_v3_split_branches(inception_v3):
    node = inception_v3.root.find("Mixed_7c")
    assert node.in_shape == (8, 8, 2048)
    found = branches(node)
    assert [(b.name, b.out_shape[2], b.params, b.macs) for b in found.values()] == [
        ("branch1x1", 320, 656_000, 41_943_040),
        ("branch3x3", 768, 1_673_472, 106_954_752),
        ("branch3x3dbl", 768, 3_353_728, 214_433_792),
        ("branch_pool", 192, 393_600, 25_165_824)]
    # 1x1 384, then 1x3 384 and 3x1 384 side by side: 384 + 384 = 768 channels
    kernels = [(layer.description, layer.out_shape) for layer in found["branch3x3"].layers()]
    assert kernels == [("conv 1x1 384", (8, 8, 384)), ("conv 1x3 384", (8, 8, 384)),
                       ("conv 3x1 384", (8, 8, 384))]


def test_inception_v3_aux_logits(inception_v3, inception_v3_train):
    names = list(rows(inception_v3_train))
    assert names.index("AuxLogits") == names.index("Mixed_6e") + 1
    assert "AuxLogits" not in rows(inception_v3)
    aux = inception_v3_train.root.find("AuxLogits")
    assert aux.in_shape == (17, 17, 768)
    assert (aux.params, aux.macs) == (3_326_696, 5_683_200)
    assert aux.out_shape == (1, 1, 1000)
    assert inception_v3_train.root.params == inception_v3.root.params + aux.params
    assert inception_v3_train.root.macs == inception_v3.root.macs + aux.macs
