"""Node identity: every node has a unique path, commands find nodes by path, and parts
with repeated display names are never merged. Also the regressions of issue 9's bugs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import inception_cost as ic
from inception_cost.cli import cli
from inception_cost.errors import ExitCode, UsageError


def run(*args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == expect, result.output
    return result.stdout if expect == 0 else result.stderr


def as_json(*args: str) -> dict:
    return json.loads(run(*args, "-f", "json"))


@pytest.mark.parametrize("name", ic.builtins())
def test_every_path_is_unique(name):
    net = ic.analyse(name, train=True)
    paths = [n.path for n in net.node.walk()]
    assert len(paths) == len(set(paths))


# Two sibling modules shown as 'stem' (their names differ: siblings may not share a name),
# a module whose two concats both have branches a and b, and a branch called 'module total'.
REPEATED = """
input: 16x16x8
layers:
  - module: {name: stem, layers: [{conv: {filters: 8, kernel: 1}}]}
  - module: {name: stem-b, label: stem, layers: [{conv: {filters: 8, kernel: 3}}]}
  - module:
      name: m
      layers:
        - concat:
            a: [{conv: {filters: 4, kernel: 1}}]
            b: [{conv: {filters: 4, kernel: 1}}]
        - concat:
            a: [{conv: {filters: 64, kernel: 5}}]
            "module total": [{conv: {filters: 4, kernel: 1}}]
"""


@pytest.fixture()
def repeated(tmp_path):
    path = tmp_path / "repeated.yaml"
    path.write_text(REPEATED)
    return str(path)


def test_repeated_names_get_distinct_paths(repeated):
    net = ic.analyse(repeated)
    assert [c.path for c in net.children] == ["stem", "stem-b", "m"]
    module = net.module("m")
    assert [b.path for b in module.branches] == ["m/a", "m/b", "m/a_2", "m/module total"]
    # the branch that holds nearly all the MACs is a row of its own
    big = module.module("m/a_2")
    assert big.macs == 25 * 8 * 64 * 16 * 16 and big.macs / module.macs > 0.95
    # paths are names where siblings differ
    assert net.module("stem").macs == 8 * 8 * 16 * 16
    assert net.module("stem-b").macs == 9 * 8 * 8 * 16 * 16


def test_two_siblings_with_one_name_are_an_error_naming_both_lines(tmp_path):
    path = tmp_path / "twins.yaml"
    path.write_text(REPEATED.replace("name: stem-b, label: stem", "name: stem"))
    err = run(str(path), expect=ExitCode.INVALID_ARCHITECTURE)
    assert err.strip() == (f"inception-cost: {path}:5: stem: two siblings are named 'stem' (lines 4 and 5);"
                           " give each its own name")
    # the same name in two different modules is no clash
    nested = tmp_path / "nested.yaml"
    nested.write_text("input: 8x8x4\nlayers:\n  - module: {name: a, layers: [{conv: {filters: 4, kernel: 1,"
                      " name: c}}]}\n  - module: {name: b, layers: [{conv: {filters: 4, kernel: 1, name: c}}]}\n")
    assert [n.path for n in ic.analyse(str(nested)).node.walk() if n.name == "c"] == ["a/c", "b/c"]


def test_a_name_shared_by_nested_modules_asks_for_a_path(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_text("input: 8x8x4\nblocks:\n  b: {layers: [{module: {name: core, layers: [relu]}}]}\n"
                    "layers:\n  - module: {name: x, use: b}\n  - module: {name: y, use: b}\n")
    net = ic.analyse(str(path))
    with pytest.raises(UsageError, match="'core' names 2 modules: x/core, y/core; give one path"):
        net.module("core")
    assert net.module("y/core").path == "y/core"


def test_compare_keeps_every_part_and_times_its_own_nodes(repeated):
    doc = as_json("compare", repeated, repeated, "--module", "m")
    rows = doc["sections"][0]["rows"]
    # each concat's copy follows its branches: a row of time, without parameters or MACs
    assert [r["path"] for r in rows] == ["a", "b", "concat_1", "a_2", "module total", "concat_2"]
    assert rows[3]["a_macs"] == 25 * 8 * 64 * 16 * 16
    total = doc["sections"][0]["total"]
    branch = rows[4]  # the branch named 'module total' has its own (small) time
    assert branch["a_macs"] == 8 * 4 * 256 and branch["a_time_us"] < total["a_time_us"]
    # network comparison: both 'stem' stages are rows
    rows = as_json("compare", repeated, repeated)["sections"][0]["rows"]
    assert [r["path"] for r in rows] == ["stem", "stem-b", "m"]
    assert [r["part"] for r in rows] == ["stem", "stem-b", "m"]  # no two rows read the same


def test_rows_that_share_a_name_show_their_paths(repeated):
    rows = as_json(repeated)["sections"][0]["rows"]
    assert [r["name"] for r in rows] == ["stem", "stem-b", "m"]
    parts = as_json("compare", repeated, repeated, "--module", "m")["sections"][0]["rows"]
    assert [r["part"] for r in parts] == ["a", "b", "concat_1", "a_2", "module total", "concat_2"]
    table = run("compare", repeated, repeated, "--module", "m")
    assert " a_2 " in table


def test_roofline_and_memory_rows_have_paths(repeated):
    rows = as_json("roofline", repeated)["sections"][0]["rows"]
    assert [r["path"] for r in rows] == ["stem", "stem-b", "m"]
    rows = as_json("memory", repeated, "--module", "m")["sections"][0]["rows"]
    assert [r["path"] for r in rows] == ["m/a/conv_1", "m/b/conv_1", "m/a_2/conv_1", "m/module total/conv_1"]


def test_a_path_may_start_below_the_node_asked():
    three_a = ic.analyse("googlenet").module("3a")
    assert three_a.module("5x5").macs == three_a.module("3a/5x5").macs == 12_443_648


def test_json_rows_carry_paths():
    rows = as_json("googlenet")["sections"][0]["rows"]
    assert rows[4]["path"] == "3a"
    module = as_json("googlenet", "--module", "3a")["sections"]
    assert [r["path"] for r in module[0]["rows"]] == ["3a/1x1", "3a/3x3", "3a/5x5", "3a/pool"]
    assert [r["path"] for r in module[1]["rows"]][:3] == ["3a/1x1/conv_1", "3a/3x3/conv_1", "3a/3x3/conv_2"]


def test_module_takes_a_nested_path():
    doc = as_json("inception-resnet-v2", "--module", "block35_3/residual")
    assert doc["module_path"] == "block35_3/residual"
    whole = as_json("inception-resnet-v2", "--module", "block35_3")["totals"]
    assert 0 < doc["totals"]["macs"] <= whole["macs"]
    err = run("googlenet", "--module", "3a/nope", expect=ExitCode.USAGE)
    assert "no module '3a/nope' in googlenet" in err and "3a, 3b" in err


# ---- the four bugs of issue 9 -------------------------------------------------------------


def test_factorize_states_the_convention_it_counts():
    out = run("factorize", "googlenet", "-m", "3a", "-c", "ptflops")
    assert "Convention 'ptflops'" in out and "Convention 'torchvision'" not in out


def test_json_names_its_convention():
    doc = as_json("googlenet", "-c", "ptflops")
    assert doc["convention_name"] == "ptflops" and doc["unit"] == "MACs"
    assert doc["convention"][0].startswith("Convention 'ptflops'")  # the prose lines stay
    assert as_json("googlenet", "-c", "flop-counter")["unit"] == "FLOPs"


def test_paper_check_compares_macs_whatever_the_convention():
    for convention in ("torchvision", "flop-counter", "fvcore", "ptflops", "thop"):
        rows = as_json("googlenet", "-c", convention)["sections"][0]["rows"]
        flagged = [r["name"] for r in rows if r["check"].startswith("differs")]
        assert flagged == ["conv1", "4a", "4c", "4d", "4e", "5a", "5b"], convention


def test_roofline_bound_follows_the_times_it_shows():
    rows = as_json("roofline", "googlenet", "--batch", "64")["sections"][0]["rows"]
    rows += as_json("roofline", "googlenet")["sections"][0]["rows"]
    for r in rows:  # the kernels' fixed cost is a bound of its own where it is the largest part
        if r["overhead_us"] > max(r["compute_us"], r["memory_us"]):
            assert r["bound"] == "overhead"
        elif r["compute_us"] or r["memory_us"]:
            assert r["bound"] == ("compute" if r["compute_us"] >= r["memory_us"] else "memory")
    assert {r["bound"] for r in rows} >= {"compute", "memory", "overhead"}


def test_module_takes_any_layer_by_the_path_its_json_row_shows():
    rows = as_json("mobilenet-v2", "--module", "features_2")["sections"][-1]["rows"]
    assert rows[2]["path"] == "features_2/depthwise"
    doc = as_json("mobilenet-v2", "--module", "features_2/depthwise")
    # torchvision: a 3x3 depthwise conv on 96 channels, stride 2, with batch norm
    assert doc["totals"]["params"] == 9 * 96 + 2 * 96 and doc["totals"]["macs"] == 9 * 96 * 56 * 56
    err = run("mobilenet-v2", "--module", "nope", expect=ExitCode.USAGE)
    assert err.rstrip().endswith("and any layer by its path (the `path` of JSON rows)")
