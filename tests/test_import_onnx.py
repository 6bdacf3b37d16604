"""Small ONNX graphs built with onnx.helper: each operator's reading, structure recovery,
and every kind of bad file (one line, a documented exit code)."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

import inception_cost as ic
from inception_cost.cli import cli
from inception_cost.errors import ArchitectureError, ExitCode, ShapeError
from inception_cost.importers import import_model

onnx = pytest.importorskip("onnx")
helper, TensorProto = onnx.helper, onnx.TensorProto


from onnx_graphs import save as save_graph  # noqa: E402
from onnx_graphs import weight  # noqa: E402  (after the importorskip)


def save(tmp_path, nodes, inits, size=(3, 32, 32), name="net", inputs=None, value_info=()):
    """With a dynamic batch, as the exporters write it."""
    return save_graph(tmp_path, nodes, inits, size, name, batch="N", inputs=inputs or (), value_info=value_info)


def conv(name, x, out, w, cin, cout, k=3, bias=True, **attrs):
    inputs = [x, f"{w}.w"] + ([f"{w}.b"] if bias else [])
    inits = [weight(f"{w}.w", cout, cin // attrs.get("group", 1), k, k)] + ([weight(f"{w}.b", cout)] if bias else [])
    return helper.make_node("Conv", inputs, [out], name=name, kernel_shape=[k, k], **attrs), inits


def test_conv_bn_relu_pool_gemm_counts_by_formula(tmp_path):
    c1, i1 = conv("/stem/conv/Conv", "x", "c", "stem", 3, 16, pads=[1, 1, 1, 1], strides=[2, 2], bias=False)
    nodes = [c1,
             helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="/stem/bn/BN"),
             helper.make_node("Relu", ["n"], ["r"], name="/stem/Relu"),
             helper.make_node("MaxPool", ["r"], ["p"], name="/pool/MaxPool", kernel_shape=[3, 3], strides=[2, 2],
                              ceil_mode=1),
             helper.make_node("GlobalAveragePool", ["p"], ["g"], name="/avgpool/GlobalAveragePool"),
             helper.make_node("Flatten", ["g"], ["f"], name="/Flatten"),
             helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="/fc/Gemm", transB=1)]
    inits = i1 + [weight(n, 16) for n in "sbmv"] + [weight("fc.w", 10, 16), weight("fc.b", 10)]
    cost = ic.analyse(save(tmp_path, nodes, inits))
    conv_macs = 3 * 3 * 3 * 16 * 16 * 16  # 32x32 -> 16x16 at stride 2, padding 1
    assert cost.macs == conv_macs + 16 * 10
    assert cost.params == 3 * 3 * 3 * 16 + 2 * 16 + 16 * 10 + 10
    assert [c.output_shape for c in cost.children][:2] == [(16, 16, 16), (8, 8, 16)]  # ceil: (16-3)/2 -> 8


def test_inception_concat_residual_and_gate(tmp_path):
    a, ia = conv("/m/a/Conv", "x", "a", "a", 8, 4, k=1)
    b, ib = conv("/m/b/Conv", "x", "b", "b", 8, 4, k=3, pads=[1, 1, 1, 1])
    body, ibody = conv("/res/body/Conv", "cat", "body", "body", 8, 8, k=3, pads=[1, 1, 1, 1])
    fc, ifc = conv("/se/fc/Conv", "gap", "fc", "fc", 8, 8, k=1)
    nodes = [a, b, helper.make_node("Concat", ["a", "b"], ["cat"], name="/m/Concat", axis=1),
             body, helper.make_node("Add", ["body", "cat"], ["sum"], name="/res/Add"),
             helper.make_node("GlobalAveragePool", ["sum"], ["gap"], name="/se/avgpool/GlobalAveragePool"),
             fc, helper.make_node("Sigmoid", ["fc"], ["sig"], name="/se/Sigmoid"),
             helper.make_node("Mul", ["sig", "sum"], ["y"], name="/se/Mul")]
    path = save(tmp_path, nodes, ia + ib + ibody + ifc, size=(8, 8, 8))
    text = import_model(path).text
    assert "name: m\n    layers:\n      - concat:\n          a:" in text
    assert "- residual:" in text and "- gate:" in text
    cost = ic.analyse(path)
    assert cost.macs == 8 * 4 * 64 + 9 * 8 * 4 * 64 + 9 * 8 * 8 * 64 + 8 * 8
    assert cost.output_shape == (8, 8, 8)


def test_silu_pads_and_matmul_bias(tmp_path):
    c1, i1 = conv("/c/Conv", "padded", "c", "c", 3, 4, k=3)
    nodes = [helper.make_node("Pad", ["x", "pads"], ["padded"], name="/pad/Pad"),
             c1, helper.make_node("Sigmoid", ["c"], ["s"], name="/act/Sigmoid"),
             helper.make_node("Mul", ["c", "s"], ["silu"], name="/act/Mul"),
             helper.make_node("Flatten", ["silu"], ["f"], name="/Flatten"),
             helper.make_node("MatMul", ["f", "mm.w"], ["mm"], name="/fc/MatMul"),
             helper.make_node("Add", ["mm", "mm.b"], ["y"], name="/fc/Add")]
    pads = helper.make_tensor("pads", TensorProto.INT64, [8], [0, 0, 0, 0, 0, 0, 1, 1])  # bottom, right
    inits = i1 + [pads, weight("mm.w", 4 * 4 * 4, 5), weight("mm.b", 5)]
    path = save(tmp_path, nodes, inits, size=(3, 5, 5))
    text = import_model(path).text
    assert "padding: [[0, 1], [0, 1]]" in text and "activation: silu" in text
    cost = ic.analyse(path)  # 5x5 padded to 6x6, 3x3 valid: 4x4
    assert cost.macs == 9 * 3 * 4 * 16 + 64 * 5 and cost.params == 9 * 3 * 4 + 4 + 64 * 5 + 5



def test_maxpool_padded_on_one_side(tmp_path):
    """ONNX MaxPool pads [0, 0, 1, 1] (bottom and right, as TensorFlow exports write 'same'):
    read as padding [[0, 1], [0, 1]]; it used to be refused with "cannot read its 'MaxPool'
    attributes ('>' not supported between instances of 'tuple' and 'int')"."""
    c1, i1 = conv("/c/Conv", "x", "c", "c", 3, 4, k=3, pads=[1, 1, 1, 1])
    nodes = [c1, helper.make_node("MaxPool", ["c"], ["y"], name="/pool/MaxPool", kernel_shape=[2, 2],
                                  strides=[2, 2], pads=[0, 0, 1, 1])]
    path = save(tmp_path, nodes, i1, size=(3, 7, 7))
    assert "padding: [[0, 1], [0, 1]]" in import_model(path).text
    cost = ic.analyse(path)  # 7x7 padded to 8x8: 4x4, as onnxruntime and F.pad + max_pool2d give
    assert cost.output_shape == (4, 4, 4) and cost.macs == 9 * 3 * 4 * 49


def test_a_pytorch_file_without_batch_norm_says_zero_biases_may_be_gone(tmp_path):
    """torch 2.13.0's dynamo exporter (torch.onnx.export(..., dynamo=True)) drops every bias
    that is all zeros, not only a folded batch norm's: torchvision 0.28.0 squeezenet1_1, which
    has no batch norm and starts its conv biases at 0, reads as 1,231,552 parameters, the
    model's 1,235,496 less its 3,944 conv biases (1,235,496 with the biases set non-zero);
    mobilenet_v3_small as 2,525,832, 2,542,856 less 2 x 6,056 batch-norm channels, 2,888
    squeeze-and-excitation conv biases and 2,024 linear biases. The note used to name
    batch norm alone."""
    c1, i1 = conv("/c/Conv", "x", "y", "c", 3, 8, k=3, bias=False)
    path = save(tmp_path, [c1], i1)
    model = onnx.load(path)
    model.producer_name = "pytorch"
    onnx.save(model, path)
    notes = ic.analyse(path).to_markdown()
    assert "Batch norm: none in the graph. If the model had batch norm, the exporter folded it" in notes
    assert "drops every bias that is all zeros, a folded shift or a conv's or linear layer's own" in notes

def test_weights_as_graph_inputs_or_missing_data(tmp_path):
    c1, i1 = conv("/c/Conv", "x", "y", "c", 3, 8, k=3)
    as_inputs = [helper.make_tensor_value_info(t.name, TensorProto.FLOAT, list(t.dims)) for t in i1]
    assert ic.analyse(save(tmp_path, [c1], [], inputs=as_inputs)).params == 3 * 9 * 8 + 8
    # weights stored outside the file, and the data file gone
    model = onnx.load(save(tmp_path, [c1], i1, name="inline"))
    external = tmp_path / "external.onnx"
    onnx.save(model, str(external), save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)
    (tmp_path / "weights.bin").unlink()
    assert ic.analyse(str(external)).params == 3 * 9 * 8 + 8


def test_unknown_operator_is_refused_or_skipped(tmp_path):
    c1, i1 = conv("/c/Conv", "x", "c", "c", 3, 8, k=3)
    nodes = [c1, helper.make_node("Erf", ["c"], ["y"], name="/odd/Erf")]
    path = save(tmp_path, nodes, i1)
    with pytest.raises(ArchitectureError) as err:
        ic.analyse(path)
    assert str(err.value) == (f"{path}: node '/odd/Erf': unknown operator 'Erf' (--skip-unknown counts such"
                              " nodes as zero)")
    cost = ic.analyse(path, skip_unknown=True)
    assert cost.macs == 9 * 3 * 8 * 30 * 30
    assert "Skipped: 1 node of operators inception-cost does not know, counted as zero (Erf x1)." in \
        cost.to_markdown()
    result = CliRunner().invoke(cli, [path])
    assert result.exit_code == ExitCode.INVALID_ARCHITECTURE and "unknown operator 'Erf'" in result.output
    assert CliRunner().invoke(cli, [path, "--skip-unknown"]).exit_code == 0
    for command in (["memory"], ["roofline"], ["explain"], ["factorize"], ["compare", "googlenet"]):
        said = CliRunner().invoke(cli, [*command, path, "--skip-unknown"])
        assert said.exit_code == 0, (command, said.output)
        assert "inception-cost: net: Skipped: 1 node of operators" in said.stderr, command
    # import too: its YAML's notes name them, and so does stderr, where -o leaves nothing else
    imported = CliRunner().invoke(cli, ["import", path, "--skip-unknown", "-o", str(tmp_path / "net.yaml")])
    assert imported.exit_code == 0, imported.output
    assert "inception-cost: net: Skipped: 1 node of operators" in imported.stderr


def test_bad_files(tmp_path):
    c1, i1 = conv("/c/Conv", "x", "y", "c", 3, 8, k=3)
    good = save(tmp_path, [c1], i1)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(open(good, "rb").read()[:100])
    with pytest.raises(ArchitectureError, match="not a readable ONNX model"):
        ic.analyse(str(truncated))
    with pytest.raises(ArchitectureError, match="dynamic height"):
        ic.analyse(save(tmp_path, [c1], i1, size=(3, "H", 32), name="dynamic"))
    with pytest.raises(ArchitectureError, match="no such file"):
        ic.analyse(str(tmp_path / "missing.onnx"))
    # a cycle: two nodes that read each other
    cyc = [helper.make_node("Relu", ["x2"], ["x1"], name="a"), helper.make_node("Add", ["x", "x1"], ["x2"], name="b"),
           helper.make_node("Relu", ["x2"], ["y"], name="c")]
    with pytest.raises(ArchitectureError, match="a cycle"):
        ic.analyse(save(tmp_path, cyc, [], name="cycle"))
    wide, iw = conv("/w/Conv", "x", "y", "w", 4, 8, k=3)  # expects 4 input channels, gets 3
    with pytest.raises(ShapeError, match="need 4 input channels, got 3"):
        ic.analyse(save(tmp_path, [wide], iw, name="wide"))


def test_a_file_over_the_limit_says_how_to_read_it(tmp_path, monkeypatch):
    from inception_cost.importers import onnx_reader

    c1, i1 = conv("/c/Conv", "x", "y", "c", 3, 8, k=3)
    good = save(tmp_path, [c1], i1)
    monkeypatch.setattr(onnx_reader, "MAX_FILE_BYTES", 100)
    with pytest.raises(ArchitectureError) as err:
        ic.analyse(good)
    assert str(err.value).endswith("bytes, more than the 100 bytes an ONNX model may have (export its"
                                   " weights as external data, which are not read, to read a larger one)")


def test_tangled_graph_is_refused_by_name(tmp_path):
    a, ia = conv("/a/Conv", "x", "a", "a", 3, 3, k=1)
    nodes = [a, helper.make_node("Relu", ["a"], ["r"], name="/r/Relu"),
             helper.make_node("Add", ["x", "r"], ["s"], name="/s/Add"),
             helper.make_node("Add", ["s", "a"], ["y"], name="/t/Add")]  # 'a' read again after the merge
    with pytest.raises(ArchitectureError, match="does not nest as branches and merges"):
        ic.analyse(save(tmp_path, nodes, ia))


def test_without_the_onnx_package(tmp_path, monkeypatch):
    c1, i1 = conv("/c/Conv", "x", "y", "c", 3, 8, k=3)
    path = save(tmp_path, [c1], i1)
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = CliRunner().invoke(cli, [path])
    assert result.exit_code == ExitCode.USAGE
    assert result.output.strip() == ("inception-cost: reading ONNX files needs the 'onnx' package: pip install"
                                     " 'inception-cost[onnx]'")


def test_import_command_writes_yaml_that_analyses_the_same(tmp_path):
    c1, i1 = conv("/stem/Conv", "x", "y", "stem", 3, 8, k=3, pads=[1, 1, 1, 1])
    path = save(tmp_path, [c1], i1)
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(cli, ["import", path, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "8,000 params" not in result.output and f"{out}: net, input 32x32x3, 224 params" in result.output
    assert ic.analyse(str(out)).macs == ic.analyse(path).macs == 27 * 8 * 1024
    again = CliRunner().invoke(cli, ["import", path, "-o", str(out)])
    assert again.exit_code == ExitCode.OUTPUT_NOT_WRITTEN
    not_model = CliRunner().invoke(cli, ["import", "googlenet"])
    assert not_model.exit_code == ExitCode.USAGE and "import reads model files" in not_model.output
    for command in (["memory"], ["roofline"], ["explain"], ["export"]):
        assert CliRunner().invoke(cli, [*command, path]).exit_code == 0, command
    assert CliRunner().invoke(cli, ["compare", path, str(out)]).exit_code == 0


def test_residual_scale(tmp_path):
    """Inception-ResNet's `x + 0.17 * body(x)`: a residual with its scale."""
    body, ib = conv("/block/conv/Conv", "x", "b", "block", 3, 3, k=1)
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [0.17])
    nodes = [body, helper.make_node("Mul", ["b", "scale"], ["s"], name="/block/Mul"),
             helper.make_node("Add", ["s", "x"], ["y"], name="/block/Add")]
    path = save(tmp_path, nodes, ib + [scale])
    assert "- residual:\n" in import_model(path).text and "scale: 0.17" in import_model(path).text
    assert ic.analyse(path).macs == 9 * 32 * 32


def test_pad_computed_at_run_time_is_same_padding(tmp_path):
    """timm's pad_same: the amounts come from the input's shape at run time; the conv that
    reads it pads as TensorFlow's 'same' does."""
    c1, i1 = conv("/c/Conv", "padded", "y", "c", 3, 4, k=3, strides=[2, 2])
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="/pad/Shape"),
             helper.make_node("Cast", ["shape"], ["amounts"], name="/pad/Cast", to=TensorProto.INT64),
             helper.make_node("Pad", ["x", "amounts"], ["padded"], name="/pad/Pad"), c1]
    path = save(tmp_path, nodes, i1, size=(3, 15, 15))
    cost = ic.analyse(path)
    assert cost.output_shape == (8, 8, 4) and cost.macs == 27 * 4 * 64  # ceil(15 / 2) = 8
    assert "Pad nodes compute their amounts at run time" in cost.to_markdown()


def test_malformed_graphs_are_one_line_errors(tmp_path):
    """Attributes, inputs and weight shapes of a small graph replaced by wrong ones (seeded):
    a report or a one-line error with a documented exit code, never an internal error."""
    import random

    rng = random.Random(5)
    c1, i1 = conv("/stem/conv/Conv", "x", "c", "stem", 3, 8, pads=[1, 1, 1, 1])
    base_nodes = [c1, helper.make_node("MaxPool", ["c"], ["p"], name="/pool", kernel_shape=[2, 2], strides=[2, 2]),
                  helper.make_node("Concat", ["p", "p"], ["cat"], name="/cat", axis=1),
                  helper.make_node("GlobalAveragePool", ["cat"], ["g"], name="/gap"),
                  helper.make_node("Flatten", ["g"], ["f"], name="/flat"),
                  helper.make_node("Gemm", ["f", "fc.w"], ["y"], name="/fc", transB=1)]
    values = [[0], [-1, -1], [1, 2, 3], [10**7, 10**7], [0, 0, 0, 0], [5, 5, 5, 5], 0, -3, 7]
    for trial in range(120):
        nodes = [helper.make_node(n.op_type, list(n.input), list(n.output), name=n.name,
                                  **{a.name: helper.get_attribute_value(a) for a in n.attribute})
                 for n in base_nodes]
        inits = list(i1) + [weight("fc.w", 10, 16)]
        node = rng.choice(nodes)
        what = rng.choice(["attr", "input", "dims"])
        if what == "attr":
            node.attribute.append(helper.make_attribute(
                rng.choice(["kernel_shape", "strides", "pads", "dilations", "group", "axis", "transB"]),
                rng.choice(values)))
            names = [a.name for a in node.attribute]
            if len(names) != len(set(names)):  # replace, not add
                kept = {a.name: a for a in node.attribute}
                del node.attribute[:]
                node.attribute.extend(kept.values())
        elif what == "input":
            node.input[rng.randrange(len(node.input))] = rng.choice(["", "x", "nothing", "fc.w", "c"])
        else:
            dims = rng.choice([[8, 3, 3], [8, 5, 3, 3], [0, 3, 3, 3], [10, 99]])
            inits[rng.randrange(len(inits))] = weight(rng.choice(["stem.w", "fc.w"]), *[max(d, 1) for d in dims])
        path = save(tmp_path, nodes, inits, name=f"m{trial}")
        result = CliRunner().invoke(cli, [path])
        assert result.exit_code in (0, ExitCode.SHAPE_MISMATCH, ExitCode.INVALID_ARCHITECTURE), result.output
        assert result.exit_code == 0 or len(result.output.strip().splitlines()) == 1, result.output


def test_reduce_mean_is_a_mean_unless_the_exporter_names_a_pool(tmp_path):
    """torch's legacy exporter writes x.mean([2, 3]) as ReduceMean (torchvision 0.28.0's
    mnasnet1_0: fvcore 0.1.5 counts 325,329,152, no pool) and AdaptiveAvgPool2d as
    GlobalAveragePool; its dynamo exporter writes both as ReduceMean and names the module, or
    the F.adaptive_avg_pool2d call, in the node's metadata (resnet18, densenet121). Read as a
    pool, the mean was counted by fvcore and thop: 1 per input element (62,720 in MNASNet)."""
    def reduced(name, metadata=None):
        c1, i1 = conv("/c/Conv", "x", "c", "c", 3, 8, k=3, pads=[1, 1, 1, 1])
        mean = helper.make_node("ReduceMean", ["c"], ["m"], name="/ReduceMean", axes=[2, 3], keepdims=0)
        for key, value in (metadata or {}).items():
            mean.metadata_props.add(key=key, value=value)
        gemm = helper.make_node("Gemm", ["m", "fc.w", "fc.b"], ["y"], name="/fc/Gemm", transB=1)
        return save(tmp_path, [c1, mean, gemm], i1 + [weight("fc.w", 10, 8), weight("fc.b", 10)], name=name)

    macs = 9 * 3 * 8 * 32 * 32 + 8 * 10
    pool_input = 8 * 32 * 32
    hierarchy, trace = "pkg.torch.onnx.class_hierarchy", "pkg.torch.onnx.stack_trace"
    cases = {"legacy": ({}, 0, 0),
             "module": ({hierarchy: "['m.ResNet', 'torch.nn.modules.pooling.AdaptiveAvgPool2d', 'aten.mean.dim']",
                         trace: 'File "pooling.py", line 1512, in forward\n    return F.adaptive_avg_pool2d(input, 1)'},
                        pool_input, pool_input + 8),
             "function": ({hierarchy: "['m.DenseNet', 'aten.mean.dim']",
                           trace: 'File "densenet.py", line 215, in forward\n    out = F.adaptive_avg_pool2d(out, 1)'},
                          pool_input, 0),
             "dynamo_mean": ({hierarchy: "['m.MNASNet', 'aten.mean.dim']",
                              trace: 'File "mnasnet.py", line 161, in forward\n    x = x.mean([2, 3])'}, 0, 0)}
    for name, (metadata, fvcore, thop) in cases.items():
        path = reduced(name, metadata)
        assert ic.analyse(path).macs == macs, name
        assert ic.analyse(path, convention="fvcore").macs == macs + fvcore, name
        assert ic.analyse(path, convention="thop").macs == macs + thop, name
    written = import_model(reduced("legacy")).text
    assert "- global_avg_pool: {name: reducemean, mean: true}\n" in written, written


def test_a_node_that_cannot_be_skipped_says_why(tmp_path):
    """torchvision 0.28.0's convnext_tiny (torch 2.13.0 export) starts with a Transpose to
    channels last (read since as a layout change); --skip-unknown said "it has 1 data inputs
    and 1 outputs, or changes the shape", as if one input and one output were the fault."""
    c1, i1 = conv("/c/Conv", "x", "c", "c", 3, 8, k=3)
    cases = {
        "reshaping": ([helper.make_node("DepthToSpace", ["c"], ["y"], name="/t/DepthToSpace", blocksize=2)],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 60, 60])],
                      "it changes the shape, 8x30x30 in and 2x60x60 out (C x H x W)"),
        "two": ([helper.make_node("Relu", ["c"], ["r"], name="/r/Relu"),
                 helper.make_node("Max", ["c", "r"], ["y"], name="/m/Max")], [], "it reads 2 computed tensors"),
        "two_outputs": ([helper.make_node("TopK", ["c", ""], ["y", "z"], name="/t/TopK", axis=1)], [],
                        "it has 2 outputs"),
    }
    for name, (nodes, info, why) in cases.items():
        path = save(tmp_path, [c1, *nodes], i1, name=name, value_info=info)
        with pytest.raises(ArchitectureError) as err:
            ic.analyse(path, skip_unknown=True)
        node = nodes[-1].name
        assert str(err.value) == (f"{path}: node '{node}': cannot skip '{nodes[-1].op_type}': {why}; a skipped"
                                  " node must keep its one input's shape"), name


def ints(name, values, dims=None):
    """An int64 Constant node (a scalar where dims is [])."""
    tensor = helper.make_tensor(f"{name}.t", TensorProto.INT64, [len(values)] if dims is None else dims, values)
    return helper.make_node("Constant", [], [name], name=f"/{name}/Constant", value=tensor)


def shufflenet_units(tmp_path, legacy, name="shuffle"):
    """A ShuffleNetV2 stride-2 unit then a stride-1 unit (8 -> 16 channels, 8x8 -> 4x4) and a
    head, as torch 2.13.0 exports torchvision's shufflenet_v2_x1_0: the legacy exporter
    writes x.chunk(2, dim=1) as two Slices whose bounds come from the input's Shape
    (Gather, Add, Div, Mul) and the shuffle's targets as Concats of Unsqueezed Constants;
    the dynamo exporter a Split and initializer targets."""
    nodes, inits = [], []

    def add(node_init):
        node, init = node_init
        nodes.append(node)
        inits.extend(init)

    def shuffle(unit, x, out, channels):
        shapes = {"five": [1, 2, channels // 2, 4, 4], "four": [1, channels, 4, 4]}
        if legacy:
            for key, dims in shapes.items():
                parts = []
                for i, d in enumerate(dims):
                    nodes.extend([ints(f"{unit}{key}{i}", [d], []), ints(f"{unit}{key}{i}ax", [0])])
                    nodes.append(helper.make_node("Unsqueeze", [f"{unit}{key}{i}", f"{unit}{key}{i}ax"],
                                                  [f"{unit}{key}{i}u"], name=f"/{unit}/Unsqueeze_{key}{i}"))
                    parts.append(f"{unit}{key}{i}u")
                nodes.append(helper.make_node("Concat", parts, [f"{unit}{key}"], name=f"/{unit}/Concat_{key}", axis=0))
        else:
            inits.extend(helper.make_tensor(f"{unit}{key}", TensorProto.INT64, [len(d)], d)
                         for key, d in shapes.items())
        nodes.extend([helper.make_node("Reshape", [x, f"{unit}five"], [f"{unit}g"], name=f"/{unit}/Reshape"),
                      helper.make_node("Transpose", [f"{unit}g"], [f"{unit}t"], name=f"/{unit}/Transpose",
                                       perm=[0, 2, 1, 3, 4]),
                      helper.make_node("Reshape", [f"{unit}t", f"{unit}four"], [out], name=f"/{unit}/Reshape_1")])

    def branch(unit, x, out, channels, stride):
        add(conv(f"/{unit}/branch2/branch2.0/Conv", x, f"{unit}a", f"{unit}.b2.0", channels, 8, k=1, bias=False))
        nodes.append(helper.make_node("Relu", [f"{unit}a"], [f"{unit}ar"], name=f"/{unit}/branch2/branch2.2/Relu"))
        add(conv(f"/{unit}/branch2/branch2.3/Conv", f"{unit}ar", f"{unit}b", f"{unit}.b2.3", 8, 8, k=3, bias=False,
                 group=8, pads=[1, 1, 1, 1], strides=[stride, stride]))
        add(conv(f"/{unit}/branch2/branch2.5/Conv", f"{unit}b", f"{unit}c", f"{unit}.b2.5", 8, 8, k=1, bias=False))
        nodes.append(helper.make_node("Relu", [f"{unit}c"], [out], name=f"/{unit}/branch2/branch2.7/Relu"))

    add(conv("/stage2.0/branch1/branch1.0/Conv", "x", "d", "s0.b1.0", 8, 8, k=3, bias=False, group=8,
             pads=[1, 1, 1, 1], strides=[2, 2]))
    add(conv("/stage2.0/branch1/branch1.2/Conv", "d", "e", "s0.b1.2", 8, 8, k=1, bias=False))
    nodes.append(helper.make_node("Relu", ["e"], ["b1"], name="/stage2.0/branch1/branch1.4/Relu"))
    branch("stage2.0", "x", "b2", 8, 2)
    nodes.append(helper.make_node("Concat", ["b1", "b2"], ["cat0"], name="/stage2.0/Concat", axis=1))
    shuffle("stage2.0", "cat0", "u0", 16)
    if legacy:
        nodes += [helper.make_node("Shape", ["u0"], ["shape"], name="/stage2.1/Shape"), ints("one", [1]),
                  ints("two", [2]), ints("zero", [0]),
                  helper.make_node("Gather", ["shape", "one"], ["c"], name="/stage2.1/Gather", axis=0),
                  helper.make_node("Add", ["c", "one"], ["c1"], name="/stage2.1/Add"),
                  helper.make_node("Div", ["c1", "two"], ["half"], name="/stage2.1/Div"),
                  helper.make_node("Mul", ["half", "one"], ["end1"], name="/stage2.1/Mul"),
                  helper.make_node("Mul", ["half", "two"], ["end2"], name="/stage2.1/Mul_1"),
                  helper.make_node("Slice", ["u0", "zero", "end1", "one"], ["x1"], name="/stage2.1/Slice"),
                  helper.make_node("Slice", ["u0", "end1", "end2", "one"], ["x2"], name="/stage2.1/Slice_1")]
    else:
        nodes.append(helper.make_node("Split", ["u0"], ["x1", "x2"], name="/stage2.1/Split", axis=1))
    branch("stage2.1", "x2", "b3", 8, 1)
    nodes.append(helper.make_node("Concat", ["x1", "b3"], ["cat1"], name="/stage2.1/Concat", axis=1))
    shuffle("stage2.1", "cat1", "u1", 16)
    nodes += [helper.make_node("GlobalAveragePool", ["u1"], ["gap"], name="/GlobalAveragePool"),
              helper.make_node("Flatten", ["gap"], ["f"], name="/Flatten"),
              helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="/fc/Gemm", transB=1)]
    inits += [weight("fc.w", 10, 16), weight("fc.b", 10)]
    return save(tmp_path, nodes, inits, size=(8, 8, 8), name=name)


# stride 2 at 8x8 -> 4x4: depthwise 3x3 and 1x1 (branch1); 1x1 at 8x8, depthwise /2, 1x1 (branch2);
# stride 1 at 4x4 on 8 of the 16 channels: 1x1, depthwise 3x3, 1x1; the head's linear layer
SHUFFLE_MACS = (9 * 8 * 16 + 8 * 8 * 16) + (8 * 8 * 64 + 9 * 8 * 16 + 8 * 8 * 16) \
    + (8 * 8 * 16 + 9 * 8 * 16 + 8 * 8 * 16) + 16 * 10
SHUFFLE_PARAMS = (72 + 64) + (64 + 72 + 64) + (64 + 72 + 64) + 16 * 10 + 10


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "dynamo"])
def test_shufflenet_split_slice_and_channel_shuffle(tmp_path, legacy):
    """torchvision's shufflenet_v2_x1_0 exported by torch 2.13.0 was refused ("'Reshape' of
    116x28x28 to rank 5 is read only as a flatten"); its x.chunk(2, dim=1) (Split, or Slices
    bounded by Shape arithmetic) is now a channel_split per part and its shuffle a
    channel_shuffle, so the YAML written reads back to the same totals."""
    path = shufflenet_units(tmp_path, legacy)
    cost = ic.analyse(path)
    assert (cost.params, cost.macs) == (SHUFFLE_PARAMS, SHUFFLE_MACS)
    assert cost.output_shape == (1, 1, 10)
    text = import_model(path).text
    assert text.count("- channel_shuffle: {name: channel_shuffle, groups: 2}") == 2, text
    assert "- channel_split: {name: split1, part: 1, parts: 2}\n" in text, text
    assert "- channel_split: {name: split2, part: 2, parts: 2}\n" in text, text
    assert "name: stage2.1\n    layers:\n      - concat:\n          split1:\n" \
           "            - channel_split:" in text, text
    written = tmp_path / "net.yaml"
    written.write_text(text)
    for convention in ("torchvision", "fvcore", "thop", "ptflops-aten", "flop-counter"):
        a, b = ic.analyse(path, convention=convention), ic.analyse(str(written), convention=convention)
        assert (a.params, a.macs) == (b.params, b.macs), convention


def test_a_split_part_read_twice_is_one_split_per_reader(tmp_path):
    """A part of a Split read by two convs that are concatenated with the other part: each
    reader's branch starts with its own channel_split (a view: nothing is counted twice)."""
    a, ia = conv("/a/Conv", "p1", "a", "a", 4, 4, k=1)
    b, ib = conv("/b/Conv", "p1", "b", "b", 4, 4, k=1)
    nodes = [helper.make_node("Split", ["x", "sizes"], ["p1", "p2"], name="/Split", axis=1), a, b,
             helper.make_node("Concat", ["a", "b", "p2"], ["y"], name="/Concat", axis=1)]
    sizes = helper.make_tensor("sizes", TensorProto.INT64, [2], [4, 4])
    path = save(tmp_path, nodes, ia + ib + [sizes], size=(8, 4, 4))
    text = import_model(path).text
    assert text.count("- channel_split:") == 3, text
    cost = ic.analyse(path)
    assert cost.macs == 2 * 4 * 4 * 16 and cost.output_shape == (4, 4, 12)


def test_channel_operators_read_only_as_shufflenet_writes_them(tmp_path):
    """A 5-D tensor read by anything but the shuffle's Transpose and Reshape, another
    transposition, an unequal Split or a Slice that is no equal part: one-line errors."""
    c1, i1 = conv("/c/Conv", "x", "c", "c", 3, 8, k=1)
    five = helper.make_tensor("five", TensorProto.INT64, [5], [1, 2, 4, 8, 8])
    four = helper.make_tensor("four", TensorProto.INT64, [4], [1, 8, 8, 8])
    grouped = helper.make_node("Reshape", ["c", "five"], ["g"], name="/Reshape")
    cases = {
        "relu": ([grouped, helper.make_node("Relu", ["g"], ["y"], name="/Relu")], [five],
                 "node '/Relu': 'Relu' reads a 5-D tensor: a 5-D tensor is read only as ShuffleNet's channel shuffle"),
        "perm": ([grouped, helper.make_node("Transpose", ["g"], ["t"], name="/T", perm=[0, 1, 2, 4, 3]),
                  helper.make_node("Reshape", ["t", "four"], ["y"], name="/R")], [five, four],
                 "node '/T': 'Transpose' of a 5-D tensor by [0, 1, 2, 4, 3]"),
        "untransposed": ([grouped, helper.make_node("Reshape", ["g", "four"], ["y"], name="/R")], [five, four],
                         "node '/R': 'Reshape' of a 5-D tensor to 8x8x8"),
        "unequal": ([helper.make_node("Split", ["c", "sizes"], ["y", "z"], name="/S", axis=1)],
                    [helper.make_tensor("sizes", TensorProto.INT64, [2], [3, 5])],
                    "node '/S': 'Split' of 8 channels into [3, 5] is read only as equal parts"),
        "height": ([helper.make_node("Split", ["c"], ["y", "z"], name="/S", axis=2)], [],
                   "node '/S': 'Split' is read only along channels"),
        "slice": ([helper.make_node("Slice", ["c", "s", "e", "a"], ["y"], name="/S")],
                  [helper.make_tensor(n, TensorProto.INT64, [1], [v]) for n, v in (("s", 2), ("e", 6), ("a", 1))],
                  "node '/S': 'Slice' of channels 2:6 of 8 is read only as one of equal parts"),
    }
    for name, (nodes, inits, message) in cases.items():
        path = save(tmp_path, [c1, *nodes], i1 + inits, size=(3, 8, 8), name=name)
        with pytest.raises(ArchitectureError) as err:
            ic.analyse(path)
        assert str(err.value).startswith(f"{path}: {message}"), (name, str(err.value))
        assert "\n" not in str(err.value)
