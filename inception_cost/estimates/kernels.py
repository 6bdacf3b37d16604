"""The kernels a framework runs for a network, read from the core's layer table and terms.

What PyTorch (eager, NCHW, cuDNN) launches for inference: every conv and linear layer is
one GEMM-shaped kernel (a conv is an implicit GEMM: M = Hout x Wout per image, N = Cout,
K = Cin/groups x kh x kw), a depthwise conv its own direct kernel; a conv's bias, batch
norm and activation are one elementwise pass each (terms conv_bias_out, bn_out, act_*),
a linear layer's bias is fused into its GEMM (a linear layer at every position of a map,
`per_position`, is one GEMM of M = Hout x Wout rows per image); batch norm, layer norm,
layer scale, activation, addition and gate layers are elementwise passes; pools read
their windows; global pools reduce; views run nothing (a channel split among them); a
concat copies its branches' outputs into one tensor (`Structure.copied`), and a copying
kind (`Kind.copy`: a channel shuffle) its input.
Batch norm (a layer's or its own) is a `NORM` pass: with 16-bit weights PyTorch runs it
with two more launches, and in a training step it first reads its input for the batch
statistics (`latency.py`). In a training step dropout is no view: it writes its output
and a 1-byte mask.
The latency model (`latency.py`) prices these kernels; nothing here depends on a device.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from inception_cost.core.analysis import Analysis
from inception_cost.core.kinds import CANONICAL
from inception_cost.core.kinds.convolutions import Linear, SeparableConv
from inception_cost.core.kinds.elementwise import Dropout
from inception_cost.core.kinds.pooling import AdaptivePool, Pool
from inception_cost.core.terms import MAC_TERMS, OPERATION_TERMS, Term
from inception_cost.core.tree import CostNode, Role
from inception_cost.estimates.memory import traffic
from inception_cost.estimates.training import MASK_BYTES, reads_network_input
from inception_cost.structures import structure_of

# the passes a conv's own bias, batch norm and activation make over its output
EPILOGUE_TERMS = (Term.CONV_BIAS_OUT, Term.BN_OUT, Term.ACT_FN_OUT, Term.ACT_FN_OTHER_OUT)


class Op(str, enum.Enum):
    GEMM = "gemm"  # conv or linear layer as an (implicit) GEMM
    DEPTHWISE = "depthwise"  # one filter per channel: a direct kernel on CUDA cores
    ELEMENTWISE = "elementwise"  # bias, activation, addition, product, softmax
    NORM = "norm"  # batch norm: one pass (`statistics`: a training step's, over the batch)
    POOL = "pool"  # max/avg pool: reads its windows
    REDUCE = "reduce"  # global / adaptive average pool
    COPY = "copy"  # a concat's copy of its branches' outputs; a channel shuffle's of its input

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Kernel:
    """One kernel launch; sizes per image except `weights`, read once per batch."""

    owner: CostNode  # the layer (or the concat) it belongs to
    op: Op
    inputs: int  # elements read
    outputs: int  # elements written
    weights: int = 0
    m: int = 0  # GEMM rows per image (Hout x Wout; 1 for a linear layer)
    n: int = 0  # GEMM columns: output channels
    k: int = 0  # reduction: Cin/groups x kh x kw
    groups: int = 1
    kh: int = 1
    kw: int = 1
    stride: int = 1  # the larger of the two
    dilation: int = 1
    work: int = 0  # pool: window elements read; depthwise: MACs (per image)
    linear: bool = False  # a linear layer (PyTorch's matmul settings, not cuDNN's)
    batch_in_k: bool = False  # a weight gradient: the batch is in the reduction, not the rows
    side_bytes: int = 0  # per image: a tensor beside the activations whose elements have a fixed size (dropout's mask)
    reads_input: bool = False  # it reads a tensor that gets no gradient (the network's input, a pool of it)
    statistics: bool = False  # a batch norm in training: it computes the batch's mean and variance

    def activation_bytes(self, size: int, batch: int) -> int:
        """What it reads and writes besides the weights, on a whole batch of `size`-byte elements."""
        return (self.inputs + self.outputs) * batch * size + self.side_bytes * batch

    @property
    def macs(self) -> int:
        """Per image: a GEMM's M x N x K, a depthwise conv's window products."""
        if self.op is Op.GEMM:
            return self.m * self.n * self.k
        return self.work if self.op is Op.DEPTHWISE else 0

    @property
    def matrix_product(self) -> bool:
        """A linear layer (one row per image, or one per position on a map), or a 1x1 conv on
        a 1x1 map: a plain matrix product, which cuBLAS runs (`latency.skinny`: tiles no
        taller than its rows, which changes nothing for the many rows of a map)."""
        return self.op is Op.GEMM and (self.linear or (self.m == 1 and self.kh == self.kw == 1))

    @property
    def winograd_shape(self) -> bool:
        """3x3, stride 1, undilated, ungrouped: where cuDNN may pick a Winograd algorithm."""
        return (self.kh, self.kw, self.stride, self.dilation, self.groups) == (3, 3, 1, 1, 1)


def kernels(analysis: Analysis, node: CostNode | None = None, training: bool = False,
            input_gradient: bool = False) -> list[Kernel]:
    """Every kernel of `node` (default: the counted network), in order; with `training`, the
    forward pass of a training step (`backward_kernels` follows it). `input_gradient`: the
    network's input needs a gradient too (a module analysed alone, standing for one inside
    a network)."""
    result: list[Kernel] = []
    # which layers read the network's input is a property of the network, not of `node`
    readers = reads_network_input(analysis) if training and not input_gradient else set()
    _collect(analysis, node or analysis.root, result, training, readers)
    return result


def _collect(analysis: Analysis, node: CostNode, out: list[Kernel], training: bool, readers: set[int]) -> None:
    if node.role is Role.LAYER:
        own = layer_kernels(analysis, node, training)
        if own and id(node) in readers:  # its first kernel reads the input; the others its results
            own[0] = replace(own[0], reads_input=True)
        out.extend(own)
        return
    for child in node.children:  # the same layers as `CostNode.layers()`
        _collect(analysis, child, out, training, readers)
    structure = structure_of(node)
    copied = structure.copied(node) if structure is not None else 0
    if copied:
        out.append(Kernel(node, Op.COPY, copied, copied))


def layer_kernels(analysis: Analysis, leaf: CostNode, training: bool = False) -> list[Kernel]:
    kind = CANONICAL[leaf.kind]
    masked = training and isinstance(kind, Dropout)  # a view in inference, a masked copy in training
    if kind.view and not masked:
        return []
    table, terms, i = analysis.table, analysis.terms, leaf.row
    inputs, outputs, weights = traffic(analysis, leaf)
    if masked:  # reads its input, writes its output and a 1-byte mask
        return [Kernel(leaf, Op.ELEMENTWISE, inputs, outputs, side_bytes=outputs * MASK_BYTES)]
    if kind.copy:  # reads its input, writes it rearranged: no arithmetic
        return [Kernel(leaf, Op.COPY, inputs, outputs)]
    if isinstance(kind, Pool):
        return [Kernel(leaf, Op.POOL, inputs, outputs, work=outputs * table.kh[i] * table.kw[i])]
    if isinstance(kind, AdaptivePool):
        return [Kernel(leaf, Op.REDUCE, inputs, outputs)]
    if not any(terms[t][i] for t in MAC_TERMS):
        # an elementwise layer runs a kernel when it costs something (identity does not)
        op = Op.NORM if terms[Term.BN_OUT][i] else Op.ELEMENTWISE
        return [Kernel(leaf, op, inputs, outputs, statistics=training and op is Op.NORM)] if any(
            terms[t][i] for t in OPERATION_TERMS) else []
    cin, cout, groups = table.cin[i], table.cout[i], table.groups[i]
    kh, kw, hw = table.kh[i], table.kw[i], table.hout[i] * table.wout[i]
    shape = dict(kh=kh, kw=kw, stride=max(leaf.args.get("stride", (1, 1))),
                 dilation=max(leaf.args.get("dilation", (1, 1))))
    result: list[Kernel]
    if isinstance(kind, SeparableConv):  # depthwise (x multiplier), then pointwise 1x1
        hidden = cin * table.mult[i]
        result = [Kernel(leaf, Op.DEPTHWISE, inputs, hidden * hw, hidden * kh * kw,
                         work=hidden * hw * kh * kw, **shape),
                  Kernel(leaf, Op.GEMM, hidden * hw, outputs, weights - hidden * kh * kw,
                         m=hw, n=cout, k=hidden)]
    elif groups > 1 and groups == cin:  # depthwise (with a channel multiplier where cout > cin)
        result = [Kernel(leaf, Op.DEPTHWISE, inputs, outputs, weights, work=outputs * kh * kw, groups=groups,
                         **shape)]
    else:
        linear = isinstance(kind, Linear)
        result = [Kernel(leaf, Op.GEMM, inputs, outputs, weights, m=hw, n=cout, k=cin // groups * kh * kw,
                         groups=groups, linear=linear, **({} if linear else shape))]
    for term in EPILOGUE_TERMS:  # each its own pass over the output (a linear bias is fused)
        if terms[term][i]:
            op = Op.NORM if term is Term.BN_OUT else Op.ELEMENTWISE
            result.append(Kernel(leaf, op, terms[term][i], terms[term][i], statistics=training and op is Op.NORM))
    return result


def backward_kernels(forward: list[Kernel]) -> list[Kernel]:
    """The kernels of the backward pass, in the order they run (last layer first).

    A GEMM's input gradient (M = Hout x Wout, N = Cin, K = Cout/groups x kh x kw: the
    forward's MACs, as cuDNN's strided dgrad skips the zeros a stride puts between the
    output gradient's elements) and weight gradient (M = Cout/groups, N = Cin/groups x kh
    x kw, K = batch x Hout x Wout); a depthwise conv twice its forward work; no input
    gradient for a kernel that reads a tensor needing none (`Kernel.reads_input`: the
    network's input, or a pool of it); an elementwise pass reads the output gradient and
    what it saved (a tensor, or dropout's mask) and writes the input gradient; a pool or
    global pool reads the output gradient and writes the input gradient; a kernel without
    weights that reads a tensor needing no gradient has no backward; a concat's backward
    is views (no kernel); a layer's copy (a channel shuffle) copies the gradient back
    (the reshape of its transposed gradient: torch 2.13.0's profiler shows one clone)."""
    result: list[Kernel] = []
    for k in reversed(forward):
        if k.reads_input and not k.weights and k.op in (Op.ELEMENTWISE, Op.POOL, Op.REDUCE, Op.COPY):
            continue  # autograd never recorded it
        if k.op is Op.GEMM:
            cin = k.k * k.groups // (k.kh * k.kw)
            if not k.reads_input:  # a transposed conv: as many MACs as the forward, whatever the stride
                result.append(replace(k, inputs=k.outputs, outputs=k.inputs, n=cin, k=k.n // k.groups * k.kh * k.kw))
            result.append(replace(k, inputs=k.inputs + k.outputs, outputs=0, m=k.n // k.groups,
                                  n=k.k * k.groups, k=k.m, batch_in_k=True))
        elif k.op is Op.DEPTHWISE:
            if not k.reads_input:
                result.append(replace(k, inputs=k.outputs, outputs=k.inputs))
            result.append(replace(k, inputs=k.inputs + k.outputs))
        elif k.op in (Op.ELEMENTWISE, Op.NORM):
            saved = 0 if k.side_bytes else k.outputs  # a masked pass saved its mask (side bytes) instead
            # batch norm's backward is one fused pass (a reduction and the elementwise gradient)
            result.append(replace(k, op=Op.ELEMENTWISE, inputs=k.outputs + saved, outputs=k.inputs,
                                  statistics=False))
        elif k.op in (Op.POOL, Op.REDUCE):
            result.append(Kernel(k.owner, Op.ELEMENTWISE, k.outputs, k.inputs))
        elif k.op is Op.COPY and k.owner.role is Role.LAYER:
            result.append(replace(k, inputs=k.outputs, outputs=k.inputs))
    return result


def optimizer_kernel(owner: CostNode, parameters: int, state: int, size: int) -> Kernel:
    """One fused (multi-tensor) update of every parameter, its traffic in elements of
    `size` bytes, read once per step: fp32 weights and gradients read, weights written,
    `state` fp32 buffers read and written."""
    fp32 = 4 * parameters * (3 + 2 * state)
    return Kernel(owner, Op.ELEMENTWISE, 0, 0, weights=-(-fp32 // size))
