"""The timed sweep: each variant's time is the latency model's time of the network
rebuilt from edited YAML; the three-way Pareto front; the MAC / time trade-offs."""

import json

import pytest
import yaml
from click.testing import CliRunner

import inception_cost as ic
from inception_cost.cli import cli
from inception_cost.core.analysis import analyse
from inception_cost.errors import ExitCode, UsageError
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.roofline import node_timer
from inception_cost.source.catalog import resolve
from inception_cost.source.document import parse_text
from inception_cost.transforms.sweep_time import pareto_front, parse_time


def test_pareto_front_over_three_objectives():
    macs = [1, 2, 2, 3, None]
    params = [5, 4, 4, 1, 1]
    seconds = [9.0, 9.0, 8.0, 9.0, 1.0]
    # 1 is dominated by 2 (same MACs and params, faster); 4 is broken
    assert pareto_front([macs, params, seconds]) == [True, False, True, True, False]


@pytest.mark.parametrize("text, seconds", [("50us", 50e-6), ("1.5 ms", 1.5e-3), ("200ns", 200e-9),
                                           ("2s", 2.0), ("7µs", 7e-6)])
def test_budget_times(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


def test_a_budget_time_has_at_most_30_digits():
    assert parse_time("1" * 30 + "ns") == pytest.approx(1.111111111e20)
    for text in ("1" * 31 + "us", "1." + "5" * 31 + "ms", "1" * 10_000):
        with pytest.raises(UsageError, match="at most 30 digits") as info:
            parse_time(text)
        assert len(str(info.value)) < 200


def test_a_budget_time_needs_a_unit():
    with pytest.raises(UsageError, match="50us"):
        parse_time("50")


def test_each_variant_is_timed_as_the_edited_network():
    device, values = "h100-measured", [16, 64]
    result = ic.sweep("keras-cifar10", "inception", {"filters": values}, device=device, dtype="fp16", batch=8)
    rows = result.rows
    path, _ = resolve("keras-cifar10")
    for row, filters in zip(rows, values):
        doc = yaml.safe_load(open(path).read())
        doc["layers"][[i for i, item in enumerate(doc["layers"]) if "module" in item][0]]["module"]["with"] = {
            "filters": filters}
        a = analyse(parse_text(yaml.safe_dump(doc), "edited.yaml"))
        timer = node_timer(a, load_device(device), Dtype.FP16, 8)
        assert row["seconds"] == timer(a.root.find("inception"))
        assert row["network_seconds"] == timer(a.root)


def test_sweep_command_with_time(tmp_path):
    args = ["sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=4..64:4", "--vary", "#5x5=16..64:16",
            "--objective", "time", "--device", "h100-measured", "--budget-time", "74us", "-f", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    rows = doc["sections"][0]["rows"]
    assert rows and all(r["time_us"] <= 74 for r in rows)
    assert [r["time_us"] for r in rows] == sorted(r["time_us"] for r in rows)
    fewer, more = doc["sections"][1], doc["sections"][2]
    assert fewer["title"].startswith("googlenet: fewer MACs than as written, not faster")
    for r in fewer["rows"]:
        assert r["macs_vs_written"] < 1 and r["time_vs_written"] >= 1
    for r in more["rows"]:
        assert r["macs_vs_written"] >= 1 and r["time_vs_written"] < 1


def test_bad_budget_time_is_a_usage_error():
    result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#5x5=16..32:16",
                                      "--budget-time", "fast"])
    assert result.exit_code == 4 and "--budget-time 'fast'" in result.output


def test_a_timed_sweep_is_bounded_by_its_work():
    # 2,048 variants x (GoogLeNet's 88 layers + 20) = 221,184: more than the 120,000 a timed
    # sweep may rebuild and time (about 10 s here); refused before any is timed
    result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#1x1=4..256:4",
                                      "--vary", "#3x3=8..256:8", "--device", "h100-measured"])
    assert result.exit_code == ExitCode.USAGE
    assert "2,048 variants x (88 layers + 20) = 221,184 to rebuild and time is more than the 120,000" \
        in result.stderr
