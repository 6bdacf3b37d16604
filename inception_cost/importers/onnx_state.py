"""The state of reading one ONNX file: which tensors are data (and the op that makes them),
which are weights (their dimensions only), the pads waiting for their conv, and what the
report should say about the file."""

from __future__ import annotations

from typing import Any

from inception_cost.errors import ArchitectureError
from inception_cost.importers.graph import NO_PADS, Graph, Pads
from inception_cost.importers.onnx_arith import fold
from inception_cost.importers.onnx_values import tensor_values

RUN_TIME: Pads = ((-1, -1), (-1, -1))  # a Pad computed at run time: TensorFlow's 'same' (timm's pad_same)

class Reader:
    """The state of one file's reading: which tensors are data (and the op that makes
    them), which are weights (their dimensions), and what to say in the report."""

    def __init__(self, onnx: Any, path: str, skip_unknown: bool) -> None:
        self.onnx = onnx
        self.path = path
        self.skip_unknown = skip_unknown
        self.graph: Graph = None  # type: ignore[assignment]  # set once the input is known
        self.params: dict[str, list[int]] = {}
        self.values: dict[str, list[float] | None] = {}
        self.declared: dict[str, list[int | str]] = {}
        self.data: dict[str, int] = {}
        self.rank: dict[str, int] = {}
        self.pads: dict[str, Pads] = {}
        self.run_time_pads = 0
        self.readers: dict[str, int] = {}  # how many nodes read each tensor
        self.batch_norms = 0
        self.anonymous_biases = 0  # conv biases the exporter made (a batch norm folded into them)
        self.convs = 0
        self.producer = ""  # the exporter's name (pytorch, tf2onnx ...)
        self.integers: set[str] = set()  # size tensors whose values are integers (onnx_arith)
        self.derived: set[str] = set()  # values computed from the image's Shape, not stored (onnx_arith)
        self.grouped: dict[str, tuple[int, bool, str]] = {}  # a channel shuffle's 5-D tensors (onnx_channels)
        self.channels_last: dict[str, str] = {}  # tensor -> the Transpose that made it channels-last
        self.stored: set[str] = set()  # initializers and weight inputs (learned), not Constants

    # -- tensors --

    def name(self, node: Any) -> str:
        return str(node.name or node.output[0])

    def fail(self, node: Any, message: str) -> ArchitectureError:
        return ArchitectureError(message, file=self.path, path=f"node '{self.name(node)}'")

    def source(self, node: Any, index: int = 0) -> int:
        tensor = node.input[index]
        if tensor in self.pads:
            raise self.fail(node, f"'{node.op_type}' reads a padded tensor; inception-cost folds a Pad"
                                  " only into the conv or pool that reads it")
        if tensor not in self.data:
            raise self.fail(node, f"input {index} of '{node.op_type}' must be the image data")
        return self.data[tensor]

    def padded(self, node: Any) -> tuple[int, Pads]:
        tensor = node.input[0]
        pads = self.pads.get(tensor, NO_PADS)
        if tensor not in self.data:
            raise self.fail(node, f"input 0 of '{node.op_type}' must be the image data")
        return self.data[tensor], pads

    def shape(self, node: Any, index: int = 0) -> tuple[int, int, int]:
        return self.graph.ops[self.data[node.input[index]]].shape

    def put(self, node: Any, op: int, rank: int | None = None) -> None:
        self.data[node.output[0]] = op
        self.rank[node.output[0]] = rank if rank is not None else self.rank.get(node.input[0], 4)

    def layer(self, node: Any, kind: str, args: dict[str, Any], source: int | None = None,
              rank: int | None = None) -> None:
        op = self.graph.layer(self.name(node), kind, args,
                              self.source(node) if source is None else source, node.op_type)
        self.put(node, op, rank)

    def alias(self, node: Any) -> None:
        self.put(node, self.source(node))

    def dims(self, node: Any, index: int) -> list[int]:
        tensor = node.input[index] if len(node.input) > index else ""
        dims = self.params.get(tensor)
        if not dims or any(d < 0 for d in dims):
            raise self.fail(node, f"the dimensions of input {index} ('{tensor}') of '{node.op_type}' are"
                                  " not in the file (no initializer, graph input or value_info gives them)")
        return dims

    def constant(self, node: Any, index: int) -> list[float] | None:
        tensor = node.input[index] if len(node.input) > index else ""
        return self.values.get(tensor) if tensor else None

    def output(self, tensor: str) -> int:
        if tensor in self.pads:
            raise ArchitectureError("the output is a padded tensor", file=self.path)
        if tensor in self.grouped:
            raise ArchitectureError("the output is a channel shuffle's 5-D tensor (the shuffle never"
                                    " reshapes back to (N, C, H, W))", file=self.path)
        return self.data[tensor]

    # -- nodes that are not layers --

    def parameter(self, node: Any) -> None:
        """A node that reads no data: a constant, a weight's Identity, a shape computation."""
        attrs = {a.name: a for a in node.attribute}
        for out in node.output:
            self.params[out] = [int(d) for d in self.declared.get(out, []) if isinstance(d, int)]
            self.values[out] = None
        if node.op_type == "Constant" and "value" in attrs:
            tensor = self.onnx.helper.get_attribute_value(attrs["value"])
            self.params[node.output[0]] = [int(d) for d in tensor.dims]
            self.values[node.output[0]] = tensor_values(tensor)
        elif node.op_type == "Identity" and node.input and node.input[0] in self.params:
            self.params[node.output[0]] = self.params[node.input[0]]
            self.values[node.output[0]] = self.values.get(node.input[0])
        fold(self, node)  # sizes computed from a Shape (a Slice's bounds, a Reshape's target)

    def unknown(self, node: Any) -> None:
        data = [i for i in node.input if i in self.data]
        declared = self.declared.get(node.output[0])
        shape = self.shape(node, list(node.input).index(data[0]))
        if not self.skip_unknown:
            raise ArchitectureError(f"unknown operator '{node.op_type}' (--skip-unknown counts such nodes"
                                    " as zero)", file=self.path, path=f"node '{self.name(node)}'")
        outputs = [o for o in node.output if o]
        why = None
        if len(data) > 1:
            why = f"it reads {len(data)} computed tensors"
        elif len(outputs) > 1:
            why = f"it has {len(outputs)} outputs"
        elif declared is not None and nchw(declared) not in (None, shape):
            h, w, c = shape
            shown = "x".join(str(d) for d in declared[1:])
            why = f"it changes the shape, {c}x{h}x{w} in and {shown} out (C x H x W)"
        if why is not None:
            raise self.fail(node, f"cannot skip '{node.op_type}': {why}; a skipped node must keep its one"
                                  " input's shape")
        self.graph.skipped[node.op_type] = self.graph.skipped.get(node.op_type, 0) + 1
        self.layer(node, "identity", {}, source=self.data[data[0]])

    def notes(self) -> list[str]:
        notes = []
        if self.batch_norms:
            notes.append(f"Batch norm: {self.batch_norms} BatchNormalization nodes kept separate; each"
                         " counts its scale and shift (2 per channel) as parameters, as PyTorch does.")
        if self.anonymous_biases:
            notes.append(f"Batch norm folded: {self.anonymous_biases} convolutions carry weights or biases"
                         " the exporter made ('onnx::...'), the sign of a batch norm folded into them (eval"
                         " export). Folding moves each batch norm's scale into the conv weights and its shift"
                         " into a conv bias: 1 parameter per channel where the model had 2 (and no bias), so"
                         " the file counts fewer parameters than the model; MACs are unchanged.")
        elif not self.batch_norms and self.convs and self.producer == "pytorch":
            notes.append("Batch norm: none in the graph. If the model had batch norm, the exporter folded it"
                         " into the convolutions (its scale into the weights, its shift into a bias), so the"
                         " file counts fewer parameters than the model (2 per batch-norm channel, less the"
                         " biases kept); MACs are unchanged. torch's dynamo exporter also drops every bias"
                         " that is all zeros, a folded shift or a conv's or linear layer's own, batch norm or"
                         " not (a freshly initialised model's: torchvision starts SqueezeNet's and"
                         " MobileNetV3's at zero), so those are missing from the count too.")
        if self.run_time_pads:
            notes.append(f"Padding: {self.run_time_pads} Pad nodes compute their amounts at run time; each is"
                         " read as TensorFlow's 'same' padding of the conv or pool that reads it (what"
                         " timm's Conv2dSame and pad_same compute).")
        return notes


def nchw(dims: list[int | str]) -> tuple[int, int, int] | None:
    if len(dims) == 4 and all(isinstance(d, int) for d in dims[1:]):
        _, c, h, w = dims
        assert isinstance(c, int) and isinstance(h, int) and isinstance(w, int)
        return (h, w, c)
    if len(dims) == 2 and isinstance(dims[1], int):
        return (1, 1, dims[1])
    return None
