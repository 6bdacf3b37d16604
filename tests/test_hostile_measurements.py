"""Hostile measurement files, device profiles and sweep options: `calibrate`, `accuracy`,
user device profiles. Each either works or ends in one line with a documented exit code,
within a few seconds, and what `calibrate` writes reads back."""

import json
import time
from pathlib import Path

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

