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
    assert first is not None and [n.name for n in first.layers()] == ["depthwise", "project"]
    depthwise = a.root.find("features_2")
    assert depthwise is not None and depthwise.layers()[1].args["groups"] == 96  # 16 * 6
