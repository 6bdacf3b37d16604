"""Hostile measurement files, device profiles and sweep options: `calibrate`, `accuracy`,
user device profiles. Each either works or ends in one line with a documented exit code,
within a few seconds, and what `calibrate` writes reads back."""

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from inception_cost.cli import cli
from inception_cost.errors import ExitCode
from inception_cost.estimates.devices import load_device

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "h100_latency.json"
PROFILE = Path(__file__).resolve().parents[1] / "inception_cost" / "estimates" / "devices" / "h100-measured.yaml"


def small_file(tmp_path, name="m.json", cases=3, **changes):
    """The H100 file's first `cases` cases, with top-level keys changed."""
    data = json.loads(DATA.read_text())
    data["cases"] = data["cases"][:cases]
    data.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_a_profile_fitted_at_the_device_limits_reads_back(tmp_path):
    """Peaks and bandwidth at 1e-6 or 1e9 (in range) were written as `1e-06` and `1e+09`,
    which YAML 1.1 reads as text: the profile calibrate wrote was refused by roofline."""
    for value, sms in ((1e-6, 1), (1e9, 100_000)):
        peaks = {"matmul_fp32": {"tflops_at_median": value}, "d2d_copy": {"gbps_at_median": value}}
        data = json.loads(DATA.read_text())
        source = small_file(tmp_path, peaks=peaks, environment=dict(data["environment"], sm_count=sms))
        out = tmp_path / f"fitted-{sms}.yaml"
        result = CliRunner().invoke(cli, ["calibrate", str(source), "-o", str(out), "--evaluations", "50"])
        assert result.exit_code == 0, result.output
        device = load_device(str(out))
        assert device.peak_tflops["fp32"] == value and device.bandwidth_gbs == value
        again = CliRunner().invoke(cli, ["accuracy", str(source), "--device", str(out), "-f", "json"])
        assert again.exit_code == 0, again.output


def test_a_profile_with_thousands_of_tiles_is_refused(tmp_path):
    """Every conv is priced once per tile: 11,781 tiles (300 KB of YAML) made `roofline`
    take 4 s and a 1,024-variant timed sweep over two minutes."""
    from inception_cost.estimates.devices import MAX_TILES

    text = PROFILE.read_text()
    line = next(line for line in text.splitlines() if line.startswith("  tiles:"))
    many = [[a, b] for a in range(1, 200) for b in range(1, 60)]
    for count, code in ((MAX_TILES, 0), (MAX_TILES + 1, ExitCode.INVALID_ARCHITECTURE), (len(many), 3)):
        path = tmp_path / f"t{count}.yaml"
        path.write_text(text.replace(line, f"  tiles: {many[:count]}"))
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#1x1=1..4",
                                          "--objective", "time", "--device", str(path)])
        assert result.exit_code == code, result.output
        if code:
            assert f"at most {MAX_TILES}" in result.stderr and len(result.stderr.splitlines()) == 1
            assert time.perf_counter() - started < 2


def layers_file(tmp_path, layers, configs, prefix="c"):
    """`configs` configurations of `layers` identical 3x3 convs each (few distinct kernels)."""
    data = json.loads(DATA.read_text())
    layer = {"type": "conv", "kernel": [3, 3], "stride": 1, "padding": [1, 1], "groups": 1, "cin": 16, "cout": 16,
             "bias": True, "relu": True}
    data["configs"] = {f"{prefix}{i}": {"input_chw": [16, 8, 8], "layers": [layer] * layers,
                                 "macs_per_image": 16 * 16 * 9 * 64 * layers} for i in range(configs)}
    data["cases"] = [{"name": f"{prefix}{i}", "group": "g", "mode": "fp16", "batch": 1, "graph": {"median_us": 10.0}}
                     for i in range(configs)]
    path = tmp_path / f"layers-{prefix}{layers}x{configs}.json"
    path.write_text(json.dumps(data))
    return path


def test_the_layers_a_measurements_file_rebuilds_are_bounded(tmp_path, monkeypatch):
    """Three configurations of 9,999 identical convs (4 MB, a handful of distinct kernels)
    took 22 s to read; one of 14,000 took 10 s to be refused at the 10,000-layer limit."""
    from inception_cost.estimates import measurements

    assert (measurements.MAX_CONFIG_LAYERS, measurements.MAX_REBUILT_LAYERS) == (1_000, 20_000)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["accuracy", str(layers_file(tmp_path, 14_000, 1))])
    assert time.perf_counter() - started < 2
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE, result.output
    assert "case 1: 14,000 layers: more than the 1,000 a measured configuration may have" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    monkeypatch.setattr(measurements, "MAX_REBUILT_LAYERS", 2_500)
    result = CliRunner().invoke(cli, ["accuracy", str(layers_file(tmp_path, 1_000, 3))])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE, result.output
    assert "case 3: more than 2,500 layers to rebuild" in result.stderr and len(result.stderr.splitlines()) == 1
    # over the files read together too
    one, two = layers_file(tmp_path, 1_000, 2), layers_file(tmp_path, 1_000, 1, prefix="d")
    result = CliRunner().invoke(cli, ["accuracy", str(one), str(two)])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE and "to rebuild" in result.stderr, result.output
    assert CliRunner().invoke(cli, ["accuracy", str(one)]).exit_code == 0


def test_calibrate_refuses_a_folder_it_cannot_write_in_before_fitting(tmp_path, monkeypatch):
    """A folder that takes no new file (read-only, /proc) was found out only when the
    profile was written, after the fit (16 s for the H100 file, five times that with
    --cross-validate)."""
    import os
    import tempfile

    source = small_file(tmp_path)
    if os.path.isdir("/proc"):
        result = CliRunner().invoke(cli, ["calibrate", str(source), "-o", "/proc/fitted.yaml"])
        assert result.exit_code == ExitCode.OUTPUT_NOT_WRITTEN and "fit(s)" not in result.output, result.output

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = CliRunner().invoke(cli, ["calibrate", str(source), "-o", str(tmp_path / "fitted.yaml")])
    assert result.exit_code == ExitCode.OUTPUT_NOT_WRITTEN, result.output
    assert "fitted.yaml: cannot write (Permission denied)" in result.stderr and "fit(s)" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]
    monkeypatch.undo()
    result = CliRunner().invoke(cli, ["calibrate", str(source), "-o", str(tmp_path / "fitted.yaml"),
                                      "--evaluations", "50"])
    assert result.exit_code == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["fitted.yaml", "m.json"]


def test_a_profile_fitted_on_a_base_without_16_bit_parameters_reads_back(tmp_path):
    """`--base cpu-generic` (no latency section) or a user profile with fp32 only: bf16 took
    fp16's window exponent where there was none, 0, and the profile written was refused
    ("'window_exponent' maps maths ... to positive numbers")."""
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: plain\npeak_tflops: {fp32: 10}\nbandwidth_gbs: 100\n")
    source = small_file(tmp_path)
    for base in ("cpu-generic", str(plain)):
        out = tmp_path / f"fitted-{len(base)}.yaml"
        result = CliRunner().invoke(cli, ["calibrate", str(source), "--base", base, "-o", str(out),
                                          "--evaluations", "50"])
        assert result.exit_code == 0, result.output
        assert load_device(str(out)).latency.window_exponent.get("bf16", 0.0) == 0.0


def test_names_and_groups_of_measured_cases_are_bounded(tmp_path):
    """A case name or group of 1,000,000 characters was accepted: `accuracy` wrote 17 MB for
    four cases and `calibrate --cross-validate` a 1 MB progress line. Names have at most
    1,000 characters, as in an architecture."""
    data = json.loads(DATA.read_text())
    first = data["cases"][0]
    long = "N" * 1_001
    named = dict(first, name=long)
    for case, configs in ((named, dict(data["configs"], **{long: data["configs"][first["name"]]})),
                          (dict(first, group="G" * 1_001), data["configs"])):
        path = tmp_path / "long.json"
        path.write_text(json.dumps(dict(data, cases=[case], configs=configs)))
        result = CliRunner().invoke(cli, ["accuracy", str(path)])
        assert result.exit_code == ExitCode.INVALID_ARCHITECTURE, result.output
        assert "case 1: malformed (a " in result.stderr and "characters" in result.stderr
        assert "names have at most 1,000)" in result.stderr and len(result.stderr) < 300
    path.write_text(json.dumps(dict(data, cases=[dict(first, group="G" * 1_000)])))
    assert CliRunner().invoke(cli, ["accuracy", str(path)]).exit_code == 0


def test_budget_times_in_micro_seconds_either_way():
    """'50 μs' with the Greek letter mu (U+03BC, what NFKC makes of the micro sign) was
    refused while '50 µs' (U+00B5) was read."""
    from inception_cost.transforms.sweep_time import parse_time

    assert parse_time("50 \u03bcs") == parse_time("50 \u00b5s") == parse_time("50us") == 50 * 1e-6
    for text in ("50", "-5us", "nan ms", "1e99s", "50 \u039cs"):
        result = CliRunner().invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#1x1=1..2",
                                          "--budget-time", text])
        assert result.exit_code == ExitCode.USAGE and len(result.stderr.splitlines()) == 1, text


@pytest.mark.parametrize(("change", "said"), [
    (lambda config: config.update(input_chw=[1]), "case 1: malformed (input_chw must be three whole numbers, got [1])"),
    (lambda config: config["layers"].__setitem__(0, 7), "case 1: malformed (a value of another type or shape than"
                                                        " the measurement scripts write: 'int' object is not"),
])
def test_a_malformed_configuration_is_said_in_the_file_s_terms(tmp_path, change, said):
    """Python's own words ('not enough values to unpack') come after what they mean here."""
    doc = json.loads(DATA.read_text())
    change(doc["configs"][doc["cases"][0]["name"]])
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["accuracy", str(path)])
    assert result.exit_code == 3 and said in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(("key", "value"), [("name", "n" * 1_001), ("title", "t" * 1_001), ("source", "s" * 10_001),
                                            ("notes", "{a: 1}"), ("title", "[1, 2]")])
def test_a_profile_s_text_is_bounded(tmp_path, key, value):
    """Every estimate's report shows a profile's name and title: a megabyte of either was
    carried into each report."""
    path = tmp_path / "gpu.yaml"
    path.write_text(f"peak_tflops: {{fp32: 10}}\nbandwidth_gbs: 100\n{key}: {value}\n")
    result = CliRunner().invoke(cli, ["roofline", "googlenet", "--device", str(path)])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE and f"'{key}' is text of at most" in result.stderr
    assert "gpu.yaml:3" in result.stderr


def test_a_profile_s_text_at_its_bounds_is_read(tmp_path):
    path = tmp_path / "gpu.yaml"
    path.write_text(f"name: {'n' * 1_000}\nsource: {'s' * 10_000}\npeak_tflops: {{fp32: 10}}\nbandwidth_gbs: 100\n")
    assert load_device(str(path)).name == "n" * 1_000


def test_a_case_s_group_is_text(tmp_path):
    """A group names the cases held out together: 5 or [1] is refused, null is no group."""
    doc = json.loads(DATA.read_text())
    doc["cases"][0]["group"] = 5
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["accuracy", str(path)])
    assert result.exit_code == 3 and "case 1: malformed (group must be text, got 5)" in result.stderr
    doc["cases"][0]["group"] = None
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["accuracy", str(path), "-f", "json"])
    assert result.exit_code == 0 and "None" not in result.stdout
