"""Small ONNX graphs for the importer's tests, built with onnx.helper. Import it after
`pytest.importorskip("onnx")`: onnx is an optional extra."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import onnx
from onnx import TensorProto, helper


def weight(name: str, *dims: int) -> Any:
    """An initializer with its dimensions and zeros: the reader needs only the dimensions."""
    return helper.make_tensor(name, TensorProto.FLOAT, list(dims), bytes(4 * math.prod(dims)), raw=True)


def save(tmp_path: Path, nodes: Sequence[Any], inits: Sequence[Any], size: Sequence[int] = (3, 32, 32),
         name: str = "net", *, batch: int | str = 1, opset: int = 17, inputs: Sequence[Any] = (),
         value_info: Sequence[Any] = ()) -> str:
    """A model of `nodes` reading an image `x` of `batch` x `size` (C, H, W), its output the
    last node's first; the path of the file written."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, *size])
    y = helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)
    graph = helper.make_graph(list(nodes), "g", [x, *inputs], [y], initializer=list(inits),
                              value_info=list(value_info))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return str(path)
