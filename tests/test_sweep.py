"""The sweep: variants evaluated on the columns equal the module rebuilt from YAML."""

import json
import random
import time

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from inception_cost.transforms import sweep
from inception_cost.source.catalog import resolve
from inception_cost.cli import cli


def _source(name, module):
    path, display = resolve(name)
    return sweep.Source(path, display, module)


def test_as_written_variant_equals_the_module():
    source = _source("googlenet", "3a")
    axes = [sweep.parse_vary("#5x5 reduce=4..64:4"), sweep.parse_vary("#3x3 reduce=32..192:16")]
    result = sweep.run(source, axes)
    assert result.count == 16 * 11 and result.layers == 7
    i = next(i for i in range(result.count) if result.widths[0][i] == 16 and result.widths[1][i] == 96)
    assert (result.params[i], result.macs[i]) == (163_696, 128_049_152)


@pytest.mark.parametrize("name,module,widths", [
    ("googlenet", "4e", ["#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj"]),
    ("inception-v3", "Mixed_6c", ["channels_7x7"]),
    ("keras-cifar10", "inception", ["filters"]),
    ("googlenet-torchvision", "4a", ["ch1x1", "ch3x3red", "ch5x5"]),
])
def test_columns_equal_rebuilt_modules(name, module, widths):
    source = _source(name, module)
    rng = random.Random(7)
    axes = [sweep.Axis(w, sorted(rng.sample(range(1, 300), 3))) for w in widths]
    result = sweep.run(source, axes)
    for i in rng.sample(range(result.count), min(6, result.count)):
        values = {a.name: result.widths[k][i] for k, a in enumerate(axes)}
        node = source.build({**source.values(), **values})
        assert (result.macs[i], result.params[i]) == (node.macs, node.params), values


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


@pytest.mark.parametrize("args,fragment", [
    (["--vary", "#5x5 reduc=4..8"], "'#5x5 reduc' is not a width of module 3a (did you mean '#5x5 reduce'?)"),
    (["--vary", "#5x5 reduce=8..4"], "the range is empty"),
    (["--vary", "#5x5 reduce=0..4"], "widths must be between 1 and 1,048,576"),
    (["--vary", "#5x5 reduce=1..99999999999999"], "whole numbers of at most 9 digits"),
    (["--vary", "#5x5 reduce=4..8", "--budget-macs", "lots"], "expected a number such as 100M"),
])
def test_cli_errors(args, fragment):
    result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", *args])
    assert result.exit_code == 4 and fragment in result.stderr


def test_hundred_thousand_variants_stay_fast():
    source = _source("googlenet", "3a")
    started = time.perf_counter()
    result = sweep.run(source, [sweep.parse_vary("#1x1=1..100"), sweep.parse_vary("#3x3=1..1000")])
    assert result.count == 100_000
    assert time.perf_counter() - started < 10  # about 0.2 s here; generous for slow CI machines
