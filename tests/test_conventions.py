"""Convention presets against what the real tools print for the same models.

Provenance: each tool run on the torchvision model built with weights=None (eval mode,
batch 1): torch 2.14.1, torchvision 0.29.1, fvcore 0.1.5.post20221221
(FlopCountAnalysis(...).total()), ptflops 0.7.5 (get_model_complexity_info,
as_strings=False, backends 'pytorch' and 'aten'), thop 0.1.1.post2209072238 (profile),
torch.utils.flop_counter.FlopCounterMode; Keras 3.15.1 model.summary() of
keras.applications.InceptionV3(weights=None) and InceptionResNetV2(weights=None).
"""

import json

import pytest
from click.testing import CliRunner
from conftest import builtin

from inception_cost.cli import cli
from inception_cost.core import conventions
from inception_cost.core.analysis import analyse
from inception_cost.source.catalog import load

TOOLS = {  # network -> convention -> (total the tool prints, parameters it prints)
    "googlenet-torchvision": {
        "torchvision": (1_498_376_192, 6_624_904),
        "fvcore": (1_504_878_688, 6_624_904),
        "ptflops": (1_513_907_448, 6_624_904),
        "ptflops-aten": (1_498_377_192, 6_624_904),
        "thop": (1_511_332_032, 6_624_904),
        "flop-counter": (2_996_752_384, 6_624_904),
    },
    "inception-v3": {
        "torchvision": (5_713_216_096, 23_834_568),
        "fvcore": (5_731_282_144, 23_834_568),
        "ptflops": (5_747_660_552, 23_834_568),
        "ptflops-aten": (5_713_217_096, 23_834_568),
        "thop": (5_749_219_168, 23_834_568),
        "flop-counter": (11_426_432_192, 23_834_568),
    },
}


def _analyse(name, convention, train=False):
    network = load(name)
    return analyse(network, train=train, convention=conventions.get(convention))


@pytest.mark.parametrize("name,convention", [(n, c) for n, by in TOOLS.items() for c in by])
def test_presets_reproduce_the_tools(name, convention):
    root = _analyse(name, convention).root
    assert (root.macs, root.params) == TOOLS[name][convention]


@pytest.mark.parametrize("name,total,trainable,non_trainable", [
    ("inception-v3", 23_851_784, 23_817_352, 34_432),          # keras.applications.InceptionV3
    ("inception-resnet-v2", 55_873_736, 55_813_192, 60_544),   # keras.applications.InceptionResNetV2
    ("keras-cifar10", 2_761_866, 2_761_866, 0),                # the seed's model
])
def test_keras_preset_reproduces_model_summary(name, total, trainable, non_trainable):
    root = _analyse(name, "keras").root
    assert (root.params, root.trainable, root.non_trainable) == (total, trainable, non_trainable)


def test_paper_preset_counts_weights_only():
    root = _analyse("googlenet", "paper").root
    assert root.params == 6_990_272 and root.macs == 1_582_671_872


def test_ptflops_counts_pool_modules_twice_and_functions_once():
    a = _analyse("inception-v3", "ptflops")
    terms = a.term_totals()
    assert terms["pool_in_module"] == 2_350_848 and terms["pool_in_functional"] == 2_577_152
    assert a.root.macs - _analyse("inception-v3", "torchvision").root.macs == (
        1_000 + 2 * 8_967_488 + 8_967_488 + 2 * 2_350_848 + 2_577_152 + 2 * 131_072)


def test_every_report_states_its_convention():
    result = CliRunner().invoke(cli, ["inception-v3", "-c", "flop-counter", "-f", "json"])
    doc = json.loads(result.stdout)
    assert doc["convention"][0].startswith("Convention 'flop-counter'")
    assert doc["unit"] == "FLOPs" and doc["totals"]["macs"] == 11_426_432_192
    assert any(c["title"] == "FLOPs" for c in doc["sections"][0]["columns"])
    table = CliRunner().invoke(cli, ["googlenet", "--module", "3a"]).stdout
    assert "Convention 'torchvision'" in table


def test_explain_lines_up_every_preset():
    result = CliRunner().invoke(cli, ["explain", "googlenet-torchvision", "-f", "json"])
    doc = json.loads(result.stdout)
    for name, (total, _params) in TOOLS["googlenet-torchvision"].items():
        assert doc["totals"][name]["macs"] == total
    rows = {r["term"]: r for r in doc["sections"][0]["rows"]}
    bn = rows["batch-norm output elements"]
    assert bn["count"] == 3_226_160 and bn["fvcore"] == 2 * 3_226_160 and bn["thop"] == 4 * 3_226_160
    assert bn["torchvision"] == 0


@pytest.mark.parametrize("names", ["", " ", "fvcore,", "fvcore,,thop"])
def test_explain_refuses_an_empty_convention_name(names):
    # `--conventions ""` once showed every preset, as if the option had not been given
    result = CliRunner().invoke(cli, ["explain", "googlenet", "--conventions", names])
    assert result.exit_code == 4 and result.stdout == ""
    assert result.stderr.startswith("inception-cost: unknown convention ''; presets: torchvision, paper,")


def test_unknown_convention_is_a_usage_error():
    result = CliRunner().invoke(cli, ["googlenet", "-c", "fvcor"])
    assert result.exit_code == 4 and "'fvcor' is not one of" in result.stderr


# What the tools printed for torchvision 0.28.0's models (torch 2.13.0, fvcore
# 0.1.5.post20221221, ptflops 0.7.5, thop 0.1.1.post2209072238), input 1x3x224x224.
ZOO_TOOLS = {
    "resnet50": {"fvcore": 4_111_512_576, "ptflops": 4_132_436_968, "ptflops-aten": 4_089_185_256,
                 "thop": 4_133_742_592, "flop-counter": 8_178_368_512},
    "mobilenet-v2": {"fvcore": 314_193_216, "ptflops": 320_300_008, "ptflops-aten": 300_775_272,
                     "thop": 327_486_720, "flop-counter": 601_548_544},
    # ptflops counts nn.SiLU once (as the F.silu it calls) and no nn.Sigmoid (the SE gates)
    "efficientnet-b0": {"fvcore": 401_659_392, "ptflops": 410_196_896, "ptflops-aten": 385_825_092,
                        "thop": 415_145_024, "flop-counter": 771_629_504},
    # fvcore: 5 per layer-norm element (its by_operator: layer_norm 14,868,480); ptflops: 1 per
    # element of the nn.LayerNorm modules only (LayerNorm2d calls F.layer_norm), nn.GELU twice,
    # linear biases at every position; thop: 4 per nn.LayerNorm element; none counts the layer scale
    "convnext-tiny": {"fvcore": 4_470_437_376, "ptflops": 4_488_347_368, "ptflops-aten": 4_468_966_888,
                      "thop": 4_464_149_760, "flop-counter": 8_911_062_528},
    # ReLU modules: ptflops twice (hook and F.relu); nn.Hardswish and nn.Hardsigmoid modules
    # by thop and by no ptflops rule
    "squeezenet1-1": {"fvcore": 349_320_936, "ptflops": 359_982_728, "ptflops-aten": 351_741_288,
                      "thop": 349_321_936, "flop-counter": 698_303_872},
    "mobilenet-v3-small": {"fvcore": 59_649_536, "ptflops": 60_910_032, "ptflops-aten": 56_515_312,
                           "thop": 62_477_944, "flop-counter": 113_020_800},
}


@pytest.mark.parametrize("name", sorted(ZOO_TOOLS))
def test_presets_reproduce_the_tools_on_the_zoo(name):
    for convention, printed in ZOO_TOOLS[name].items():
        assert builtin(name, convention=convention).root.macs == printed, convention


def test_explain_shows_the_sums_and_products_no_tool_counts():
    rows = json.loads(CliRunner().invoke(cli, ["explain", "efficientnet-b0", "-f", "json"]).stdout)
    rows = {r["term"]: r for r in rows["sections"][0]["rows"]}
    adds = rows["elementwise additions of residuals and add merges (output elements)"]
    products = rows["elementwise products of gates (output elements)"]
    # torchvision 0.28.0 efficientnet_b0 (torch 2.13.0), forward hooks: the outputs of the MBConv blocks
    # with use_res_connect, and of the SqueezeExcitation modules
    assert adds["count"] == 210_112 and products["count"] == 2_306_528
    assert {v for k, v in {**adds, **products}.items() if k not in ("term", "count")} == {0}



def test_explain_counts_mobilenet_v3_small_activations_sums_and_products():
    rows = json.loads(CliRunner().invoke(cli, ["explain", "mobilenet-v3-small", "-f", "json"]).stdout)
    rows = {r["term"]: r["count"] for r in rows["sections"][0]["rows"]}
    # forward hooks on torchvision 0.28.0 mobilenet_v3_small (torch 2.13.0): outputs of the
    # nn.Hardswish (799,136), nn.ReLU (470,992) and nn.Hardsigmoid (2,296) modules, of the
    # InvertedResidual blocks with use_res_connect and of the SqueezeExcitation modules
    assert rows["activation outputs, activation layers (modules)"] == 799_136 + 470_992 + 2_296
    assert rows["activation outputs, ReLU, ReLU6, ELU, LeakyReLU and GELU modules"] == 470_992
    assert rows["elementwise additions of residuals and add merges (output elements)"] == 53_312
    assert rows["elementwise products of gates (output elements)"] == 285_376

def test_thop_counts_the_parameters_of_the_modules_it_has_a_rule_for():
    # thop.profile(convnext_tiny) returned 28,579,432 parameters (torchvision 0.28.0, torch 2.13.0,
    # thop 0.1.1.post2209072238): PyTorch's 28,589,128 less the 6,624 layer-scale multipliers
    # (parameters of CNBlock, no leaf module) and the 3,072 of the LayerNorm2d modules (no rule)
    assert builtin("convnext-tiny", convention="thop").root.params == 28_579_432 == 28_589_128 - 6_624 - 3_072
    assert builtin("convnext-tiny", convention="paper").root.params == 28_524_000  # weights only


def test_explain_names_the_layer_norm_and_layer_scale_terms():
    rows = json.loads(CliRunner().invoke(cli, ["explain", "convnext-tiny", "-f", "json"]).stdout)
    rows = {r["term"]: r for r in rows["sections"][0]["rows"]}
    # forward hooks on torchvision 0.28.0 convnext_tiny: 2,973,696 elements through layer norms,
    # 2,145,024 of them nn.LayerNorm modules; the layer scales multiply as many
    norm = rows["layer-norm output elements (nn.LayerNorm modules and F.layer_norm calls)"]
    assert (norm["count"], norm["fvcore"], norm["torchvision"]) == (2_973_696, 5 * 2_973_696, 0)
    modules = rows["layer-norm output elements, nn.LayerNorm modules"]
    assert (modules["count"], modules["ptflops"], modules["thop"]) == (2_145_024, 2_145_024, 4 * 2_145_024)
    scale = rows["layer-scale products (output elements)"]
    assert scale["count"] == 2_145_024 and {v for k, v in scale.items() if k not in ("term", "count")} == {0}
