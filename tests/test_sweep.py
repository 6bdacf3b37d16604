"""The sweep: every variant equals the network rebuilt from edited YAML.

The reference for each variant is the YAML text itself, edited (the row's cell, or the
instance's `with:` values) and analysed from scratch: nothing of the sweep's engine.
"""

from __future__ import annotations

import json
import random
import time
from html import escape
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inception_cost as ic
from inception_cost.cli import cli
from inception_cost.core.analysis import analyse
from inception_cost.errors import ExitCode, InceptionCostError, UsageError
from inception_cost.source.catalog import resolve
from inception_cost.source.document import parse_text
from inception_cost.transforms import sweep


def _reference(text: str, path: str) -> tuple[int, int, int, int] | None:
    """(module MACs, module params, network MACs, network params) from YAML text; None if
    the network is broken."""
    try:
        a = analyse(parse_text(text, "edited.yaml"))
    except InceptionCostError:
        return None
    node = a.root.find(path)
    assert node is not None
    return node.macs, node.params, a.root.macs, a.root.params


def _edit_builtin(name: str, module: str, values: dict[str, int]) -> str:
    """The built-in's YAML with one table row's cells or one module's `with:` edited."""
    path, _ = resolve(name)
    doc = yaml.safe_load(Path(path).read_text())
    if "table" in doc:
        columns = doc["table"]["columns"]
        for row in doc["table"]["rows"]:
            if str(row[0]).endswith(f"({module})"):
                for key, value in values.items():
                    row[columns.index(key)] = value
                return yaml.safe_dump(doc)
        raise AssertionError(module)

    def visit(items: list[Any]) -> bool:
        for item in items:
            (kind, body), = item.items() if isinstance(item, dict) else [(item, None)]
            if kind == "module" and body.get("name") == module:
                body["with"] = {**body.get("with", {}), **values}
                return True
            if isinstance(body, dict) and isinstance(body.get("layers"), list) and visit(body["layers"]):
                return True
        return False

    assert visit(doc["layers"]), module
    return yaml.safe_dump(doc)


def _variant(result: sweep.SweepResult, i: int) -> tuple[int, int, int, int] | None:
    if i in result.errors:
        return None
    return result.macs[i], result.params[i], result.network_macs[i], result.network_params[i]  # type: ignore[return-value]


def test_as_written_variant_equals_the_module_and_the_network():
    result = ic.sweep("googlenet", "3a", {"#5x5 reduce": range(4, 65, 4),
                                          "#3x3 reduce": range(32, 193, 16)}).result
    assert result.count == 16 * 11 and result.method == "affine"
    i = next(i for i in range(result.count) if result.values(i) == {"#5x5 reduce": 16, "#3x3 reduce": 96})
    # the paper's Table 1 network as written (tests/test_googlenet.py)
    assert _variant(result, i) == (128_049_152, 163_696, 1_582_671_872, 6_998_552)


@pytest.mark.parametrize("name,module,widths", [
    ("googlenet", "4e", ["#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj"]),
    ("googlenet", "3b", ["#1x1", "#5x5"]),  # its output feeds 4a: the network changes too
    ("inception-v3", "Mixed_6c", ["channels_7x7"]),
    ("keras-cifar10", "inception", ["filters"]),
    ("googlenet-torchvision", "4a", ["ch1x1", "ch3x3red", "ch5x5"]),
])
def test_every_variant_equals_the_edited_yaml(name, module, widths):
    rng = random.Random(7)
    vary = {w: sorted(rng.sample(range(1, 300), 3)) for w in widths}
    result = ic.sweep(name, module, vary).result
    assert result.method == "affine"
    for i in rng.sample(range(result.count), min(6, result.count)):
        assert _variant(result, i) == _reference(_edit_builtin(name, module, result.values(i)), module)


# ---- generated networks: flow style, kernels, strides, groups, repeats, residuals ----------


def _network(*, widths: tuple[int, int], kernel: int, stride: int, groups: int, repeat: int,
             residual: int, inner: int, instances: dict[str, dict[str, int]] | None = None) -> str:
    """A small network written flow-style. With `instances`, the repeated module is
    written as separate instances with their own `with:` (the reference form)."""
    blocks = {
        "pair": {"args": {"w1": widths[0], "w2": widths[1], "k": kernel, "s": stride},
                 "layers": [{"concat": {
                     "a": [{"conv": {"filters": "$w1", "kernel": 1, "stride": "$s"}}],
                     "b": [{"conv": {"filters": "$w2", "kernel": "$k", "stride": "$s"}}]}}]},
        "res": {"args": {"w": residual, "g": groups},
                "layers": [{"residual": {"layers": [
                    {"conv": {"filters": 8, "kernel": 1}},
                    {"conv": {"filters": "$w", "kernel": 3, "groups": "$g"}}]}}]},
        "leaf": {"args": ["w"], "layers": [{"conv": {"filters": "$w", "kernel": 3}}]},
        "stack": {"args": {"n": inner, "w": 6},
                  "layers": [{"module": {"name": "leaf", "use": "leaf", "with": {"w": "$w"},
                                         "repeat": "$n"}}]},
    }
    pair_with = {"w1": widths[0], "w2": widths[1], "k": kernel, "s": stride}
    if instances is None:
        pairs = [{"module": {"name": "A", "use": "pair", "with": pair_with, "repeat": repeat}}]
        rest_with = {"R": {"w": residual, "g": groups}, "P": {"n": inner, "w": 6}}
    else:
        pairs = [{"module": {"name": f"A_{i}", "use": "pair",
                             "with": {**pair_with, **instances.get(f"A_{i}", {})}}}
                 for i in range(1, repeat + 1)]
        rest_with = {"R": {"w": residual, "g": groups, **instances.get("R", {})},
                     "P": {"n": inner, "w": 6, **instances.get("P", {})}}
    layers = [{"conv": {"filters": 12, "kernel": 3}}, *pairs,
              {"conv": {"filters": 12, "kernel": 1}},
              {"module": {"name": "R", "use": "res", "with": rest_with["R"]}},
              {"module": {"name": "P", "use": "stack", "with": rest_with["P"]}},
              "flatten", {"linear": {"out": 10}}]
    doc = {"name": "generated", "input": "16x16x4", "blocks": blocks, "layers": layers}
    return yaml.safe_dump(doc, default_flow_style=True, sort_keys=False, width=100_000)


ARGUMENTS = {"A_1": ["w1", "w2", "k", "s"], "A_2": ["w1", "w2", "k", "s"], "R": ["w", "g"],
             "P": ["n", "w"]}
CHOICES = {"w1": [1, 4, 8, 12], "w2": [2, 6, 12], "k": [1, 3, 5], "s": [1, 2], "w": [4, 6, 12],
           "g": [1, 2, 3, 4], "n": [1, 2, 3]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_sweeps_equal_the_network_rebuilt_from_edited_yaml(data):
    base = dict(widths=(data.draw(st.sampled_from([4, 8])), 8), kernel=3, stride=1,
                groups=data.draw(st.sampled_from([1, 2])), repeat=2, residual=12, inner=2)
    module = data.draw(st.sampled_from(sorted(ARGUMENTS)))
    names = data.draw(st.lists(st.sampled_from(ARGUMENTS[module]), min_size=1, max_size=2, unique=True))
    vary = {n: data.draw(st.lists(st.sampled_from(CHOICES[n]), min_size=1, max_size=3, unique=True))
            for n in names}
    path = "generated.yaml"
    result = sweep.run(analyse(parse_text(_network(**base), path)), module,
                       [sweep.Axis(n, v) for n, v in vary.items()])
    for i in range(result.count):
        edited = _network(**base, instances={module: result.values(i)})
        assert _variant(result, i) == _reference(edited, module), (module, result.values(i))
        if i in result.errors:
            assert result.errors[i]  # a reason, not a blank


def test_the_fast_path_is_taken_only_where_it_is_proven():
    text = _network(widths=(4, 8), kernel=3, stride=1, groups=1, repeat=2, residual=12, inner=2)
    a = analyse(parse_text(text, "g.yaml"))
    assert sweep.run(a, "A_2", [sweep.Axis("w1", [1, 2])]).method == "affine"
    # with `same` padding a kernel size changes no shape: only the kh, kw fields, exactly
    assert sweep.run(a, "A_2", [sweep.Axis("k", [1, 3])]).method == "affine"
    assert sweep.run(a, "A_2", [sweep.Axis("s", [1, 2])]).method == "rebuilt"  # sizes change
    assert sweep.run(a, "P", [sweep.Axis("n", [1, 3])]).method == "rebuilt"  # a repeat count
    # a residual's width must equal its input: proven per variant, so rebuilt, and listed
    r = sweep.run(a, "R", [sweep.Axis("w", [6, 12])])
    assert r.method == "rebuilt" and list(r.errors) == [0]
    assert "residual add needs" in r.errors[0]


def test_one_repeat_instance_changes_alone():
    text = _network(widths=(4, 8), kernel=3, stride=1, groups=1, repeat=2, residual=12, inner=2)
    a = analyse(parse_text(text, "g.yaml"))
    r = sweep.run(a, "A_2", [sweep.Axis("w2", [8, 16])])
    first = a.root.find("A_1")
    assert first is not None
    # A_1 is untouched: the network grows by A_2's change (and what it feeds) only
    edited = _network(widths=(4, 8), kernel=3, stride=1, groups=1, repeat=2, residual=12, inner=2,
                      instances={"A_2": {"w2": 16}})
    assert _variant(r, 1) == _reference(edited, "A_2")
    assert _reference(edited, "A_1")[:2] == (first.macs, first.params)  # type: ignore[index]


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=40))
def test_pareto_front_is_exactly_the_non_dominated(points):
    macs, params = [p[0] for p in points], [p[1] for p in points]
    front = sweep.pareto_front(macs, params)
    for i, point in enumerate(points):
        dominated = any(q[0] <= point[0] and q[1] <= point[1] and q != point for q in points)
        first_of_equals = point not in points[:i]  # equal variants: the first one is marked
        assert front[i] == (not dominated and first_of_equals)


def test_cli_budget_top_and_pareto():
    result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "4e", "--vary", "#1x1=64..512:64",
                                      "--vary", "#5x5=32..256:32", "--budget-macs", "160M",
                                      "--top", "3", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = doc["sections"][0]["rows"]
    assert doc["totals"]["variants"] == 8 * 8 and len(rows) == 3
    assert all(r["macs"] <= 160_000_000 for r in rows)
    assert rows == sorted(rows, key=lambda r: (r["macs"], r["params"]))
    assert rows[0]["pareto"] == "yes"
    assert all(r["network_macs"] > r["macs"] for r in rows)


def test_cli_lists_broken_variants_with_their_reason(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(_network(widths=(4, 8), kernel=3, stride=1, groups=1, repeat=2, residual=12, inner=2))
    result = CliRunner().invoke(cli, ["sweep", str(path), "-m", "A_1", "--vary", "s=1,2",
                                      "--vary", "k=1,3", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["totals"]["variants"] == 4 and doc["totals"]["broken"] == 0
    result = CliRunner().invoke(cli, ["sweep", str(path), "-m", "R", "--vary", "g=1..4", "-f", "json"])
    doc = json.loads(result.stdout)
    assert doc["totals"]["broken"] == 1  # groups=3 divides neither 8 input channels nor 12 filters
    broken = doc["sections"][1]["rows"]
    assert broken[0]["g"] == 3 and "groups=3 must divide" in broken[0]["error"]


@pytest.mark.parametrize("args,fragment", [
    (["--vary", "#5x5 reduc=4..8"], "'#5x5 reduc' is not an argument of module 3a (did you mean '#5x5 reduce'?)"),
    (["--vary", "#5x5 reduce=8..4"], "the range is empty"),
    (["--vary", "#5x5 reduce=0..4"], "values must be between 1 and 1,048,576"),
    (["--vary", "#5x5 reduce=1..99999999999999"], "whole numbers of at most 9 digits"),
    (["--vary", "#5x5 reduce=4..8", "--budget-macs", "lots"], "expected a number such as 100M"),
])
def test_cli_errors(args, fragment):
    result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", *args])
    assert result.exit_code == 4 and fragment in result.stderr


def test_hundred_thousand_variants_stay_fast():
    started = time.perf_counter()
    result = ic.sweep("googlenet", "3a", {"#1x1": range(1, 101), "#3x3": range(1, 1001)}).result
    assert result.count == 100_000 and result.method == "affine"
    assert time.perf_counter() - started < 20  # a few seconds here; generous for slow CI machines


def _sweep_json(*args):
    result = CliRunner().invoke(cli, ["sweep", "googlenet", *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


FOUR_E = ["-m", "4e", "--vary", "#1x1=64..512:8", "--vary", "#3x3=64..512:8", "--budget-macs", "150M"]


def test_the_budget_count_does_not_depend_on_pareto():
    plain, front = _sweep_json(*FOUR_E), _sweep_json(*FOUR_E, "--pareto")
    # 57 x 57 variants; 1,264 of them have at most 150M MACs, one of those on the front
    for doc in (plain, front):
        assert doc["totals"]["variants"] == 3_249
        assert doc["totals"]["in_budget"] == 1_264 and doc["totals"]["pareto_in_budget"] == 1
    assert plain["totals"]["listed"] == 20 and front["totals"]["listed"] == 1
    note = front["sections"][0]["notes"][1]
    assert ("1,264 within the budget (MACs <= 150,000,000), 1 of them on the front; --pareto lists only"
            " those on the front; sorted by macs, all shown.") in note


def test_sort_and_objective_must_agree():
    args = ["sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=4..64:4"]
    result = CliRunner().invoke(cli, [*args, "--objective", "params", "--sort", "macs"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip() == ("inception-cost: --objective params sorts by params, --sort macs by"
                                     " macs: give one of them")
    # the same key twice is no contradiction; the objective alone sets the order
    for extra in (["--objective", "params", "--sort", "params"], ["--objective", "params"]):
        doc = _sweep_json(*args[2:], *extra)
        assert "sorted by params" in doc["sections"][0]["notes"][1]
    with pytest.raises(UsageError, match="--objective params sorts by params, --sort macs"):
        ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, objective="params", sort="macs")
    by_params = ic.sweep("googlenet", "3a", {"#5x5 reduce": [4, 8]}, objective="params").to_dict()
    assert by_params["sections"][0]["notes"][1].endswith("sorted by params, all shown.")


NOTHING_FITS = ["-m", "3a", "--vary", "#5x5 reduce=4..64:4", "--budget-macs", "1"]


def test_when_nothing_fits_every_format_says_so():
    doc = _sweep_json(*NOTHING_FITS)
    section = doc["sections"][0]
    assert section["rows"] == [] and doc["totals"]["in_budget"] == 0 and doc["totals"]["listed"] == 0
    said = "No variant fits the budget (MACs <= 1). The closest is #5x5 reduce 4: 118,716,416 MACs."
    assert section["notes"][0] == said
    run = CliRunner()
    table = run.invoke(cli, ["sweep", "googlenet", *NOTHING_FITS]).stdout
    lines = table.splitlines()
    title = lines.index("googlenet: sweep of module 3a", 1)
    assert lines[title + 1] == "" and lines[title + 2] == said  # no blank header
    assert all(line.strip() or not line for line in lines)  # no line of spaces alone
    markdown = run.invoke(cli, ["sweep", "googlenet", *NOTHING_FITS, "-f", "markdown"]).stdout
    assert "|" not in markdown and said in markdown  # no header-only, invalid table
    csv = run.invoke(cli, ["sweep", "googlenet", *NOTHING_FITS, "-f", "csv"])
    assert csv.exit_code == 0 and csv.stdout.count("\n") == 1  # the header alone, still a CSV
    assert said in csv.stderr  # CSV has no notes: the reason goes to stderr
    html = run.invoke(cli, ["sweep", "googlenet", *NOTHING_FITS, "-f", "html"]).stdout
    assert "<thead>" not in html and escape(said) in html


def test_when_nothing_fits_a_time_budget_the_closest_is_named():
    doc = _sweep_json("-m", "3a", "--vary", "#5x5 reduce=4..64:4", "--budget-time", "50us",
                      "--device", "h100-measured")
    notes = doc["sections"][0]["notes"]
    assert notes[0] == "No variant fits the budget (time <= 50.00 µs). The closest is #5x5 reduce 4: 71.68 µs."
    rows = ic.sweep("googlenet", "3a", {"#5x5 reduce": range(4, 65, 4)}, device="h100-measured").rows
    fastest = min(rows, key=lambda r: r["seconds"])
    assert fastest["#5x5 reduce"] == 4 and round(fastest["seconds"] * 1e6, 2) == 71.68
    # the empty trade-off sections say plainly that there are none
    for section in doc["sections"][1:]:
        if not section["rows"]:
            assert section["notes"][0].startswith("No variant has")


def test_a_value_listed_twice_is_refused():
    """'#1x1=1,1,1' listed the same variant three times and counted it thrice in the totals."""
    result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#1x1=8,16,8"])
    assert result.exit_code == ExitCode.USAGE and "--vary '#1x1=8,16,8': 8 is given twice" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
