"""Keras configs written by hand (Keras 3 functional, Keras 2 lists, Sequential) and bad
files; the real keras.applications configs are in test_import_models.py."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

import inception_cost as ic
from inception_cost.cli import cli
from inception_cost.errors import ArchitectureError, ExitCode
from inception_cost.importers import import_model


def tensor(name: str) -> dict:
    return {"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}}


def layer(cls: str, name: str, inputs: list[str], **config) -> dict:
    args = [tensor(i) for i in inputs]
    return {"class_name": cls, "name": name, "config": {"name": name, **config},
            "inbound_nodes": [{"args": args if len(args) == 1 else [args], "kwargs": {}}] if inputs else []}


def functional(layers: list[dict], output: str) -> dict:
    return {"class_name": "Functional", "config": {"name": "small", "layers": layers,
                                                   "input_layers": [["in", 0, 0]], "output_layers": [[output, 0, 0]]}}


def write(tmp_path, document, name="model.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


SMALL = functional([
    layer("InputLayer", "in", [], batch_shape=[None, 16, 16, 3]),
    layer("ZeroPadding2D", "stem_pad", ["in"], padding=[[0, 1], [0, 1]]),
    layer("Conv2D", "stem_conv", ["stem_pad"], filters=8, kernel_size=[3, 3], strides=[2, 2], padding="valid",
          use_bias=False, activation="linear"),
    layer("BatchNormalization", "stem_bn", ["stem_conv"], axis=-1, scale=True, center=True),
    layer("ReLU", "stem_relu", ["stem_bn"], max_value=6.0),
    layer("DepthwiseConv2D", "block_dw", ["stem_relu"], kernel_size=[3, 3], padding="same", use_bias=False,
          depth_multiplier=1),
    layer("Conv2D", "block_pw", ["block_dw"], filters=8, kernel_size=1, padding="same", use_bias=True),
    layer("Add", "block_add", ["stem_relu", "block_pw"]),
    layer("GlobalAveragePooling2D", "pool", ["block_add"]),
    layer("Dropout", "drop", ["pool"], rate=0.2),
    layer("Dense", "predictions", ["drop"], units=10, activation="softmax"),
], "predictions")


def test_small_functional_model(tmp_path):
    path = write(tmp_path, SMALL)
    cost = ic.analyse(path, convention="keras")
    # 16x16 padded to 17x17, 3x3/2 valid: 8x8
    conv, dw, pw, dense = 27 * 8 * 64, 9 * 8 * 64, 8 * 8 * 64, 8 * 10
    assert cost.macs == conv + dw + pw + dense
    assert cost.params == 27 * 8 + 4 * 8 + 9 * 8 + 64 + 8 + 80 + 10  # keras BN: gamma, beta, mean, variance
    text = import_model(path).text
    assert "padding: [[0, 1], [0, 1]]" in text and "- residual:" in text and "- softmax:" in text
    assert "batch_norm_scale: true, activation: relu6" in text


def test_keras2_sequential(tmp_path):
    document = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "Conv2D", "config": {"name": "c", "batch_input_shape": [None, 8, 8, 1], "filters": 4,
                                            "kernel_size": [3, 3], "padding": "same", "use_bias": True}},
        {"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [2, 2], "padding": "valid"}},
        {"class_name": "Flatten", "config": {"name": "f"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "relu"}}]}}
    cost = ic.analyse(write(tmp_path, document))
    assert cost.macs == 9 * 4 * 64 + 64 * 3 and cost.params == 40 + 64 * 3 + 3


def test_keras2_functional_lists(tmp_path):
    document = {"class_name": "Model", "config": {"name": "k2", "layers": [
        {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [None, 8, 8, 2]},
         "inbound_nodes": []},
        {"class_name": "Conv2D", "name": "a", "config": {"filters": 2, "kernel_size": [1, 1]},
         "inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Concatenate", "name": "mixed", "config": {"axis": -1},
         "inbound_nodes": [[["in", 0, 0, {}], ["a", 0, 0, {}]]]}],
        "input_layers": [["in", 0, 0]], "output_layers": [["mixed", 0, 0]]}}
    path = write(tmp_path, document)
    assert ic.analyse(path).output_shape == (8, 8, 4)
    assert "name: mixed\n    layers:\n      - concat:" in import_model(path).text


def test_bad_keras_files(tmp_path):
    with pytest.raises(ArchitectureError, match="not a readable JSON document"):
        ic.analyse(str(_text(tmp_path, "broken.json", '{"class_name": ')))
    with pytest.raises(ArchitectureError, match="not a Keras model config"):
        ic.analyse(str(_text(tmp_path, "other.json", '{"a": 1}')))
    archive = tmp_path / "empty.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("metadata.json", "{}")
    with pytest.raises(ArchitectureError, match="needs a config.json"):
        ic.analyse(str(archive))
    with pytest.raises(ArchitectureError, match="not a readable zip archive"):
        ic.analyse(str(_text(tmp_path, "fake.keras", "not a zip")))
    dynamic = json.loads(json.dumps(SMALL))
    dynamic["config"]["layers"][0]["config"]["batch_shape"] = [None, None, None, 3]
    with pytest.raises(ArchitectureError, match="dynamic height"):
        ic.analyse(write(tmp_path, dynamic, "dynamic.json"))
    cycle = json.loads(json.dumps(SMALL))
    cycle["config"]["layers"][2]["inbound_nodes"] = [{"args": [tensor("stem_relu")], "kwargs": {}}]
    with pytest.raises(ArchitectureError, match="a cycle"):
        ic.analyse(write(tmp_path, cycle, "cycle.json"))


def test_unknown_layer(tmp_path):
    odd = json.loads(json.dumps(SMALL))
    odd["config"]["layers"][9]["class_name"] = "GaussianNoise"
    path = write(tmp_path, odd, "odd.json")
    result = CliRunner().invoke(cli, [path])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE
    assert result.output.strip() == (f"inception-cost: {path}: layer 'drop': unknown layer 'GaussianNoise'"
                                     " (--skip-unknown counts such layers as zero)")
    skipped = CliRunner().invoke(cli, [path, "--skip-unknown"])
    assert skipped.exit_code == 0 and "(GaussianNoise x1)" in skipped.output


def _text(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_malformed_configs_are_one_line_errors(tmp_path):
    """Every value of a small config replaced by a wrong one (seeded): a report or a one-line
    error with a documented exit code, never an internal error."""
    import random

    rng = random.Random(11)
    wrong = [None, -1, 0, 10**9, 2.5, "x", [], [1], [[1, 2, 3]], {}, True, "same", [None, None, None, 3]]

    def leaves(value, path=()):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from leaves(v, (*path, k))
        elif isinstance(value, list) and value:
            for i, v in enumerate(value):
                yield from leaves(v, (*path, i))
        else:
            yield path

    paths = list(leaves(SMALL))
    for trial in range(150):
        document = json.loads(json.dumps(SMALL))
        path = rng.choice(paths)
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = rng.choice(wrong)
        result = CliRunner().invoke(cli, [write(tmp_path, document, f"m{trial}.json")])
        assert result.exit_code in (0, ExitCode.SHAPE_MISMATCH, ExitCode.INVALID_ARCHITECTURE), \
            (path, result.output)
        assert result.exit_code == 0 or len(result.output.strip().splitlines()) == 1, result.output
