"""One training step's memory and time, against figures worked out by hand."""

import json

import pytest
from click.testing import CliRunner
from conftest import builtin, net

from inception_cost.cli import cli
from inception_cost.estimates.dtypes import Dtype
from inception_cost.estimates.kernels import Op, backward_kernels, kernels
from inception_cost.estimates.training import Optimizer, SavedTensors, training_memory

SMALL = """input: 8x8x3
layers:
  - conv: {filters: 16, kernel: 3, activation: relu}
  - max_pool: {kernel: 2}
  - flatten: {}
  - linear: {out: 10}
"""
# parameters: conv 3*3*3*16 + 16 = 448, linear 256*10 + 10 = 2,570: 3,018
# saved per image: the image (192, the conv's input), the ReLU's output (8*8*16 = 1,024,
# also the max pool's input), the pool's output (256, the linear layer's input) and the
# pool's int64 indices (256 x 8 bytes); the largest activation: 1,024 elements


def test_small_network_fp32_adam_by_hand():
    m = training_memory(net(SMALL), Dtype.FP32, batch=2, optimizer=Optimizer.ADAM)
    assert m.parameters == 3018
    assert m.weights == m.gradients == 3018 * 4 and m.master_weights == 0
    assert m.optimizer_state == 3018 * 2 * 4
    assert m.saved_activations == 2 * ((192 + 1024 + 256) * 4 + 256 * 8) == 15_872
    assert m.backward_workspace == 2 * 1024 * 4 * 2
    assert m.upper_bound == 12_072 * 2 + 24_144 + 15_872 + 16_384 == 80_544
    # the backward pass, last layer first (bytes at batch 2): before it, everything saved
    # (15,872); the linear layer adds its gradients (2,570 x 4 = 10,280) and then frees its
    # input (2,048); the max pool's output and input gradients ((256 + 1,024) x 4 x 2 =
    # 10,240) with 13,824 saved and 10,280 of gradients is the most: 34,344
    assert m.peak == 12_072 + 24_144 + 34_344 == 70_560 and m.peak_layer.kind == "max_pool"


def test_mixed_precision_keeps_fp32_master_weights_and_state():
    m = training_memory(net(SMALL), Dtype.FP16, batch=1, optimizer=Optimizer.MOMENTUM)
    assert (m.weights, m.gradients, m.master_weights, m.optimizer_state) == (6036, 6036, 12_072, 12_072)
    assert m.saved_activations == (192 + 1024 + 256) * 2 + 256 * 8
    assert training_memory(net(SMALL), Dtype.FP16, 1, Optimizer.SGD).optimizer_state == 0


def test_a_module_input_read_by_every_branch_is_saved_once():
    text = """input: 4x4x8
layers:
  - concat:
      a: [{conv: {filters: 4, kernel: 1, bias: false}}]
      b: [{conv: {filters: 4, kernel: 1, bias: false}}]
"""
    m = training_memory(net(text), Dtype.FP32, 1, Optimizer.SGD)
    assert m.saved_activations == 4 * 4 * 8 * 4  # the input once; the convs save nothing else


def test_batch_norm_saves_its_input_and_statistics():
    text = "input: 4x4x8\nlayers:\n  - conv: {filters: 8, kernel: 1, bias: false, batch_norm: true, activation: silu}\n"
    m = training_memory(net(text), Dtype.FP32, 1, Optimizer.SGD)
    # the image (conv), the conv's output (batch norm), batch norm's output (SiLU saves its
    # input), each 128 elements; mean and inverse deviation: 2 x 8 fp32
    assert m.saved_activations == 3 * 128 * 4 + 2 * 8 * 4
    assert m.buffers == 2 * 8 * 4 and m.parameters == 64 + 16


def test_batch_norm_statistics_are_per_batch_not_per_image():
    text = "input: 4x4x8\nlayers:\n  - conv: {filters: 8, kernel: 1, bias: false, batch_norm: true, activation: silu}\n"
    m = training_memory(net(text), Dtype.FP32, 32, Optimizer.SGD)
    assert m.saved_activations == 32 * 3 * 128 * 4 + 2 * 8 * 4


def test_torchvision_googlenet_saves_what_pytorch_saves():
    """benchmarks/training_cpu.py, torch 2.13.0 / torchvision 0.28.0 on the CPU, batch
    32, fp32, aux heads: autograd saves 1,545,493,376 bytes, of which dropout's fp32 noise
    is 393,216; with CUDA's 1-byte mask instead (98,304) that is the figure below."""
    m = training_memory(builtin("googlenet-torchvision", train=True), Dtype.FP32, 32, Optimizer.SGD)
    assert m.saved_activations == 1_545_493_376 - 393_216 + 98_304 == 1_545_198_464
    assert m.weights == m.gradients == 13_004_888 * 4 and m.buffers == 60_288
    # one SGD step under torch.profiler's memory events (same script): at most 1,619,336,928
    # bytes allocated, with the weights, buffers, input and labels the step starts from
    assert m.peak == 1_607_768_064 and abs(m.peak / 1_619_336_928 - 1) < 0.01
    assert m.peak_layer.path == "avgpool"  # the backward pass starts there: nearly all still saved


def test_torchvision_inception_v3_saves_what_pytorch_saves():
    """The same script at batch 8 (Inception v3 at 299x299 with its aux head): PyTorch
    saves 786,483,040 bytes, of which dropout's fp32 noise is 65,536 (a 1-byte mask: 16,384)."""
    m = training_memory(builtin("inception-v3", train=True), Dtype.FP32, 8, Optimizer.SGD)
    assert m.saved_activations == 786_483_040 - 65_536 + 16_384 == 786_433_888


@pytest.mark.parametrize("name, saved", [("mobilenet-v2", 156_547_840), ("densenet121", 261_057_280),
                                         ("resnet50", 172_031_488)])
def test_relu6_and_average_pools_save_what_pytorch_saves(name, saved):
    """benchmarks/saved_tensors_cpu.py (torch 2.13.0 on the CPU, both networks built from
    torch.nn in torchvision's layout, batch 2, 224x224, fp32; MobileNetV2's dropout noise
    as CUDA's 1-byte mask). The tool used to count relu6 as saving its output (108,203,264
    for MobileNetV2: PyTorch's relu6 is hardtanh, whose backward reads its input, so each
    relu6 before a conv keeps two tensors) and average pools as saving nothing (DenseNet's
    transitions keep their conv's output: 5,619,712 bytes)."""
    m = training_memory(builtin(name, train=True), Dtype.FP32, 2, Optimizer.SGD)
    assert m.saved_activations == saved


def test_a_layer_reading_a_pool_of_the_input_gets_no_input_gradient():
    """Autograd gives no gradient to the network's input, nor to what layers without
    parameters make of it: a conv after a pool of the image has a weight gradient only
    (2x its forward FLOPs, not 3x), and the pool itself is never recorded (no saved input
    or indices, no backward kernel). It used to count only convs reading the input itself."""
    analysis = net("input: 16x16x3\nlayers:\n  - max_pool: {kernel: 2, stride: 2}\n"
                   "  - conv: {filters: 8, kernel: 3, padding: 1, bias: false}\n"
                   "  - conv: {filters: 8, kernel: 3, padding: 1, bias: false}\n")
    forward = kernels(analysis, training=True)
    backward = backward_kernels(forward)
    conv_macs = 8 * 8 * 8 * 27
    assert [k.op for k in backward] == [Op.GEMM, Op.GEMM, Op.GEMM]  # conv 2: input and weight; conv 1: weight
    assert sum(k.macs for k in backward) == 8 * 8 * 8 * 72 * 2 + conv_macs
    m = training_memory(analysis, Dtype.FP32, 1, Optimizer.SGD)
    assert m.saved_activations == (8 * 8 * 3 + 8 * 8 * 8) * 4  # the two convs' inputs, nothing of the pool's


@pytest.mark.parametrize("batch, peak, pytorch", [(2, 338_220_096, 345_591_296), (8, 840_170_560, 846_639_792)])
def test_the_gradient_waiting_at_a_shortcut_is_in_the_peak(batch, peak, pytorch):
    """ResNet-50's step peaks inside a bottleneck: the gradient of the block's input from
    its shortcut waits there until the body's arrives to be added (at batch 2, layer3_0's
    512 x 28 x 28: 3,211,264 bytes; it was left out). PyTorch on the CPU
    (benchmarks/saved_tensors_cpu.py, torch 2.13.0, SGD, fp32, 224x224) allocates at most
    the third figure; the rest (about 2%, less at batch 8) is oneDNN's scratch in a conv's
    backward, a CPU library's, which cuDNN does not make."""
    m = training_memory(builtin("resnet50", train=True), Dtype.FP32, batch, Optimizer.SGD)
    assert m.peak == peak and 0.975 < m.peak / pytorch < 1.0
    walk = SavedTensors(builtin("resnet50", train=True))
    walk.flow(walk.analysis.root, walk.tensor(3 * 224 * 224, grad=False))
    block = [i for i, leaf in enumerate(walk.layers) if leaf.path.startswith("layer1_1/")]
    shortcut = walk.inputs[block[0]]  # read by conv1 and by the residual add
    add = next(i for i in block if walk.layers[i].kind == "residual_add")
    assert walk.readers()[shortcut] == (block[0], add)


SAVING = """input: 16x16x8
layers:
  - conv: {filters: 8, kernel: 3, padding: 1, bias: false, batch_norm: true}
  - LAYER
  - conv: {filters: 8, kernel: 1, bias: false}
"""


@pytest.mark.parametrize("layer, extra", [
    ("activation: {function: relu}", 0),  # saves its output, which the conv saves too
    ("activation: {function: relu6}", 1),  # hardtanh: its input, the batch norm's output
    ("activation: {function: elu}", 1),  # out of place: its input
    ("activation: {function: sigmoid}", 0),
    ("activation: {function: silu}", 1),
    ("avg_pool: {kernel: 2}", 1),  # its input
    ("adaptive_avg_pool: {output: 4}", 1),
    ("global_avg_pool: {}", 0),  # a mean: sizes only
])
def test_each_layer_saves_what_autograd_saves(layer, extra):
    """conv -> batch norm -> LAYER -> conv at 16x16x8, batch 1, fp32: beside the first
    conv's input, the batch norm's input and statistics and the last conv's input, a layer
    that keeps its own input adds one 16x16x8 tensor (torch 2.13.0's derivatives.yaml;
    measured with saved_tensors_hooks on the CPU)."""
    analysis = net(SAVING.replace("LAYER", layer))
    m = training_memory(analysis, Dtype.FP32, 1, Optimizer.SGD)
    tensor = 16 * 16 * 8 * 4
    last_input = analysis.root.children[-1].in_shape
    base = tensor * 2 + 2 * 8 * 4 + last_input[0] * last_input[1] * last_input[2] * 4
    assert m.saved_activations == base + extra * tensor


def test_a_global_mean_is_a_new_tensor_for_the_layer_after_it():
    """`global_avg_pool: {mean: true}` costs nothing under every convention, but x.mean([2, 3])
    still writes a 1x1xC tensor: the linear layer after it saves that, not the map before
    (it used to be passed on as its input, as a view is)."""
    a = net("input: 8x8x4\nlayers:\n  - conv: {filters: 16, kernel: 1, bias: false}\n"
            "  - global_avg_pool: {mean: true}\n  - linear: {out: 10}\n")
    m = training_memory(a, Dtype.FP32, 1, Optimizer.SGD)
    assert m.saved_activations == (8 * 8 * 4 + 16) * 4  # the conv's input and the linear layer's


@pytest.mark.parametrize("name, flops", [("googlenet-torchvision", 17_608_925_184), ("inception-v3", 68_550_064_896)])
def test_a_training_step_s_gemm_flops_are_pytorch_s(name, flops):
    """torch.utils.flop_counter.FlopCounterMode over a forward and backward pass (torch
    2.13.0, torchvision 0.28.0, CPU, train mode with the aux heads, batch 2): convolution,
    convolution_backward, addmm and mm. Inception v3's stride-2 and unpadded convs pin the
    input gradient at the forward's MACs."""
    from inception_cost.estimates.kernels import Op, backward_kernels, kernels

    forward = kernels(builtin(name, train=True), training=True)
    step = forward + backward_kernels(forward)
    assert sum(2 * k.macs * 2 for k in step if k.op is Op.GEMM) == flops


DEPTHWISE = """name: dwcheck
input: 32x32x3
layers:
  - conv: {filters: 16, kernel: 3, stride: 2, padding: 1}
  - conv: {filters: 16, kernel: 3, padding: 1, groups: depthwise}
  - conv: {filters: 32, kernel: 1}
  - conv: {filters: 32, kernel: 5, stride: 2, padding: 2, groups: depthwise}
  - separable_conv: {filters: 48, kernel: 3, padding: 1}
  - adaptive_avg_pool: {output: 1}
  - linear: {out: 10}
"""


def test_a_depthwise_conv_s_gradients_are_in_a_training_step_s_flops(tmp_path):
    """A depthwise conv's input and weight gradients each take its forward MACs, as every
    conv's do (they were left out of the FLOPs, though not of the time). The same layers in
    PyTorch (torch 2.13.0, CPU, flop_counter over forward and backward at batch 2) give
    15,767,168: its conv_backward_flop ignores groups, so each depthwise weight gradient is
    counted as if ungrouped, C times over (16, 32 and 32 channels here)."""
    path = tmp_path / "dw.yaml"
    path.write_text(DEPTHWISE)
    result = CliRunner().invoke(cli, ["roofline", str(path), "--train", "--batch", "2", "-f", "json"])
    assert result.exit_code == 0, result.output
    training = sum(r["flops"] for r in json.loads(result.stdout)["sections"][0]["rows"])
    forward_convs = 2 * 2 * (16 * 16 * 16 * 27 + 16 * 16 * 16 * 9 + 16 * 16 * 32 * 16 + 8 * 8 * 32 * 25
                             + 8 * 8 * 32 * 9 + 8 * 8 * 48 * 32)
    first = 2 * 2 * 16 * 16 * 16 * 27  # the first conv's input gradient: the network's input has none
    linear = 2 * 2 * 48 * 10
    assert training == 3 * forward_convs - first + 3 * linear == 4_920_960
    depthwise_weight_gradients = 2 * 2 * (16 * 16 * 16 * 9 * 15 + 8 * 8 * 32 * 25 * 31 + 8 * 8 * 32 * 9 * 31)
    assert training + depthwise_weight_gradients == 15_767_168  # PyTorch's figure, its overcount named


def test_memory_command_reports_training(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    result = CliRunner().invoke(cli, ["memory", str(path), "--train", "--batch", "2", "--optimizer", "adam",
                                      "--dtype", "fp32", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["totals"]["training_peak_bytes"] == 70_560 and doc["totals"]["optimizer"] == "adam"
    parts = {r["part"]: r["bytes"] for r in doc["sections"][1]["rows"]}
    assert parts["saved activations"] == 15_872


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_optimizers_are_a_closed_choice(optimizer):
    assert Optimizer(optimizer).state == ["sgd", "momentum", "adam"].index(optimizer)


def test_training_step_kernels():
    from inception_cost.estimates.devices import load_device
    from inception_cost.estimates.kernels import Op, backward_kernels, kernels
    from inception_cost.estimates.roofline import estimate

    a = net("input: 8x8x4\nlayers:\n  - conv: {filters: 8, kernel: 3, bias: false}\n"
            "  - conv: {filters: 8, kernel: 3, bias: false}\n  - max_pool: {kernel: 2}\n")
    back = backward_kernels(kernels(a, training=True))
    # the pool's backward, then conv 2's input and weight gradients, then conv 1's weight
    # gradient only: its input is the network's
    assert [k.op for k in back] == [Op.ELEMENTWISE, Op.GEMM, Op.GEMM, Op.GEMM]
    assert [k.batch_in_k for k in back[1:]] == [False, True, True]
    dgrad = back[1]  # M = 8 x 8 output positions, N = Cin 8, K = Cout 8 x 3 x 3: the forward's MACs
    assert (dgrad.m, dgrad.n, dgrad.k) == (64, 8, 72)
    macs1, macs2 = 9 * 4 * 8 * 64, 9 * 8 * 8 * 64  # per image, forward
    times = estimate(a, load_device("h100-sxm"), Dtype.FP16, batch=2, optimizer=Optimizer.SGD)
    conv1, conv2 = times[0], times[1]  # FLOPs = 2 x MACs x batch 2, per GEMM
    assert conv1.flops == 2 * (2 * 2 * macs1) and conv2.flops == 3 * (2 * 2 * macs2)
    step = times[-1]  # one update of the 864 weights: read w and g, write w, in fp32
    assert step.node is a.root and step.bytes_moved == 864 * 3 * 4


def _roofline(*args):
    result = CliRunner().invoke(cli, ["roofline", "googlenet", *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("command", [["memory", "googlenet-torchvision", "--optimizer", "momentum"],
                                     ["roofline", "googlenet"], ["compare", "naive", "reduced"],
                                     ["factorize", "googlenet", "-m", "3a"],
                                     # without a device too (it was timed only with one, so passed)
                                     ["sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=4..8:4"]])
def test_training_in_int8_is_refused(command):
    result = CliRunner().invoke(cli, [*command, "--train", "--dtype", "int8"])
    assert result.exit_code == 4  # usage, as the README's table says
    assert result.stderr.strip() == ("inception-cost: --train with --dtype int8: a training step runs in"
                                     " fp32, bf16 or fp16 (int8 is for inference only)")
    # int8 inference stays what it was
    assert CliRunner().invoke(cli, [*command, "--dtype", "int8"]).exit_code == 0


def test_training_in_int8_is_refused_by_the_library_too():
    from inception_cost.errors import UsageError
    from inception_cost.estimates.devices import load_device
    from inception_cost.estimates.roofline import estimate

    a = net(SMALL)
    with pytest.raises(UsageError, match="int8 is for inference only"):
        training_memory(a, Dtype.INT8, 1, Optimizer.SGD)
    with pytest.raises(UsageError, match="int8 is for inference only"):
        estimate(a, load_device("h100-sxm"), Dtype.INT8, 1, optimizer=Optimizer.SGD)


def _json(*args):
    result = CliRunner().invoke(cli, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_layer_scope_is_the_layer_and_the_update_its_own_row():
    """Inference: the 5x5 conv of 3a/5x5 is its own row (it was labelled as the optimizer)."""
    (row,) = _roofline("-m", "3a/5x5/conv_2")["sections"][0]["rows"]
    assert (row["layer"], row["path"], row["flops"], row["kernels"]) == (
        "conv 5x5 32", "3a/5x5/conv_2", 2 * 25 * 16 * 32 * 28 * 28, 5)
    conv, step = _roofline("-m", "3a/5x5/conv_2", "--train")["sections"][0]["rows"]
    # forward, input gradient and weight gradient: three times the forward's 20,070,400 FLOPs
    assert (conv["layer"], conv["flops"], conv["kernels"]) == ("conv 5x5 32", 3 * 20_070_400, 13)
    # SGD on its 12,832 parameters: fp32 weights and gradients read, weights written
    assert (step["layer"], step["kernels"], step["bytes_moved"]) == ("optimizer step (sgd)", 1, 12_832 * 3 * 4)


@pytest.mark.parametrize("scope", ["3a", "3a/5x5", "3a/5x5/conv_1", "conv1", "4a/pool"])
def test_a_layer_costs_the_same_whatever_the_scope(scope):
    """A layer's input gradient is computed unless the layer reads the network's input,
    whichever layer the scope starts with: every row equals the whole network's row."""
    whole = {r["path"]: r for r in _roofline("--layers", "--train")["sections"][0]["rows"]}
    rows = _roofline("-m", scope, "--train")["sections"][0]["rows"]
    assert rows[-1]["layer"] == "optimizer step (sgd)" and rows[-1]["path"] == scope
    assert [r["path"] for r in rows[:-1]] == [p for p in whole if p == scope or p.startswith(f"{scope}/")]
    keys = ("flops", "bytes_moved", "kernels", "time_us")
    for row in rows[:-1]:
        assert {k: row[k] for k in keys} == {k: whole[row["path"]][k] for k in keys}, row["path"]
    # by hand: forward + input gradient + weight gradient, 3 x the forward; conv1 reads the image: 2 x
    assert whole["3a/5x5/conv_1"]["flops"] == 3 * 2 * 192 * 16 * 28 * 28 == 14_450_688
    assert whole["3a/1x1/conv_1"]["flops"] == 3 * 2 * 192 * 64 * 28 * 28 == 57_802_752
    assert whole["conv1/conv_1"]["flops"] == 2 * 2 * 49 * 3 * 64 * 112 * 112 == 472_055_808


def test_only_the_layers_that_read_the_network_s_input_have_no_input_gradient():
    from inception_cost.estimates.kernels import Op, backward_kernels, kernels

    a = net("""input: 8x8x4
layers:
  - identity
  - concat:
      a: [{conv: {filters: 8, kernel: 1, bias: false}}]
      b: [{conv: {filters: 8, kernel: 1, bias: false}}, {conv: {filters: 8, kernel: 1, bias: false}}]
""")
    forward = kernels(a, training=True)
    # the identity is a view: both branches' first convs read the image; b's second reads
    # b's first; the concat's copy reads the branches
    assert [(k.op, k.reads_input) for k in forward] == [
        (Op.GEMM, True), (Op.GEMM, True), (Op.GEMM, False), (Op.COPY, False)]
    back = backward_kernels(forward)
    assert [(k.owner.path, k.batch_in_k) for k in back] == [
        ("b/conv_2", False), ("b/conv_2", True), ("b/conv_1", True), ("a/conv_1", True)]


def test_dropout_is_a_masked_pass_in_training():
    """Inference: a view, no kernel. Training: read the input, write the output and a
    1-byte mask; backward: read the output gradient and the mask, write the input gradient."""
    from inception_cost.estimates.kernels import backward_kernels, kernels

    a = net("input: 4x4x8\nlayers:\n  - conv: {filters: 8, kernel: 1}\n  - dropout: {rate: 0.3}\n")
    assert [k.owner.kind for k in kernels(a)] == ["conv", "conv"]  # the GEMM and its bias
    forward = kernels(a, training=True)
    drop = forward[-1]
    assert (drop.owner.kind, drop.inputs, drop.outputs, drop.side_bytes) == ("dropout", 128, 128, 128)
    assert drop.activation_bytes(4, 32) == (128 + 128) * 4 * 32 + 128 * 32
    grad = backward_kernels(forward)[0]
    assert (grad.owner.kind, grad.inputs, grad.outputs, grad.side_bytes) == ("dropout", 128, 128, 128)
    # GoogLeNet's dropout before the classifier (1,024 values) in fp32 at batch 32, both passes
    rows = {r["path"]: r for r in _roofline("--layers", "--train", "--dtype", "fp32", "--batch", "32")
            ["sections"][0]["rows"]}
    assert rows["dropout/dropout_1"]["kernels"] == 2
    assert rows["dropout/dropout_1"]["bytes_moved"] == 2 * ((1024 + 1024) * 4 + 1024) * 32 == 589_824
    assert rows["dropout/dropout_1"]["time_us"] > 0
    inference = {r["path"]: r for r in _roofline("--layers")["sections"][0]["rows"]}
    assert inference["dropout/dropout_1"]["kernels"] == 0


def test_a_training_sweep_times_a_training_step():
    # the variant as written (#5x5 reduce 16) must take what roofline --train gives the
    # network (2,056.13 µs: forward, backward with dropout's masks, SGD) and its 3a layers (176.31 µs), not the
    # forward pass with aux heads (852.11 µs) that it used to report
    sweep = _json("sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=16..20:4", "--train",
                  "--device", "h100-measured", "--top", "0")
    written = next(r for r in sweep["sections"][0]["rows"] if r["#5x5 reduce"] == 16)
    step = _json("roofline", "googlenet", "--train", "--device", "h100-measured", "--layers")
    assert written["network_time_us"] == pytest.approx(step["totals"]["seconds"] * 1e6, rel=1e-12)
    module = sum(r["time_us"] for r in step["sections"][0]["rows"] if r["path"].startswith("3a/"))
    assert written["time_us"] == pytest.approx(module, rel=1e-12)
    assert (round(written["network_time_us"], 2), round(written["time_us"], 2)) == (2056.13, 176.31)
    note = sweep["sections"][0]["notes"][-2]
    assert note.startswith("Time: one training step (--train: forward, backward and the sgd update")
    # the optimizer's update is the network's, not the module's
    adam = _json("sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=16..20:4", "--train",
                 "--optimizer", "adam", "--device", "h100-measured", "--top", "0")
    with_adam = next(r for r in adam["sections"][0]["rows"] if r["#5x5 reduce"] == 16)
    assert with_adam["time_us"] == written["time_us"]
    assert with_adam["network_time_us"] > written["network_time_us"]
    # without --train, one forward pass, and the note says so
    forward = _json("sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=16..20:4",
                    "--device", "h100-measured", "--top", "0")
    assert forward["sections"][0]["notes"][-2].startswith("Time: one forward pass, by the latency model")


def test_a_training_sweep_counts_twice_the_work_per_layer():
    # 1,024 variants x (88 layers + 20) = 110,592 may be timed as forward passes; a training
    # step prices the backward kernels too: 1,024 x (88 x 2 + 20) = 200,704 is refused
    args = ["sweep", "googlenet", "-m", "3a", "--vary", "#5x5 reduce=4..128:4", "--vary", "#5x5=8..256:8",
            "--device", "h100-measured", "--train"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 4
    assert ("1,024 variants x (88 layers x 2 for a training step + 20) = 200,704 to rebuild and time is more"
            " than the 120,000") in result.stderr


@pytest.mark.parametrize("command", [["roofline", "googlenet"], ["compare", "naive", "reduced"], ["factorize"]])
def test_optimizer_without_train_changes_nothing(command):
    """README (Training): --optimizer only says what --train updates; alone it is ignored."""
    assert _json(*command, "--optimizer", "adam")["totals"] == _json(*command)["totals"]


def test_the_report_says_what_each_activation_saves():
    """The training section's note names the activations that save their output as the
    memory walk counts them (SAVES_OUTPUT and softmax): elu saves its input, out of place."""
    from inception_cost.estimates.training import SAVES_OUTPUT

    result = CliRunner().invoke(cli, ["memory", "googlenet", "--train", "--dtype", "fp32"])
    assert result.exit_code == 0, result.output
    note = next(line for line in result.output.splitlines() if line.startswith("Saved: "))
    outputs = note.split(" outputs (other activations their input)")[0].rsplit(" ", 1)[-1].split("/")
    assert outputs == [*SAVES_OUTPUT, "softmax"], note
