"""The reference zoo beyond the Inception family, each exact to its implementation: figures
from the real model built with random weights (torch 2.13.0, torchvision 0.28.0, CPU), params
= sum of parameter numel, MACs = conv kh*kw*Cin/groups*Cout*Hout*Wout + linear in*out from
forward hooks at 224x224."""

from __future__ import annotations

from conftest import builtin


def test_resnet50_equals_torchvision():
    a = builtin("resnet50")
    assert (a.root.params, a.root.macs) == (25_557_032, 4_089_184_256)
    assert a.root.depth == 50 and a.root.out_shape == (1, 1, 1000)
    first = a.root.find("layer1_0")
    assert first is not None and first.params == 75_008  # layer1[0], with its downsample
    assert [c.path for c in a.root.children][:4] == ["stem", "layer1_0", "layer1_1", "layer1_2"]
    assert a.root.find("layer4_0/downsample") is not None


def test_mobilenet_v2_equals_torchvision():
    a = builtin("mobilenet-v2")
    assert (a.root.params, a.root.macs) == (3_504_872, 300_774_272)
    names = [c.path for c in a.root.children]
    assert names[:3] == ["features_0", "features_1", "features_2"] and "features_18" in names
    first = a.root.find("features_1")  # t = 1: no expansion conv
    assert first is not None and [n.name for n in first.layers()] == ["depthwise", "relu6", "project"]
    depthwise = a.root.find("features_2")
    assert depthwise is not None and depthwise.layers()[2].args["groups"] == 96  # 16 * 6


def test_squeezenet1_0_equals_torchvision():
    a = builtin("squeezenet1-0")
    assert (a.root.params, a.root.macs) == (1_248_424, 818_924_576)
    fire2 = a.root.find("fire2")
    assert fire2 is not None and fire2.out_shape == (54, 54, 128)  # 64 + 64 from a 16-wide squeeze



def test_squeezenet1_1_equals_torchvision():
    # torchvision 0.28.0 squeezenet1_1: 1,235,496 parameters, 349,151,936 conv MACs
    a = builtin("squeezenet1-1")
    assert (a.root.params, a.root.macs) == (1_235_496, 349_151_936)
    stem = a.root.find("stem")  # 3x3/2 conv to 64, no padding: 111x111, then the ceil max pool: 55x55
    assert stem is not None and stem.out_shape == (55, 55, 64) and stem.macs == 21_290_688
    assert [c.path for c in a.root.children][3:7] == ["maxpool3", "fire4", "fire5", "maxpool5"]
    assert a.root.find("fire9").out_shape == (13, 13, 512)


def test_mobilenet_v3_small_equals_torchvision():
    # torchvision 0.28.0 mobilenet_v3_small: 2,542,856 parameters, 56,510,400 conv + linear MACs
    a = builtin("mobilenet-v3-small")
    assert (a.root.params, a.root.macs) == (2_542_856, 56_510_400)
    names = [c.path for c in a.root.children]
    assert names[:3] == ["features_0", "features_1", "features_2"] and "features_12" in names
    first = a.root.find("features_1")  # expanded width = input width: no expansion conv; SE 16 -> 8 -> 16
    assert first is not None and [n.name for n in first.layers()][:2] == ["depthwise", "relu"]
    se = a.root.find("features_4/se")  # 96 expanded, squeezed to _make_divisible(96 // 4, 8) = 24
    assert se is not None and [n.out_shape[2] for n in se.layers()][:2] == [96, 24]
    assert a.root.find("features_2/se") is None  # features.2 and .3 have no SE
    assert a.root.find("features_7/se").layers()[1].out_shape[2] == 32  # 120 // 4 = 30, rounded to 32

def test_densenet121_equals_torchvision():
    a = builtin("densenet121")
    assert (a.root.params, a.root.macs) == (7_978_856, 2_834_161_664)
    assert a.root.depth == 121
    layer = a.root.find("denseblock2/denselayer3")  # the numbering restarts in each block (start: 1)
    assert layer is not None and layer.out_shape == (28, 28, 128 + 3 * 32)
    transition = a.root.find("transition1")
    assert transition is not None and transition.out_shape == (28, 28, 128)  # 256 // 2, 56 // 2


def test_efficientnet_b0_equals_torchvision():
    a = builtin("efficientnet-b0")
    assert (a.root.params, a.root.macs) == (5_288_548, 385_814_752)
    se = a.root.find("features_2/se")  # 16 -> 96 expanded; squeezed to 16 // 4 = 4
    assert se is not None and [n.out_shape[2] for n in se.layers()][:3] == [96, 4, 96]
    assert a.term_totals()["mul_out"] > 0  # the gates' products are counted as a term


def test_xception_equals_keras_applications():
    # Keras 3.15.1 (torch backend): keras.applications.Xception(weights=None)
    keras = builtin("xception", convention="keras")
    assert (keras.root.params, keras.root.trainable) == (22_910_480, 22_855_952)
    assert keras.root.macs == 8_357_403_496  # conv + separable (depthwise + pointwise) + dense
    # PyTorch's count (timm 1.0.31 legacy_xception: 22,855,952) keeps no moving statistics
    assert builtin("xception").root.params == 22_855_952
    assert builtin("xception").root.find("block12") is not None  # the middle flow: block5..block12


def test_convnext_tiny_equals_torchvision():
    a = builtin("convnext-tiny")
    # conv 292,965,120 + linear 4,162,566,144 MACs (forward hooks; the MLP's nn.Linear at every position)
    assert (a.root.params, a.root.macs) == (28_589_128, 4_455_531_264)
    assert a.root.depth == 59 and a.root.out_shape == (1, 1, 1000)
    block = a.root.find("features_1/block0")  # torchvision's features[1][0]
    assert block is not None and block.params == 79_296  # dwconv 4,800 + norm 192 + MLP 74,208 + gamma 96
    assert [n.kind for n in block.layers()] == ["conv", "layer_norm", "linear", "activation", "linear",
                                                "layer_scale", "residual_add"]
    assert [n.out_shape for n in block.layers()][2] == (56, 56, 384)
    assert a.root.find("features_5/block8") is not None and a.root.find("features_5/block9") is None
    terms = a.term_totals()
    # torchvision: the nn.LayerNorm and LayerNorm2d parameters, 16,320; the CNBlocks' layer_scale, 6,624
    assert (terms["ln_params"], terms["ln_module_params"], terms["layer_scale_params"]) == (16_320, 13_248, 6_624)


def test_shufflenet_v2_equals_torchvision_and_the_tools():
    a = builtin("shufflenet-v2")
    assert (a.root.params, a.root.macs) == (2_278_604, 144_907_992)
    assert a.root.out_shape == (1, 1, 1000) and a.root.depth == 51
    names = [c.path for c in a.root.children]
    assert names[2:4] == ["stage2_0", "stage2_1"] and "stage3_7" in names and "stage4_3" in names
    unit = a.root.find("stage3_1")  # x.chunk(2, dim=1): 116 channels pass, 116 run the branch
    assert unit is not None and unit.params == 28_652 and unit.out_shape == (14, 14, 232)
    assert [n.kind for n in unit.layers()][:2] == ["channel_split", "channel_split"]
    assert unit.layers()[-1].kind == "channel_shuffle"
    # what the tools print for torchvision 0.28.0's model (torch 2.13.0, fvcore 0.1.5.post20221221,
    # ptflops 0.7.5, thop 0.1.1.post2209072238), 1x3x224x224; none counts x.mean([2, 3])
    printed = {"fvcore": 148_808_392, "ptflops": 152_387_568, "ptflops-aten": 144_908_992,
               "thop": 152_708_792, "flop-counter": 289_815_984}
    for convention, macs in printed.items():
        counted = builtin("shufflenet-v2", convention=convention).root
        assert (counted.macs, counted.params) == (macs, 2_278_604), convention


def test_parameter_groups_add_up_to_the_parameters_in_every_built_in():
    """Under `torchvision` a report's weights, biases, bn params and ln/scale params columns
    add up to its params column (ConvNeXt's layer norms and layer scales had no column:
    its groups summed to 22,944 short)."""
    from inception_cost.source.catalog import builtin_names

    for name in builtin_names():
        root = builtin(name).root
        assert root.weights + root.biases + root.bn_params + root.norm_params == root.params, name
    convnext = builtin("convnext-tiny").root
    assert (convnext.weights, convnext.biases, convnext.norm_params) == (28_524_000, 42_184, 22_944)
    import inception_cost as ic

    assert ic.analyse("convnext-tiny").norm_params == 22_944  # the API's figure is the report's
