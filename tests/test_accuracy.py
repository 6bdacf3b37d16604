"""`inception-cost accuracy`: a profile's estimates against measured latencies, nothing fitted."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from inception_cost.cli import cli
from inception_cost.estimates.accuracy import Accuracy, geomean_error, pair_ratios
from inception_cost.estimates.devices import builtin_for_gpu, load_device
from inception_cost.estimates.measurements import Case

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "h100_latency.json"
DEVICES = Path(__file__).resolve().parents[1] / "inception_cost" / "estimates" / "devices"


def _json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["accuracy", str(DATA), *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_fitted_h100_profile_on_its_own_measurements():
    doc = _json("--device", "h100-measured")
    totals = doc["totals"]
    # the fit's own figures, as the profile's notes record them (fit_profiles.py): 95%, 1.146x
    notes = (DEVICES / "h100-measured.yaml").read_text()
    assert totals["cases"] == 234 and totals["pairs"] == 48
    assert f"{totals['within_1_5']:.0%} within 1.5x, geometric-mean error {totals['geomean_error']:.3f}x" in notes
    assert round(totals["within_1_5"], 3) == 0.953 and round(totals["geomean_error"], 3) == 1.146
    assert 1.25 < totals["pairs_geomean_error"] < 1.35  # the README's in-sample 1.29x
    groups, pairs, worst = doc["sections"]
    assert sum(r["cases"] for r in groups["rows"]) == 234 and len(groups["rows"]) == 24
    assert len(pairs["rows"]) == 48
    # per mode, from the rows themselves: plain fp32 is where the pairs are furthest off
    by_mode = totals["pairs_geomean_error_by_mode"]
    for mode in ("fp32", "tf32", "fp16"):
        errors = [math.log(r["error"]) for r in pairs["rows"] if r["mode"] == mode]
        assert len(errors) == 16 and by_mode[mode] == pytest.approx(math.exp(sum(map(abs, errors)) / 16))
    assert [round(by_mode[m], 2) for m in ("fp32", "tf32", "fp16")] == [1.42, 1.27, 1.19]
    first = worst["rows"][0]  # h100_latency.json: 36.25 µs measured; the model's tiles say 3.4x that
    assert (first["case"], first["mode"], first["batch"]) == ("3a_naive_branch_5x5", "fp32", 1)
    assert first["measured_us"] == pytest.approx(36.252, abs=1e-3) and first["ratio"] > 3


def test_a_profile_for_faster_memory_estimates_lower():
    """h200 is h100-sxm with 4.8 TB/s instead of 3.35: the same cases, lower estimates."""
    h100, h200 = (_json("--device", d)["totals"] for d in ("h100-sxm", "h200"))
    assert h200["bias"] < h100["bias"]
    a100 = _json("--device", "a100-80gb")["totals"]
    assert a100["bias"] > 1.5  # an A100's profile is slower than the H100 that was measured


def test_pair_ratios_and_their_error():
    def case(name: str, mode: str, batch: int, us: float) -> Case:
        return Case(name, "g", mode, batch, us, 1, None, [])  # type: ignore[arg-type]

    results = [(case("conv5x5_64_35x35", "fp16", 1, 20.0), 30.0), (case("conv3x3x2_64_35x35", "fp16", 1, 10.0), 10.0),
               (case("conv5x5_64_35x35", "fp16", 32, 40.0), 40.0)]  # no cheaper side at batch 32
    (row,) = pair_ratios(results)
    assert (row.measured, row.estimated, row.error) == (2.0, 3.0, 1.5)
    assert geomean_error([1.5, 1 / 1.5]) == pytest.approx(1.5) and geomean_error([]) == 1.0
    accuracy = Accuracy.of([(30.0, 20.0), (10.0, 10.0)])
    assert accuracy.within_1_5 == 1.0 and accuracy.bias == pytest.approx(1.5 ** 0.5)


def test_markdown_and_errors(tmp_path):
    result = CliRunner().invoke(cli, ["accuracy", str(DATA), "--device", "h200", "-f", "markdown"])
    assert result.exit_code == 0 and "## The Inception pairs" in result.output, result.output[:500]
    assert CliRunner().invoke(cli, ["accuracy", str(DATA), "--device", "nope"]).exit_code == 4
    empty = CliRunner().invoke(cli, ["accuracy", str(DATA), "--device", ""])  # as roofline: not the default
    assert empty.exit_code == 4 and "unknown device ''" in empty.output
    missing = CliRunner().invoke(cli, ["accuracy", str(tmp_path / "none.json")])
    assert missing.exit_code == 3 and "no such file" in missing.output


@pytest.mark.parametrize("gpu, builtin", [
    ("NVIDIA H100 80GB HBM3", "h100-sxm"), ("NVIDIA H100 PCIe", "h100-pcie"), ("NVIDIA H200", "h200"),
    ("NVIDIA A100-SXM4-80GB", "a100-80gb"), ("NVIDIA A100-SXM4-40GB", "a100-40gb"), ("NVIDIA L4", "l4"),
    # the 40 GB PCIe card has the SXM 40 GB's datasheet figures, the 80 GB one 1,935 GB/s, not 2,039
    ("NVIDIA A100-PCIE-40GB", "a100-40gb"), ("NVIDIA A100 80GB PCIe", "a100-80gb-pcie"),
    ("NVIDIA L40S", "l40s"), ("NVIDIA A10", "a10"), ("Tesla T4", "t4"), ("Tesla V100-SXM2-32GB", "v100"),
    # other clocks, memory or SM counts than any profile: none rather than a near miss
    ("NVIDIA H100 NVL", None), ("NVIDIA L40", None), ("NVIDIA A10G", None), ("cpu", None), (None, None),
    # the PCIe V100 peaks at 14 / 112 TFLOP/s, the SXM2 profile's 15.7 / 125; the V100S is another chip
    ("Tesla V100-PCIE-16GB", None), ("Tesla V100S-PCIE-32GB", None), ("Tesla V100-SXM2-16GB", "v100")])
def test_the_builtin_for_a_measured_gpu(gpu, builtin):
    assert builtin_for_gpu(gpu) == builtin


def _renamed(tmp_path: Path, gpu: str) -> Path:
    data = json.loads(DATA.read_text())
    data["environment"]["gpu_name"] = gpu
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    path = tmp_path / "other.json"
    path.write_text(json.dumps(data))
    return path


def test_the_measured_gpu_chooses_the_default_profile(tmp_path):
    """Without --device (accuracy) or --base (calibrate), the built-in for the GPU the file
    names: what the measurements lack comes from that GPU, not from an H100."""
    source = _renamed(tmp_path, "NVIDIA A100-SXM4-40GB")
    result = CliRunner().invoke(cli, ["accuracy", str(source), "-f", "json"])
    assert result.exit_code == 0 and json.loads(result.output)["device"] == "a100-40gb"
    out = tmp_path / "fitted.yaml"
    fitted = CliRunner().invoke(cli, ["calibrate", str(source), "-o", str(out), "--evaluations", "50"])
    assert fitted.exit_code == 0 and "base profile a100-40gb (the built-in for NVIDIA A100" in fitted.output
    # the file measures no int8 matmul: the A100's datasheet 624, not the H100's 1,979
    assert load_device(str(out)).peak_tflops["int8"] == 624
    unknown = CliRunner().invoke(cli, ["calibrate", str(_renamed(tmp_path, "NVIDIA A10G")), "--evaluations", "50"])
    assert unknown.exit_code == 0
    assert "base profile h100-sxm (no built-in for NVIDIA A10G: it stands in" in unknown.output
    # a stand-in's int8 peak says nothing of this GPU: left out (roofline refuses --dtype int8 there)
    assert "peaks measured: fp32, tf32, fp16, bf16\n" in unknown.output
    assert "int8" not in yaml.safe_load(unknown.stdout)["peak_tflops"]


def _with_time(tmp_path: Path, median_us: float) -> Path:
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    data["cases"][0]["graph"]["median_us"] = median_us
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("median_us", [5e-324, 1e-300, 1e-4])
@pytest.mark.parametrize("command", [["accuracy"], ["calibrate", "--evaluations", "50"]])
def test_a_time_no_kernel_takes_is_refused_not_a_crash(tmp_path, command, median_us):
    """Above 0 is not enough: 5e-324 µs made a pair's ratio 0 (math domain error, exit 1) and
    1e-300 µs a 300-digit 'worst'. Below a nanosecond no GPU kernel runs."""
    result = CliRunner().invoke(cli, [*command, str(_with_time(tmp_path, median_us))])
    assert result.exit_code == 3, result.output
    assert "out of range" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_nanosecond_is_still_a_time(tmp_path):
    result = CliRunner().invoke(cli, ["accuracy", str(_with_time(tmp_path, 1e-3)), "-f", "json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("width", [60, 80])
def test_a_narrow_terminal_keeps_each_table_s_error(width):
    """What each table is for stays on a narrow terminal: a pair's estimated / measured and its
    geometric mean (the total row, which else showed a label without its number), a case's
    estimate / measured. The raw ratios and times go first."""
    from inception_cost.estimates import calibrate as cal
    from inception_cost.estimates.measurements import read_all
    from inception_cost.reports.accuracy import accuracy_report
    from inception_cost.reports.terminal import table

    info, cases = read_all((str(DATA),))
    device = load_device("h100-sxm")
    report = accuracy_report(device, [(c, cal.predict_us(device, c)) for c in cases], ["h", "m"], info.gpu)
    screen = table(report, width)
    pairs = screen[screen.index("The Inception pairs"):screen.index("The cases furthest")]
    assert "1.29x" in pairs  # no pair's own error is 1.29x: the total's
    assert "estimated / measured" not in " ".join(pairs.split("Not shown")[1:])
    cases_part = screen[screen.index("The cases furthest"):]
    assert "3.35x" in cases_part and "estimate / measured" not in " ".join(cases_part.split("Not shown")[1:])
    assert max(len(line) for line in screen.splitlines()) <= width


@pytest.mark.parametrize("args", [["accuracy", str(DATA)], ["devices"]])
def test_markdown_has_no_empty_convention_heading(args):
    """A report that counts nothing (accuracy, devices) has no convention to state: no
    '**Counting convention.**' followed by nothing."""
    result = CliRunner().invoke(cli, [*args, "-f", "markdown"])
    assert result.exit_code == 0 and "Counting convention" not in result.output
    assert "<p><small></small></p>" not in CliRunner().invoke(cli, [*args, "-f", "html"]).output


def test_cases_in_a_dtype_the_profile_has_no_peak_for_are_left_out_and_said(tmp_path):
    """roofline refuses --dtype bf16 on a V100 (no bf16 peak); accuracy priced the same bf16
    cases as fp32 math without a word. They are left out, and the report says how many."""
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    data["cases"] += [dict(c, mode="bf16") for c in data["cases"] if c["mode"] == "fp16"]
    path = tmp_path / "bf16.json"
    path.write_text(json.dumps(data))
    doc = json.loads(CliRunner().invoke(cli, ["accuracy", str(path), "--device", "v100", "-f", "json"]).output)
    assert doc["totals"]["cases"] == 60 and doc["left_out"] == {"bf16": 20}
    assert all(r["mode"] != "bf16" for s in doc["sections"] for r in s["rows"])
    assert any("20 bf16 cases left out: v100 has no bf16 peak" in n for n in doc["notes"])
    table = CliRunner().invoke(cli, ["accuracy", str(path), "--device", "v100"]).output
    assert "20 bf16 cases left out" in table
    assert json.loads(CliRunner().invoke(cli, ["accuracy", str(path), "-f", "json"]).output)["left_out"] == {}
    only = tmp_path / "only.json"
    only.write_text(json.dumps(dict(data, cases=[c for c in data["cases"] if c["mode"] == "bf16"])))
    refused = CliRunner().invoke(cli, ["accuracy", str(only), "--device", "t4"])
    assert refused.exit_code == 4 and "no peak for bf16" in refused.output
    assert len(refused.output.strip().splitlines()) == 1


def _measurements(tmp_path: Path, edit) -> str:
    """The H100 file with `edit(doc)` applied, written to tmp_path."""
    doc = json.loads(DATA.read_text())
    edit(doc)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_records_left_out_are_counted_with_their_reasons_and_a_stand_in_profile_says_so(tmp_path):
    def edit(doc: dict) -> None:
        doc["environment"]["gpu_name"] = "NVIDIA A10G"  # no built-in: h100-sxm stands in
        doc["peaks"] = None  # measure_latency.py --groups without peaks writes null
        doc["cases"][0]["graph"] = {"error": "RuntimeError: capture failed"}
        for case in doc["cases"][1:4]:  # after the soft budget ran out: eager, reduced counts
            del case["graph"]
            case["reduced_counts"] = True

    path = _measurements(tmp_path, edit)
    result = CliRunner().invoke(cli, ["accuracy", path, "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["totals"]["cases"] == 230
    notes = " ".join(doc["notes"])
    assert "standing in: no built-in for NVIDIA A10G" in notes and "the built-in for the measured GPU" not in notes
    assert "4 records left out: 3 timed eagerly only, after measure_latency.py's --soft-budget ran out" in notes
    assert "1 whose CUDA-graph capture failed" in notes


def test_calibrate_keeps_the_peaks_that_are_the_gpu_s_and_prices_an_unmeasured_math_as_its_base(tmp_path):
    from inception_cost.estimates import calibrate as cal
    from inception_cost.estimates.measurements import read_all

    def t4(doc: dict) -> None:
        doc["environment"]["gpu_name"] = "Tesla T4"

    info, _ = read_all((_measurements(tmp_path, t4),))
    base = load_device("t4")
    own = cal.measured_device(base, info, "x")
    # a T4 has no TF32: the file's "tf32" matmul ran in fp32, so it is left out; its bf16
    # matmul is what the GPU does in bf16 (emulated), so it is kept
    assert set(base.peak_tflops) == {"fp32", "fp16", "int8"}
    assert set(own.peak_tflops) == {"fp32", "fp16", "int8", "bf16"}
    assert own.peak_tflops["fp16"] == 754.4 and own.peak_tflops["int8"] == base.peak_tflops["int8"]
    # a stand-in base keeps only the peaks the cases use, and fp32
    stand_in = cal.measured_device(load_device("h100-sxm"), replace(info, peaks={}), "x", own=False,
                                   used={"fp16"})
    assert set(stand_in.peak_tflops) == {"fp32", "fp16"}
    # a math whose peak the measurements change keeps the base's rate (peak x efficiency)
    h100 = load_device("h100-sxm")
    measured = cal.measured_device(h100, info, "x")
    for m in ("tf32", "fp16"):
        assert measured.peak_tflops[m] != h100.peak_tflops[m]
        assert measured.peak_tflops[m] * measured.latency.efficiency[m] == pytest.approx(
            h100.peak_tflops[m] * h100.latency.efficiency[m])


def test_calibrate_names_parameters_left_at_the_end_of_their_range():
    from inception_cost.estimates import calibrate as cal
    from inception_cost.estimates.measurements import read_all

    _, cases = read_all((str(DATA),))
    fitted = load_device("h100-measured")
    # the H100 fit's fp32 convs run faster than its fp32 matmul: the efficiency's cap, 1.2
    assert cal.at_bounds(fitted, cases) == ["efficiency.fp32 1.2 (its range: 0.02 to 1.2)"]
    lat = fitted.latency
    slack = replace(fitted, latency=replace(lat, kernel_us=50.0, gemm_us=0.01, pool_gops=100000.0))
    # a fixed cost at its ceiling is named; no extra GEMM time or bandwidth-bound pools are no effect, not loose
    assert cal.at_bounds(slack, cases)[0] == "kernel_us 50 (its range: 0.1 to 50)"
    assert len(cal.at_bounds(slack, cases)) == 2


def test_control_characters_in_names_are_escaped_everywhere(tmp_path):
    """A case or group name with control characters (here ESC, BEL) is shown as escapes:
    the SVG stays well-formed XML and stderr gets no raw control bytes."""
    import xml.etree.ElementTree as ElementTree

    def edit(doc: dict) -> None:
        for case in doc["cases"]:
            if case["name"] == "3a_naive_module":
                case["group"] = "grp\x1b[2J\x07"
        doc["cases"] = [c for c in doc["cases"] if c["group"] in ("googlenet_3a", "grp\x1b[2J\x07")]

    path = _measurements(tmp_path, edit)
    result = CliRunner().invoke(cli, ["accuracy", path, "-f", "svg"])
    assert result.exit_code == 0, result.output
    root = ElementTree.fromstring(result.output)  # well-formed
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert any(e.text == "grp\\x1b[2J\\x07" for e in root.iter("{http://www.w3.org/2000/svg}text"))
    fitted = CliRunner().invoke(cli, ["calibrate", path, "--evaluations", "50", "--cross-validate"])
    assert fitted.exit_code == 0 and "without group grp\\x1b[2J\\x07..." in fitted.output
    assert "\x1b" not in fitted.output and "\x07" not in fitted.output
