"""Factorisation: the seed's claims on a lone layer, and the rewrite on real modules."""

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner

from inception_cost.cli import cli
from inception_cost.core.analysis import analyse
from inception_cost.transforms.factorize import Rule, factorize_network, lone_layer


def _ratio(rule, kernel, channels=64, size=28):
    before = analyse(lone_layer(rule, kernel, channels, size))
    after_network, count = factorize_network(before.network, rule)
    after = analyse(after_network)
    assert count == 1 and after.root.out_shape == before.root.out_shape
    return Fraction(after.root.macs, before.root.macs), Fraction(after.root.params, before.root.params)


def test_two_3x3_cost_72_percent_of_a_5x5():
    assert _ratio(Rule.FIVE_TO_THREE, 5) == (Fraction(18, 25), Fraction(18, 25))


def test_1xn_then_nx1_cost_2_over_n():
    assert _ratio(Rule.N_TO_1XN, 3, 192, 17)[0] == Fraction(2, 3)
    assert _ratio(Rule.N_TO_1XN, 7, 128, 17)[0] == Fraction(2, 7)


def _json(*args):
    result = CliRunner().invoke(cli, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_lone_layer_command_states_the_claims():
    doc = _json("factorize")
    total = doc["sections"][0]["total"]
    assert total["a_macs"] == 25 * 64 * 64 * 28 * 28 and total["b_macs"] == 18 * 64 * 64 * 28 * 28
    assert any("25/9 = 2.78" in note and "72%" in note for note in doc["sections"][0]["notes"])
    doc = _json("factorize", "--rule", "nxn-to-1xn")
    assert any("2/3 = 67%" in note for note in doc["sections"][0]["notes"])


# Found cross-checking the engine: the lone conv was wrapped in a one-branch concat, so its
# time had a concat copy (2.19 us on h100-sxm, fp16, batch 1) that one conv does not run:
# 15.78 / 22.45 us, where `roofline` of the same conv written as a file gives 13.59 / 20.27.
LONE_5X5 = """
input: 28x28x64
layers:
  - conv: {filters: 64, kernel: 5, padding: same, bias: false}
"""
LONE_TWO_3X3 = """
input: 28x28x64
layers:
  - conv: {filters: 64, kernel: 3, padding: same, bias: false}
  - conv: {filters: 64, kernel: 3, padding: same, bias: false}
"""


def test_the_lone_conv_costs_what_the_same_conv_costs_in_a_file(tmp_path):
    seconds = []
    for text in (LONE_5X5, LONE_TWO_3X3):
        path = tmp_path / f"conv{len(seconds)}.yaml"
        path.write_text(text)
        seconds.append(_json("roofline", str(path))["totals"]["seconds"])
    doc = _json("factorize")
    section = doc["sections"][0]
    assert [(r["part"], r["a_layers"], r["b_layers"], r["a_macs"], r["b_macs"]) for r in section["rows"]] == [
        ("5x5", "conv 5x5 64", "conv 3x3 64 -> conv 3x3 64", 80_281_600, 57_802_752)]
    total = section["total"]
    assert (total["a_macs"], total["b_macs"], total["a_params"], total["b_params"]) == (
        80_281_600, 57_802_752, 102_400, 73_728)
    assert (total["a_time_us"], total["b_time_us"]) == pytest.approx((seconds[0] * 1e6, seconds[1] * 1e6), rel=1e-12)
    assert (doc["totals"]["before"]["seconds"], doc["totals"]["after"]["seconds"]) == tuple(seconds)
    assert round(seconds[0] * 1e6, 2) == 13.59 and round(seconds[1] * 1e6, 2) == 20.27


def test_the_lone_layer_form_and_a_network_s_options_do_not_mix():
    # --module without NAME used to be ignored: the lone 5x5 was shown, exit 0
    result = CliRunner().invoke(cli, ["factorize", "--module", "3a"])
    assert result.exit_code == 4
    assert "--module picks a part of a network: give NAME, or leave --module out" in result.output
    result = CliRunner().invoke(cli, ["factorize", "googlenet", "--kernel", "3"])
    assert result.exit_code == 4 and "--kernel describes the lone layer form: give it without NAME" in result.output
    result = CliRunner().invoke(cli, ["factorize", "googlenet", "--kernel", "3", "--size", "8"])
    assert result.exit_code == 4 and "--kernel and --size describe the lone layer form: give them without NAME" \
        in result.output


def test_googlenet_3a_5x5_branch_rewritten():
    doc = _json("factorize", "googlenet", "--module", "3a")
    rows = {r["part"]: r for r in doc["sections"][0]["rows"]}
    # 1x1 192->16, then 3x3 16->32 and 3x3 32->32 instead of 5x5 16->32, at 28x28
    assert rows["5x5"]["b_macs"] == (192 * 16 + 9 * 16 * 32 + 9 * 32 * 32) * 28 * 28 == 13_246_464
    assert rows["5x5"]["a_macs"] == 12_443_648  # the 5x5 on 16 channels was cheaper
    assert rows["3x3"]["a_macs"] == rows["3x3"]["b_macs"]
    assert doc["rewritten"] == 1


def test_factorize_any_yaml_whole_network():
    doc = _json("factorize", "keras-cifar10")
    before, after = doc["totals"]["before"]["macs"], doc["totals"]["after"]["macs"]
    assert before - after == (25 - 18) * 64 * 64 * 32 * 32  # the one 5x5 (64 -> 64)
    assert doc["rewritten"] == 1


# Found by an outside user: `groups: depthwise` was skipped where `groups: 32` was rewritten,
# and a rewritten top-level conv vanished from the whole-network table.
PLAIN_THEN_DEPTHWISE = """
input: 14x14x32
layers:
  - conv: {filters: 32, kernel: 5}
  - conv: {filters: 16, kernel: 1}
  - module: {name: dw, layers: [{conv: {filters: 32, kernel: 5, groups: depthwise}}]}
"""


def test_every_conv_is_rewritten_and_every_stage_is_a_row(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(PLAIN_THEN_DEPTHWISE)
    doc = json.loads(CliRunner().invoke(cli, ["factorize", str(path), "-f", "json"]).stdout)
    rows = [(r["path"], r["a_params"], r["b_params"]) for r in doc["sections"][0]["rows"]]
    assert rows == [
        ("conv_1", 25 * 32 * 32 + 32, None),  # the 5x5 ...
        ("conv_1_a", None, 9 * 32 * 32 + 32), ("conv_1_b", None, 9 * 32 * 32 + 32),  # ... and its two 3x3
        ("conv_2", 32 * 16 + 16, 32 * 16 + 16),  # later stages keep their paths
        # depthwise at 16 channels, depth multiplier 2: 5x5 g16 16->32, then 3x3 g16 16->32 and 32->32
        ("dw", 25 * 32 + 32, (9 * 32 + 32) + (9 * 2 * 32 + 32)),
    ]
    assert doc["rewritten"] == 2


# Found by an outside tester: a branch scope rewrote nothing and said so only as
# "0 convolutions rewritten", and a layer scope was refused as "no module".
def test_a_branch_scope_rewrites_its_convs_as_the_module_scope_does():
    module_row = next(r for r in _json("factorize", "googlenet", "-m", "3a")["sections"][0]["rows"]
                      if r["part"] == "5x5")
    doc = _json("factorize", "googlenet", "-m", "3a/5x5")
    total = doc["sections"][0]["total"]
    assert (total["a_macs"], total["b_macs"]) == (module_row["a_macs"], module_row["b_macs"]) == (
        12_443_648, 13_246_464)
    assert (total["a_params"], total["b_params"]) == (module_row["a_params"], module_row["b_params"])
    assert doc["rewritten"] == 1 and doc["title"] == "5x5-to-3x3: branch 5x5"
    # 4e's 5x5 branch at 14x14: 1x1 528->32, then 5x5 32->128, or 3x3 32->128 and 3x3 128->128
    total = _json("factorize", "googlenet", "-m", "4e/5x5")["sections"][0]["total"]
    assert total["a_macs"] == (528 * 32 + 25 * 32 * 128) * 196 == 23_382_016
    assert total["b_macs"] == (528 * 32 + 9 * 32 * 128 + 9 * 128 * 128) * 196 == 39_438_336
    # 3a's 3x3 branch as 1x3 then 3x1: 1x1 192->96, 1x3 96->128, 3x1 128->128 at 28x28
    total = _json("factorize", "googlenet", "-m", "3a/3x3", "--rule", "nxn-to-1xn")["sections"][0]["total"]
    assert (total["a_macs"], total["b_macs"]) == (101_154_816, (192 * 96 + 3 * 96 * 128 + 3 * 128 * 128) * 784)


def test_a_layer_scope_rewrites_that_layer_shown_in_its_branch():
    doc = _json("factorize", "googlenet", "-m", "3a/5x5/conv_2")
    total = doc["sections"][0]["total"]
    assert (total["a_macs"], total["b_macs"]) == (12_443_648, 13_246_464)
    assert doc["rewritten"] == 1 and doc["rewritten_in"] == "3a/5x5/conv_2"
    assert any(n.startswith("The rule is applied to 3a/5x5/conv_2 (conv 5x5 32) only, shown within branch 5x5")
               for n in doc["sections"][0]["notes"])
    # a layer the rule does not apply to is rewritten to nothing, and the report says why
    doc = _json("factorize", "googlenet", "-m", "3a/5x5/conv_1")
    assert doc["rewritten"] == 0
    assert any("0 convolutions rewritten: 3a/5x5/conv_1 is no stride-1 5x5 convolution" in n
               for n in doc["sections"][0]["notes"])


TWO_FIVES = """
input: 8x8x8
layers:
  - conv: {filters: 8, kernel: 5}
  - concat:
      a: [{conv: {filters: 8, kernel: 5}}, {conv: {filters: 8, kernel: 1}}]
      b: [{conv: {filters: 8, kernel: 5}}]
"""


def test_only_the_chosen_layer_is_rewritten_and_its_siblings_keep_their_paths(tmp_path):
    from inception_cost.api import factorize

    path = tmp_path / "fives.yaml"
    path.write_text(TWO_FIVES)
    result = factorize(str(path), module="a/conv_1")
    assert result.rewritten == 1 and result.before.path == "a" and result.after.path == "a"
    after = [(n.path, n.description) for n in result.after.analysis.root.layers()]
    assert after == [("conv_1", "conv 5x5 8"), ("a/conv_1_a", "conv 3x3 8"), ("a/conv_1_b", "conv 3x3 8"),
                     ("a/conv_2", "conv 1x1 8"), ("b/conv_1", "conv 5x5 8")]
    # the branch's MACs: two 3x3 instead of the 5x5, and the 1x1 unchanged, at 8x8
    assert (result.before.macs, result.after.macs) == ((25 + 1) * 64 * 64, (18 + 1) * 64 * 64)
    top = factorize(str(path), module="conv_1")  # a top-level layer: shown within the network
    assert top.rewritten == 1 and top.before.path == "" and top.after.macs == top.before.macs - 7 * 64 * 64
