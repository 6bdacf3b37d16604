"""Limits count what the input expands to, whatever its form, and say what they count;
output stays valid (JSON without Infinity or NaN, CSV safe in a spreadsheet).

The README's limits table lists each cap and the time a capped run takes; these tests
check that each cap is hit with its own message, within a few seconds, and that inputs
just inside the caps are accepted.
"""

import csv
import io
import json
import time

import pytest
from click.testing import CliRunner

from inception_cost.cli import cli
from inception_cost.errors import ExitCode, did_you_mean
from inception_cost.reports.render import _csv_safe
from inception_cost.source.graphform import MAX_PARTS

D = "9" * 5000


def invoke(tmp_path, text, *args, command=(), name="net.yaml"):
    """`inception-cost [COMMAND] FILE ARGS` on a file holding `text`, within 10 s."""
    path = tmp_path / name
    path.write_text(text)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, [*command, str(path), *args])
    assert time.perf_counter() - started < 10
    return result


def refused(result, code, fragment):
    assert result.exit_code == code, result.output
    assert fragment in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stdout == ""


def test_a_block_built_network_of_8745_real_layers_is_accepted(tmp_path):
    block = ("blocks:\n  b:\n    layers:\n      - module: {name: inner, layers: [relu, relu, relu, relu, relu]}\n"
             "      - concat:\n          x: [relu, relu, relu, relu, {conv: {filters: 2, kernel: 1}}]\n"
             "          y: [{conv: {filters: 1, kernel: 1}}]\n")
    modules = "".join(f"  - module: {{name: m{i}, use: b}}\n" for i in range(795))
    result = invoke(tmp_path, "input: 8x8x3\n" + block + "layers:\n" + modules, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["sections"][0]["rows"]) == 795  # 795 x 11 layers


def test_table_rows_count_as_the_layers_they_expand_to(tmp_path):
    header = ("input: 8x8x3\ntable:\n  columns: [type, '#1x1', '#3x3 reduce', '#3x3', '#5x5 reduce',"
              " '#5x5', pool proj]\n  rows:\n")
    rows = "".join(f"    - [inception (x{i}), 1, 1, 1, 1, 1, 1]\n" for i in range(1500))  # 7 layers each
    refused(invoke(tmp_path, header + rows), ExitCode.INVALID_ARCHITECTURE, "more than 10,000 layers")


def test_repeats_of_empty_modules_count_as_parts(tmp_path):
    text = ("input: 8x8x3\nblocks:\n  a: {layers: [{module: {name: m, use: b, repeat: 1000}}]}\n"
            "  b: {layers: [{module: {name: n, layers: [], repeat: 1000}}]}\n"
            "layers:\n  - module: {name: x, use: a, repeat: 1000}\n  - relu\n")
    refused(invoke(tmp_path, text), ExitCode.INVALID_ARCHITECTURE, f"more than {MAX_PARTS:,} parts")


def test_names_and_paths_are_bounded(tmp_path):
    long = "n" * 100_000
    refused(invoke(tmp_path, f"input: 8x8x3\nlayers:\n  - relu: {{name: {long}}}\n"),
            ExitCode.INVALID_ARCHITECTURE, "names have at most 1,000")
    refused(invoke(tmp_path, f"input: 8x8x3\nlayers:\n  - module: {{name: {long}, layers: [relu]}}\n"),
            ExitCode.INVALID_ARCHITECTURE, "labels have at most 1,000")
    n = "a" * 900
    nested = ("input: 8x8x3\nblocks:\n  b: {layers: [{module: {name: N, layers: [relu, relu, relu, relu,"
              " relu, relu, relu, relu, relu, relu]}}]}\n  c: {layers: [{module: {name: N, use: b, repeat: 10}}]}\n"
              "  d: {layers: [{module: {name: N, use: c, repeat: 10}}]}\n"
              "layers:\n  - module: {name: N, use: d, repeat: 10}\n").replace("N", n)
    refused(invoke(tmp_path, nested), ExitCode.INVALID_ARCHITECTURE, "paths of the network's parts add up")


def test_aliased_and_substituted_text_is_bounded(tmp_path):
    text = "s" * 400_000
    uses = "".join(f"  - module: {{name: m{i}, use: b, with: {{x: *s}}}}\n" for i in range(5000))
    refused(invoke(tmp_path, f"input: 8x8x3\nnotes: &s {text}\nblocks:\n  b: {{args: [x], layers: [relu]}}\n"
                             f"layers:\n{uses}"),
            ExitCode.INVALID_ARCHITECTURE, "aliases expand to more than 10,000,000 characters")
    bomb = ("input: 8x8x3\nblocks:\n  b: {args: [a], layers: [{relu: {name: '" + "$a" * 100_000 + "'}}]}\n"
            "layers:\n  - module: {name: m, use: b, with: {a: " + "x" * 500_000 + "}}\n")
    refused(invoke(tmp_path, bomb), ExitCode.INVALID_ARCHITECTURE, "make more than 10,000 characters")


@pytest.mark.parametrize("text,fragment", [
    (f'input: 8x8x3\nstated: {{macs: "{D}G"}}\nlayers: [relu]\n', "at most 30 digits"),
    (f"input: 8x8x3\nlayers:\n  - conv: {{filters: 4, kernel: [3, {D[:40]}]}}\n", "more than the 30 digits"),
    ("input: 8x8x3\nlayers:\n  - {adaptive_avg_pool: {output: [1024, 1024]}}\n  - flatten\n",
     "1,048,576 a tensor may have"),
    ("input: 8x8x3\nlayers:\n  - conv: {filters: 0x10, kernel: 08}\n", "'kernel'"),  # 08: text
    ("input: 8x8x3\nlayers:\n  - dropout: {rate: -.inf}\n", "not a finite number"),
])
def test_numbers_are_read_within_bounds(tmp_path, text, fragment):
    refused(invoke(tmp_path, text), ExitCode.INVALID_ARCHITECTURE, fragment)


def test_budgets_of_thousands_of_digits_are_usage_errors():
    result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#1x1=1..3",
                                      "--budget-macs", D])
    refused(result, ExitCode.USAGE, "at most 30 digits")


@pytest.mark.parametrize("value", [".inf", ".nan", "1.0e-320", "1.0e+300", "0", "-1", D[:400]])
def test_device_figures_must_be_finite_and_in_range(tmp_path, value):
    text = f"name: d\npeak_tflops: {{fp32: 1, bf16: 1, fp16: {value}, int8: 1}}\nbandwidth_gbs: 1\n"
    result = invoke(tmp_path, text, command=("roofline", "googlenet", "-f", "json", "--device"),
                    name="d.yaml")
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("device", ["1.0e-6", "1.0e+9"])
def test_json_is_rfc_8259_at_the_device_limits(tmp_path, device):
    text = (f"name: d\npeak_tflops: {{fp32: {device}, bf16: {device}, fp16: {device}, int8: {device}}}\n"
            f"bandwidth_gbs: {device}\noverhead_us: {device}\n")
    result = invoke(tmp_path, text, command=("roofline", "googlenet", "-f", "json", "--device"),
                    name="d.yaml")
    assert result.exit_code == 0, result.stderr

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    json.loads(result.stdout, parse_constant=refuse)
    table = CliRunner().invoke(cli, ["roofline", "googlenet", "--device", str(tmp_path / "d.yaml")]).stdout
    assert "nan" not in table and "inf" not in table


def test_csv_cells_never_start_a_formula(tmp_path):
    text = ('name: "=HYPERLINK(1)"\ninput: 8x8x3\nlayers:\n  - conv: {name: "=cmd|x", filters: 4, kernel: 3}\n'
            '  - module: {name: "@SUM(1)", layers: [{relu: {name: "+1"}}, {relu: {name: "-2"}}]}\n')
    out = invoke(tmp_path, text, "-f", "csv").stdout
    cells = [c for line in out.splitlines() for c in line.split(",")]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert "'=cmd|x" in out and "'@SUM(1)" in out and "'=HYPERLINK(1)" in out
    assert _csv_safe(-3) == -3 and _csv_safe("-2") == "'-2" and _csv_safe("\tx") == "'\tx"
    # a lone sign is no formula: roofline's placeholder for a view's bound stays as JSON has it
    assert _csv_safe("-") == "-"
    rows = csv.DictReader(io.StringIO(CliRunner().invoke(cli, ["roofline", "googlenet", "-f", "csv"]).stdout))
    assert next(r for r in rows if r["layer"] == "dropout")["bound"] == "-"


def test_suggestions_over_long_names_are_fast():
    started = time.perf_counter()
    assert did_you_mean("x" * 100_000, ["x" * 100_000 + "y"] * 100) == ""
    assert did_you_mean("kernal", ["kernel", "k" * 1_000_000]) == " (did you mean 'kernel'?)"
    assert time.perf_counter() - started < 1


def test_conventions_named_many_times_are_shown_once():
    once = CliRunner().invoke(cli, ["explain", "googlenet", "-f", "json", "--conventions", "fvcore"])
    result = CliRunner().invoke(cli, ["explain", "googlenet", "-f", "json", "--conventions",
                                      ",".join(["fvcore"] * 3000)])
    assert result.exit_code == 0 and result.stdout == once.stdout


def test_large_reports_are_plain_text_on_a_terminal_too(tmp_path, monkeypatch):
    from inception_cost.cli import options

    monkeypatch.setattr(options, "is_terminal", lambda stream: True)
    many = "".join(f"  - relu: {{name: r{i}}}\n" for i in range(options.RICH_ROWS + 1))
    wide = "".join(f"  - relu: {{name: {'w' * 900}{i}}}\n" for i in range(200))
    for layers in (many, wide):
        result = invoke(tmp_path, "input: 8x8x3\nlayers:\n" + layers)
        assert result.exit_code == 0 and "─" not in result.stdout  # rich would draw this rule
    result = invoke(tmp_path, "input: 8x8x3\nlayers:\n" + "".join(many.splitlines(True)[:10]))
    assert result.exit_code == 0 and "─" in result.stdout


def test_sweeps_are_capped_by_work_and_listing(tmp_path):
    from inception_cost.reports.sweep import MAX_LISTED
    from inception_cost.transforms.sweep import MAX_REBUILT_LAYERS, MAX_VARIANTS

    runner = CliRunner()
    result = runner.invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#1x1=1..1001",
                                 "--vary", "#3x3=1..1000"])
    refused(result, ExitCode.USAGE, f"more than the {MAX_VARIANTS:,} a sweep may have")
    result = runner.invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#1x1=1..1000",
                                 "--vary", "#3x3=1..800"])
    refused(result, ExitCode.USAGE, "layer evaluations a sweep may make")
    result = runner.invoke(cli, ["sweep", "googlenet", "-m", "5b", "--vary", "#1x1=1..120",
                                 "--vary", "pool proj=1..100", "--top", "0", "-f", "csv"])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == MAX_LISTED + 1
    rebuilt = ("input: 64x64x3\nblocks:\n  b: {args: [k, f], layers: [{conv: {filters: $f, kernel: $k,"
               " padding: valid}}]}\nlayers:\n  - module: {name: m, use: b, with: {k: 3, f: 8}}\n  - relu\n")
    result = invoke(tmp_path, rebuilt, "-m", "m", "--vary", "k=1..20", "--vary",
                    f"f=1..{MAX_REBUILT_LAYERS // 20 // 21 + 1}", command=("sweep",))
    refused(result, ExitCode.USAGE, "layer evaluations a sweep that rebuilds each variant may make")


def test_keys_are_read_as_written(tmp_path):
    text = ("input: 8x8x3\nlayers:\n  - module:\n      name: m\n      layers:\n        - concat:\n"
            "            on: [relu]\n            010: [relu]\n            1:30: [relu]\n")
    result = invoke(tmp_path, text, "-f", "json", "--module", "m")
    assert result.exit_code == 0, result.stderr
    branches = [row["branch"] for row in json.loads(result.stdout)["sections"][0]["rows"]]
    assert branches == ["on", "010", "1:30"]
