"""The public Python API, and the README's example of it run as written."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import inception_cost as ic
from inception_cost.cli import cli
from inception_cost.errors import UsageError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_example_runs_as_written():
    # every `>>>` example in the README is executed and its printed output compared
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_analyse_module_and_branches():
    net = ic.analyse("googlenet")
    assert (net.params, net.macs, net.depth) == (6_998_552, 1_582_671_872, 22)
    three_a = net.module("3a")
    assert isinstance(three_a, ic.Cost) and three_a.path == "3a"
    assert [(b.name, b.macs) for b in three_a.branches] == [
        ("1x1", 9_633_792), ("3x3", 101_154_816), ("5x5", 12_443_648), ("pool", 4_816_896)]
    assert three_a.output_shape == (28, 28, 256)
    assert ic.analyse("googlenet", train=True).params == 13_378_280
    assert ic.analyse("googlenet-torchvision", convention="fvcore").macs == 1_504_878_688


def test_the_command_line_prints_what_the_api_returns():
    for args, value in ((["googlenet", "-m", "3a"], ic.analyse("googlenet").module("3a")),
                        (["googlenet", "-c", "thop"], ic.analyse("googlenet", convention="thop"))):
        printed = json.loads(CliRunner().invoke(cli, [*args, "-f", "json"]).stdout)
        assert printed == value.to_dict()
    assert ic.analyse("googlenet").to_markdown() == CliRunner().invoke(cli, ["googlenet", "-f", "markdown"]).stdout


def test_compare_and_sweep():
    pair = ic.compare("naive", "reduced")
    assert (pair.a.macs, pair.b.macs) == (303_464_448, 128_049_152)
    rows = {r["part"]: r for r in pair.to_dict()["sections"][0]["rows"]}
    assert rows["5x5"]["macs_ratio"] == 120_422_400 / 12_443_648
    both = ic.compare("googlenet", "googlenet-torchvision", module="3a")
    assert both.b.macs == 121_626_624
    s = ic.sweep("googlenet", "3a", {"#5x5 reduce": [16, 4]})
    assert [r["macs"] for r in s.rows] == [128_049_152, 118_716_416]
    assert s.rows[0]["network_macs"] == 1_582_671_872


def test_results_render_in_notebooks():
    three_a = ic.analyse("googlenet").module("3a")
    html = three_a._repr_html_()
    assert html.count("<table>") == 2 and "12,443,648" in html
    assert "| 5x5 | conv 1x1 16 -> conv 5x5 32 |" in three_a._repr_markdown_()
    assert "12,443,648" in ic.compare("naive", "reduced")._repr_html_()


def test_factorize_is_at_the_top_level_as_the_readme_says():
    """`ic.factorize` as `ic.compare` and `ic.sweep`: GoogLeNet 3a's 5x5 branch, its 5x5 conv
    rewritten as two 3x3 (the README's figures: 12,443,648 -> 13,246,464 MACs)."""
    assert "factorize" in ic.__all__
    result = ic.factorize("googlenet", module="3a/5x5")
    assert isinstance(result, ic.Factorization)
    assert (result.before.macs, result.after.macs, result.rewritten) == (12_443_648, 13_246_464, 1)


SWEEP_3A = ("googlenet", "3a")


@pytest.mark.parametrize("call, message", [
    (lambda: ic.compare("naive", "reduced", device="h100-sxm", batch=0),
     "batch must be a whole number from 1 to 65,536, not 0"),
    (lambda: ic.compare("naive", "reduced", device="h100-sxm", batch=-3), "not -3"),
    (lambda: ic.compare("naive", "reduced", batch=True), "not True"),
    (lambda: ic.compare("naive", "reduced", device="h100-sxm", dtype="fp8"),
     "unknown dtype 'fp8'; choices: fp32, bf16"),
    (lambda: ic.compare("naive", "reduced", train=True, optimizer="sgdd"), "unknown optimizer 'sgdd'"),
    (lambda: ic.factorize(rule="3x3"), "unknown rule '3x3'; choices: 5x5-to-3x3, nxn-to-1xn"),
    (lambda: ic.factorize(rule="nxn-to-1xn", kernel=1), "kernel must be a whole number from 2 to 15"),
    (lambda: ic.factorize(channels=0), "channels must be"),
    (lambda: ic.factorize(module="3a"), "module '3a' picks a part of a network: give the network"),
    (lambda: ic.factorize("googlenet", device="h100-sxm", batch=1 << 17), "batch must be"),
    (lambda: ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, objective="latency"), "unknown objective"),
    (lambda: ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, sort="speed"), "unknown sort 'speed'"),
    (lambda: ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, top=-1), "top must be"),
    (lambda: ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, budget_macs=-5), "budget_macs must be"),
    (lambda: ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, budget_time=float("nan")), "budget_time is in"),
    (lambda: ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, device="h100-sxm", batch=0), "batch must be"),
    # a training step in int8: the command line refuses it (its time has a device by default)
    (lambda: ic.compare("naive", "reduced", train=True, dtype="int8"), "a training step runs in"),
    (lambda: ic.factorize("googlenet", train=True, dtype="int8"), "a training step runs in"),
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": [4]}, train=True, dtype="int8"), "a training step runs in"),
    (lambda: ic.compare("naive", "reduced", tf32="no"), "tf32 must be True or False"),
    # a training-only part without train: say so, not "did you mean 5a/1x1"
    (lambda: ic.analyse("googlenet").module("aux1"), "'aux1' in googlenet runs only in training"),
])
def test_arguments_the_command_line_refuses_the_api_refuses(call, message):
    # a negative batch used to give times (and a time ratio) as if it were a batch
    with pytest.raises(UsageError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("call, message", [
    # a module that is not a name used to fail with AttributeError ('int' has no 'strip');
    # a blank one, which --module refuses, was the whole network
    (lambda: ic.analyse("googlenet").module(3), "module must be a module's name or path, not 3"),
    (lambda: ic.analyse("googlenet").module(""), "module must be a module's name or path, not ''"),
    (lambda: ic.compare("googlenet", "googlenet", module=None or 1), "module must be"),
    (lambda: ic.compare("googlenet", "googlenet", module=" / "), "module must be"),
    (lambda: ic.factorize("googlenet", module=["3a"]), "module must be"),
    (lambda: ic.sweep("googlenet", None, {"#5x5 reduce": [4]}), "module must be"),
    # a device that is not a name or a path used to fail with TypeError
    (lambda: ic.compare("naive", "reduced", device=100), "device must be a built-in device's name or"),
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": [4]}, device=1.5), "device must be"),
    # a flag that is not True or False: "no" used to count the training-only parts
    (lambda: ic.analyse("googlenet", train="no"), "train must be True or False, not 'no'"),
    (lambda: ic.analyse("googlenet", skip_unknown=0), "skip_unknown must be True or False"),
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": [4]}, pareto_only="yes"), "pareto_only must be"),
    # the lone-layer arguments with a model: --kernel, --channels and --size are refused with NAME
    (lambda: ic.factorize("googlenet", kernel=3), "kernel, channels and size describe the lone layer"),
    (lambda: ic.factorize("googlenet", channels=32), "kernel, channels and size describe the lone layer"),
    (lambda: ic.factorize(kernel=0), "kernel must be a whole number from 2 to 15, not 0"),  # was taken as 5
    # vary: what --vary refuses (whole numbers from 1 to 1,048,576, at least one value)
    (lambda: ic.sweep(*SWEEP_3A, [("#5x5 reduce", [4])]), "vary maps argument names to their values"),
    (lambda: ic.sweep(*SWEEP_3A, None), "vary maps argument names"),
    (lambda: ic.sweep(*SWEEP_3A, {}), "vary maps argument names"),  # --vary is required
    (lambda: ic.sweep(*SWEEP_3A, {3: [4]}), "vary maps argument names"),
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": 4}), "vary['#5x5 reduce'] must be the values to try"),
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": None}), "must be the values to try"),
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": "48"}), "must be the values to try"),  # was 4 and 8
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": []}), "vary['#5x5 reduce'] has no values"),  # min() of nothing
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": [4.7]}), "whole numbers from 1 to 1,048,576, not 4.7"),  # was 4
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": ["x"]}), "not 'x'"),  # was a ValueError
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": [True]}), "not True"),  # was 1
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": [0, 4]}), "not 0"),
    (lambda: ic.sweep(*SWEEP_3A, {"#5x5 reduce": [1 << 70]}), "not 1180591620717411303424"),
])
def test_arguments_of_the_wrong_kind_are_usage_errors(call, message):
    with pytest.raises(UsageError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_huge_range_to_vary_is_refused_without_listing_it():
    """range(1, 10**12) used to be listed whole before the variant limit was checked (the
    process ran out of memory); a generator that never ends is read no further than the limit."""
    import itertools

    for values in (range(1, 10**12), itertools.count(1), (4 for _ in itertools.count())):
        with pytest.raises(UsageError, match="more than the 1,000,000 variants a sweep may have"):
            ic.sweep(*SWEEP_3A, {"#5x5 reduce": values})


def test_values_to_vary_may_be_any_iterable_of_whole_numbers():
    rows = ic.sweep(*SWEEP_3A, {"#5x5 reduce": (v for v in (16, 4))}).rows
    assert [(r["#5x5 reduce"], r["macs"]) for r in rows] == [(16, 128_049_152), (4, 118_716_416)]
    assert ic.factorize(kernel=3, channels=32, size=14, rule="nxn-to-1xn").rewritten == 1
    assert ic.compare("naive", "reduced", device=Path("inception_cost/estimates/devices/h100-sxm.yaml").resolve())
