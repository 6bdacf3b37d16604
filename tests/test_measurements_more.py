"""measure_more.py's records (single convs, non-conv kernels, networks) read as calibration
cases beside measure_latency.py's, and `calibrate` over several files of one GPU."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from inception_cost.cli import cli
from inception_cost.errors import ArchitectureError
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.kernels import Op
from inception_cost.estimates.measurements import read_all, read_measurements

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "h100_latency.json"


def conv(cin, cout, kernel, stride, padding, hw, batch, mode, us, layout="contiguous", groups=1, graph=True):
    """A `convs` record as measure_more.py writes it (times made up; the geometry is exact)."""
    kh, kw = kernel
    hout = (hw + 2 * padding[0] - kh) // stride + 1
    wout = (hw + 2 * padding[1] - kw) // stride + 1
    macs = kh * kw * (cin // groups) * cout * hout * wout
    record = dict(op="conv2d", cin=cin, cout=cout, kernel=[kh, kw], stride=[stride, stride], padding=list(padding),
                  dilation=[1, 1], groups=groups, bias=False, hin=hw, win=hw, hout=hout, wout=wout, batch=batch,
                  macs_per_image=macs, mode=mode, memory_format=layout, eager={"median_us": us * 3})
    if graph:
        record["graph"] = {"median_us": us}
    return record


def kernel(op, c, hw, out_hw, batch, mode, us):
    return dict(op=op, c=c, h=hw, w=hw, hout=out_hw, wout=out_hw, batch=batch, mode=mode,
                memory_format="contiguous", graph={"median_us": us})


def network(net, hw, macs, batch, mode, us):
    return dict(net=net, hw=hw, batch=batch, mode=mode, memory_format="contiguous", macs_per_image=macs,
                graph={"median_us": us})


def more_file(tmp_path, **changes):
    doc = dict(script="benchmarks/gpu/measure_more.py", peaks={}, environment={"sm_count": 132},
               convs=[conv(192, 192, (1, 7), 1, (0, 3), 17, 32, "fp16", 27.8),
                      conv(192, 192, (7, 1), 1, (3, 0), 17, 32, "tf32", 27.0),
                      conv(288, 384, (3, 3), 2, (0, 0), 35, 1, "bf16", 20.0),
                      conv(64, 64, (3, 3), 1, (1, 1), 56, 32, "fp16", 30.0, groups=64),
                      conv(192, 192, (3, 3), 1, (1, 1), 28, 32, "fp16", 40.0, layout="channels_last"),
                      conv(192, 192, (3, 3), 1, (1, 1), 28, 32, "fp16", 40.0, graph=False)],
               kernels=[kernel("batchnorm", 192, 28, 28, 32, "fp16", 12.0),
                        kernel("maxpool3x3s2", 64, 112, 56, 32, "fp16", 30.0),  # torchvision's ceil mode
                        kernel("adaptive_avgpool1x1", 1024, 7, 1, 32, "fp32", 9.0),
                        kernel("cat4", 192, 28, 28, 32, "fp16", 20.0)],
               networks=[network("googlenet", 224, 1_498_376_192, 256, "bf16", 20_000.0),
                         network("googlenet", 64, 123_256_832, 1, "fp16", 900.0)],
               training=[], fusion=[])
    doc.update(changes)
    path = tmp_path / "more.json"
    path.write_text(json.dumps(doc))
    return path


def test_records_become_cases_the_core_counts(tmp_path):
    _, cases = read_measurements(str(more_file(tmp_path)))
    # channels_last, eager-only, cat4 and GoogLeNet at 64x64 are not what the model describes
    assert [(c.group, c.name, c.mode, c.batch) for c in cases] == [
        ("more convs", "conv1x7/1 g1 192>192 17x17", "fp16", 32),
        ("more convs", "conv7x1/1 g1 192>192 17x17", "tf32", 32),
        ("more convs", "conv3x3/2 g1 288>384 35x35", "bf16", 1),
        ("more convs", "conv3x3/1 g64 64>64 56x56", "fp16", 32),
        ("more kernels", "batchnorm 192x28x28", "fp16", 32),
        ("more kernels", "maxpool3x3s2 64x112x112", "fp16", 32),
        ("more kernels", "adaptive_avgpool1x1 1024x7x7", "fp32", 32),
        ("more networks", "googlenet 224x224", "bf16", 256)]
    by_name = {c.name: c for c in cases}
    assert by_name["conv1x7/1 g1 192>192 17x17"].macs == 7 * 192 * 192 * 17 * 17  # 74,575,872
    assert by_name["conv3x3/2 g1 288>384 35x35"].macs == 9 * 288 * 384 * 17 * 17  # Mixed_6a's 3x3/2
    assert [k.op for k in by_name["conv3x3/1 g64 64>64 56x56"].kernels] == [Op.DEPTHWISE]
    assert [k.op for k in by_name["batchnorm 192x28x28"].kernels] == [Op.NORM]
    assert by_name["googlenet 224x224"].macs == 1_498_376_192  # the built-in googlenet-torchvision


@pytest.mark.parametrize("changes, message", [
    ({"convs": [dict(conv(16, 32, (3, 3), 1, (1, 1), 8, 1, "fp16", 9.0), macs_per_image=5)]},
     "convs record 1: conv3x3/1 g1 16>32 8x8: the calculator counts 294,912 MACs, the measurement 5"),
    ({"kernels": [kernel("maxpool3x3s2", 64, 112, 55, 1, "fp16", 9.0)]},
     "kernels record 1: .*output is 56x56, the measurement's 55x55"),
    ({"networks": [network("googlenet", 224, 1, 1, "fp16", 900.0)]}, "the measurement 1"),
    ({"convs": [conv(16, 32, (3, 3), 1, (1, 1), 8, 0, "fp16", 9.0)]}, "batch must be a whole number from 1"),
    ({"convs": [conv(16, 32, (3, 3), 1, (1, 1), 8, 1, "fp16", True)]}, "time True out of range"),
    ({"convs": [conv(16, 32, (3, 3), 1, (1, 1), 8, 1, "fp16", 1e300)]}, "time 1e[+]300 out of range"),
    ({"convs": [dict(conv(16, 32, (3, 3), 1, (1, 1), 8, 1, "fp16", 9.0), batch="32")]}, "batch must be a whole"),
    ({"convs": [dict(conv(16, 32, (3, 3), 1, (1, 1), 8, 1, "fp16", 9.0), cin=8.5)]}, "cin must be a whole"),
    ({"convs": [dict(conv(16, 32, (3, 3), 1, (1, 1), 8, 1, "fp16", 9.0), stride=[])]},
     "stride must be one whole number or two"),
    ({"peaks": []}, "'peaks' and 'environment' must be mappings"),
    ({"environment": "x"}, "'peaks' and 'environment' must be mappings"),
    ({"peaks": {"d2d_copy": {"gbps_at_median": 0}}}, "peaks.d2d_copy.gbps_at_median must be a number from 1e-06"),
    ({"peaks": {"matmul_fp16": {"tflops_at_median": "fast"}}}, "peaks.matmul_fp16.tflops_at_median must be"),
    ({"peaks": {"matmul_fp16": {"tflops_at_median": 1e308}}}, "must be a number from 1e-06 to 1e[+]09"),
    ({"environment": {"sm_count": -3}}, "sm_count must be a whole number from 1 to 100000"),
])
def test_records_that_disagree_are_one_line_errors(tmp_path, changes, message):
    with pytest.raises(ArchitectureError, match=message):
        read_measurements(str(more_file(tmp_path, **changes)))


@pytest.mark.parametrize("text, message", [
    ('{"convs": [], "kernels": [], "networks": [], "x": NaN}', "NaN is not a measurement"),
    ('{"convs": [], "kernels": [], "networks": [], "x": -Infinity}', "-Infinity is not a measurement"),
    ('{"convs": [], "kernels": [], "networks": [], "x": 1' + "0" * 5000 + "}", "a number of 5,001 digits"),
])
def test_numbers_json_allows_but_no_measurement_has_are_refused(tmp_path, text, message):
    path = tmp_path / "x.json"
    path.write_text(text.replace("5,001", "5001"))
    with pytest.raises(ArchitectureError, match=message.replace("5,001", "5001")):
        read_measurements(str(path))


def test_neither_format_is_named_in_the_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"convs": []}))
    with pytest.raises(ArchitectureError, match="nor a measure_more.py one"):
        read_measurements(str(path))


def test_calibrate_fits_one_gpu_s_files_together(tmp_path):
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    latency = tmp_path / "latency.json"
    latency.write_text(json.dumps(data))
    more = more_file(tmp_path)
    info, cases = read_all((str(latency), str(more)))
    assert len(cases) == 60 + 8 and round(info.peaks["tf32"], 2) == 386.82
    out = tmp_path / "gpu.yaml"
    result = CliRunner().invoke(cli, ["calibrate", str(latency), str(more), "-o", str(out), "--evaluations", "50"])
    assert result.exit_code == 0, result.output
    assert "calibrate: 68 cases" in result.output
    assert "latency.json, more.json: CUDA-graph medians of 68 cases" in out.read_text()


@pytest.mark.parametrize("name", ["ü😀 x", 'a "quoted" \\ name', "bell\x07 tab\t nel\x85 bom\ufeff"])
def test_a_calibrated_profile_reads_back_whatever_its_name(tmp_path, name):
    """The profile's strings are YAML, not JSON: an emoji was written as JSON's surrogate
    pair (\\ud83d\\ude00), which YAML refuses, so the profile calibrate wrote could not be read."""
    out = tmp_path / "gpu.yaml"
    result = CliRunner().invoke(cli, ["calibrate", str(more_file(tmp_path)), "--name", name, "-o", str(out),
                                      "--evaluations", "50"])
    assert result.exit_code == 0, result.output
    assert load_device(str(out)).name == name


def test_a_configuration_measured_twice_is_one_case_with_the_geometric_mean(tmp_path):
    """Two runs given together, or a record repeated in one file: each configuration counts
    once (it used to weigh twice in a fit and in the accuracy figures)."""
    run2 = DATA.with_name("h100_latency_run2.json")
    info, cases = read_all((str(DATA), str(run2)))
    assert len(cases) == 234 and info.repeats == 234
    first = {(c["name"], c["mode"], c["batch"]): c["graph"]["median_us"] for c in json.loads(DATA.read_text())["cases"]}
    second = {(c["name"], c["mode"], c["batch"]): c["graph"]["median_us"]
              for c in json.loads(run2.read_text())["cases"]}
    naive = next(c for c in cases if (c.name, c.mode, c.batch) == ("3a_naive_module", "fp32", 1))
    # 120.16 µs and 120.30 µs measured: their geometric mean
    key = ("3a_naive_module", "fp32", 1)
    assert naive.measured_us == pytest.approx((first[key] * second[key]) ** 0.5, rel=1e-12)
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    twice = data["cases"][0]
    data["cases"].append({**twice, "graph": {**twice["graph"], "median_us": twice["graph"]["median_us"] * 4}})
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(data))
    info, cases = read_all((str(path),))
    assert len(cases) == 60 and info.repeats == 1
    assert cases[0].measured_us == pytest.approx(twice["graph"]["median_us"] * 2, rel=1e-12)
    result = CliRunner().invoke(cli, ["accuracy", str(path), "-f", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["totals"]["cases"] == 60
    assert json.loads(result.stdout)["repeats"] == 1
    said = CliRunner().invoke(cli, ["calibrate", str(path), "-o", str(tmp_path / "p.yaml"), "--evaluations", "50"])
    assert said.exit_code == 0 and "calibrate: 60 cases (1 repeated measurements averaged" in said.output


def test_a_cpu_s_tiny_peaks_fit_and_the_profile_loads(tmp_path):
    """measure_more.py on a CPU: 0.004 TFLOP/s must not round to 0 (a division by zero)."""
    import gzip

    from inception_cost.estimates.devices import load_device

    doc = json.loads(gzip.decompress((DATA.parents[2] / "tests" / "models" / "measure_more_quick_cpu.json.gz")
                                     .read_bytes()))
    for group in ("convs", "kernels", "networks"):
        for record in doc[group]:
            record["graph"] = record["eager"]
    path, out = tmp_path / "cpu.json", tmp_path / "cpu.yaml"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["calibrate", str(path), "-o", str(out), "--evaluations", "50"])
    assert result.exit_code == 0, result.output
    # a channels_last conv; cat4, add and the layout copy in fp32 and bf16; the 4 networks at 64 and 80 pixels
    assert "(11 records left out" in result.output
    device = load_device(str(out))
    fp32 = doc["peaks"]["matmul_fp32"]["tflops_at_median"]
    assert 0 < fp32 < 0.05 and device.peak_tflops["fp32"] == float(f"{fp32:.3g}")


def test_a_dtype_without_a_peak_is_left_out_of_a_fit(tmp_path):
    """bf16 cases, no bf16 matmul peak in the file, and a base profile without bf16 (V100):
    they used to be fitted as fp32 maths; now they are left out and counted."""
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    data["cases"] += [{**c, "mode": "bf16", "dtype": "bfloat16"} for c in data["cases"] if c["mode"] == "fp16"]
    del data["peaks"]["matmul_bf16"]
    path, out = tmp_path / "bf16.json", tmp_path / "gpu.yaml"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["calibrate", str(path), "--base", "v100", "-o", str(out), "--evaluations", "50"])
    assert result.exit_code == 0, result.output
    assert "calibrate: 20 bf16 cases left out: no bf16 peak in the files (matmul_bf16) nor in v100" in result.output
    assert "calibrate: 60 cases" in result.output and "CUDA-graph medians of 60 cases" in out.read_text()
    # with the file's bf16 peak they are fitted, in bf16
    data["peaks"]["matmul_bf16"] = json.loads(DATA.read_text())["peaks"]["matmul_bf16"]
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["calibrate", str(path), "--base", "v100", "-o", str(out), "--evaluations", "50",
                                      "--force"])
    assert result.exit_code == 0 and "calibrate: 80 cases" in result.output and "cases left out" not in result.output
    # nothing left to fit: a usage error before any work
    del data["peaks"]["matmul_bf16"]
    data["cases"] = [c for c in data["cases"] if c["mode"] == "bf16"]
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["calibrate", str(path), "--base", "v100", "-o", str(out), "--force"])
    assert result.exit_code == 4 and "has no peak for bf16" in result.output and "no measured case" in result.output


def test_one_group_cannot_be_cross_validated(tmp_path):
    result = CliRunner().invoke(cli, ["calibrate", str(more_file(tmp_path, kernels=[], networks=[])),
                                      "--cross-validate"])
    assert result.exit_code == 4 and "all one group (more convs)" in result.output


def test_maths_no_case_measures_keep_the_base_profile_s_values(tmp_path):
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a" and c["mode"] == "fp16"]
    path, out = tmp_path / "fp16.json", tmp_path / "fp16.yaml"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["calibrate", str(path), "-o", str(out), "--evaluations", "60"])
    assert result.exit_code == 0 and "not measured: fp32, tf32 (their parameters are h100-sxm's)" in result.output
    from inception_cost.estimates.devices import load_device

    mine, h100 = load_device(str(out)), load_device("h100-sxm")
    fitted, base = mine.latency, h100.latency
    assert fitted.winograd["tf32"] == base.winograd["tf32"]
    # fp32 keeps the base's rate on the measured peak (51.6 TFLOP/s, not the datasheet's 67)
    assert mine.peak_tflops["fp32"] == 51.6 != h100.peak_tflops["fp32"]
    assert mine.peak_tflops["fp32"] * fitted.efficiency["fp32"] == pytest.approx(
        h100.peak_tflops["fp32"] * base.efficiency["fp32"], rel=1e-3)
    assert fitted.efficiency["fp16"] != base.efficiency["fp16"]


def test_files_of_two_gpus_or_one_file_twice_are_refused(tmp_path):
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["group"] == "googlenet_3a"]
    h100 = tmp_path / "h100.json"
    h100.write_text(json.dumps(data))
    other = more_file(tmp_path, environment={"gpu_name": "NVIDIA L4"})
    result = CliRunner().invoke(cli, ["calibrate", str(h100), str(other)])
    assert result.exit_code == 3 and "measured on NVIDIA L4, the files before it on NVIDIA H100 80GB HBM3" \
        in result.output
    twice = CliRunner().invoke(cli, ["calibrate", str(h100), str(h100)])
    assert twice.exit_code == 3 and "given twice" in twice.output
    # a hard link is the same file by another name: its cases would count double too
    (tmp_path / "link.json").hardlink_to(h100)
    linked = CliRunner().invoke(cli, ["accuracy", str(h100), str(tmp_path / "link.json")])
    assert linked.exit_code == 3 and f"given twice ({h100})" in linked.output


def test_calibrate_takes_at_most_eight_files(tmp_path):
    more = str(more_file(tmp_path))
    result = CliRunner().invoke(cli, ["calibrate", *[more] * 9])
    assert result.exit_code == 3 and "9 measurement files: at most 8" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_script_s_own_output_is_read(tmp_path):
    """measure_more.py --quick on a CPU (tests/models/README.md): every conv record is a
    case whose MACs the core counts as the script did; channels_last and cat4, add and the
    layout copy are left out, as are the networks at 64x64 and 80x80."""
    import gzip

    doc = json.loads(gzip.decompress((DATA.parents[2] / "tests" / "models" / "measure_more_quick_cpu.json.gz")
                                     .read_bytes()))
    for group in ("convs", "kernels", "networks"):
        for record in doc[group]:
            record["graph"] = record["eager"]  # a CPU has no CUDA graphs
    path = tmp_path / "quick.json"
    path.write_text(json.dumps(doc))
    _, cases = read_measurements(str(path))
    convs = [r for r in doc["convs"] if r["memory_format"] == "contiguous"]
    assert len(doc["convs"]) == 13 and len(convs) == 12
    assert sorted(c.macs for c in cases if c.group == "more convs") == sorted(r["macs_per_image"] for r in convs)
    assert len([c for c in cases if c.group == "more kernels"]) == 12  # 6 of the 9 ops, fp32 and bf16
    assert not [c for c in cases if c.group == "more networks"]


def test_two_configurations_under_one_name_are_not_averaged(tmp_path):
    """A 1x9 conv and a 3x3 conv of the same MACs under one case name (two runs of a changed
    script) are two configurations: they used to be merged into one case, priced as the
    first file's 3x3 at the geometric mean of both times."""
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["name"] == "conv3x3_192_28x28"]
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(data))
    layer = data["configs"]["conv3x3_192_28x28"]["layers"][0]
    layer.update(kernel=[1, 9], padding=[0, 4])
    for case in data["cases"]:
        case["graph"]["median_us"] *= 3
    second.write_text(json.dumps(data))
    info, cases = read_all((str(first), str(second)))
    assert len(cases) == 12 and info.repeats == 0
    assert {(c.distinct[0][0].kh, c.distinct[0][0].kw) for c in cases} == {(3, 3), (1, 9)}
    again = tmp_path / "c.json"
    again.write_text(first.read_text())
    info, cases = read_all((str(first), str(again)))  # the same configuration measured twice: one case
    assert len(cases) == 6 and info.repeats == 6


def latency_file(tmp_path, name, change):
    """The H100 file's cases of one configuration, with `change` applied to its config."""
    data = json.loads(DATA.read_text())
    data["cases"] = [c for c in data["cases"] if c["name"] == name]
    change(data["configs"][name])
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize("name, change, message", [
    # a pool has no MACs to compare: its input could be anything, and was priced as written
    ("3a_naive_branch_pool", lambda c: c.update(input_chw=[1, 2, 3]),
     "3a_naive_branch_pool: the calculator's output is 1x2x3 .C x H x W.*the measurement's 192x28x28"),
    ("3a_naive_branch_pool", lambda c: c["layers"][0].update(padding=0),
     "the calculator's output is 192x26x26"),
    # "false" is true to Python: it added a ReLU the measurement did not run
    ("conv1x3_192_17x17", lambda c: c["layers"][0].update(relu="false"), "relu must be true or false, got 'false'"),
    ("conv1x3_192_17x17", lambda c: c["layers"][0].update(bias=1), "bias must be true or false, got 1"),
    ("3a_reduced_module", lambda c: c.update(concat="no"), "concat must be true or false, got 'no'"),
])
def test_a_configuration_is_checked_against_what_it_says_it_is(tmp_path, name, change, message):
    with pytest.raises(ArchitectureError, match=message):
        read_measurements(latency_file(tmp_path, name, change))


def test_calibrate_refuses_an_output_it_cannot_write_before_fitting(tmp_path):
    """An existing -o without --force used to be refused only after the fit (25 s, or five
    times that with --cross-validate)."""
    out = tmp_path / "exists.yaml"
    out.write_text("kept\n")
    result = CliRunner().invoke(cli, ["calibrate", str(more_file(tmp_path)), "-o", str(out)])
    assert result.exit_code == 5 and "already exists" in result.output
    assert "fit(s)" not in result.output and out.read_text() == "kept\n"
    folder = CliRunner().invoke(cli, ["calibrate", str(more_file(tmp_path)), "-o", str(tmp_path)])
    assert folder.exit_code == 5 and "is a directory" in folder.output and "fit(s)" not in folder.output


def test_more_distinct_kernels_than_the_limit_are_refused(tmp_path, monkeypatch):
    """The limit bounds reading as well as fitting: 20,000 single convs take 8.4 s and 300 MB
    to read here (50,000 took 21.7 s and 672 MB, over the README's bound)."""
    from inception_cost.estimates import measurements

    assert measurements.MAX_KERNELS == 20_000
    monkeypatch.setattr(measurements, "MAX_KERNELS", 100)
    with pytest.raises(ArchitectureError, match="more than 100 distinct kernels over the cases"):
        read_measurements(str(DATA))
