"""Memory traffic, peak activation memory and the roofline, against hand-worked cases."""

import csv
import io
import json

import pytest
from click.testing import CliRunner
from conftest import net

from inception_cost.cli import cli
from inception_cost.errors import ArchitectureError, UsageError
from inception_cost.estimates.devices import load_device
from inception_cost.estimates.memory import Dtype, layer_memory, peak_activations, peak_at
from inception_cost.estimates.roofline import estimate


def test_one_conv_by_hand():
    a = net("input: 8x8x4\nlayers:\n  - conv: {filters: 8, kernel: 3}\n")
    (m,) = layer_memory(a, Dtype.FP32, batch=2)
    assert m.activations == 8 * 8 * 8 * 2
    assert m.activation_bytes == 4 * 1024
    assert m.weight_bytes == (9 * 4 * 8 + 8) * 4
    assert m.bytes_moved == (8 * 8 * 4 + 8 * 8 * 8) * 2 * 4 + 296 * 4 == 7_328
    assert m.flops == 2 * 9 * 4 * 8 * 64 * 2 == 73_728
    assert m.intensity == pytest.approx(73_728 / 7_328)


@pytest.mark.parametrize("order", ["input: []\n      new:", "new:"])
def test_an_identity_branch_is_the_input_and_counted_once(order):
    """concat {input: [], new: [batch norm, conv 1x1 8]} at 56x56x64, fp32: while the
    second branch runs, the identity branch's output is the input itself. It was counted
    twice when the identity branch came first (2,408,448 bytes, 3x the input);
    torch.cat([x, f(x)]) allocates at most 1,806,336 (torch 2.13.0, CPU, between operators)."""
    branches = {"input: []\n      new:": "input: []\n      new:\n        - batch_norm: {}\n"
                "        - conv: {filters: 8, kernel: 1, bias: false}\n",
                "new:": "new:\n        - batch_norm: {}\n        - conv: {filters: 8, kernel: 1, bias: false}\n"
                "      input: []\n"}[order]
    analysis = net(f"input: 56x56x64\nlayers:\n  - concat:\n      {branches}")
    assert peak_activations(analysis.root) * 4 == 1_806_336


def test_peak_holds_branch_outputs_until_the_concat():
    a = net("""input: 8x8x4
layers:
  - module:
      name: m
      layers:
        - concat:
            a: [{conv: {filters: 8, kernel: 1}}]
            b: [{conv: {filters: 8, kernel: 1}}, {conv: {filters: 8, kernel: 1}}]
""")
    # at the concat: both branch outputs (512 + 512) and the concatenated copy (1024)
    assert peak_activations(a.root) == 2 * (512 + 512)
    # during branch b's first conv: the input (256), a's output (512) and its own (512)
    b = net("""input: 8x8x4
layers:
  - module:
      name: m
      layers:
        - concat:
            a: [{conv: {filters: 64, kernel: 1}}]
            b: [{conv: {filters: 1, kernel: 1}}]
""")
    assert peak_activations(b.root) == max(256 + 4096, 4096 + 256 + 64, 2 * (4096 + 64))


def test_residual_keeps_its_shortcut_alive():
    a = net("""input: 4x4x8
layers:
  - residual: {scale: 0.1, layers: [{conv: {filters: 2, kernel: 1}}, {conv: {filters: 8, kernel: 1}}]}
""")
    # shortcut 128 + body out 128 + the sum 128 at the addition
    assert peak_activations(a.root) == 3 * 128


@pytest.fixture
def device(tmp_path):
    path = tmp_path / "gpu.yaml"
    path.write_text("name: test-gpu\npeak_tflops: {fp16: 100, fp32: 10}\nbandwidth_gbs: 1000\n"
                    "overhead_us: 2\n")
    return load_device(str(path))


def test_compute_bound_and_memory_bound_layers(device):
    a = net("""input: 56x56x256
layers:
  - conv: {filters: 256, kernel: 3, bias: false}
  - max_pool: {kernel: 3, stride: 2, padding: 1}
""")
    conv, pool = estimate(a, device, Dtype.FP16, batch=1)
    flops = 2 * 9 * 256 * 256 * 56 * 56
    assert conv.compute_s == pytest.approx(flops / 100e12)                       # 36.99 µs
    assert conv.memory_s == pytest.approx(((2 * 802_816) * 2 + 589_824 * 2) / 1e12)  # 4.39 µs
    assert conv.bound == "compute" and conv.seconds == pytest.approx(flops / 100e12 + 2e-6)
    assert pool.compute_s == 0 and pool.bound == "memory"
    assert pool.seconds == pytest.approx((802_816 + 200_704) * 2 / 1e12 + 2e-6)  # 4.01 µs


def test_device_files_are_checked(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npeak_tflops: {fp64: 10}\nbandwidth_gbs: 1000\n")
    with pytest.raises(ArchitectureError, match="unknown dtype 'fp64'"):
        load_device(str(bad))
    with pytest.raises(UsageError, match="unknown device 'h100'"):
        load_device("h100")
    assert load_device("h100-sxm").peak_tflops["fp16"] == 989.4


@pytest.mark.parametrize("text, message", [
    ("peak_tflops: {fp32: 1e9}\nbandwidth_gbs: 100", "got the text '1e9' (YAML 1.1 reads it so: write 1.0e+9)"),
    ("peak_tflops: {fp32: 10, tf32: null}\nbandwidth_gbs: 100", "peak for tf32 must be a number from 1e-06 to"
     " 1e+09, got nothing (null)"),
    ("peak_tflops: {fp32: 10}\nbandwidth_gbs: 2e3", "'bandwidth_gbs' must be a number from 1e-06 to 1e+09, got"
     " the text '2e3' (YAML 1.1 reads it so: write 2.0e+3)"),
])
def test_a_device_figure_that_is_not_a_number_says_what_it_is(tmp_path, text, message):
    """YAML 1.1 reads 1e9 (no point, no sign) as text: the error says so and how to write it."""
    path = tmp_path / "dev.yaml"
    path.write_text(f"name: x\n{text}\n")
    with pytest.raises(ArchitectureError) as error:
        load_device(str(path))
    assert message in str(error.value)


@pytest.mark.parametrize("content", ["", "  \n", None])
def test_an_empty_device_file_is_not_asked_for_layers(tmp_path, content):
    """An empty device file (or a folder) is told what a device file holds, not an
    architecture's 'input' and 'layers'."""
    path = tmp_path / "gpu.yaml"
    path.mkdir() if content is None else path.write_text(content)
    with pytest.raises(ArchitectureError) as error:
        load_device(str(path))
    assert "layers" not in str(error.value) and "architecture" not in str(error.value)
    assert "device profile" in str(error.value)


def _json(*args):
    result = CliRunner().invoke(cli, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_memory_command_googlenet_3a():
    doc = _json("memory", "googlenet", "--module", "3a", "--dtype", "fp16")
    rows = {r["layer"]: r for r in doc["sections"][0]["rows"]}
    five = rows["5x5 / conv 5x5 32"]
    assert five["bytes_moved"] == (28 * 28 * 16 + 28 * 28 * 32) * 2 + (25 * 16 * 32 + 32) * 2
    assert five["activations"] == 28 * 28 * 32
    # 3a's peak is at the pool branch's max pool: the finished outputs of the 1x1, 3x3 and
    # 5x5 branches (64 + 128 + 32 channels), the module input (192) and the pooled copy (192);
    # the concat itself holds only 2 x 256 channels.
    x = 28 * 28
    assert doc["totals"]["peak_activation_bytes"] == (64 + 128 + 32 + 192 + 192) * x * 2 == 953_344
    # the peak section's rows name their node by path, as every other memory row: the eager
    # peak is the concat's (module input 192, the branches' 256 and the concat's own 256)
    peaks = doc["sections"][-1]
    assert peaks["title"].endswith("peak activation memory of inference (module inception (3a))")
    assert [(r["peak"], r["path"], r["bytes"]) for r in peaks["rows"]] == [
        ("least", "3a/pool/max_pool_1", 953_344), ("eager PyTorch", "3a/concat_1", (192 + 256 + 256) * x * 2)]
    assert (doc["totals"]["peak_path"], doc["totals"]["eager_peak_path"]) == ("3a/pool/max_pool_1", "3a/concat_1")


def test_roofline_command_and_time_ratio_in_compare():
    doc = _json("roofline", "googlenet", "--device", "h100-sxm", "--dtype", "fp16")
    assert doc["device"] == "h100-sxm" and doc["totals"]["seconds"] > 0
    assert abs(sum(r["share"] for r in doc["sections"][0]["rows"]) - 1) < 1e-9
    doc = _json("compare", "naive", "reduced", "--device", "h100-measured", "--dtype", "fp32",
                "--batch", "32")
    five = next(r for r in doc["sections"][0]["rows"] if r["part"] == "5x5")
    assert round(five["macs_ratio"], 2) == 9.68
    assert five["time_ratio"] < five["macs_ratio"]  # fewer MACs buys less than 9.68x
    doc = _json("factorize", "--device", "h100-sxm")
    assert doc["sections"][0]["total"]["time_ratio"] > 0


@pytest.mark.parametrize("path, in_elements, out_elements", [
    ("3a/5x5/conv_2", 28 * 28 * 16, 28 * 28 * 32),  # the 5x5 conv: 12,544 in, 25,088 out
    ("conv1/conv_1", 224 * 224 * 3, 112 * 112 * 64),  # the first layer reads the image
    ("3a/pool/max_pool_1", 28 * 28 * 192, 28 * 28 * 192),
])
def test_memory_of_one_layer(path, in_elements, out_elements):
    """--module takes any layer path: the layer's row is its row in the module's report, and
    its peak is its input and output alive together (fp16: 2 bytes each)."""
    doc = _json("memory", "googlenet", "--module", path, "--dtype", "fp16")
    (row,) = doc["sections"][0]["rows"]
    assert row["path"] == path and row["activations"] == out_elements
    assert doc["totals"]["peak_activation_bytes"] == (in_elements + out_elements) * 2
    assert doc["totals"]["peak_path"] == path
    module = _json("memory", "googlenet", "--module", path.split("/")[0], "--dtype", "fp16")
    same = next(r for r in module["sections"][0]["rows"] if r["path"] == path)
    assert {k: v for k, v in same.items() if k != "layer"} == {k: v for k, v in row.items() if k != "layer"}


def test_memory_of_one_branch():
    doc = _json("memory", "googlenet", "--module", "3a/5x5", "--dtype", "fp16")
    assert [r["path"] for r in doc["sections"][0]["rows"]] == ["3a/5x5/conv_1", "3a/5x5/conv_2"]
    # the 1x1 conv: the module's input (192 channels) and its 16 channels at 28x28
    assert doc["totals"]["peak_activation_bytes"] == (192 + 16) * 28 * 28 * 2 == 326_144
    assert "(branch 5x5)" in doc["sections"][0]["title"]


BIG_AUX = """input: 32x32x8
layers:
  - conv: {filters: 8, kernel: 1}
  - auxiliary:
      name: aux
      layers: [{conv: {filters: 512, kernel: 3, padding: same}}, global_avg_pool]
  - conv: {filters: 8, kernel: 1}
"""


def test_the_inference_peak_passes_over_the_training_only_heads():
    """--train adds the aux heads to the network, but they do not run in inference: the
    inference peak stays the main path's (each conv's input and output, 2 x 8,192
    elements; eager PyTorch also keeps the network's input), where it once took the aux
    head's 512-channel map (532,992 elements)."""
    inference, training = net(BIG_AUX), net(BIG_AUX, train=True)
    for eager, elements in ((False, 2 * 8_192), (True, 3 * 8_192)):
        assert peak_at(inference.root, eager)[0] == peak_at(training.root, eager)[0] == elements
    # the head run alone is still its own forward pass, its input held as in the network
    aux = training.root.children[1]
    assert peak_at(aux) == (8_192 + 32 * 32 * 512 + 512, aux.children[1])


def test_a_residual_alone_keeps_its_shortcut_alive():
    a = net("""input: 4x4x8
layers:
  - residual: {scale: 0.1, layers: [{conv: {filters: 2, kernel: 1}}, {conv: {filters: 8, kernel: 1}}]}
""")
    # the residual as the scope runs as it does in the network: shortcut, body out and sum
    assert peak_at(a.root.children[0]) == (3 * 128, a.root.children[0])


def _rows_add_up(section, side):
    rows = section["rows"]
    return sum(r[f"{side}_time_us"] for r in rows), section["total"][f"{side}_time_us"]


def test_compare_rows_add_up_to_the_module_time_with_the_concat_copy():
    doc = _json("compare", "naive", "reduced")
    section = doc["sections"][0]
    copy = next(r for r in section["rows"] if r["path"] == "concat_1")
    # the copy runs as roofline -m 3a shows it: no parameters or MACs, 2.55 / 2.39 µs
    assert copy["part"] == "concat copy" and copy["a_layers"] == "copy 28x28x416"
    assert (copy["a_params"], copy["a_macs"], copy["b_params"], copy["b_macs"]) == (0, 0, 0, 0)
    assert (round(copy["a_time_us"], 2), round(copy["b_time_us"], 2)) == (2.55, 2.39)
    roofline = _json("roofline", "googlenet", "-m", "3a", "--device", "h100-sxm")["sections"][0]["rows"]
    assert copy["b_time_us"] == next(r["time_us"] for r in roofline if r["path"] == "3a/concat_1")
    for side, total in (("a", 62.45), ("b", 72.42)):
        rows, shown = _rows_add_up(section, side)
        assert rows == pytest.approx(shown, rel=1e-12) and round(shown, 2) == total
    # the time ratio is in the totals too, beside params and macs
    ratio = doc["totals"]["ratio"]
    assert set(ratio) == {"params", "macs", "time"}
    assert ratio["time"] == pytest.approx(section["total"]["time_ratio"]) and round(ratio["time"], 2) == 0.86
    assert doc["totals"]["naive"]["seconds"] * 1e6 == pytest.approx(section["total"]["a_time_us"])


def test_factorize_and_an_add_keep_their_own_work_as_rows():
    section = _json("factorize", "googlenet", "-m", "3a")["sections"][0]
    assert [r["part"] for r in section["rows"]] == ["1x1", "3x3", "5x5", "pool", "concat copy"]
    for side in ("a", "b"):
        rows, shown = _rows_add_up(section, side)
        assert rows == pytest.approx(shown, rel=1e-12)
    assert round(section["total"]["b_time_us"], 2) == 85.09
    # a ResNet block's addition is neither path's: a row of its own (3.73 µs on h100-sxm)
    section = _json("compare", "resnet50", "resnet50", "-m", "layer1_0")["sections"][0]
    assert [r["path"] for r in section["rows"]] == ["body", "downsample", "add_1/elementwise_add_1", "relu_1"]
    assert round(section["rows"][2]["a_time_us"], 2) == 3.73 and section["rows"][2]["a_macs"] == 0
    rows, shown = _rows_add_up(section, "a")
    # fp16 at batch 1: each of the block's batch norms takes three launches
    assert rows == pytest.approx(shown, rel=1e-12) and round(shown, 2) == 64.05


def test_without_times_a_comparison_lists_only_its_parts():
    import inception_cost as ic

    rows = ic.compare("naive", "reduced").to_dict()["sections"][0]["rows"]
    assert [r["part"] for r in rows] == ["1x1", "3x3", "5x5", "pool"]
    assert "time" not in ic.compare("naive", "reduced").to_dict()["totals"]["ratio"]


@pytest.mark.parametrize("command", ["roofline", "memory"])
def test_a_batch_report_says_which_figures_are_the_batch_s(command):
    lines = _json(command, "googlenet", "--batch", "32")["convention"]
    assert not any("batch 1" in line for line in lines)
    assert lines[1].startswith("MACs per image: conv kh*kw*Cin/groups*Cout*Hout*Wout")
    assert lines[-1] == ("Batch 32: activations, bytes moved, FLOPs and times are for the whole batch;"
                         " MACs and parameters per image.")


def test_compare_and_factorize_with_train_time_a_training_step():
    """The same step as roofline --train: a module's rows are its forward and backward
    kernels, a network's total adds the optimizer update (a row of its own)."""
    notes = _json("compare", "googlenet", "googlenet-torchvision", "--train")["sections"][0]["notes"]
    timed = next(n for n in notes if n.startswith("Estimated times"))
    assert "h100-sxm, fp16, batch 1, one training step (forward, backward; the sgd update" in timed
    assert "(forward passes; no training step was measured)" in notes[-1]
    inference = _json("compare", "naive", "reduced")["sections"][0]["notes"]
    assert not any("training step" in n for n in inference)
    step = _json("roofline", "googlenet", "--module", "3a", "--train", "--batch", "32")["sections"][0]
    update = next(r["time_us"] for r in step["rows"] if r["layer"] == "optimizer step (sgd)")
    doc = _json("compare", "naive", "reduced", "--train", "--batch", "32")
    rows = {r["part"]: r for r in doc["sections"][0]["rows"]}
    # the naive module, analysed alone, gets the input gradient it has inside the network
    assert rows["1x1"]["a_time_us"] == pytest.approx(rows["1x1"]["b_time_us"])
    assert doc["totals"]["reduced"]["seconds"] * 1e6 == pytest.approx(step["total"]["time_us"] - update)
    whole = _json("factorize", "googlenet", "--train", "--batch", "32", "--optimizer", "adam")
    section = whole["sections"][0]
    assert section["rows"][-1]["part"] == "adam update"
    assert sum(r["a_time_us"] for r in section["rows"]) == pytest.approx(section["total"]["a_time_us"])
    step = _json("roofline", "googlenet", "--train", "--batch", "32", "--optimizer", "adam")["sections"][0]
    assert section["total"]["a_time_us"] == pytest.approx(step["total"]["time_us"])
    assert whole["totals"]["before"]["seconds"] * 1e6 == pytest.approx(step["total"]["time_us"])




def test_no_tf32_reaches_every_timed_command():
    """fp32 convs run on TF32 unless --no-tf32 says plain fp32: compare, factorize, sweep
    and export take the flag as roofline does (they used to time TF32 whatever was asked,
    and their notes said only "fp32"), and all give roofline's figure."""
    fp32 = ["--dtype", "fp32", "--device", "h100-sxm"]
    for flag, maths in (("--tf32", "fp32 (convs tf32, linear fp32)"), ("--no-tf32", "fp32 (convs fp32, linear fp32)")):
        section = _json("roofline", "googlenet", "-m", "3a", flag, *fp32)["sections"][0]
        rows = section["rows"]
        assert section["title"].endswith("time on h100-sxm (module inception (3a))")  # the part it times
        peaks = "494.7 TFLOP/s tf32, 66.9 TFLOP/s fp32" if flag == "--tf32" else "66.9 TFLOP/s fp32, 3350"
        assert peaks in section["notes"][0]  # the peaks of the maths its convs and linear layers run in
        module_us = sum(r["time_us"] for r in rows)
        compared = _json("compare", "naive", "reduced", flag, *fp32)
        assert compared["sections"][0]["total"]["b_time_us"] == pytest.approx(module_us, rel=1e-12)
        assert any(maths in note for note in compared["sections"][0]["notes"])
        factorized = _json("factorize", "googlenet", "-m", "3a", flag, *fp32)["sections"][0]
        assert factorized["total"]["a_time_us"] == pytest.approx(module_us, rel=1e-12)
        swept = _json("sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=16..16", flag, *fp32)["sections"][0]
        assert swept["rows"][0]["time_us"] == pytest.approx(module_us, rel=1e-12)
        assert any(maths in note for note in swept["notes"])
    plain = _json("compare", "naive", "reduced", "--no-tf32", *fp32)["sections"][0]["total"]["b_time_us"]
    tensor = _json("compare", "naive", "reduced", *fp32)["sections"][0]["total"]["b_time_us"]
    assert (round(plain, 2), round(tensor, 2)) == (104.91, 77.71)  # its convs on CUDA cores, not tensor cores


# What eager PyTorch allocates in one no_grad forward (torch 2.13.0 on the CPU, counted
# between top-level operators; benchmarks/inference_memory_cpu.py, 2026-11-29), in fp32
# at batch 1: the networks built from torch.nn in torchvision's layout, and single modules
# run alone from their input (which their caller holds).
@pytest.mark.parametrize("name, module, measured", [
    ("googlenet-torchvision", None, 7_024_640),
    ("inception-v3", None, 14_902_572),
    ("mobilenet-v2", None, 11_038_720),
    ("resnet50", None, 11_038_720),  # blocks without stage containers (torchvision's: 11,841,536)
    ("googlenet-torchvision", "3a", 2_207_744),
    ("inception-v3", "Mixed_5b", 3_449_600),
    ("inception-v3", "Mixed_7b", 1_376_256),
    ("resnet50", "layer1_0", 10_436_608),
    ("resnet50", "layer1_1", 10_436_608),
    # benchmarks/inference_memory_more_cpu.py (the same measurement), in each YAML header's layout
    ("efficientnet-b0", None, 11_038_720),
    ("squeezenet1-0", None, 8_440_320),
    ("xception", None, 39_796_140),  # timm's order: the body, then the shortcut
    ("inception-v4", None, 14_902_572),
    ("inception-resnet-v2", None, 14_902_572),
    ("bn-inception", None, 7_024_640),  # modular, as GoogLeNet
    ("squeezenet1-0", "classifier", 1_026_112),  # dropout first: a view of the module's input
    # torchvision 0.28.0's own squeezenet1_1 and mobilenet_v3_small (the same measurement, by
    # eager_peak of benchmarks/inference_memory_cpu.py; batch 8: 43,536,896 and 20,873,216)
    ("squeezenet1-1", None, 5_442_112),
    ("mobilenet-v3-small", None, 2_609_152),
    ("xception", "block13", 4_632_352),  # a separable conv widening 728 -> 1024
    ("xception", "block2", 38_723_328),
])
def test_eager_peak_equals_what_eager_pytorch_allocates(name, module, measured):
    args = ["memory", name, "--dtype", "fp32"] + (["--module", module] if module else [])
    totals = _json(*args)["totals"]
    assert totals["eager_peak_activation_bytes"] == measured
    assert totals["peak_activation_bytes"] < measured  # the folding, freeing executor's least
    eight = _json(*args, "--batch", "8")["totals"]
    assert eight["eager_peak_activation_bytes"] == 8 * measured


def test_eager_peak_rules_one_by_one():
    """The caller keeps the input; a conv's batch norm runs unfolded, out of place (the
    conv's input, output and normalised output at once); a ReLU runs in place; a module
    keeps its input until it returns, through the concat."""
    a = net("""input: 4x4x8
layers:
  - conv: {filters: 16, kernel: 1, batch_norm: true}
  - relu
  - conv: {filters: 4, kernel: 1}
  - module:
      name: m
      layers:
        - concat:
            a: [{conv: {filters: 2, kernel: 1}}]
            b: [{conv: {filters: 6, kernel: 1}}]
""")
    x = 16
    # the least: the first conv's input and output (8 + 16 channels); the ReLU runs in place
    assert peak_at(a.root)[0] == (8 + 16) * x
    # eager: the input (8) with the conv's output and batch norm's (2 x 16)
    peak, where = peak_at(a.root, eager=True)
    assert (peak, where.path) == ((8 + 2 * 16) * x, "conv_1")
    # the module alone: its input (4) held through the concat, both branches (2 + 6) and the result (8)
    module = a.root.children[-1]
    assert peak_at(module, eager=True)[0] == (4 + 8 + 8) * x
    assert peak_at(module)[0] == (8 + 8) * x


def test_eager_peak_of_a_scaled_residual_and_a_separable_conv():
    """`out * scale + x` writes the scaled body before the sum; a separable conv's depthwise
    output is alive while its pointwise conv runs, and its batch norm (a layer of its own in
    Keras and timm) runs after the separable conv's input is freed."""
    a = net("""input: 4x4x8
layers:
  - module:
      name: m
      layers:
        - residual: {scale: 0.2, layers: [{conv: {filters: 8, kernel: 1}}]}
""")
    x = 16
    # the module's input (8), the body's output (8), the scaled copy (8) and the sum (8)
    assert peak_at(a.root.children[0], eager=True)[0] == 4 * 8 * x
    assert peak_at(a.root.children[0])[0] == 3 * 8 * x  # the least: no copy, the scale folded
    s = net("""input: 4x4x8
layers:
  - conv: {filters: 4, kernel: 1}
  - separable_conv: {filters: 16, kernel: 3, batch_norm: true}
""")
    # input (8) kept by the caller; then the conv's input (4), depthwise (4) and pointwise (16)
    # outputs, or the pointwise output and its batch norm's (2 x 16) once the input is freed
    assert peak_at(s.root, eager=True)[0] == 8 * x + max(4 + 4 + 16, 2 * 16) * x


def test_peaks_of_identity_paths_activations_and_a_three_path_sum():
    """Checked against eager PyTorch (torch 2.13 CPU, as benchmarks/inference_memory_cpu.py
    measures) by a helper: an identity path or branch is its input, counted once however
    many there are; a conv whose activation cannot run in place (gelu) holds both outputs;
    `a(x) + b(x) + c(x)` adds as it goes."""
    a = net("""input: 4x4x8
layers:
  - module: {name: twoid, layers: [{concat: {a: [], b: []}}]}
  - module: {name: idlast, layers: [{add: {body: [{conv: {filters: 16, kernel: 1}}], shortcut: []}}]}
  - module: {name: gelu, layers: [{conv: {filters: 16, kernel: 1, activation: gelu}}]}
  - module:
      name: three
      layers:
        - add:
            a: [{conv: {filters: 16, kernel: 1}}]
            b: [{conv: {filters: 16, kernel: 1}}]
            c: [{conv: {filters: 16, kernel: 1}}]
  - module: {name: sep, layers: [{separable_conv: {filters: 8, kernel: 3, depth_multiplier: 4}}]}
""")
    x = 16
    twoid, idlast, gelu, three, sep = a.root.children
    # the input (8) and the concat's output (16); not the input twice
    assert peak_at(twoid)[0] == peak_at(twoid, eager=True)[0] == (8 + 16) * x
    # x + body(x): the input, the body's output and the sum (8 + 16 + 16: 16 channels)
    idlast_in = 16
    assert peak_at(idlast, eager=True)[0] == 3 * idlast_in * x
    # the conv's output and gelu's (16 each) beside the input (16)
    assert peak_at(gelu, eager=True)[0] == (16 + 2 * 16) * x and peak_at(gelu)[0] == (16 + 16) * x
    # while c runs: the input, a + b's sum, c's output; then that sum, c's output and the result
    assert peak_at(three, eager=True)[0] == (16 + 16 + 16 + 16) * x
    # the least adds as it goes too; a + b is written while the input still waits for c
    assert peak_at(three)[0] == (16 + 16 + 16 + 16) * x
    # a separable conv is two kernels: the depthwise output (4 x 16) lives with the pointwise one
    assert peak_at(sep)[0] == (16 + 64) * x  # the input freed once the depthwise conv has read it
    assert peak_at(sep, eager=True)[0] == (16 + 64 + 8) * x


def test_memory_csv_carries_both_inference_peaks():
    """CSV has no notes: the peaks are rows of their own section, equal to JSON's totals.
    Eager PyTorch's peak of 3a is at the concat: the module's input (192 channels), the
    four branch outputs (256) and the concatenated copy (256), in fp16."""
    result = CliRunner().invoke(cli, ["memory", "googlenet", "--module", "3a", "--dtype", "fp16", "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = [r for r in csv.DictReader(io.StringIO(result.stdout)) if "peak activation memory" in r["section"]]
    peaks = {r["peak"]: (int(r["bytes"]), r["reached"]) for r in rows}
    x = 28 * 28
    assert peaks == {"least": (953_344, "while 3a/pool/max_pool_1 (max pool 3x3/1) runs"),
                     "eager PyTorch": ((192 + 256 + 256) * x * 2, "when 3a/concat_1 writes its output")}
    doc = _json("memory", "googlenet", "--module", "3a", "--dtype", "fp16")
    assert doc["totals"]["eager_peak_activation_bytes"] == peaks["eager PyTorch"][0] == 1_103_872


def test_memory_views_write_nothing():
    """A view (GoogLeNet's dropout in inference) writes no activations, so the column's
    total is what the layers that run write; the avg pool's 1x1x1024 output is the
    linear layer's input, counted once."""
    doc = _json("memory", "googlenet")
    rows = {r["layer"]: r for r in doc["sections"][0]["rows"]}
    dropout = rows["dropout / dropout 40%"]
    assert (dropout["activations"], dropout["activation_bytes"], dropout["bytes_moved"]) == (0, 0, 0)
    assert rows["avgpool / avg pool 7x7/1"]["activations"] == 1024
    total = doc["sections"][0]["total"]
    assert total["activations"] == sum(r["activations"] for r in rows.values()) == 4_646_656
