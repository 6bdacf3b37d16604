"""Memory and time reports: per-layer memory traffic, peak activations, the roofline."""

from __future__ import annotations

from typing import Any

from inception_cost.core.analysis import Analysis
from inception_cost.core.shapes import format_shape
from inception_cost.core.tree import CostNode, Role
from inception_cost.estimates.devices import Device
from inception_cost.estimates.memory import Dtype
from inception_cost.reports.common import Row, distinct, finish, meta_of, title_of, totals
from inception_cost.reports.model import EXTRA, FLOAT, INT, KEY, NAME, SHAPE, SHARE, Column, Report, Section


def _layer_names(scope: CostNode) -> dict[int, str]:
    """Every layer's name below `scope`, in one walk."""
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


def memory_report(analysis: Analysis, dtype: Dtype, batch: int, module: CostNode | None = None) -> Report:
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
    where = (f"while {peak_node.path} ({peak_node.description}) runs" if peak_node.role is Role.LAYER
             else f"when {peak_node.path or 'the input'} writes its output" if peak_node is not scope
             else "at the input")
    columns = [Column("layer", "layer", priority=NAME), Column("output", "output", SHAPE, EXTRA),
               Column("activations", "activations", INT, EXTRA),
               Column("activation_bytes", "activation bytes", INT, KEY),
               Column("weight_bytes", "weight bytes", INT, KEY), Column("bytes_moved", "bytes moved (min)", INT, KEY),
               Column("flops", "FLOPs", INT), Column("intensity", "FLOPs/byte", FLOAT)]
    notes = [f"{dtype.value}, batch {batch}. Bytes moved: input(s) read + weights read + output"
             " written once, the least a layer can move; FLOPs = 2 x conv/linear MACs.",
             f"Peak activation memory of inference: {peak:,} bytes ({peak / 2**20:,.1f} MiB),"
             f" reached {where};"
             " holding a module's input until its last branch has run and every branch's"
             " output until the concat (which writes a new tensor); weights:"
             f" {sums['weight_bytes']:,} bytes ({sums['weight_bytes'] / 2**20:,.1f} MiB).",
             "Flatten and dropout are views in inference and move nothing."]
    what = f"module {module.label}" if module else "layers"
    section = Section(title=f"{title_of(analysis)}: memory by layer ({what})", columns=columns,
                      rows=rows, total=total, notes=notes)
    report = Report(title=f"{title_of(analysis)}: memory", convention=[],
                    totals={**totals(scope), "peak_activation_bytes": peak, "peak_path": peak_node.path,
                            "weight_bytes": sums["weight_bytes"], "bytes_moved": sums["bytes_moved"]},
                    sections=[section], meta={**meta_of(analysis), **_memory_meta(dtype, batch)})
    return finish(report, analysis.convention)


def roofline_report(analysis: Analysis, device: Device, dtype: Dtype, batch: int,
                    module: CostNode | None = None, per_layer: bool = False) -> Report:
    from inception_cost.estimates.roofline import bound_of, estimate

    scope = module or analysis.root
    times = {t.memory.node.row: t for t in estimate(analysis, device, dtype, batch, scope)}
    grand = sum(t.seconds for t in times.values())
    groups: list[tuple[str, str, list[CostNode]]]
    if per_layer or module:
        names = _layer_names(scope)
        groups = [(names[leaf.row], leaf.path, [leaf]) for leaf in scope.layers()]
    else:
        shown = distinct([c.name for c in scope.children], [c.path for c in scope.children])
        groups = [(name, child.path, child.layers()) for child, name in zip(scope.children, shown)]
    rows: list[Row] = []
    for name, path, leaves in groups:
        ts = [times[leaf.row] for leaf in leaves]
        flops = sum(t.memory.flops for t in ts)
        moved = sum(t.memory.bytes_moved for t in ts)
        seconds = sum(t.seconds for t in ts)
        compute_s = sum(t.compute_s for t in ts)
        memory_s = sum(t.memory_s for t in ts)
        # the bound a row shows follows the times it shows
        bound = bound_of(compute_s, memory_s, sum(t.overhead_s for t in ts))
        rows.append({"layer": name, "path": path, "flops": flops, "bytes_moved": moved,
                     "intensity": flops / moved if moved else 0.0,
                     "compute_us": compute_s * 1e6, "memory_us": memory_s * 1e6,
                     "time_us": seconds * 1e6, "bound": bound.value,
                     "share": seconds / grand if grand else 0.0})
    total = {"layer": "total", "flops": sum(r["flops"] for r in rows),
             "bytes_moved": sum(r["bytes_moved"] for r in rows), "time_us": grand * 1e6,
             "compute_us": sum(r["compute_us"] for r in rows),
             "memory_us": sum(r["memory_us"] for r in rows), "share": 1.0 if grand else 0.0}
    columns = [Column("layer", "layer" if per_layer or module else "row", priority=NAME),
               Column("flops", "FLOPs", INT, EXTRA), Column("bytes_moved", "bytes moved", INT, EXTRA),
               Column("intensity", "FLOPs/byte", FLOAT), Column("compute_us", "compute µs", FLOAT, EXTRA),
               Column("memory_us", "memory µs", FLOAT, EXTRA), Column("time_us", "estimate µs", FLOAT, KEY),
               Column("bound", "bound", priority=KEY, marks=True), Column("share", "share of time", SHARE, KEY)]
    peak = device.peak_flops(dtype.value)
    ridge = peak / device.bandwidth
    notes = [f"Device {device.title}: {device.peak_tflops[dtype.value]:g} TFLOP/s {dtype.value},"
             f" {device.bandwidth_gbs:g} GB/s, {device.overhead_us:g} µs per layer; ridge point"
             f" {ridge:,.0f} FLOPs/byte. {dtype.value}, batch {batch}.",
             f"Estimated {grand * 1e3:,.3f} ms per batch ({batch / grand:,.0f} images/s) if every"
             " layer ran at the roofline." if grand else "Nothing to time.",
             "Each layer takes max(FLOPs / peak, bytes moved / bandwidth) + the per-layer overhead."
             " A lower bound: kernels with unusual shapes (1 x n, few channels, small maps) run"
             " below peak, and copies for concatenation, layout changes and launch gaps are not"
             " modelled."]
    section = Section(title=f"{title_of(analysis)}: roofline on {device.name}", columns=columns,
                      rows=rows, total=total, notes=notes)
    report = Report(title=f"{title_of(analysis)}: estimated time on {device.name}", convention=[],
                    totals={**totals(scope), "seconds": grand},
                    sections=[section], meta={**meta_of(analysis), **_memory_meta(dtype, batch),
                                              "device": device.name})
    return finish(report, analysis.convention)
