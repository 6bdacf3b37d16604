"""The latency model (kernels, tiles and waves, profiles) and its calibration on the H100
measurements in benchmarks/gpu (h100_latency.json: torch 2.11, cuDNN 9.19, CUDA graphs)."""

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import builtin, net

from inception_cost.cli import cli
from inception_cost.errors import ArchitectureError
from inception_cost.estimates import calibrate as cal
from inception_cost.estimates.accuracy import Accuracy, geomean_error, pair_ratios, pairs_by_mode
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.kernels import Op, backward_kernels, kernels
from inception_cost.estimates.latency import (
    HELD_OUT_ERROR,
    HELD_OUT_WITHIN_1_5,
    RATIO_ERROR,
    Latency,
    Math,
    Precision,
)
from inception_cost.estimates.measurements import read_measurements
from inception_cost.estimates.roofline import LayerTime, estimate, total_seconds
from inception_cost.estimates.training import Optimizer

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "h100_latency.json"
PROFILE = """name: toy
peak_tflops: {fp32: 10, fp16: 100}
bandwidth_gbs: 1000
latency:
  sms: 4
  tiles: [[128, 128]]
  kernel_us: 1
  gemm_us: 2
  efficiency: {fp16: 0.5}
"""


def _toy(tmp_path, text=PROFILE):
    path = tmp_path / "toy.yaml"
    path.write_text(text)
    return load_device(str(path))


def test_conv_as_implicit_gemm_by_hand(tmp_path):
    a = net("input: 16x16x64\nlayers:\n  - conv: {filters: 128, kernel: 3, padding: 1}\n")
    conv, bias = estimate(a, _toy(tmp_path), Dtype.FP16, batch=2)[0].kernels
    # M = 2 x 16 x 16 = 512 -> 4 tiles of 128 x 128 (N = 128) on 4 SMs: one wave; K = 64 x 9
    per_sm = 100e12 * 0.5 / 4
    assert conv.compute_s == pytest.approx(2 * 128 * 128 * 576 / per_sm)
    moved = (16 * 16 * 64 + 16 * 16 * 128) * 2 * 2 + (576 * 128 + 128) * 2
    assert conv.memory_s == pytest.approx(moved / 1e12)
    assert conv.fixed_s == pytest.approx(3e-6)
    # the bias is its own pass over the output: read and write 2 x 32768 fp16 elements
    assert bias.memory_s == pytest.approx(2 * 32768 * 2 * 2 / 1e12) and bias.fixed_s == pytest.approx(1e-6)


def test_waves_quantise(tmp_path):
    a = net("input: 16x20x64\nlayers:\n  - conv: {filters: 128, kernel: 3, padding: 1, bias: false}\n")
    (t,) = estimate(a, _toy(tmp_path), Dtype.FP16, batch=2)
    # M = 640: 5 tiles on 4 SMs take two waves, as long as 8 tiles would
    assert t.compute_s == pytest.approx(2 * 2 * 128 * 128 * 576 / (100e12 * 0.5 / 4))


def test_kernels_of_torchvision_googlenet():
    ops = [k.op for k in kernels(builtin("googlenet-torchvision"))]
    # 57 convs and the classifier; batch norm (with its running statistics) and ReLU after
    # every conv; 9 concats; 4 max pools between stages and one per module; the adaptive average pool
    assert ops.count(Op.GEMM) == 58 and ops.count(Op.NORM) == ops.count(Op.ELEMENTWISE) == 57
    assert ops.count(Op.COPY) == 9 and ops.count(Op.POOL) == 13 and ops.count(Op.REDUCE) == 1


def test_pytorch_precision_defaults():
    assert Precision.of(Dtype.FP32) == Precision(Dtype.FP32, Math.TF32, Math.FP32)
    assert Precision.of(Dtype.FP32, tf32=False).conv is Math.FP32
    assert Precision.of(Dtype.BF16).conv is Math.BF16


def test_layout_copies_only_on_tensor_cores_and_windows(tmp_path):
    device = _toy(tmp_path, PROFILE + "  layout_copies: true\n")
    a = net("input: 8x8x16\nlayers:\n  - conv: {filters: 16, kernel: 3}\n  - conv: {filters: 16, kernel: 1}\n")
    times = estimate(a, device, Dtype.FP16, 1)
    assert [t.launches for t in times] == [3 + 1, 1 + 1]  # 3x3: transposes in and out; biases
    assert [t.launches for t in estimate(a, device, Dtype.FP32, 1, tf32=False)] == [2, 2]


def test_layout_copies_are_memory_time_and_bytes_not_fixed_cost(tmp_path):
    """The NCHW <-> NHWC copies around a tensor-core conv read and write its input and
    output once each way: their time is in the row's memory time and their bytes in its
    bytes moved; the fixed cost is the three launches' alone (it used to hold the copies'
    traffic, so it changed with the bandwidth)."""
    device = _toy(tmp_path, PROFILE + "  layout_copies: true\n")
    a = net("input: 8x8x16\nlayers:\n  - conv: {filters: 32, kernel: 3, padding: 0, bias: false}\n")
    (row,) = estimate(a, device, Dtype.FP16, 2)
    (conv,) = row.kernels
    activations = (8 * 8 * 16 + 6 * 6 * 32) * 2 * 2  # input and output, fp16, batch 2
    weights = 16 * 9 * 32 * 2
    assert conv.launches == 3 and conv.fixed_s == pytest.approx(3 * 1e-6 + 2e-6)
    assert conv.copy_s == pytest.approx(2 * activations / 1e12)
    assert row.bytes_moved == 3 * activations + weights
    assert row.memory_s == pytest.approx((activations + weights) / 1e12 + 2 * activations / 1e12)
    assert row.seconds == pytest.approx(max(conv.compute_s, conv.memory_s) + conv.copy_s + conv.fixed_s)


def test_a_linear_layer_runs_skinny_tiles_and_splits_its_reduction(tmp_path):
    """cuBLAS on a batch of 2 does not compute 126 empty rows of a 128-row tile: a linear
    layer's tiles are at most the batch rounded up to 8 rows, and its reduction is split
    across the SMs its tiles leave idle (Keras's 262,144 -> 10 dense layer took 5,840 µs
    on one tile before)."""
    a = net("input: 1x1x4096\nlayers:\n  - linear: {out: 256, bias: false}\n")
    (row,) = estimate(a, _toy(tmp_path), Dtype.FP16, batch=2)
    # 8 x 128 tiles: 1 x 2 of them on 4 SMs, so K = 4096 splits in 2; one wave of 2 x 8 x 128 x 2048
    per_sm = 100e12 * 0.5 / 4
    assert row.compute_s == pytest.approx(2 * 8 * 128 * 2048 / per_sm)
    # a 1x1 conv on a 1x1 map (a squeeze-and-excitation gate's) is the same matrix product
    (gate,) = estimate(net("input: 1x1x4096\nlayers:\n  - conv: {filters: 256, kernel: 1, bias: false}\n"),
                       _toy(tmp_path), Dtype.FP16, batch=2)
    assert gate.compute_s == row.compute_s


@pytest.mark.parametrize("line, message", [
    ("  tiles: [[128]]", "pairs"),
    ("  efficiency: {fp64: 1}", "maps maths"),
    ("  kernal_us: 1", "did you mean 'kernel_us'"),
    ("  sms: -1", "whole number"),
])
def test_bad_latency_section(tmp_path, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text("peak_tflops: {fp32: 10}\nbandwidth_gbs: 1000\nlatency:\n  kernel_us: 1\n" + line + "\n")
    with pytest.raises(ArchitectureError, match=message) as info:
        load_device(str(path))
    assert info.value.line == 5  # the faulty key's own line, not `latency:`


# datasheet figures (dense TFLOP/s of fp32, tf32, fp16; GB/s; SMs), from each GPU's NVIDIA datasheet
DATASHEETS = {"h100-sxm": (66.9, 494.7, 989.4, 3350, 132), "h200": (66.9, 494.7, 989.4, 4800, 132),
              "h100-pcie": (51.2, 378, 756, 2000, 114), "a100-80gb": (19.5, 156, 312, 2039, 108),
              "a100-40gb": (19.5, 156, 312, 1555, 108), "a100-80gb-pcie": (19.5, 156, 312, 1935, 108),
              "l40s": (91.6, 183, 362, 864, 142),
              "a10": (31.2, 62.5, 125, 600, 72), "l4": (30.3, 60, 121, 300, 58),
              "t4": (8.1, None, 65, 320, 40), "v100": (15.7, None, 125, 900, 80)}


def test_builtin_profiles_load_and_say_where_they_come_from():
    assert load_device("h100-measured").latency.sms == 132
    for name, (fp32, tf32, fp16, bandwidth, sms) in DATASHEETS.items():
        device = load_device(name)
        assert "derived" in device.title and device.source, name
        assert device.latency.sms == sms and device.bandwidth_gbs == bandwidth, name
        assert (device.peak_tflops["fp32"], device.peak_tflops.get("tf32"), device.peak_tflops["fp16"]) == \
            (fp32, tf32, fp16), name


def test_a_gpu_without_tf32_runs_fp32_convs_as_fp32():
    """Before Ampere (T4, V100) there is no TF32: PyTorch's TF32 flag changes nothing there,
    and the conv takes the fp32 efficiency, not TF32's at the fp32 rate."""
    analysis = builtin("googlenet")
    for name, changes in (("t4", False), ("v100", False), ("a10", True)):
        device = load_device(name)
        on, off = (total_seconds(estimate(analysis, device, Dtype.FP32, 32, tf32=flag)) for flag in (True, False))
        assert (on != off) is changes, name
    t4 = load_device("t4")
    assert t4.precision(Dtype.FP32) == Precision(Dtype.FP32, Math.FP32, Math.FP32)
    assert str(t4.precision(Dtype.FP32)) == "fp32 (convs fp32, linear fp32)"
    assert load_device("a10").precision(Dtype.FP32).conv is Math.TF32
    result = CliRunner().invoke(cli, ["roofline", "googlenet", "--device", "v100", "--dtype", "bf16"])
    assert result.exit_code != 0 and "no peak for bf16" in result.output


def test_calibrate_writes_a_profile_that_loads(tmp_path):
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    source = tmp_path / "m.json"
    source.write_text(json.dumps(data))
    out = tmp_path / "my-gpu.yaml"
    result = CliRunner().invoke(cli, ["calibrate", str(source), "-o", str(out), "--evaluations", "60"])
    assert result.exit_code == 0, result.output
    assert "within 1.5x" in result.output
    device = load_device(str(out))
    assert device.name == "my-gpu" and device.latency.sms == 132 and device.peak_tflops["tf32"] == 386.8
    again = CliRunner().invoke(cli, ["calibrate", str(source), "-o", str(out), "--evaluations", "60"])
    assert again.exit_code == 5 and "already exists" in again.output


def test_calibrate_on_the_h100_file_writes_the_built_in_profile(tmp_path):
    """The README's command reproduces `h100-measured` (benchmarks/gpu/fit_profiles.py):
    the same cases, base, evaluations and fit, so every latency parameter and peak as the
    profile file writes them (4 significant digits)."""
    out = tmp_path / "mine.yaml"
    result = CliRunner().invoke(cli, ["calibrate", str(DATA), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1,500 evaluations per layout (about 16 s on a 2-core machine)" in result.output
    mine, builtin_profile = load_device(str(out)), load_device("h100-measured")
    assert mine.peak_tflops == builtin_profile.peak_tflops
    assert mine.bandwidth_gbs == builtin_profile.bandwidth_gbs
    assert mine.latency == builtin_profile.latency


def test_bf16_cases_fit_an_efficiency_of_their_own(tmp_path):
    """Another GPU's file may measure bf16 (measure_latency.py --modes ...,bf16): its convs
    then get their own efficiency; without bf16 cases bf16 takes fp16's."""
    data = json.loads(DATA.read_text())
    fp16 = [c for c in data["cases"] if c["group"] == "googlenet_3a" and c["mode"] == "fp16"]
    slower = [dict(c, mode="bf16", graph=dict(c["graph"], median_us=c["graph"]["median_us"] * 1.6)) for c in fp16]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(dict(data, cases=fp16 + slower)))
    info, cases = read_measurements(str(path))
    start = cal.measured_device(load_device("h100-sxm"), info, "x")
    both = cal.fit(start, cases, 400).latency.efficiency
    assert both["bf16"] < 0.8 * both["fp16"] * 754.4 / 796.5, both  # 1.6x slower at a 6% higher peak
    alone = cal.fit(start, cases[:len(fp16)], 200).latency.efficiency
    assert alone["bf16"] == alone["fp16"]


def test_calibrate_refuses_what_is_not_a_measurement(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"cases": 3}')
    result = CliRunner().invoke(cli, ["calibrate", str(bad)])
    assert result.exit_code == 3 and "not a measure_latency.py result" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_measured_cases_are_counted_by_the_core():
    _, cases = read_measurements(str(DATA))
    assert len(cases) == 234  # every case: its MACs equal the measurement's own count
    v3 = next(c for c in cases if c.name == "torchvision_inception_v3")
    assert v3.macs == 5_713_216_096  # the hooks of measure_latency.py, torchvision 0.26


@pytest.fixture(scope="module")
def held_out():
    info, cases = read_measurements(str(DATA))
    start = cal.measured_device(load_device("h100-sxm"), info, "held-out")
    return cal.cross_validate(start, cases)


def test_held_out_accuracy_on_the_h100(held_out):
    """Issue 14's thresholds, on cases predicted by a fit that did not see their group."""
    overall = Accuracy.of([(p, c.measured_us) for c, p in held_out])
    assert overall.cases == 234
    # issue 14 asks for 80% and 1.30x; the model reaches 92% and 1.188x (README)
    assert overall.within_1_5 >= 0.91 and overall.geomean <= 1.195, overall
    # what roofline's note quotes
    assert (round(overall.within_1_5, 2), round(overall.geomean, 3)) == (HELD_OUT_WITHIN_1_5, HELD_OUT_ERROR)
    networks = [p / c.measured_us for c, p in held_out if c.group == "networks"]
    assert len(networks) == 12 and all(1 / 1.5 <= r <= 1.5 for r in networks), networks


def test_held_out_pair_ratios(held_out):
    """The Inception pairs' time ratios. Issue 14 asks for a 1.15x geometric-mean error;
    the model reaches about 1.35x (README): this pins the real figure, not the target."""
    rows = pair_ratios(held_out)
    assert len(rows) == 48
    error = geomean_error([r.error for r in rows])
    assert 1.30 <= error <= 1.40, error


def test_the_ratio_note_quotes_the_held_out_pairs(held_out):
    """What compare and sweep say a time ratio is worth is the held-out pairs' error per
    math, recomputed: plain fp32 1.39x, TF32 1.42x, fp16 1.19x."""
    by_mode = pairs_by_mode(pair_ratios(held_out))
    assert {m: round(e, 2) for m, e in by_mode.items()} == {m.value: e for m, e in RATIO_ERROR.items()}


@pytest.mark.parametrize(("options", "said"), [
    ([], "off by 1.19x in fp16 (geometric mean"),
    (["--dtype", "fp32"], "off by 1.42x in tf32 (geometric mean"),
    (["--dtype", "fp32", "--no-tf32"], "off by 1.39x in fp32 (geometric mean"),
    (["--dtype", "bf16"], "off by 1.19x in fp16, standing in for bf16"),
    (["--dtype", "int8"], None),  # never measured
    (["--device", "cpu-generic"], None),  # the plain roofline: the figures are not its own
])
def test_compare_and_sweep_say_how_far_a_time_ratio_can_be_trusted(options, said):
    runner = CliRunner()
    compare = runner.invoke(cli, ["compare", "naive", "reduced", "--batch", "32", *options])
    sweep = runner.invoke(cli, ["sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=8..16:8",
                                "--objective", "time", *options])
    for result in (compare, sweep):
        assert result.exit_code == 0, result.output
        trusted = [line for line in result.output.splitlines() if line.startswith("How far a time ratio")]
        if said is None:
            assert not trusted
        else:
            assert len(trusted) == 1 and said in trusted[0], trusted


def test_the_shape_prior_by_hand():
    """Each shape factor's squared log speed-up; a window exponent counts at 7x7; bf16
    copies fp16 and is not counted twice."""
    lat = Latency(wide_efficiency=0.5, winograd={"fp32": 2.0, "bf16": 3.0},
                  window_exponent={"tf32": 1.0, "bf16": 5.0})
    assert cal.shape_prior(lat) == pytest.approx(math.log(2) ** 2 * 2 + math.log(49 / 9) ** 2)
    assert cal.shape_prior(Latency()) == 0.0


def test_a_shape_no_case_measures_runs_as_any_gemm():
    """GoogLeNet's 3a has no 1 x n window: a fit of its cases alone gets no word on the 1 x n
    efficiency from the data, and the prior keeps it at 1 (without the prior the search
    left it at its lower bound, 0.05)."""
    info, cases = read_measurements(str(DATA))
    three_a = [c for c in cases if c.group == "googlenet_3a"]
    fitted = cal.fit(cal.measured_device(load_device("h100-sxm"), info, "3a"), three_a)
    assert fitted.latency.wide_efficiency == pytest.approx(1.0, abs=0.02)


def test_batch_norm_in_16_bits_is_three_launches():
    """A model cast to fp16/bf16 has 16-bit batch-norm weights: cuDNN's batch norm refuses
    them and PyTorch's own copies the running mean and computes 1/std first (two more
    kernels); fp32 runs cuDNN's, one kernel. torchvision GoogLeNet has 57 batch norms."""
    analysis = builtin("googlenet-torchvision")
    device = load_device("h100-measured")

    def launches(dtype: Dtype) -> int:
        return sum(t.launches for t in estimate(analysis, device, dtype, 1))

    assert launches(Dtype.FP16) == launches(Dtype.BF16) == launches(Dtype.FP32) + 2 * 57
    norms = [k for k in kernels(analysis) if k.op is Op.NORM]
    assert len(norms) == 57 and not any(k.statistics for k in norms)
    # in a training step PyTorch's own batch norm first reads its input for the batch's mean
    # and variance (batch_norm_mean_var): one more read of it in 16 bits, none in fp32 (cuDNN)
    training = [k for k in kernels(analysis, training=True) if k.op is Op.NORM]
    assert len(training) == 57 and all(k.statistics for k in training)
    k = training[0]
    for dtype, extra in ((Dtype.FP16, k.inputs * 32 * 2), (Dtype.FP32, 0)):
        model = device.model(device.precision(dtype))
        with_stats, without = model.parts(k, 32), model.parts(replace(k, statistics=False), 32)
        assert (with_stats[1] - without[1]) * model.stream == pytest.approx(extra)
    backward = backward_kernels(training)
    assert all(b.op is Op.ELEMENTWISE and not b.statistics for b in backward)  # one fused pass each


def test_total_time_is_the_sum_of_kernels():
    a = builtin("googlenet-torchvision")
    times = estimate(a, load_device("h100-measured"), Dtype.FP16, 32)
    assert total_seconds(times) == pytest.approx(sum(k.seconds for t in times for k in t.kernels))


@pytest.mark.parametrize("doc, message", [
    ([], "not a measure_latency.py result"),
    ({"cases": [], "configs": {}}, "no case the model can be checked on: the file has no records"),
    # measure_latency.py --no-graph: eager times only, which the model does not describe
    ({"cases": [{"name": "a", "mode": "fp16", "batch": 1, "eager": {"median_us": 5}}],
      "configs": {"a": {"input_chw": [3, 8, 8], "layers": []}}}, "1 timed eagerly only (measured with --no-graph)"),
    # its soft budget ran out: the rest is timed eagerly, with fewer iterations
    ({"cases": [{"name": "a", "mode": "fp16", "batch": 1, "eager": {"median_us": 5}, "reduced_counts": True}] * 2,
      "configs": {"a": {"input_chw": [3, 8, 8], "layers": []}}},
     "2 timed eagerly only, after measure_latency.py's --soft-budget ran out"),
    ({"cases": [{"name": "a", "mode": "fp16", "batch": 1, "graph": {"error": "capture"}},
                {"name": "a", "mode": "fp8", "batch": 1, "graph": {"median_us": 5}},
                {"name": "b", "mode": "fp16", "batch": 1, "graph": {"median_us": 5}}],
      "configs": {"a": {"input_chw": [3, 8, 8], "layers": []}}},
     "1 whose CUDA-graph capture failed; 1 in a mode the model does not price (fp8); 1 without a configuration"),
    ({"cases": [{"name": "a", "mode": "fp16", "batch": 1, "graph": {"median_us": -5}}],
      "configs": {"a": {"input_chw": [3, 8, 8], "layers": []}}}, "out of range"),
    ({"cases": [{"name": "a", "mode": "fp16", "batch": 1, "graph": {"median_us": 5}}],
      "configs": {"a": {"input_chw": [3, 8, 8], "macs_per_image": 1, "layers": [
          {"type": "conv", "kernel": [3, 3], "padding": [1, 1], "stride": 1, "cout": 4, "bias": True}]}}},
     "the calculator counts 6,912 MACs, the measurement 1"),
])
def test_malformed_measurements_are_one_line_errors(tmp_path, doc, message):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["calibrate", str(path)])
    assert result.exit_code == 3 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_fit_s_work_is_bounded_whatever_the_file():
    from types import SimpleNamespace

    from inception_cost.errors import UsageError
    from inception_cost.estimates.calibrate import bounded_work

    def cases(kernels: int, groups: int) -> list:
        return [SimpleNamespace(distinct=[None] * (kernels // groups), group=str(g)) for g in range(groups)]

    assert bounded_work(cases(2_364, 4), 1500, cross=True) == (1500, 4)  # the H100 file: as asked
    assert bounded_work(cases(10_000, 4), 1500, cross=False) == (360, 4)  # 3,600,000 // 10,000
    assert bounded_work(cases(20_000, 4), 1500, cross=False)[0] == 180  # at the file limit
    assert cal.evaluations_for(cases(20_000, 4), 1500) == 180  # what `fit` itself makes
    with pytest.raises(UsageError, match="13 groups, more than the 12"):
        bounded_work(cases(1_300, 13), 1500, cross=True)


def test_a_training_batch_norm_s_statistics_read_is_in_its_bytes_moved():
    """The roofline's `bytes moved` (and FLOPs/byte) is what the latency model prices: in
    bf16/fp16 a training step's batch norm reads its input once more for the batch
    statistics, and that read is in the layer's bytes as it is in its memory time."""
    analysis = builtin("resnet50")
    device = load_device("h100-sxm")
    stem = analysis.root.find("stem")

    def conv1(dtype: Dtype) -> LayerTime:
        times = estimate(analysis, device, dtype, 32, stem, optimizer=Optimizer.SGD)
        return next(t for t in times if t.node.path == "stem/conv1")

    half, full = conv1(Dtype.BF16), conv1(Dtype.FP32)
    statistics = 112 * 112 * 64 * 32 * 2  # conv1's output, read once more in bf16
    assert half.bytes_moved == full.bytes_moved // 2 + statistics
    for t in (half, full):  # every byte it moves, at the bandwidth its kernels stream at
        model = device.model(device.precision(Dtype.BF16 if t is half else Dtype.FP32))
        streamed = sum(k.memory_s * (model.bandwidth if k.kernel.op is Op.GEMM else model.stream)
                       + k.copy_s * model.stream for k in t.kernels)  # a GEMM's layout copies stream
        assert streamed == pytest.approx(t.bytes_moved)
