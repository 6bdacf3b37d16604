"""Hostile ShuffleNet and ConvNeXt patterns in ONNX (channel splits, shuffles, size
arithmetic, layer norms, MatMuls): each is refused in one line, naming the node, or read
with the numbers its kind's formula gives; none is an internal error."""

from __future__ import annotations

import math

import pytest

import inception_cost as ic
from inception_cost.errors import ArchitectureError
from inception_cost.importers import import_model

onnx = pytest.importorskip("onnx")
helper, TensorProto = onnx.helper, onnx.TensorProto


from onnx_graphs import save as save_graph  # noqa: E402  (after the importorskip)
from onnx_graphs import weight  # noqa: E402


def floats(name: str, values: list[float]):
    return helper.make_tensor(name, TensorProto.FLOAT, [len(values)], values)


def ints(name: str, values: list[int]):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def node(op, inputs, outputs, name, **attrs):
    return helper.make_node(op, inputs, outputs if isinstance(outputs, list) else [outputs], name=name, **attrs)


def save(tmp_path, nodes, inits, name, size=(4, 8, 8), opset=17):
    return save_graph(tmp_path, nodes, inits, size, name, opset=opset)


def refused(path: str, node_name: str, message: str) -> None:
    with pytest.raises(ArchitectureError) as err:
        ic.analyse(path)
    assert str(err.value) == f"{path}: node '{node_name}': {message}"


def test_a_split_with_no_outputs_is_refused(tmp_path):
    """It divided the channels by its zero outputs: ZeroDivisionError, exit 1."""
    path = save(tmp_path, [node("Split", ["x"], [], "/s/Split", axis=1), node("Relu", ["x"], "y", "/r/Relu")],
                [], "split0")
    refused(path, "/s/Split", "'Split' with no outputs is not read")


def test_infinite_sizes_are_refused_not_converted(tmp_path):
    """Float tensors (or size arithmetic that overflowed) holding an infinity were passed to
    int(): OverflowError, exit 1, in a Slice's bounds and axes, a Reshape's target, a
    ReduceMean's axes, a Split's sizes (in its own error message) and a Pad's amounts."""
    inf = math.inf
    relu = node("Relu", ["s"], "y", "/r/Relu")

    def slice_(name, starts, ends, axes):
        inits = [floats("st", starts), floats("en", ends), floats("ax", axes)]
        return save(tmp_path, [node("Slice", ["x", "st", "en", "ax"], "s", "/s/Slice"), relu], inits, name)

    # ONNX clamps a bound past the axis: inf starts past the channels, an empty part
    refused(slice_("start", [inf], [4], [1]), "/s/Slice",
            "'Slice' of channels 4:4 of 4 is read only as one of equal parts (x.chunk)")
    refused(slice_("end", [2], [-inf], [1]), "/s/Slice",
            "'Slice' of channels 2:0 of 4 is read only as one of equal parts (x.chunk)")
    refused(slice_("axis", [0], [2], [inf]), "/s/Slice",
            "'Slice' is read only along channels (axis 1), as one of equal parts (x.chunk)")
    # a finite float bound is read as before
    assert "channel_split: {name: s.split2, part: 2, parts: 2}" in import_model(slice_("fine", [2], [4], [1])).text

    shuffle = [node("Reshape", ["x", "t1"], "r1", "/u/Reshape"),
               node("Transpose", ["r1"], "tr", "/u/Transpose", perm=[0, 2, 1, 3, 4]),
               node("Reshape", ["tr", "t2"], "y", "/u/Reshape_1")]
    path = save(tmp_path, shuffle, [floats("t1", [1, inf, 2, 8, 8]), floats("t2", [1, 4, 8, 8])], "reshape")
    with pytest.raises(ArchitectureError, match="node '/u/Reshape': 'Reshape' of 4x8x8 to a shape computed"):
        ic.analyse(path)

    mean = [node("ReduceMean", ["x", "ax"], "y", "/m/ReduceMean")]
    path = save(tmp_path, mean, [floats("ax", [inf, 3])], "mean", opset=18)
    refused(path, "/m/ReduceMean", "'ReduceMean' is read only over height and width (a global average pool)")

    split = [node("Split", ["x", "sp"], ["a", "b"], "/s/Split", axis=1), node("Add", ["a", "b"], "y", "/a/Add")]
    path = save(tmp_path, split, [floats("sp", [inf, inf])], "split")
    refused(path, "/s/Split", "'Split' of 4 channels into [inf, inf] is read only as equal parts (x.chunk)")

    pad = [node("Pad", ["x", "pd"], "p", "/p/Pad"), node("Conv", ["p", "w"], "y", "/c/Conv")]
    path = save(tmp_path, pad, [floats("pd", [0, 0, 1, 1, 0, 0, inf, 1]), weight("w", 4, 4, 1, 1)], "pad",
                opset=13)
    refused(path, "/p/Pad", "'Pad' amounts must be 8 constants in the file (N, C, H, W before and after)")


def test_reduce_mean_axes_out_of_range_are_refused(tmp_path):
    """Axes 6 and 7 (or -6 and -5) of a rank-4 tensor are no axes at all; taken modulo 4 they
    were read as height and width."""
    for name, axes in (("big", [6, 7]), ("negative", [-6, -5])):
        path = save(tmp_path, [node("ReduceMean", ["x"], "y", "/m/ReduceMean", axes=axes)], [], name)
        refused(path, "/m/ReduceMean", "'ReduceMean' is read only over height and width (a global average pool)")
    for name, axes in (("plain", [2, 3]), ("from_end", [-2, -1])):
        path = save(tmp_path, [node("ReduceMean", ["x"], "y", "/m/ReduceMean", axes=axes)], [], name)
        assert "global_avg_pool:" in import_model(path).text


def channels_last(nodes_between, out):
    return [node("Transpose", ["x"], "t", "/t/Transpose", perm=[0, 2, 3, 1]), *nodes_between,
            node("Transpose", [out], "y", "/t/Transpose_1", perm=[0, 3, 1, 2])]


def test_a_layer_norm_bias_of_the_wrong_size_is_refused(tmp_path):
    """Only the scale was checked: a bias of 7 values on 4 channels was read as 4 shifts."""
    ln = [node("LayerNormalization", ["t", "w", "b"], "l", "/l/LayerNormalization", axis=-1)]
    for name, dims in (("seven", [7]), ("square", [3, 3])):
        path = save(tmp_path, channels_last(ln, "l"), [weight("w", 4), weight("b", *dims)], name)
        refused(path, "/l/LayerNormalization", f"'LayerNormalization' bias {dims} does not match 4 channels")
    path = save(tmp_path, channels_last(ln, "l"), [weight("w", 4), weight("b", 4)], "fine")
    assert ic.analyse(path).params == 8


def test_a_matmul_with_the_image_second_is_refused_by_name(tmp_path):
    """W @ x was reported as "cannot read its 'MatMul' attributes ('w')" (a KeyError)."""
    mm = [node("MatMul", ["w", "t"], "m", "/m/MatMul")]
    path = save(tmp_path, channels_last(mm, "m"), [weight("w", 8, 8)], "left")
    refused(path, "/m/MatMul", "'MatMul' with the image data as its second input (W @ x) is not read;"
                               " inception-cost reads x @ W, a linear layer")


def test_an_add_after_a_matmul_is_its_bias_only_when_it_has_one_value_per_output(tmp_path):
    """An Add of a [3, 5, 7] tensor after a MatMul to 16 outputs was taken as its 16 biases."""
    mm = [node("MatMul", ["t", "w"], "m", "/m/MatMul"), node("Add", ["m", "b"], "a", "/m/Add")]
    for dims, params in (([16], 4 * 16 + 16), ([1, 1, 16], 4 * 16 + 16), ([3, 5, 7], 4 * 16)):
        path = save(tmp_path, channels_last(mm, "a"), [weight("w", 4, 16), weight("b", *dims)],
                    "bias" + "x".join(map(str, dims)))
        assert ic.analyse(path).params == params, dims


def test_a_model_of_views_only_or_ending_mid_shuffle_is_refused_without_a_line_number(tmp_path):
    """A graph whose only node slices the channels whole (a view) wrote no layers and was
    refused as 'FILE:4: expected a list of layers', a line of the YAML it had written; a
    graph ending on a channel shuffle's 5-D tensor read as that of its 4-D input."""
    whole = [node("Slice", ["x", "st", "en", "ax"], "y", "/s/Slice")]
    path = save(tmp_path, whole, [ints("st", [0]), ints("en", [100]), ints("ax", [1])], "whole")
    with pytest.raises(ArchitectureError) as err:
        ic.analyse(path)
    assert str(err.value) == f"{path}: the model has no layers: its output is its input, at most reshaped or" \
                             " sliced whole"
    for name, nodes in (("five", [node("Relu", ["x"], "r", "/r/Relu"), node("Reshape", ["r", "t"], "y", "/u/Reshape")]),
                        ("half", [node("Reshape", ["x", "t"], "g", "/u/Reshape"),
                                  node("Transpose", ["g"], "y", "/u/Transpose", perm=[0, 2, 1, 3, 4])])):
        path = save(tmp_path, nodes, [ints("t", [1, 2, 2, 8, 8])], name)
        with pytest.raises(ArchitectureError) as err:
            ic.analyse(path)
        assert str(err.value) == f"{path}: the output is a channel shuffle's 5-D tensor (the shuffle never" \
                                 " reshapes back to (N, C, H, W))", name


def test_a_transpose_of_a_4d_tensor_with_a_perm_of_another_length_is_named_as_such(tmp_path):
    """It was passed to the channel shuffle's reading, which called it an unknown operator."""
    path = save(tmp_path, [node("Transpose", ["x"], "y", "/t/Transpose", perm=[0, 2, 1])], [], "perm3")
    refused(path, "/t/Transpose", "'Transpose' with perm [0, 2, 1] of a rank-4 NCHW tensor is not read;"
            " inception-cost reads a Transpose only as a layout change, NCHW to channels-last (perm 0, 2, 3, 1)"
            " and back (0, 3, 1, 2)")


@pytest.mark.parametrize("dims", [[4], [1, 4]])
def test_a_stored_multiplier_per_channel_of_a_flat_tensor_is_a_layer_scale(tmp_path, dims):
    """[1, C] broadcasts one value per channel over an (N, C) tensor as [C] does: it was read
    as a free product, its C parameters left out."""
    nodes = [node("GlobalAveragePool", ["x"], "p", "/pool/GlobalAveragePool"),
             node("Flatten", ["p"], "f", "/flat/Flatten", axis=1),
             node("Mul", ["f", "gamma"], "y", "/scale/Mul")]
    path = save(tmp_path, nodes, [weight("gamma", *dims)], "flatscale")
    analysis = ic.analyse(path)
    assert analysis.params == 4 and [layer.kind for layer in analysis.node.layers()][-1] == "layer_scale"


def test_the_operation_limit_names_the_node_it_stopped_at(tmp_path, monkeypatch):
    """It said only 'more than 100,000 operations' (here at 3, for speed)."""
    from inception_cost.importers import graph

    monkeypatch.setattr(graph, "MAX_OPS", 3)
    relus = [node("Relu", [f"r{i}" if i else "x"], f"r{i + 1}", f"/r{i}/Relu") for i in range(5)]
    path = save(tmp_path, relus, [], "long")
    with pytest.raises(ArchitectureError) as err:
        ic.analyse(path)
    assert str(err.value).startswith(f"{path}: node '/r") and "more than 3 operations" in str(err.value)
