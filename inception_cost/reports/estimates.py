"""Memory and time reports: per-layer memory traffic, peak activations, the roofline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inception_cost.core.analysis import Analysis
from inception_cost.core.shapes import format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.estimates.devices import Device
from inception_cost.estimates.memory import Dtype
from inception_cost.reports.common import Row, distinct, finish, meta_of, scope_name, title_of, totals
from inception_cost.reports.model import EXTRA, FLOAT, INT, KEY, NAME, SHAPE, SHARE, Column, Report, Section

if TYPE_CHECKING:
    from inception_cost.estimates.roofline import LayerTime
    from inception_cost.estimates.training import Optimizer


def _layer_names(scope: CostNode) -> dict[int, str]:
    """Every layer's name below `scope` (or the layer `scope` is), in one walk."""
    if scope.role is Role.LAYER:
        return {scope.row: scope.name}
    result: dict[int, str] = {}

    def visit(node: CostNode, prefix: str) -> None:
        for child in node.children:
            if child.role is Role.LAYER:
                result[child.row] = f"{prefix}{child.name}"
            elif child.role is Role.CONCAT:
                visit(child, prefix)
            else:
                visit(child, f"{prefix}{child.name} / ")

    visit(scope, "")
    return result


def _memory_meta(dtype: Dtype, batch: int) -> dict[str, Any]:
    return {"dtype": dtype.value, "batch": batch}


def training_section(analysis: Analysis, dtype: Dtype, batch: int, optimizer: Optimizer) -> tuple[Section, int]:
    """One training step's memory, part by part, and its peak in bytes."""
    from inception_cost.estimates.training import training_memory

    m = training_memory(analysis, dtype, batch, optimizer)
    mixed = dtype is not Dtype.FP32
    parts = [("weights", m.weights, f"{m.parameters:,} parameters in {dtype.value}"),
             ("master weights", m.master_weights,
              "fp32 copy (mixed precision)" if mixed else "none: the weights are fp32"),
             ("gradients", m.gradients, f"one per parameter, {dtype.value}"),
             ("optimizer state", m.optimizer_state, f"{optimizer}: {optimizer.state} fp32 value(s) per parameter"),
             ("buffers", m.buffers, "batch norm's running mean and variance"),
             ("saved activations", m.saved_activations,
              "what autograd keeps for the backward pass, each tensor once"),
             ("backward workspace", m.backward_workspace, "the largest activation's gradient, twice")]
    rows: list[Row] = [{"part": name, "bytes": value, "mib": value / 2**20, "what": what}
                       for name, value, what in parts]
    columns = [Column("part", "part"), Column("bytes", "bytes", INT), Column("mib", "MiB", FLOAT),
               Column("what", "what")]
    at = m.peak_layer.path if m.peak_layer is not None else "-"
    notes = [f"One training step, {dtype.value}, batch {batch}, optimizer {optimizer}. Peak: weights, master"
             " weights, optimizer state and buffers, plus the most alive while the backward pass runs the"
             f" layers in reverse (at {at}): the saved activations not yet freed, the gradients computed so"
             f" far, that layer's output and input gradients. Every part at once: {m.upper_bound:,} bytes.",
             "Saved: a conv or linear layer's input, batch and layer norm's input, a layer scale's input,"
             " relu/sigmoid/tanh/softmax"
             " outputs (other activations their input), a max pool's input and int64 indices, an average"
             " pool's input, dropout's 1-byte mask. Mixed precision (bf16/fp16): 16-bit weights, gradients"
             " and activations, fp32 master weights and optimizer state. Not counted: cuDNN workspaces, the allocator's"
             " rounding and caching, the loss."]
    total = {"part": "peak", "bytes": m.peak, "mib": m.peak / 2**20, "what": f"during the backward pass of {at}"}
    return Section(title=f"{title_of(analysis)}: training memory (whole network)", columns=columns, rows=rows,
                   total=total, notes=notes), m.peak


def memory_report(analysis: Analysis, dtype: Dtype, batch: int, module: CostNode | None = None,
                  optimizer: Optimizer | None = None) -> Report:
    from inception_cost.estimates.memory import layer_memory, peak_at

    scope = module or analysis.root
    names = _layer_names(scope)
    rows: list[Row] = []
    for m in layer_memory(analysis, dtype, batch, scope):
        leaf = m.node
        rows.append({"layer": names[leaf.row], "path": leaf.path, "kind": leaf.description,
                     "output": format_shape(leaf.out_shape),
                     "activations": m.activations, "activation_bytes": m.activation_bytes,
                     "weight_bytes": m.weight_bytes, "bytes_moved": m.bytes_moved,
                     "flops": m.flops, "intensity": m.intensity})
    sums = {k: sum(r[k] for r in rows) for k in ("activations", "activation_bytes", "weight_bytes",
                                                  "bytes_moved", "flops")}
    total = {"layer": "total", **sums, "intensity": sums["flops"] / sums["bytes_moved"] if sums["bytes_moved"] else 0.0}
    peak_elements, peak_node = peak_at(scope)
    peak = peak_elements * batch * dtype.bytes
    eager_elements, eager_node = peak_at(scope, eager=True)
    eager = eager_elements * batch * dtype.bytes
    columns = [Column("layer", "layer", priority=NAME), Column("output", "output", SHAPE, EXTRA),
               Column("activations", "activations", INT, EXTRA),
               Column("activation_bytes", "activation bytes", INT, KEY),
               Column("weight_bytes", "weight bytes", INT, KEY), Column("bytes_moved", "bytes moved (min)", INT, KEY),
               Column("flops", "FLOPs", INT), Column("intensity", "FLOPs/byte", FLOAT)]
    notes = [f"{dtype.value}, batch {batch}. Bytes moved: input(s) read + weights read + output"
             " written once, the least a layer can move; FLOPs = 2 x conv/linear MACs.",
             "Flatten, dropout and identity are views in inference: they write and move nothing."]
    what = scope_name(module) if module else "layers"
    section = Section(title=f"{title_of(analysis)}: memory by layer ({what})", columns=columns,
                      rows=rows, total=total, notes=notes)
    peaks = peak_section(analysis, scope, what, (peak_elements, peak_node), (eager_elements, eager_node),
                         batch * dtype.bytes, sums["weight_bytes"])
    extra: dict[str, Any] = {}
    sections = [section]
    if optimizer is not None:
        train, train_peak = training_section(analysis, dtype, batch, optimizer)
        sections.append(train)
        extra = {"training_peak_bytes": train_peak, "optimizer": optimizer.value}
    sections.append(peaks)  # last: the sections JSON had before keep their places
    report = Report(title=f"{title_of(analysis)}: memory", convention=[],
                    totals={**totals(scope), "peak_activation_bytes": peak, "peak_path": peak_node.path,
                            "eager_peak_activation_bytes": eager, "eager_peak_path": eager_node.path,
                            "weight_bytes": sums["weight_bytes"], "bytes_moved": sums["bytes_moved"], **extra},
                    sections=sections, meta={**meta_of(analysis), **_memory_meta(dtype, batch)})
    return finish(report, analysis.convention, batch)


def peak_section(analysis: Analysis, scope: CostNode, what: str, least: tuple[int, CostNode],
                 eager: tuple[int, CostNode], element_bytes: int, weight_bytes: int) -> Section:
    """The two inference peaks of `scope`, (elements per image, where reached) each, as rows
    of `element_bytes` per element (a batch's): every format carries them (CSV has no notes),
    and JSON's rows their node's `path`, as every other row of a memory report."""
    rows: list[Row] = [{"peak": name, "path": node.path, "bytes": elements * element_bytes,
                        "mib": elements * element_bytes / 2**20, "reached": _reached(scope, elements, node)}
                       for name, (elements, node) in (("least", least), ("eager PyTorch", eager))]
    columns = [Column("peak", "peak", priority=NAME), Column("bytes", "bytes", INT, KEY),
               Column("mib", "MiB", FLOAT, KEY), Column("reached", "reached")]
    notes = ["Least: what an executor needs that frees each tensor after its last reader, folds batch norm"
             " into its conv and runs ReLU-like activations in place, holding a module's input until its last"
             " branch has run and every branch's output until the concat (which writes a new tensor).",
             "Eager PyTorch: in torchvision's layout the caller keeps the input and each module its own until"
             " it returns, and batch norm runs unfolded (a conv's input, output and normalised output alive at"
             " once; README: Memory and time).",
             f"Weights, besides: {weight_bytes:,} bytes ({weight_bytes / 2**20:,.1f} MiB)."]
    return Section(title=f"{title_of(analysis)}: peak activation memory of inference ({what})", columns=columns,
                   rows=rows, notes=notes)


def _reached(scope: CostNode, elements: int, node: CostNode) -> str:
    """Where a peak of `elements` is reached: while a layer runs, at the input, or when a
    structure writes its output."""
    h, w, c = scope.in_shape
    if node.role is Role.LAYER:
        return f"while {node.path} ({node.description}) runs"
    if node is scope and elements == h * w * c:
        return "at the input"
    return f"when {node.path or 'the network'} writes its output"


def roofline_report(analysis: Analysis, device: Device, dtype: Dtype, batch: int,
                    module: CostNode | None = None, per_layer: bool = False, tf32: bool = True,
                    optimizer: Optimizer | None = None) -> Report:
    from inception_cost.estimates.roofline import bound_of, estimate, is_copy, within

    scope = module or analysis.root
    times = estimate(analysis, device, dtype, batch, scope, tf32, optimizer)
    grand = sum(t.seconds for t in times)
    groups: list[tuple[str, str, list[LayerTime]]]
    if per_layer or module:
        names = _layer_names(scope)
        groups = [(f"{t.node.path} (concat copy)" if is_copy(t) else names[t.node.row], t.node.path, [t])
                  for t in times if not t.update]
    else:
        shown = distinct([c.name for c in scope.children], [c.path for c in scope.children])
        groups = [(name, child.path, within(times, child)) for child, name in zip(scope.children, shown)]
    step = [t for t in times if t.update]
    if step:
        groups.append((f"optimizer step ({optimizer})", scope.path, step))
    rows: list[Row] = []
    for name, path, ts in groups:
        flops = sum(t.flops for t in ts)
        moved = sum(t.bytes_moved for t in ts)
        seconds = sum(t.seconds for t in ts)
        compute_s = sum(t.compute_s for t in ts)
        memory_s = sum(t.memory_s for t in ts)
        overhead_s = sum(t.overhead_s for t in ts)
        # the bound a row shows follows the times it shows
        bound = bound_of(compute_s, memory_s, overhead_s)
        rows.append({"layer": name, "path": path, "flops": flops, "bytes_moved": moved,
                     "intensity": flops / moved if moved else 0.0, "kernels": sum(t.launches for t in ts),
                     "compute_us": compute_s * 1e6, "memory_us": memory_s * 1e6,
                     "overhead_us": overhead_s * 1e6,
                     "time_us": seconds * 1e6, "bound": bound.value,
                     "share": seconds / grand if grand else 0.0})
    total = {"layer": "total", "flops": sum(r["flops"] for r in rows),
             "bytes_moved": sum(r["bytes_moved"] for r in rows), "time_us": grand * 1e6,
             "kernels": sum(r["kernels"] for r in rows),
             "compute_us": sum(r["compute_us"] for r in rows),
             "memory_us": sum(r["memory_us"] for r in rows),
             "overhead_us": sum(r["overhead_us"] for r in rows), "share": 1.0 if grand else 0.0}
    columns = [Column("layer", "layer" if per_layer or module else "row", priority=NAME),
               Column("flops", "FLOPs", INT, EXTRA), Column("bytes_moved", "bytes moved", INT, EXTRA),
               Column("intensity", "FLOPs/byte", FLOAT), Column("kernels", "kernels", INT, EXTRA),
               Column("compute_us", "compute µs", FLOAT, EXTRA), Column("memory_us", "memory µs", FLOAT, EXTRA),
               Column("overhead_us", "fixed µs", FLOAT, EXTRA), Column("time_us", "estimate µs", FLOAT, KEY),
               Column("bound", "bound", priority=KEY, marks=True), Column("share", "share of time", SHARE, KEY)]
    precision = device.precision(dtype, tf32)
    lat = device.latency
    model = (f"latency model, {lat.sms} SMs" if lat.sms else
             f"plain roofline, {device.overhead_us:g} µs per kernel")
    what = f"training step (forward, backward, {optimizer})" if optimizer else "batch"
    maths = dict.fromkeys((precision.conv.value, precision.matmul.value))  # fp32: TF32 convs, fp32 linear
    peaks = ", ".join(f"{device.peak_tflops[m]:g} TFLOP/s {m}" for m in maths)
    how = (" in a CUDA graph (NCHW, cuDNN, nothing fused)" if lat.sms else
           ", each kernel at its peak or its bandwidth (a profile without a latency section)")
    rule = ("Each kernel takes max(compute, memory) + its fixed cost (a tensor-core conv also its layout"
            " copies, in its memory time); a conv is an implicit GEMM whose tiles run in waves over the SMs"
            if lat.sms else "Each kernel takes max(FLOPs / peak, bytes / bandwidth) + the profile's overhead_us")
    notes = [f"Device {device.title} ({model}): {peaks}, {device.bandwidth_gbs:g} GB/s. {precision}, batch {batch}.",
             f"Estimated {grand * 1e3:,.3f} ms per {what} ({batch / grand:,.0f} images/s), PyTorch eager"
             f"{how}." if grand else "Nothing to time.",
             f"{rule}; a conv's bias, batch norm and activation are one pass each; a concat copies its branches,"
             " a channel shuffle its input. See the README's time model for what it leaves out."]
    if lat.sms:
        from inception_cost.estimates.latency import HELD_OUT_ERROR, HELD_OUT_WITHIN_1_5

        notes.append(f"How far to trust it: on an H100, {HELD_OUT_WITHIN_1_5:.0%} of the measured layers,"
                     f" modules and networks came within 1.5x when held out from the fit (geometric-mean"
                     f" error {HELD_OUT_ERROR:.2f}x); every built-in profile but h100-measured is derived"
                     " from that fit and a datasheet, not measured (README: How good is it?).")
    if optimizer:
        notes.append("Training: each conv and linear layer adds its input gradient (none for a layer that"
                     " reads a tensor needing none, such as the network's input) and its weight gradient as"
                     " GEMMs (a depthwise conv as direct kernels); each elementwise pass, pool and global"
                     " pool a backward pass; dropout writes its output and a 1-byte mask, and its backward"
                     " reads the mask; a concat's backward is views, a channel shuffle's a copy; the optimizer"
                     " one fused update of every parameter in the scope (fp32 weights, gradients and state)."
                     " Not measured: no training step was timed on a GPU.")
    part = f" ({scope_name(module)})" if module else ""
    section = Section(title=f"{title_of(analysis)}: time on {device.name}{part}", columns=columns,
                      rows=rows, total=total, notes=notes)
    report = Report(title=f"{title_of(analysis)}: estimated time on {device.name}", convention=[],
                    totals={**totals(scope), "seconds": grand},
                    sections=[section], meta={**meta_of(analysis), **_memory_meta(dtype, batch),
                                              "device": device.name, "precision": str(precision)})
    return finish(report, analysis.convention, batch)
