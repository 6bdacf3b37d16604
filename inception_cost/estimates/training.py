"""Memory of one training step: weights, gradients, optimizer state, the activations
autograd saves for the backward pass, and the peak.

What PyTorch keeps, per layer kind (read from the core's kinds, fields and args): a
conv or linear layer saves its input (for the weight gradient; a separable conv also its
depthwise output); batch norm saves its input (and a mean and inverse deviation per
channel, fp32, once per batch); relu, sigmoid, tanh and softmax save their output, the
other activations their input (relu6 is hardtanh, whose backward reads its input, even
in place; elu's out-of-place form reads its input); a max pool saves its input and
int64 indices per output, a layer norm its input (and an fp32 mean and inverse
deviation per position), a layer scale its input (the kind says so: `Kind.saves_input`),
an average pool its input (so does an adaptive one, except to 1x1, which PyTorch runs
as a mean); dropout a 1-byte mask per element (CUDA's; the CPU
keeps fp32 noise); a gate's product both factors; additions, global average pools,
concats, flatten, identity, a channel split (a view) and a channel shuffle (a copy into a
new tensor) nothing (autograd's derivatives.yaml; checked against
saved_tensors_hooks on the CPU, torch 2.13.0). Nothing is saved by a layer without
parameters that reads a tensor needing no gradient (a pool of the input): autograd does
not record it. A tensor that several layers save (a module's input read by every
branch) is counted once. The peak walks the backward pass (`SavedTensors.backward_peak`).
Mixed precision (bf16/fp16) follows Micikevicius et al. 2018: 16-bit weights, gradients
and activations, fp32 master weights and optimizer state.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass

from inception_cost.core.analysis import Analysis
from inception_cost.core.kinds import CANONICAL
from inception_cost.core.kinds.convolutions import SeparableConv
from inception_cost.core.kinds.elementwise import (
    Activation,
    BatchNorm,
    Dropout,
    ElementwiseMul,
    ResidualAdd,
    Softmax,
)
from inception_cost.core.kinds.pooling import AdaptivePool, AvgPool, MaxPool
from inception_cost.core.terms import MAC_TERMS, STORED_TERMS, Term
from inception_cost.core.tree import CostNode, Role
from inception_cost.errors import UsageError
from inception_cost.estimates.dtypes import Dtype

SAVES_OUTPUT = ("relu", "sigmoid", "tanh")  # their backward reads the result
INDEX_BYTES = 8  # max pool indices are int64
MASK_BYTES = 1  # dropout's bool mask (CUDA's fused dropout; on the CPU PyTorch keeps an fp32 one)
STAT_BYTES = 4  # batch norm's saved mean and inverse deviation are fp32


class Optimizer(str, enum.Enum):
    SGD = "sgd"
    MOMENTUM = "momentum"
    ADAM = "adam"

    @property
    def state(self) -> int:
        """fp32 values it keeps per parameter (momentum buffer; Adam's two moments)."""
        return {"sgd": 0, "momentum": 1, "adam": 2}[self.value]

    def __str__(self) -> str:
        return self.value


TRAINING_DTYPES = (Dtype.FP32, Dtype.BF16, Dtype.FP16)


def check_trainable(dtype: Dtype) -> None:
    """Training runs in fp32 or in mixed precision (bf16/fp16 with fp32 master weights);
    nobody trains in int8, so a training estimate in it would describe nothing real."""
    if dtype not in TRAINING_DTYPES:
        *first, last = (d.value for d in TRAINING_DTYPES)
        raise UsageError(f"--train with --dtype {dtype.value}: a training step runs in {', '.join(first)} or"
                         f" {last} ({dtype.value} is for inference only)")


@dataclass(frozen=True)
class TrainingMemory:
    parameters: int
    weights: int  # bytes, in the dtype
    master_weights: int  # fp32 copy (mixed precision only)
    gradients: int
    optimizer_state: int
    buffers: int  # batch norm's running mean and variance
    saved_activations: int
    backward_workspace: int  # the largest output and input gradient alive together
    peak: int  # the most alive at once: the step, walked layer by layer (`backward_peak`)
    peak_layer: CostNode | None  # the layer whose backward pass reaches it

    @property
    def upper_bound(self) -> int:
        """Every part alive at once."""
        return (self.weights + self.master_weights + self.gradients + self.optimizer_state + self.buffers
                + self.saved_activations + self.backward_workspace)


def training_memory(analysis: Analysis, dtype: Dtype, batch: int, optimizer: Optimizer) -> TrainingMemory:
    check_trainable(dtype)
    terms = analysis.terms
    rows = [leaf.row for leaf in analysis.root.layers()]
    params = sum(terms[t][i] for t in STORED_TERMS for i in rows)
    buffers = 2 * sum(terms[Term.BN_CHANNELS][i] for i in rows)
    size = dtype.bytes
    mixed = dtype is not Dtype.FP32
    saved = SavedTensors(analysis)
    saved.flow(analysis.root, saved.tensor(_numel(analysis.root.in_shape), grad=False))
    largest = max((_numel(leaf.out_shape) for leaf in analysis.root.layers()), default=0)
    static = params * size + (params * 4 if mixed else 0) + params * 4 * optimizer.state + buffers * size
    during, layer = saved.backward_peak(size, batch)
    return TrainingMemory(
        parameters=params, weights=params * size, master_weights=params * 4 if mixed else 0,
        gradients=params * size, optimizer_state=params * 4 * optimizer.state, buffers=buffers * size,
        saved_activations=saved.bytes(size, batch), backward_workspace=2 * largest * size * batch,
        peak=static + during, peak_layer=layer)


def reads_network_input(analysis: Analysis) -> set[int]:
    """The layers (by `id`) that read a tensor needing no gradient: the network's input,
    directly or through layers without parameters (the first conv; every branch of a
    module the network starts with; a conv after a pool of the input). Autograd computes
    no gradient for it, so their backward has no input gradient (and a layer without
    parameters there has no backward at all). Read from the whole network, so a part
    timed alone costs what it costs inside it."""
    walk = SavedTensors(analysis)
    walk.flow(analysis.root, walk.tensor(_numel(analysis.root.in_shape), grad=False))
    return {id(leaf) for leaf, read in zip(walk.layers, walk.inputs) if read not in walk.grad}


def _numel(shape: tuple[int, int, int]) -> int:
    return shape[0] * shape[1] * shape[2]


class SavedTensors:
    """Walks the tree in execution order; each tensor is a number, saved ones are kept
    with their size per image (elements in the dtype, and bytes of fixed size) and the
    first layer that saves them: autograd frees a saved tensor once the backward pass,
    which runs the layers in reverse, has passed every layer that saved it."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.ids = itertools.count()
        self.sizes: dict[int, int] = {}
        self.saved: dict[int, int] = {}  # tensor -> the first layer (in execution order) that saves it
        self.layers: list[CostNode] = []  # in execution order
        self.inputs: list[int] = []  # per layer: the tensor it reads
        self.fixed_at: list[int] = []  # per layer: bytes of its indices and masks per image, whatever the dtype
        self.batch_at: list[int] = []  # per layer: batch norm's statistics, per channel, once per batch
        self.grad: set[int] = set()  # tensors that need a gradient: they depend on a parameter
        self.operands: list[tuple[int, ...]] = []  # per layer: the tensors it reads (a view: none)

    def save(self, *tensors: int) -> None:
        for t in tensors:
            self.saved.setdefault(t, len(self.layers) - 1)

    def backward_peak(self, size: int, batch: int) -> tuple[int, CostNode | None]:
        """(the most bytes alive during the backward pass, besides weights, master weights,
        optimizer state and buffers; the layer whose backward reaches it). While layer i
        runs backward: what layers 0..i saved, the gradients of layers i.. (PyTorch frees
        them between steps), i's output gradient and its input gradient (none for a tensor
        that needs none), and the gradients waiting at a branch point: a tensor several
        layers read (a shortcut's input, a module's input) gets its gradient summed from
        each, so the first one the backward pass computes stays alive until the last."""
        first = [0] * len(self.layers)
        for t, i in self.saved.items():
            first[i] += self.sizes[t]
        waiting = [0] * (len(self.layers) + 1)  # per layer, elements per image; as differences
        for t, (low, high) in self.readers().items():
            waiting[low] += self.sizes[t]
            waiting[high] -= self.sizes[t]
        alive = sum((first[i] * size + self.fixed_at[i]) * batch + self.batch_at[i] for i in range(len(self.layers)))
        held = list(itertools.accumulate(waiting))
        terms, grads, best, where = self.analysis.terms, 0, 0, None
        for i in range(len(self.layers) - 1, -1, -1):
            leaf = self.layers[i]
            grads += sum(terms[t][leaf.row] for t in STORED_TERMS) * size
            input_gradient = _numel(leaf.in_shape) if self.inputs[i] in self.grad else 0
            working = (input_gradient + _numel(leaf.out_shape) + held[i]) * size * batch
            if alive + grads + working > best:
                best, where = alive + grads + working, leaf
            alive -= (first[i] * size + self.fixed_at[i]) * batch + self.batch_at[i]
        return best, where

    def readers(self) -> dict[int, tuple[int, int]]:
        """Each tensor that needs a gradient and that more than one layer reads (views left
        out: they pass the tensor on): (the first reader, the last), in execution order."""
        spans: dict[int, list[int]] = {}
        for i, operands in enumerate(self.operands):
            for t in operands:
                if t in self.grad:
                    spans.setdefault(t, []).append(i)
        return {t: (min(at), max(at)) for t, at in spans.items() if len(at) > 1}

    def tensor(self, elements: int, grad: bool = True) -> int:
        t = next(self.ids)
        self.sizes[t] = elements
        if grad:
            self.grad.add(t)
        return t

    def bytes(self, size: int, batch: int) -> int:
        return (sum(self.sizes[t] for t in self.saved) * size + sum(self.fixed_at)) * batch + sum(self.batch_at)

    def flow(self, node: CostNode, current: int) -> int:
        """Run `node`'s children from tensor `current`; return its output tensor."""
        start, outputs = current, []
        for child in node.children:
            if child.role is Role.BRANCH:  # parallel parts all read the node's input
                current = self.flow(child, start)
                outputs.append(current)
            elif child.role is Role.AUXILIARY:  # a side output: the main path goes on
                self.flow(child, current)
            elif child.role is Role.LAYER:
                current = self.layer(child, current, start)
            else:
                current = self.flow(child, current)
        if node.role is Role.CONCAT:  # torch.cat writes a new tensor
            current = self.tensor(_numel(node.out_shape), any(t in self.grad for t in outputs or [current]))
        return current

    def layer(self, leaf: CostNode, current: int, node_input: int) -> int:
        self.layers.append(leaf)
        self.inputs.append(current)
        self.fixed_at.append(0)
        self.batch_at.append(0)
        kind = CANONICAL[leaf.kind]
        table, i = self.analysis.table, leaf.row
        out = _numel(leaf.out_shape)
        two = isinstance(kind, (ResidualAdd, ElementwiseMul))  # a shortcut's or a gate's second operand
        self.operands.append(() if kind.view else (current, node_input) if two else (current,))
        if not any(self.analysis.terms[t][i] for t in STORED_TERMS) and current not in self.grad and (
                not isinstance(kind, ElementwiseMul) or node_input not in self.grad):
            # no parameter and an input that needs no gradient (a pool of the network's input):
            # autograd records nothing, so nothing is saved
            return current if kind.view else self.tensor(out, grad=False)
        if any(self.analysis.terms[t][i] for t in MAC_TERMS):
            self.save(current)  # the input, for the weight gradient
            if isinstance(kind, SeparableConv):
                self.save(self.tensor(table.cin[i] * table.mult[i] * table.hout[i] * table.wout[i]))
            result = self.tensor(out)
            if table.bn[i]:
                result = self.batch_norm(result, table.cout[i], out)
            if table.act[i]:
                result = self.activation(str(leaf.args.get("activation")), result, out)
            return result
        if kind.saves_input(leaf.args):  # a layer norm, a layer scale: their parameters' gradients read it
            self.save(current)
            self.fixed_at[-1] += kind.saved_bytes(leaf.args, leaf.in_shape)
            return self.tensor(out)
        if isinstance(kind, BatchNorm):
            return self.batch_norm(current, table.cout[i], out)
        if isinstance(kind, Activation):
            return self.activation(str(leaf.args.get("function", "relu")), current, out)
        if isinstance(kind, Softmax):
            result = self.tensor(out)
            self.save(result)
            return result
        if isinstance(kind, MaxPool):
            self.save(current)
            self.fixed_at[-1] += out * INDEX_BYTES
            return self.tensor(out)
        if isinstance(kind, AvgPool) or (isinstance(kind, AdaptivePool) and leaf.out_shape[:2] != (1, 1)):
            self.save(current)  # its backward reads the input's size and layout from the tensor itself
            return self.tensor(out)
        if isinstance(kind, Dropout):  # a view in inference, a masked copy in training
            self.fixed_at[-1] += out * MASK_BYTES
            return self.tensor(out)
        if isinstance(kind, ElementwiseMul):
            self.save(current, node_input)
            return self.tensor(out)
        if kind.view:
            return current  # flatten, identity, a channel split: the same tensor (or a view of it)
        # additions, global average pools (a mean too, which no convention counts), a channel
        # shuffle's copy: a new tensor, nothing saved
        return self.tensor(out)

    def batch_norm(self, current: int, channels: int, out: int) -> int:
        self.save(current)
        self.batch_at[-1] += 2 * channels * STAT_BYTES
        return self.tensor(out)

    def activation(self, function: str, current: int, out: int) -> int:
        result = self.tensor(out)
        self.save(result if function in SAVES_OUTPUT else current)
        return result
