"""Real models read directly, and through `import`: torchvision exports to ONNX (batch norm
folded and kept) and keras.applications configs, against the frameworks' own figures.

References (tests/models/README.md says how each file was made): torchvision 0.28.0 on
torch 2.13.0, params = sum of parameter numel, MACs = conv kh*kw*Cin/groups*Cout*Hout*Wout
+ linear in*out from forward hooks; Keras 3.15.1 `model.count_params()`, MACs from the
layers' output shapes (conv, depthwise, separable, dense). onnx 1.23.2 read the exports.
"""

from __future__ import annotations

import gzip
import os

import pytest

import inception_cost as ic
from inception_cost.core.tree import Role
from inception_cost.importers import import_model

try:
    import onnx  # noqa: F401  (the optional extra; the test extra installs it)
    ONNX = True
except ImportError:
    ONNX = False
needs_onnx = pytest.mark.skipif(not ONNX, reason="the onnx extra is not installed")
MODELS = os.path.join(os.path.dirname(__file__), "models")

# torchvision name -> (built-in file, params, MACs, params of the eval export with BN folded)
TORCHVISION = {
    "googlenet": ("googlenet-torchvision", 6_624_904, 1_498_376_192, 6_617_624),
    "inception_v3": ("inception-v3", 23_834_568, 5_713_216_096, 23_817_352),
    "resnet50": ("resnet50", 25_557_032, 4_089_184_256, 25_530_472),
    "mobilenet_v2": ("mobilenet-v2", 3_504_872, 300_774_272, 3_487_816),
    "densenet121": ("densenet121", 7_978_856, 2_834_161_664, 7_971_368),
    "efficientnet_b0": ("efficientnet-b0", 5_288_548, 385_814_752, 5_267_540),
}
# keras.applications name -> (count_params(), conv + dense MACs)
KERAS = {
    "InceptionV3": (23_851_784, 5_713_216_096),
    "Xception": (22_910_480, 8_357_403_496),
    "ResNet50": (25_636_712, 3_857_973_248),
    "MobileNetV2": (3_538_984, 300_774_272),
    "InceptionResNetV2": (55_873_736, 13_155_794_016),  # CustomScaleLayer: residuals with scales
    "DenseNet121": (8_062_504, 2_834_161_664),
}


def unpack(tmp_path, name: str, suffix: str) -> str:
    target = tmp_path / f"{name}{suffix}"
    with gzip.open(os.path.join(MODELS, f"{name}{suffix}.gz"), "rb") as packed:
        target.write_bytes(packed.read())
    return str(target)


def same_as_written_yaml(tmp_path, model: str, conventions=("torchvision", "fvcore", "keras")) -> None:
    """Analysing the YAML that `import` writes gives the numbers of analysing the model file."""
    written = tmp_path / "written.yaml"
    written.write_text(import_model(model).text)
    for convention in conventions:
        direct, via_yaml = ic.analyse(model, convention=convention), ic.analyse(str(written), convention=convention)
        assert (via_yaml.params, via_yaml.macs, via_yaml.depth) == (direct.params, direct.macs, direct.depth)
        assert [c.macs for c in via_yaml.children] == [c.macs for c in direct.children]


@needs_onnx
@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_export_with_batch_norm_equals_the_model(tmp_path, name):
    builtin, params, macs, _ = TORCHVISION[name]
    model = unpack(tmp_path, f"{name}_bn", ".onnx")
    cost = ic.analyse(model)
    assert (cost.params, cost.macs) == (params, macs)
    # the built-in file, pinned against the same model; ptflops and thop also count whether
    # PyTorch called a module or a function, which an ONNX file does not record
    for convention in ("torchvision", "fvcore", "keras", "ptflops-aten", "flop-counter"):
        reference, same = ic.analyse(builtin, convention=convention), ic.analyse(model, convention=convention)
        assert (same.params, same.macs, same.depth) == (reference.params, reference.macs, reference.depth)
    assert "BatchNormalization nodes kept separate" in ic.analyse(model).to_markdown()
    same_as_written_yaml(tmp_path, model)


@needs_onnx
@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_export_with_batch_norm_folded(tmp_path, name):
    _, params, macs, folded = TORCHVISION[name]
    cost = ic.analyse(unpack(tmp_path, f"{name}_folded", ".onnx"))
    assert (cost.params, cost.macs) == (folded, macs)  # MACs unchanged
    # each folded batch norm of C channels: 2C parameters gone, C conv biases made
    separate = ic.analyse(unpack(tmp_path, f"{name}_bn", ".onnx"))
    folded_channels = sum(n.out_shape[2] for n in separate.analysis.root.layers()
                          if n.kind == "conv" and n.args["batch_norm"])
    assert params - folded == folded_channels
    assert "Batch norm folded" in cost.to_markdown()
    same_as_written_yaml(tmp_path, unpack(tmp_path, f"{name}_folded", ".onnx"), ("torchvision",))


@needs_onnx
def test_dynamo_export_with_its_weights_missing(tmp_path):
    """torch.onnx.export's default (dynamo) exporter folds batch norm and, where the shift is
    zero (a fresh model), keeps no bias: 2 parameters fewer per BN channel (26,560 channels);
    its weights were stored outside the file and are gone."""
    cost = ic.analyse(unpack(tmp_path, "resnet50_dynamo", ".onnx"))
    assert (cost.params, cost.macs) == (25_557_032 - 2 * 26_560, 4_089_184_256)
    assert "Batch norm: none in the graph. If the model had batch norm, the exporter folded it" in \
        cost.to_markdown()
    same_as_written_yaml(tmp_path, unpack(tmp_path, "resnet50_dynamo", ".onnx"), ("torchvision",))


@pytest.mark.parametrize("name", sorted(KERAS))
def test_keras_applications_config(tmp_path, name):
    params, macs = KERAS[name]
    config = unpack(tmp_path, f"keras_{name}", ".json")
    cost = ic.analyse(config, convention="keras")
    assert (cost.params, cost.macs) == (params, macs)
    same_as_written_yaml(tmp_path, config, ("keras", "torchvision"))


def test_keras_efficientnet_normalization_is_said(tmp_path):
    """keras.applications' EfficientNetB0 (5,330,571 count_params()) normalises its input with
    a Normalization layer whose mean, variance and count (3 + 3 + 1) are not counted."""
    cost = ic.analyse(unpack(tmp_path, "keras_EfficientNetB0", ".json"), convention="keras")
    assert (cost.params, cost.macs) == (5_330_571 - 7, 385_814_752)
    assert "Normalization layer 'normalization': its mean, variance and count" in cost.to_markdown()


def test_keras_inception_resnet_v2_equals_the_builtin(tmp_path):
    cost = ic.analyse(unpack(tmp_path, "keras_InceptionResNetV2", ".json"), convention="keras")
    builtin = ic.analyse("inception-resnet-v2", convention="keras")
    assert (cost.params, cost.macs) == (builtin.params, builtin.macs)
    assert "scale: 0.17" in import_model(unpack(tmp_path, "keras_InceptionResNetV2", ".json")).text


def test_keras_file_reads_its_config_only(tmp_path):
    import zipfile

    config = unpack(tmp_path, "keras_MobileNetV2", ".json")
    archive = tmp_path / "MobileNetV2.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(config, "config.json")
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"not read")
    assert ic.analyse(str(archive), convention="keras").params == KERAS["MobileNetV2"][0]


def test_keras_inception_v3_equals_the_builtin(tmp_path):
    """keras.applications' InceptionV3 = torchvision's inception_v3 in MACs; the built-in has
    torchvision's parameters (BN with scale), Keras's have no gamma (scale=False)."""
    cost = ic.analyse(unpack(tmp_path, "keras_InceptionV3", ".json"), convention="keras")
    assert cost.macs == ic.analyse("inception-v3").macs
    assert ic.analyse("inception-v3", convention="keras").params == cost.params


@needs_onnx
def test_structure_is_recovered(tmp_path):
    text = import_model(unpack(tmp_path, "googlenet_bn", ".onnx")).text
    assert "  name: inception3a\n    layers:\n      - concat:\n          branch1:" in text
    resnet = import_model(unpack(tmp_path, "resnet50_bn", ".onnx")).text
    assert "- add:\n" in resnet and "downsample:" in resnet and "- residual:\n" in resnet
    # layer1[1] and layer1[2] are identical: one block, used twice with the model's names
    assert "name: layer1.{i}\n          use: layer1\n          start: 1\n          repeat: 2" in resnet
    effnet_file = unpack(tmp_path, "efficientnet_b0_bn", ".onnx")
    assert "activation: silu" in import_model(effnet_file).text
    effnet = ic.analyse(effnet_file).analysis.root
    assert sum(1 for n in effnet.walk() if n.role is Role.GATE) == 16
    dense = ic.analyse(unpack(tmp_path, "densenet121_bn", ".onnx"))
    assert dense.depth == 121
    keras_resnet = import_model(unpack(tmp_path, "keras_ResNet50", ".json")).text
    assert "name: block1" in keras_resnet and "padding: [[1, 1], [1, 1]]" not in keras_resnet


def test_of_a_keras_archive_only_its_config_is_read(tmp_path):
    # a .keras file is a zip of config.json and the weights; weights larger than the 50 MB a
    # config may have (Xception's are 92 MB) are never read
    import zipfile

    with gzip.open(os.path.join(MODELS, "keras_Xception.json.gz"), "rb") as packed:
        config = packed.read()
    archive = tmp_path / "xception.keras"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("config.json", config)
        zf.writestr("model.weights.h5", os.urandom(51_000_000))
    cost = ic.analyse(str(archive), convention="keras")
    assert (cost.params, cost.macs) == KERAS["Xception"]
