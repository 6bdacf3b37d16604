"""Factorisation: the seed's claims on a lone layer, and the rewrite on real modules."""

import json
from fractions import Fraction

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
