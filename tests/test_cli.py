"""The commands, through click's CliRunner, with the figures they must print."""

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from inception_cost.cli import cli
from inception_cost.errors import ExitCode


def run(*args, expect=0):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == expect, result.output
    return result


def as_json(*args):
    return json.loads(run(*args, "--format", "json").stdout)


def test_googlenet_report_json():
    doc = as_json("googlenet")
    assert doc["totals"]["params"] == 6_998_552
    assert doc["totals"]["macs"] == 1_582_671_872
    rows = doc["sections"][0]["rows"]
    assert [r["name"] for r in rows][:5] == ["conv1", "maxpool1", "conv2", "maxpool2", "3a"]
    assert len(rows) == 19
    by_name = {r["name"]: r for r in rows}
    assert by_name["3a"]["weights"] == 163_328 and by_name["3a"]["output"] == "28x28x256"
    assert by_name["conv1"]["check"] == "differs: params, ops"
    assert doc["train"] is False


def test_train_adds_the_auxiliary_classifiers():
    doc = as_json("googlenet", "--train")
    names = [r["name"] for r in doc["sections"][0]["rows"]]
    assert "aux1" in names and "aux2" in names
    assert doc["totals"]["params"] == 6_998_552 + (3_186_688 + 2_152) + (3_188_736 + 2_152)
    assert any("aux1, aux2" in note for note in doc["sections"][0]["notes"])


def test_module_3a_branch_breakdown():
    doc = as_json("googlenet", "--module", "3a")
    assert doc["totals"]["weights"] == 163_328
    assert doc["totals"]["macs"] == 128_049_152
    branches = {r["branch"]: r for r in doc["sections"][0]["rows"]}
    assert list(branches) == ["1x1", "3x3", "5x5", "pool"]
    assert branches["5x5"]["macs"] == 12_443_648
    assert branches["5x5"]["layers"] == "conv 1x1 16 -> conv 5x5 32"
    assert doc["sections"][0]["total"]["output"] == "28x28x256"


def test_module_table_and_markdown_show_the_same_numbers():
    table = run("googlenet", "--module", "3a").stdout
    md = run("googlenet", "--module", "3a", "-f", "markdown").stdout
    for text in (table, md):
        assert "128,049,152" in text and "163,328" in text and "12,443,648" in text
    assert "| 5x5 | conv 1x1 16 -> conv 5x5 32 | 28x28x32 |" in md
    assert "|---|---|---|---:|" in md


def test_compare_naive_reduced_3a():
    doc = as_json("compare", "naive", "reduced")
    rows = {r["part"]: r for r in doc["sections"][0]["rows"]}
    assert rows["5x5"]["a_macs"] == 120_422_400 == 25 * 28 * 28 * 192 * 32
    assert rows["5x5"]["b_macs"] == 12_443_648
    assert round(rows["5x5"]["macs_ratio"], 2) == 9.68
    total = doc["sections"][0]["total"]
    assert total["a_output"] == "28x28x416" and total["b_output"] == "28x28x256"
    assert doc["totals"]["naive"]["macs"] == 9_633_792 + 173_408_256 + 120_422_400
    assert "9.68x" in run("compare", "naive", "reduced").stdout


@pytest.mark.parametrize("module,size,cin,c5", [("3b", 28, 256, 96), ("4e", 14, 528, 128),
                                                ("5b", 7, 832, 128)])
def test_compare_works_for_any_module(module, size, cin, c5):
    doc = as_json("compare", "naive", "reduced", "--module", module)
    rows = {r["part"]: r for r in doc["sections"][0]["rows"]}
    assert rows["5x5"]["a_macs"] == 25 * size * size * cin * c5
    assert rows["pool"]["a_output"] == f"{size}x{size}x{cin}"  # the naive pool passes its input


def test_csv_has_the_json_numbers():
    text = run("googlenet", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    three_a = next(r for r in rows if r["name"] == "3a")
    assert int(three_a["macs"]) == 128_049_152
    total = next(r for r in rows if r["is_total"] == "1")
    assert int(total["params"]) == 6_998_552


def test_export_markdown_document(tmp_path):
    target = tmp_path / "costs.md"
    run("export", "googlenet", "--format", "markdown", "-o", str(target))
    text = target.read_text()
    assert text.startswith("# GoogLeNet (Inception v1), paper Table 1: cost report")
    assert "**Counting convention.**" in text
    for name in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        assert f"## inception ({name}): branches" in text
    assert "1,582,671,872" in text


def test_output_is_never_overwritten_without_force(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("keep me")
    result = run("googlenet", "-f", "json", "-o", str(target), expect=ExitCode.OUTPUT_NOT_WRITTEN)
    assert "already exists" in result.stderr and target.read_text() == "keep me"
    run("googlenet", "-f", "json", "-o", str(target), "--force")
    assert json.loads(target.read_text())["totals"]["macs"] == 1_582_671_872
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


@pytest.mark.parametrize("suffix, fmt", [(".json", "json"), (".CSV", "csv"), (".md", "markdown"),
                                         (".html", "html"), (".txt", "table"), (".out", "markdown")])
def test_output_without_format_takes_the_suffixs(tmp_path, suffix, fmt):
    """-o FILE without -f writes the format FILE's suffix names (export: markdown by
    default); -f, where given, wins."""
    target = tmp_path / f"costs{suffix}"
    run("export", "googlenet", "-o", str(target))
    assert target.read_text() == run("export", "googlenet", "-f", fmt).stdout
    forced = tmp_path / "forced.json"
    run("googlenet", "-f", "csv", "-o", str(forced))
    assert forced.read_text().startswith("section,is_total,")


def test_list_shows_the_builtins():
    doc = as_json("list")
    rows = {r["name"]: r for r in doc["sections"][0]["rows"]}
    assert rows["googlenet"]["macs"] == 1_582_671_872 and rows["googlenet"]["depth"] == 22
    assert rows["keras-cifar10"]["params"] == 2_761_866


def test_keras_cifar10():
    doc = as_json("keras-cifar10")
    # four 64-filter branches on 32x32x3: 140,416 params; Dense 262,144 -> 10: 2,621,450.
    # Keras 3.15.1 (torch backend) model.summary() of the seed's model: 2,761,866 total,
    # all trainable; concatenate -> (None, 32, 32, 256); conv 3x3 36,928; conv 5x5 102,464.
    assert doc["totals"]["params"] == 140_416 + 2_621_450
    assert doc["totals"]["macs"] == 143_392_768 + 2_621_440


def test_any_yaml_by_path(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("input: 8x8x3\nlayers:\n  - conv: {filters: 4, kernel: 3}\n")
    doc = as_json(str(path))
    assert doc["totals"]["macs"] == 9 * 3 * 4 * 64


def test_shape_error_is_one_line_with_exit_code_2(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("input: 14x14x8\nlayers:\n  - module:\n      name: 4b\n      layers:\n"
                    "        - concat:\n            a: [{conv: {filters: 8, kernel: 1}}]\n"
                    "            b: [{max_pool: {kernel: 3, stride: 1}}]\n")
    result = run(str(path), expect=2)
    assert result.stdout == ""
    assert result.stderr == (f"inception-cost: {path}:6: 4b / branch b: concat needs 14x14, got"
                             " 12x12 (branch a gives 14x14)\n")


@pytest.mark.parametrize("args,code,fragment", [
    (["googlnet"], ExitCode.USAGE, "unknown architecture 'googlnet' (did you mean 'googlenet'?)"),
    (["googlenet", "--module", "3z"], ExitCode.USAGE, "no module '3z' in googlenet"),
    (["googlenet", "--format", "xml"], ExitCode.USAGE, "'xml' is not one of"),
    (["missing.yaml"], ExitCode.INVALID_ARCHITECTURE, "missing.yaml: no such file"),
])
def test_usage_errors_are_one_line(args, code, fragment):
    result = run(*args, expect=code)
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_installed_command_runs_from_another_directory(tmp_path):
    done = subprocess.run([sys.executable, "-m", "inception_cost", "googlenet", "--module", "3a",
                           "-f", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["macs"] == 128_049_152


def test_options_before_the_name_mean_show():
    doc = json.loads(run("-f", "json", "googlenet", "--module", "3a").stdout)
    assert doc["totals"]["macs"] == 128_049_152
    assert run("--debug", "-f", "csv", "keras-cifar10").stdout.startswith("section,is_total")


def test_list_is_in_name_order():
    names = [r["name"] for r in as_json("list")["sections"][0]["rows"]]
    assert names == sorted(names) and names.index("googlenet") < names.index("googlenet-torchvision")


def test_every_command_s_help_has_an_example():
    """`inception-cost COMMAND --help` shows how it is called (README: 'with examples'); the
    devices help names every command that takes --device."""
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        text = CliRunner().invoke(cli, [name, "--help"]).output
        assert "Example" in text or "Install" in text, name
    devices = " ".join(CliRunner().invoke(cli, ["devices", "--help"]).output.split())
    # read from the commands themselves: a list written here once left out export's --device
    commands = {name: cli.get_command(None, name) for name in cli.list_commands(None)}  # type: ignore[arg-type]
    taking = [name for name, command in commands.items()
              if any({"--device", "--base"} & set(p.opts) for p in command.params)]  # type: ignore[union-attr]
    assert {"roofline", "compare", "factorize", "export", "sweep", "accuracy", "calibrate"} <= set(taking)
    for name in taking:
        assert re.search(rf"\b{name}\b", devices), name


def test_a_concat_chosen_by_its_own_path_lists_its_branches():
    """`-m 3a/concat_1` is GoogLeNet's 3a without its module: its four branches, as `-m 3a`
    lists them (it showed one row, 'layers', in a module titled 'concat')."""
    doc = json.loads(CliRunner().invoke(cli, ["googlenet", "-m", "3a/concat_1", "-f", "json"]).output)
    whole = json.loads(CliRunner().invoke(cli, ["googlenet", "-m", "3a", "-f", "json"]).output)
    rows = [(r["branch"], r["macs"]) for r in doc["sections"][0]["rows"]]
    assert rows == [("1x1", 9_633_792), ("3x3", 101_154_816), ("5x5", 12_443_648), ("pool", 4_816_896)]
    assert rows == [(r["branch"], r["macs"]) for r in whole["sections"][0]["rows"]]
    assert doc["title"].endswith(": concat 3a/concat_1") and doc["sections"][0]["title"] == "3a/concat_1: branches"
